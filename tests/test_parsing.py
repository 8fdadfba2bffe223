"""Extraction of definitions, imports and call sites: Python's own ``ast`` is the oracle."""

from __future__ import annotations

import ast
import os
import sysconfig
import textwrap
from pathlib import Path

import pytest

from remora_core.parsing.model import ParsedFile
from remora_core.parsing.python_source import parse_python


def parse(source: str) -> ParsedFile:
    return parse_python(textwrap.dedent(source).lstrip("\n").encode())


def shape(parsed: ParsedFile) -> list[tuple[str, str, int, int, int, str | None]]:
    """(type, qualname, start line, def line, end line, parent qualname) of every definition."""
    return [
        (
            d.node_type,
            d.qualname,
            d.start_line,
            d.def_line,
            d.end_line,
            parsed.defs[d.parent].qualname if d.parent >= 0 else None,
        )
        for d in parsed.defs
    ]


def oracle(tree: ast.AST) -> list[tuple[str, str, int, int, int, str | None]]:
    found: list[tuple[str, str, int, int, int, str | None]] = []

    def visit(node: ast.AST, parent: str | None, parent_kind: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                if isinstance(child, ast.ClassDef):
                    kind = "class"
                else:
                    kind = "method" if parent_kind == "class" else "function"
                qualname = f"{parent}.{child.name}" if parent else child.name
                start = min([d.lineno for d in child.decorator_list] + [child.lineno])
                assert child.end_lineno is not None
                found.append((kind, qualname, start, child.lineno, child.end_lineno, parent))
                visit(child, qualname, kind)
            else:
                visit(child, parent, parent_kind)

    visit(tree, None, "file")
    return found


def stdlib_files() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    files: list[Path] = []
    for directory, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in ("site-packages", "dist-packages", "__pycache__")]
        files.extend(Path(directory) / name for name in names if name.endswith(".py"))
    return sorted(files)


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::SyntaxWarning")
def test_every_definition_of_the_standard_library_matches_ast() -> None:
    files = stdlib_files()
    assert len(files) > 1000
    checked = 0
    mismatches: list[str] = []
    for path in files:
        data = path.read_bytes()
        try:
            tree = ast.parse(data)
        except (SyntaxError, ValueError):
            continue  # deliberately broken test inputs; covered by the syntax-error tests
        parsed = parse_python(data)
        if parsed.syntax_error:  # ast.parse accepts it: only the compiler may reject it
            try:
                compile(tree, str(path), "exec", dont_inherit=True)
            except SyntaxError:
                continue
        expected = oracle(tree)
        got = shape(parsed)
        checked += len(expected)
        # A file tree-sitter's grammar cannot parse (test/test_compile.py) takes its structure
        # from CPython's ast: no problem is reported and the shape is CPython's.
        assert parsed.problems == [], (path, parsed.problems)
        if got == expected:
            continue
        missing = sorted(set(expected) - set(got))[:3]
        extra = sorted(set(got) - set(expected))[:3]
        mismatches.append(f"{path}: missing {missing} extra {extra}")
    assert checked > 50_000
    assert mismatches == []


def test_decorated_definition_is_one_node_with_decorators_in_its_span() -> None:
    parsed = parse(
        """
        import functools

        @functools.lru_cache(maxsize=None)
        @staticmethod
        def cached(x):
            return x
        """
    )
    assert shape(parsed) == [("function", "cached", 3, 5, 6, None)]
    assert parsed.defs[0].inject_line == 5


def test_nested_async_overloads_properties_and_duplicates() -> None:
    parsed = parse(
        """
        from typing import TYPE_CHECKING, overload

        class Outer:
            class Inner:
                def deep(self): ...

            @overload
            def get(self, x: int) -> int: ...
            @overload
            def get(self, x: str) -> str: ...
            def get(self, x): return x

            @property
            def value(self): return 1
            @value.setter
            def value(self, v): pass

            def dup(self): return 1
            def dup(self): return 2

            async def run(self):
                def helper():
                    async def innermost(): pass
                return helper

        if TYPE_CHECKING:
            def typed() -> None: ...
        else:
            def typed() -> None: ...
        try:
            def maybe(): pass
        except ImportError:
            maybe = None
        """
    )
    assert [(kind, qual, parent) for kind, qual, _, _, _, parent in shape(parsed)] == [
        ("class", "Outer", None),
        ("class", "Outer.Inner", "Outer"),
        ("method", "Outer.Inner.deep", "Outer.Inner"),
        ("method", "Outer.get", "Outer"),
        ("method", "Outer.get", "Outer"),
        ("method", "Outer.get", "Outer"),
        ("method", "Outer.value", "Outer"),
        ("method", "Outer.value", "Outer"),
        ("method", "Outer.dup", "Outer"),
        ("method", "Outer.dup", "Outer"),
        ("method", "Outer.run", "Outer"),
        ("function", "Outer.run.helper", "Outer.run"),
        ("function", "Outer.run.helper.innermost", "Outer.run.helper"),
        ("function", "typed", None),
        ("function", "typed", None),
        ("function", "maybe", None),
    ]
    # decorated overloads start at their decorator line
    gets = [d for d in parsed.defs if d.name == "get"]
    assert [(d.start_line, d.def_line) for d in gets] == [(7, 8), (9, 10), (11, 11)]


