"""Fuzz: Python files built from a grammar of risky constructs are indexed with anchors, and
CPython must not notice: it compiles the file after injection iff it did before, the ``ast``
(type comments included) is identical, every definition is anchored exactly once, and a second
pass adds nothing. ``REMORA_FUZZ_EXAMPLES`` raises the budget (CI: 300)."""

from __future__ import annotations

import ast
import io
import itertools
import os
import re
import shutil
import tempfile
import tokenize
import warnings
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remora_core.config import IndexConfig
from remora_core.index.indexer import Indexer
from remora_core.parsing.python_source import parse_python
from remora_core.store.store import Store

EXAMPLES = int(os.environ.get("REMORA_FUZZ_EXAMPLES", "300"))
NODE_ANCHOR = re.compile(r"#[ \t]*rm_[a-z0-9]{8}(?![a-z0-9_])")
FILE_ANCHOR = re.compile(r"#[ \t]*remora-file:[ \t]*rm_[a-z0-9]{8}")
_ids = itertools.count()

NAMES = st.sampled_from(["f", "g", "load", "run", "Thing", "_private", "caf\u00e9"])
TYPE_COMMENT = st.sampled_from(["", "  # type: (int) -> str", "  # type: ignore", "  #type:(...)->None", "  # note"])


def _existing_anchor() -> str:
    return f"  # rm_fz{next(_ids) % 10**6:06d}"


@st.composite
def simple_statement(draw: st.DrawFn) -> list[str]:
    kind = draw(st.integers(0, 9))
    return [
        ["x = 1"],
        ["y = (1,", "     2)"],
        ["z = 1 + \\", "    2"],
        ['s = """first', "def not_a_def():  # rm_instring", '"""'],
        ["t = '''", "class Fake:", "'''"],
        ["# a comment with def inside"],
        ["v = []  # type: list[int]"],
        ["w = 'caf\u00e9'"],
        ["pass"],
        ["u = f'{1}' \\", "    'tail'"],
    ][kind]


@st.composite
def definition(draw: st.DrawFn, depth: int) -> list[str]:
    name = draw(NAMES)
    lines: list[str] = [f"@decorator{i}" for i in range(draw(st.integers(0, 2)))]
    is_class = draw(st.booleans())
    comment = draw(TYPE_COMMENT)
    anchor = _existing_anchor() if draw(st.integers(0, 5)) == 0 else ""
    if is_class:
        header = [f"class {name}(Base):{comment if comment.endswith(('ignore', 'note')) else ''}{anchor}"]
    else:
        form = draw(st.integers(0, 4))
        keyword = draw(st.sampled_from(["def", "async def"]))
        if form == 0:
            header = [f"{keyword} {name}(a, b=1):{comment}{anchor}"]
        elif form == 1:
            header = [f"{keyword} {name}(a,  # type: int", "        b,  # type: str", f"        ):{anchor}"]
        elif form == 2:
            header = [f"{keyword} {name}(a, \\", f"        b):{comment}{anchor}"]
        elif form == 3:
            header = [f'{keyword} {name}(a="""multi', f'line"""):{comment}{anchor}']
        else:  # one-line def
            return [*lines, f"{keyword} {name}(a): return a{comment if comment.endswith(('ignore', 'note')) else ''}"]
    body: list[str] = []
    if draw(st.booleans()):
        body += ['"""Docstring', "    def inside_docstring(): pass", '"""'] if draw(st.booleans()) else ['"""One line."""']
    for _ in range(draw(st.integers(0 if body else 1, 3))):
        if depth < 2 and draw(st.integers(0, 2)) == 0:
            body += draw(definition(depth + 1))
        else:
            body += draw(simple_statement())
    return [*lines, *header, *(INDENT + line if line else line for line in body)]


INDENT = "\x00"  # replaced by the file's indentation unit when rendered


