"""CPython as the judge: does a file compile, and its structure when tree-sitter cannot parse it.

tree-sitter's grammar accepts some files CPython rejects (Python 2 ``print "x"``) and rejects
a few CPython accepts (an expression continued at a lower indentation inside brackets). Anchors
are only written into files the running CPython compiles, and a file that tree-sitter reports
as broken but CPython accepts takes its definitions, imports and calls from ``ast`` (this path
runs only for those files: tokenizing and walking an ``ast`` is slower than tree-sitter).
"""

from __future__ import annotations

import ast
import io
import tokenize
import warnings
from bisect import bisect_right
from typing import TYPE_CHECKING

from remora_core.parsing.anchors import BOM
from remora_core.parsing.model import NodeType, ParsedDef, ParsedImport

if TYPE_CHECKING:
    from remora_core.parsing.python_source import Extractor

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _problem(error: BaseException) -> str:
    if isinstance(error, SyntaxError):
        where = f" at line {error.lineno}, column {error.offset}" if error.lineno else ""
        return f"syntax error{where}: {error.msg} (CPython {_version()})"
    return f"CPython {_version()} cannot compile it: {error}"


def _version() -> str:
    import sys

    return f"{sys.version_info.major}.{sys.version_info.minor}"


def cpython_problem(raw: bytes) -> str | None:
    """None when the running CPython compiles ``raw`` (the file's bytes), else why not."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(raw, "<remora>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, UnicodeError, MemoryError, RecursionError) as error:
            return _problem(error)
    return None


def cpython_tree(raw: bytes) -> ast.Module | str:
    """The ``ast`` of ``raw`` when CPython compiles it, else the problem."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tree = ast.parse(raw, "<remora>")
            compile(tree, "<remora>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, UnicodeError, MemoryError, RecursionError) as error:
            return _problem(error)
    assert isinstance(tree, ast.Module)
    return tree


class Lexicon:
    """Where comments and multi-line strings are in a view (UTF-8 bytes, ``\\n`` line ends), from
    Python's own tokenizer, with byte offsets."""

    def __init__(self, view: bytes) -> None:
        self.view = view
        self.bom = len(BOM) if view.startswith(BOM) else 0
        self.line_starts = [0]
        position = view.find(b"\n")
        while position >= 0:
            self.line_starts.append(position + 1)
            position = view.find(b"\n", position + 1)
        self.comments: list[tuple[int, int]] = []
        self.strings: list[tuple[int, int]] = []  # multi-line string tokens only
        self.colons: list[int] = []
        text = view[self.bom :].decode("utf-8", errors="replace")
        lines = text.split("\n")
        fstring_starts: list[int] = []
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind = token.type
            if kind == tokenize.COMMENT:
                self.comments.append((self._byte(lines, token.start), self._byte(lines, token.end)))
            elif kind == tokenize.STRING and token.start[0] != token.end[0]:
                self.strings.append((self._byte(lines, token.start), self._byte(lines, token.end)))
            elif kind == tokenize.OP and token.string == ":":
                self.colons.append(self._byte(lines, token.start))
            elif tokenize.tok_name.get(kind) == "FSTRING_START":  # Python 3.12+
                fstring_starts.append(self._byte(lines, token.start))
            elif tokenize.tok_name.get(kind) == "FSTRING_END" and fstring_starts:
                self.strings.append((fstring_starts.pop(), self._byte(lines, token.end)))
        self.strings.sort()
        self.string_starts = [start for start, _ in self.strings]
        self.comment_starts = [start for start, _ in self.comments]

    def _byte(self, lines: list[str], point: tuple[int, int]) -> int:
        row, column = point
        line = lines[row - 1] if row - 1 < len(lines) else ""
        prefix = line[:column]
        width = column if prefix.isascii() else len(prefix.encode("utf-8"))
        return self.offset(row, width)

    def offset(self, row: int, byte_column: int) -> int:
        """Byte offset in the view of a 1-based row and a byte column of CPython (which does not
        count a BOM)."""
        return self.line_starts[row - 1] + byte_column + (self.bom if row == 1 else 0)

    def is_comment(self, position: int) -> bool:
        index = bisect_right(self.comment_starts, position) - 1
        return index >= 0 and position < self.comments[index][1]

    def eol_in_string(self, eol: int) -> bool:
        index = bisect_right(self.string_starts, eol) - 1
        while index >= 0:
            start, end = self.strings[index]
            if start < eol < end:
                return True
            index -= 1
            if index >= 0 and self.strings[index][1] <= start:
                break
        return False


def _node_type(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, parent: ParsedDef | None) -> NodeType:
    if isinstance(node, ast.ClassDef):
        return "class"
    return "method" if parent is not None and parent.node_type == "class" else "function"


def _parameter_names(arguments: ast.arguments) -> tuple[str, ...]:
    names = [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
    if arguments.vararg is not None:
        names.append(arguments.vararg.arg)
    names.extend(a.arg for a in arguments.kwonlyargs)
    if arguments.kwarg is not None:
        names.append(arguments.kwarg.arg)
    return tuple(names)


def _imports_of(node: ast.Import | ast.ImportFrom) -> list[ParsedImport]:
    if isinstance(node, ast.Import):
        return [
            ParsedImport(alias.name, 0, None, alias.asname or alias.name.split(".")[0], node.lineno)
            for alias in node.names
        ]
    return [
        ParsedImport(node.module or "", node.level, alias.name, alias.asname or alias.name, node.lineno)
        for alias in node.names
    ]


def extract_from_ast(extractor: Extractor, tree: ast.Module, lexicon: Lexicon) -> None:
    """Fill ``extractor`` (definitions, imports, calls, in document order) from CPython's tree."""
    from remora_core.parsing.python_source import Callee, locate_anchor

    view = extractor.data
    lines = lexicon.line_starts

    def at(node: ast.expr | ast.stmt) -> int:
        return lexicon.offset(node.lineno, node.col_offset)

    def end(node: ast.expr | ast.stmt) -> int:
        assert node.end_lineno is not None and node.end_col_offset is not None
        return lexicon.offset(node.end_lineno, node.end_col_offset)

    def text(node: ast.expr) -> str:
        return view[at(node) : end(node)].decode("utf-8", errors="replace")

    defs = extractor.defs

    def visit(node: ast.AST, parent: int) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, _DEFS):
                visit(child, add(child, parent))
            else:
                visit(child, parent)

    def add(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, parent: int) -> int:
        parent_def = defs[parent] if parent >= 0 else None
        node_type = _node_type(node, parent_def)
        span_start = min([at(node), *(at(d) for d in node.decorator_list)])
        first = node.body[0]
        body_start = at(first)
        colon_index = bisect_right(lexicon.colons, body_start) - 1
        colon = lexicon.colons[colon_index] if colon_index >= 0 else at(node)
        header_end_line = bisect_right(lines, colon)
        start_line = bisect_right(lines, span_start)
        def_byte = at(node)
        end_byte = end(node)
        parsed = ParsedDef(
            node_type=node_type,
            name=node.name,
            qualname=f"{parent_def.qualname}.{node.name}" if parent_def is not None else node.name,
            parent=parent,
            start_line=start_line,
            def_line=node.lineno,
            header_end_line=header_end_line,
            end_line=node.end_lineno or node.lineno,
            start_byte=span_start,
            def_byte=def_byte,
            end_byte=end_byte,
            source_hash=extractor.anchor_free.span_hash(span_start, end_byte),
        )
        body_line: int | None = None
        if first.lineno > header_end_line and not isinstance(first, _DEFS):
            body_line = lines[first.lineno - 1]
        locate_anchor(
            view,
            parsed,
            lines[node.lineno - 1],
            header_end_line - node.lineno + 1,
            body_line,
            lexicon.is_comment,
            lexicon.eol_in_string,
        )
        if isinstance(node, ast.ClassDef):
            parsed.bases = tuple(
                "".join(text(base).split()) for base in node.bases if isinstance(base, ast.Name | ast.Attribute)
            )
        else:
            parsed.params = _parameter_names(node.args)
        defs.append(parsed)
        extractor.body_starts.append(body_start)
        return len(defs) - 1

    visit(tree, -1)

    imports: list[tuple[int, ParsedImport]] = []
    calls: list[Callee] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            imports.extend((at(node), parsed) for parsed in _imports_of(node))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
            func = node.func
            calls.append((at(func), end(func), (func.lineno - 1, func.col_offset)))
    imports.sort(key=lambda item: item[0])
    extractor.imports.extend(item for _, item in imports)
    extractor.import_bytes.extend(position for position, _ in imports)
    calls.sort()
    extractor.add_calls(calls)