def test_method_defined_under_if_in_class_body_is_a_method() -> None:
    parsed = parse(
        """
        class A:
            if True:
                def m(self): pass
        """
    )
    assert shape(parsed)[1][0] == "method"


def test_syntax_error_keeps_parseable_nodes_and_reports_the_line() -> None:
    parsed = parse(
        """
        def good():
            return 1

        def broken(:
            pass

        class Fine:
            def ok(self):
                return 2
        """
    )
    names = [d.qualname for d in parsed.defs]
    assert "good" in names and "Fine" in names and "Fine.ok" in names
    assert parsed.problems and "line 4" in parsed.problems[0]


def test_declared_encoding_is_honoured() -> None:
    data = b"# -*- coding: latin-1 -*-\ndef caf\xe9():\n    return '\xe9'\n\ndef plain():\n    pass\n"
    parsed = parse_python(data)
    assert [(d.name, d.def_line) for d in parsed.defs] == [("caf\u00e9", 2), ("plain", 5)]
    assert parsed.problems == [] and not parsed.syntax_error


def test_undeclared_non_utf8_bytes_are_reported_and_do_not_stop_extraction() -> None:
    data = b"def f():\n    return '\xe9'\n\ndef plain():\n    pass\n"
    parsed = parse_python(data)
    assert [d.def_line for d in parsed.defs] == [1, 4]
    assert parsed.defs[1].name == "plain"
    assert any("not valid UTF-8" in problem for problem in parsed.problems)


def test_empty_and_comment_only_files() -> None:
    assert parse_python(b"").defs == []
    assert parse_python(b"# nothing\n").line_count == 1


def test_imports_are_extracted_with_aliases_and_levels() -> None:
    parsed = parse(
        """
        import os, a.b.c as abc
        from . import sibling
        from ..pkg.mod import thing as other, more
        from x import *
        def f():
            import json
        """
    )
    got = [(i.module, i.level, i.name, i.alias) for i in parsed.imports]
    assert got == [
        ("os", 0, None, "os"),
        ("a.b.c", 0, None, "abc"),
        ("", 1, "sibling", "sibling"),
        ("pkg.mod", 2, "thing", "other"),
        ("pkg.mod", 2, "more", "more"),
        ("x", 0, "*", "*"),
        ("json", 0, None, "json"),
    ]


def test_call_sites_belong_to_the_innermost_function_body() -> None:
    parsed = parse(
        """
        @decorate(setup())
        def outer(x=default()):
            helper()
            def inner():
                self.method()
                super().save()
                mod.sub.func()
            obj().chained()
            return inner()

        class K:
            value = compute()
            def m(self):
                cls.make()
        module_level()
        """
    )
    names = {index: d.qualname for index, d in enumerate(parsed.defs)}
    got = sorted((names[c.caller], c.callee) for c in parsed.calls)
    assert got == [
        ("K.m", "cls.make"),
        ("outer", "helper"),
        ("outer", "inner"),
        ("outer", "obj"),
        ("outer.inner", "mod.sub.func"),
        ("outer.inner", "self.method"),
        ("outer.inner", "super"),
        ("outer.inner", "super().save"),
    ]


@pytest.mark.parametrize(
    "header",
    [
        "def f(a,\n      b):\n    pass\n",
        "def f(\n    a: int = 1,\n) -> int:\n    return a\n",
        "class C(Base,\n        metaclass=M):\n    pass\n",
    ],
)
def test_multi_line_headers_report_the_colon_line(header: str) -> None:
    parsed = parse_python(header.encode())
    d = parsed.defs[0]
    assert d.def_line == 1
    assert d.header_end_line == header.split("\n").index(next(l for l in header.split("\n") if l.rstrip().endswith(":"))) + 1