@st.composite
def python_file(draw: st.DrawFn) -> bytes:
    statements: list[str] = []
    for _ in range(draw(st.integers(1, 5))):
        statements += draw(definition(0)) if draw(st.integers(0, 2)) else draw(simple_statement())
    unit = draw(st.sampled_from(["    ", "\t", "  "]))
    lines = [line.replace(INDENT, unit) for line in statements]
    head = draw(st.sampled_from(["none", "shebang", "coding1", "coding2-comment", "coding2-blank", "shebang-coding"]))
    encoding = draw(st.sampled_from(["utf-8", "latin-1"])) if head.startswith(("coding", "shebang-coding")) else "utf-8"
    coding = f"# -*- coding: {encoding} -*-"
    prefix = {
        "none": [],
        "shebang": ["#!/usr/bin/env python3"],
        "coding1": [coding],
        "coding2-comment": ["# header comment", coding],
        "coding2-blank": ["", coding],
        "shebang-coding": ["#!/usr/bin/env python3", coding],
    }[head]
    lines = prefix + lines
    newline_style = draw(st.sampled_from(["\n", "\r\n", "\r", "mixed"]))
    out = []
    for line in lines:
        newline = draw(st.sampled_from(["\n", "\r\n", "\r"])) if newline_style == "mixed" else newline_style
        out.append(line + newline)
    if draw(st.booleans()) and out:
        out[-1] = out[-1].rstrip("\r\n")  # no newline at the end
    text = "".join(out)
    data = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 9)) == 0:
        data = data.replace(b"x = 1", b"x = '\xff'", 1)  # bytes that are not UTF-8
    if encoding == "utf-8" and draw(st.integers(0, 4)) == 0:
        data = b"\xef\xbb\xbf" + data
    return data


def _compiles(data: bytes) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(data, "<fuzz>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError):
            return False
    return True


def _dump(data: bytes, inserted_lines: int) -> str:
    tree = ast.parse(data, type_comments=True)
    for ignore in tree.type_ignores:
        ignore.lineno -= inserted_lines
    return ast.dump(tree, include_attributes=False)


def _anchor_comments(data: bytes) -> tuple[int, int]:
    """(node anchors, file anchors) among the file's comment tokens, by Python's tokenizer."""
    data = re.sub(rb"\r\n?", b"\n", data)  # tokenize's readline splits at b"\n" only
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    text = text.removeprefix("\ufeff")
    nodes = files = 0
    for token in tokenize.generate_tokens(io.StringIO(text, newline=None).readline):
        if token.type == tokenize.COMMENT:
            if FILE_ANCHOR.fullmatch(token.string.rstrip()):
                files += 1
            else:
                nodes += len(NODE_ANCHOR.findall(token.string))
    return nodes, files


def _defs(data: bytes) -> int:
    return sum(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) for node in ast.walk(ast.parse(data))
    )


class FuzzProject:
    """One project for every example of a run (a store per example would cost more than the
    example): each example is a new file, indexed alone as the hub indexes a saved file."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="remora-fuzz-"))
        self.store = Store.open(self.root)
        self.indexer = Indexer(self.root, self.store, IndexConfig())
        self.count = 0

    def index(self, source: bytes) -> tuple[bytes, list[dict[str, str]], int]:
        """(the file after indexing, the pass's errors, anchors a second pass adds)."""
        self.count += 1
        name = f"m{self.count}.py"
        (self.root / name).write_bytes(source)
        report = self.indexer.index(paths=[name], totals=False)
        after = (self.root / name).read_bytes()
        again = self.indexer.index(paths=[name], totals=False)
        assert (self.root / name).read_bytes() == after
        return after, report.errors, again.anchors_added

    def close(self) -> None:
        self.store.close()
        shutil.rmtree(self.root, ignore_errors=True)


_project: FuzzProject | None = None


def check_file(source: bytes) -> None:
    global _project
    if _project is None:
        _project = FuzzProject()
    after, errors, added_again = _project.index(source)
    before_ok = _compiles(source)
    assert _compiles(after) == before_ok, (source, after)
    if not before_ok:
        assert after == source
        return
    inserted = len(after.splitlines()) - len(source.splitlines())
    assert inserted in (0, 1)
    assert _dump(after, inserted) == _dump(source, 0), (source, after)
    unanchorable = sum("no line of its header can take an anchor" in e["message"] for e in errors)
    nodes, files = _anchor_comments(after)
    assert files == 1, after
    assert nodes == _defs(after) - unanchorable, (source, after, errors)
    parsed = parse_python(after)  # Remora finds every anchor it wrote, each on its own def
    found = [d.anchor for d in parsed.defs if d.anchor is not None]
    assert parsed.file_anchor is not None and len(found) == nodes == len(set(found)), (after, found)
    assert added_again == 0


def teardown_module() -> None:
    global _project
    if _project is not None:
        _project.close()
        _project = None


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 300,  # CI: the same 300 files every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(python_file())
def test_injection_never_changes_what_cpython_sees(source: bytes) -> None:
    check_file(source)
