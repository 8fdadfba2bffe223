"""Anchor comments: format, position, leniency, and injection that never changes the program."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from remora_core.errors import FileChangedError
from remora_core.fileio import bytes_hash, replace_checked
from remora_core.parsing.anchors import AnchorEdit, anchored_line, apply_anchor_edits, find_file_anchor
from remora_core.parsing.python_source import parse_python
from tests.conftest import ids_by_qualname, index_project, write_files
from tests.test_parsing import stdlib_files

ANCHOR_RE = r"# rm_[a-z0-9]{8}"


def test_new_anchor_is_right_aligned_to_column_150() -> None:
    line = anchored_line(b"def load(self):", "rm_abcdefgh")
    assert len(line) == 150
    assert line.endswith(b"    # rm_abcdefgh")
    assert line.startswith(b"def load(self):   ")


def test_long_line_gets_four_spaces_and_column_is_configurable() -> None:
    code = b"x" * 200
    assert anchored_line(code, "rm_abcdefgh") == code + b"    # rm_abcdefgh"
    assert len(anchored_line(b"def f():", "rm_abcdefgh", column=80)) == 80


def test_crlf_and_trailing_whitespace_are_handled() -> None:
    assert anchored_line(b"def f():  \r", "rm_abcdefgh", column=40).endswith(b"# rm_abcdefgh\r")


@pytest.mark.parametrize(
    ("head", "insert_line"),
    [
        ("", 1),
        ("import os\n", 1),
        ("#!/usr/bin/env python\nimport os\n", 2),
        ("#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nimport os\n", 3),
        ("# coding: latin-1\nimport os\n", 2),
    ],
)
def test_file_anchor_goes_after_shebang_and_encoding_lines(head: str, insert_line: int) -> None:
    parsed = parse_python(head.encode())
    assert parsed.file_anchor_insert_line == insert_line
    new = apply_anchor_edits(head.encode(), [AnchorEdit(insert_line, "rm_file0001", is_file_anchor=True)])
    lines = new.decode().split("\n")
    assert lines[insert_line - 1] == "# remora-file: rm_file0001"
    assert find_file_anchor(new.split(b"\n")) == ("rm_file0001", insert_line)
    assert ast.dump(ast.parse(new)) == ast.dump(ast.parse(head.encode()))


@pytest.mark.parametrize(
    "source",
    [
        "def f():  # rm_abcdefgh\n    pass\n",  # two spaces, as ruff/black leave it
        "def f():\t#rm_abcdefgh\n    pass\n",
        "def f(  # rm_abcdefgh\n    a,\n):\n    pass\n",
        "def f(\n    a,\n):  # rm_abcdefgh\n    pass\n",  # moved to the colon line by a formatter
        "def f(a, b):  # noqa: E501  # rm_abcdefgh\n    pass\n",
        "@decorator  # rm_zzzzzzzz is not this def's\ndef f():  # rm_abcdefgh\n    pass\n",
    ],
)
def test_anchor_parsing_is_lenient(source: str) -> None:
    parsed = parse_python(source.encode())
    assert parsed.defs[0].anchor == "rm_abcdefgh"


def test_anchor_text_inside_a_string_is_not_an_anchor() -> None:
    parsed = parse_python(b'def f(x="# rm_abcdefgh"):\n    pass\n')
    assert parsed.defs[0].anchor is None


def test_anchor_of_a_nested_def_is_not_taken_by_its_parent() -> None:
    parsed = parse_python(b"def outer():\n    def inner():  # rm_abcdefgh\n        pass\n")
    assert [d.anchor for d in parsed.defs] == [None, "rm_abcdefgh"]


def test_unsafe_header_lines_are_skipped_for_new_anchors() -> None:
    source = b'def f(a, \\\n      b=1):\n    pass\n\ndef g(doc="""\nline\n"""):\n    pass\n'
    parsed = parse_python(source)
    assert parsed.defs[0].inject_line == 2  # line 1 ends with a backslash continuation
    assert parsed.defs[1].inject_line == 7  # line 5 ends inside a triple-quoted string
    edits = [AnchorEdit(d.inject_line or 0, f"rm_0000000{i}") for i, d in enumerate(parsed.defs)]
    new = apply_anchor_edits(source, edits)
    assert ast.dump(ast.parse(new)) == ast.dump(ast.parse(source))
    assert [d.anchor for d in parse_python(new).defs] == ["rm_00000000", "rm_00000001"]


def test_indexing_writes_anchors_on_the_def_line_never_the_decorator(project) -> None:  # type: ignore[no-untyped-def]
    root = project(
        {
            "mod.py": """
            import functools

            @functools.cache
            def cached(x):
                return x

            class Loader:
                @property
                def path(self):
                    return 1
            """
        }
    )
    report = index_project(root)
    assert report.anchors_added == 4
    lines = (root / "mod.py").read_text().splitlines()
    assert lines[0].startswith("# remora-file: rm_")
    assert "rm_" not in lines[3] and "rm_" not in lines[8]  # decorator lines untouched
    for number in (5, 8, 10):
        assert len(lines[number - 1]) == 150 and lines[number - 1].rstrip()[-11:].startswith("rm_")


def test_existing_anchors_are_never_moved_or_realigned(project) -> None:  # type: ignore[no-untyped-def]
    source = "# remora-file: rm_file0000\ndef f():  # rm_abcdefgh\n    pass\n\n\ndef g():\n    pass\n"
    root = project({"mod.py": source})
    index_project(root)
    lines = (root / "mod.py").read_text().splitlines()
    assert lines[1] == "def f():  # rm_abcdefgh"
    assert lines[5].endswith("# " + ids_by_qualname(root, "mod.py")["g"])
    assert ids_by_qualname(root, "mod.py")["f"] == "rm_abcdefgh"


def test_injection_keeps_the_ast_of_every_file_identical(tmp_path: Path) -> None:
    """Anchors are comments: the AST of 400 standard-library files is unchanged by indexing."""
    source_root = Path(stdlib_files()[0]).parent
    root = tmp_path / "lib"
    before: dict[str, str] = {}
    for path in stdlib_files()[:400]:
        rel = path.relative_to(source_root)
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        try:
            before[str(rel)] = ast.dump(ast.parse(target.read_bytes()))
        except (SyntaxError, ValueError):
            continue
    report = index_project(root)
    assert report.anchors_added > 5000
    for rel, dump in before.items():
        assert ast.dump(ast.parse((root / rel).read_bytes())) == dump, rel
    again = index_project(root)
    assert (again.anchors_added, again.orphaned, again.changed_files) == (0, 0, 0)


def test_anchors_survive_ruff_format_with_the_same_ids(project) -> None:  # type: ignore[no-untyped-def]
    root = project(
        {
            "pkg/__init__.py": "",
            "pkg/mod.py": """
            import os
            class   Loader( object ):
                def load(self,path,   mode="r",
                         encoding="utf-8", errors="strict", newline=None, closefd=True, opener=None):
                    return open(path)
                @staticmethod
                def   helper( x ):   return x*2
            def top(a,b): return Loader().load(a)
            """,
        }
    )
    index_project(root)
    ids_before = ids_by_qualname(root, "pkg/mod.py")
    subprocess.run([sys.executable, "-m", "ruff", "format", "--line-length", "88", str(root)], check=True, capture_output=True)
    formatted = (root / "pkg/mod.py").read_text()
    assert "class Loader(object):" in formatted  # ruff really reformatted the file
    report = index_project(root)
    assert report.anchors_added == 0
    assert ids_by_qualname(root, "pkg/mod.py") == ids_before


def test_replace_checked_refuses_a_file_that_changed_since_it_was_read(tmp_path: Path) -> None:
    path = tmp_path / "mod.py"
    path.write_bytes(b"def f():\n    pass\n")
    read_hash = bytes_hash(path.read_bytes())
    path.write_bytes(b"def f():\n    return 'edited by the user'\n")
    with pytest.raises(FileChangedError, match="mod.py"):
        replace_checked(path, b"def f():  # rm_abcdefgh\n    pass\n", read_hash)
    assert path.read_bytes() == b"def f():\n    return 'edited by the user'\n"
    assert [p.name for p in tmp_path.iterdir()] == ["mod.py"]  # no temp file left behind


def test_replace_checked_is_atomic_and_keeps_the_mode(tmp_path: Path) -> None:
    path = tmp_path / "script.py"
    path.write_bytes(b"print(1)\n")
    path.chmod(0o755)
    replace_checked(path, b"print(2)\n", bytes_hash(b"print(1)\n"))
    assert path.read_bytes() == b"print(2)\n"
    assert path.stat().st_mode & 0o777 == 0o755


def test_write_files_helper_dedents(tmp_path: Path) -> None:
    write_files(tmp_path, {"a.py": "\n    x = 1\n"})
    assert (tmp_path / "a.py").read_text() == "x = 1\n"


def test_anchor_free_span_hash_equals_hashing_the_stripped_slice() -> None:
    from remora_core.parsing.anchors import AnchorFreeText, source_hash

    data = (
        b"# remora-file: rm_file0000\n"
        b"class A:  # rm_aaaaaaaa\n"
        b"    def f(self):                # rm_bbbbbbbb\n"
        b"        return 1\n"
        b"    def g(self): return 2    # rm_cccccccc\n"
        b"x = '# rm_dddddddd'\n"
    )
    stripped = AnchorFreeText(data)
    assert b"rm_" not in stripped.text
    parsed = parse_python(data)
    for d in parsed.defs:
        assert d.source_hash == source_hash(data[d.start_byte : d.end_byte]) == stripped.span_hash(
            d.start_byte, d.end_byte
        )
    unanchored = data.replace(b"                # rm_bbbbbbbb", b"")
    assert parse_python(unanchored).defs[1].source_hash == parsed.defs[1].source_hash
