"""The fast extraction (issue #15) gives exactly what the extractor before it gave.

``tests/legacy_python_extract.py`` is that extractor (the general path, node by node); both run on the standard
library's files, as they are and with an anchor written on every definition (the common case in
a real project, and the one the fast path treats differently), and on hand-made corner cases.
Every ParsedDef field, import and call, and the positions the incremental parser reuses, must be
equal.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from remora_core.parsing import python_source
from remora_core.parsing.anchors import AnchorEdit, apply_anchor_edits
from remora_core.parsing.model import ParsedDef
from tests import legacy_python_extract as legacy

SKIPPED = ("site-packages", "dist-packages", "__pycache__")


def _stdlib_files() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    return sorted(
        path for path in root.rglob("*.py") if not any(part in SKIPPED for part in path.relative_to(root).parts)
    )


def _fields(parsed_def: ParsedDef) -> tuple[object, ...]:
    return tuple(getattr(parsed_def, name) for name in ParsedDef.__slots__)


def _facts(module: object, data: bytes) -> tuple[object, ...]:
    view, problems = python_source.utf8_source(data)
    extraction = module.extract(view, python_source.parse_tree(view), problems)  # type: ignore[attr-defined]
    parsed = extraction.parsed
    return (
        [_fields(d) for d in parsed.defs],
        parsed.imports,
        parsed.calls,
        extraction.body_starts,
        extraction.import_bytes,
        extraction.call_bytes,
        parsed.source_hash,
        parsed.line_count,
        parsed.file_anchor,
        parsed.file_anchor_line,
        parsed.file_anchor_insert_line,
        parsed.problems,
        parsed.syntax_error,
    )


def _anchored(data: bytes) -> bytes:
    """``data`` with a file anchor and an anchor on every definition that takes one."""
    view, _ = python_source.utf8_source(data)
    parsed = python_source.extract(view, python_source.parse_tree(view)).parsed
    edits = [AnchorEdit(parsed.file_anchor_insert_line, "rm_f0000000", is_file_anchor=True)]
    edits += [
        AnchorEdit(d.inject_line, f"rm_{index:08d}") for index, d in enumerate(parsed.defs) if d.inject_line is not None
    ]
    return apply_anchor_edits(view, edits)


def _check(data: bytes, what: str) -> None:
    assert _facts(python_source, data) == _facts(legacy, data), what


CORNER_CASES = [
    b"def f(a, b=1, *args, c: int = 2, d: str, **kw):  # rm_abcdefgh\n    return g(a) + h.i(b)\n",
    (
        b"@dec\n@dec2(x)\nclass A(B, mod.C, metaclass=M):\n    def m(self, /, x, *, y):\n        super().m(x)\n"
        b"        super(A, self).m(y)\n        super ( ).n()\n        self . x . y ()\n        (a).b()\n        a[0].c()\n"
    ),
    (
        b"def f(\n    a,  # comment: with a colon\n    b,\n):  # rm_abcdefgh\n    # leading comment\n"
        b"    return 1  # trailing\n    # after\n"
    ),
    b"def f(a='#', b=\"'\"):  # type: (str, str) -> None\n    pass\n",
    b"def f(a, \\\n      b):\n    x = '''\n# rm_notanchr\n'''\n    return x\n",
    b"class A:\n    def m(self): pass\n    @property\n    def p(self): return 1\n    class B(object): x = 1\n",
    b"def \xc3\xa9t\xc3\xa9(\xc3\xa0, b):\n    return \xc3\xa0.\xc3\xa9()\n",
    b"def f():\n    def g():\n        pass\n    @d\n    def h(*, k, **kw): f(g(h()))\n",
    b"def f(*args: int, **kwargs: str) -> None:\n    lambda x, y=1: x(y)\n",
    b"class A(\n    B,\n    C.D,  # rm_abcdefgh\n):\n    x: int\n",
    b"def f(a):\r\n    return a.b()\r\n",
    b"async def f(a):\n    await g(a)\n    async with x() as y:\n        def inner(): y.z()\n",
    b"def f(:\n    g()\nclass\n",
    b"def f(a, (b, c)=1):\n    pass\n",
    b"if x:\n    def f(): g()\nelse:\n    def f(): h()  # rm_abcdefgh\n",
    b"def f(a='# rm_abcdefgh'):  # rm_zyxwvuts\n    pass\n",
    b"def f(a):  # rm_abcdefgh  # rm_zyxwvuts\n    pass\n",
    b"def f(a):  # see rm_abcdefghij\n    # rm_abcdefgh\n    pass\n",
    b"def f(a):\n    # rm_abcdefgh\n    pass\nclass B:  # type: ignore\n    x = 1\n",
    b"def f(a: 'x:y') -> dict[str, int]:  # note: a colon\n    pass\n",
    b"def f(a,  # rm_abcdefgh\n      b: int):\n    pass\n",
    b"def f():  # one\n    # two: three\n    pass\n",
    b"class A(B):  # rm_abcdefgh\n\n\n    x = 1  # tail\n",
]


@pytest.mark.parametrize("number", range(len(CORNER_CASES)))
def test_corner_cases_equal_the_legacy_extractor(number: int) -> None:
    data = CORNER_CASES[number]
    _check(data, repr(data))
    _check(_anchored(data), repr(data) + " anchored")


def test_a_sample_of_the_standard_library_equals_the_legacy_extractor() -> None:
    files = _stdlib_files()[::40]
    assert len(files) > 30
    for path in files:
        data = path.read_bytes()
        _check(data, str(path))
        _check(_anchored(data), f"{path} anchored")


@pytest.mark.slow
def test_the_whole_standard_library_equals_the_legacy_extractor() -> None:
    files = _stdlib_files()
    assert len(files) > 1000
    for path in files:
        data = path.read_bytes()
        _check(data, str(path))
        _check(_anchored(data), f"{path} anchored")
