"""Pure text operations on spans: locate a node by its anchor, splice a span (and check the
result parses), diff a span. Reading and rendering a definition a model wrote is
``agents.definitions``.

No database and no file access: text in, text out (lines keep their newlines).
"""

from __future__ import annotations

import difflib
import re
from collections import OrderedDict
from dataclasses import dataclass, field

from tree_sitter import Node, Parser, Point, Tree

from remora_core.agents.source_edit_lang import other_language, span_fields
from remora_core.fileio import bytes_hash
from remora_core.parsing.anchors import (
    FILE_ANCHOR_SCAN_LINES,
    NODE_ANCHOR_RE,
    find_file_anchor,
    source_hash,
)
from remora_core.parsing.model import ParsedFile
from remora_core.parsing.python_source import (
    first_syntax_error,
    header_end_row,
    last_code_node,
    parse_python,
    python_parser,
)

_HUNK_RE = re.compile(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")
TREE_CACHE_SIZE = 16
_TREE_CACHE: OrderedDict[str, Tree] = OrderedDict()


@dataclass(frozen=True, slots=True)
class Span:
    """Where a node is in one version of its file. Lines are 1-based and inclusive, whole lines."""

    node_id: str
    node_type: str
    name: str
    start_line: int
    def_line: int
    header_end_line: int
    end_line: int
    source_hash: str
    indent: str
    file_ok: bool  # the whole file parsed without syntax errors
    tree: Tree | None = field(default=None, compare=False, repr=False)  # the parse it was found in


def split_lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


_DEF_TYPES = ("function_definition", "class_definition")


def _owner(comment: Node, root: Node, data: bytes) -> Node | None:
    """The def/class whose header holds the anchor ``comment``."""
    row = comment.start_point[0]
    node = comment.parent
    while node is not None:
        if node.type in _DEF_TYPES and node.start_point[0] <= row <= header_end_row(node):
            return node
        node = node.parent
    # a trailing comment tree-sitter attached elsewhere: the definition starting on that row
    line_start = data.rfind(b"\n", 0, comment.start_byte) + 1
    first = (
        line_start
        + len(data[line_start : comment.start_byte])
        - len(data[line_start : comment.start_byte].lstrip())
    )
    node = root.descendant_for_byte_range(first, first + 1)
    while node is not None:
        if node.type in _DEF_TYPES and node.start_point[0] == row:
            return node
        node = node.parent
    return None


def _span_of(node: Node, node_id: str, data: bytes, text: str, file_ok: bool, tree: Tree) -> Span:
    outer = node.parent if node.parent is not None and node.parent.type == "decorated_definition" else node
    end = last_code_node(node)
    start_line = outer.start_point[0] + 1
    lines = split_lines(text)
    first = lines[start_line - 1]
    name_node = node.child_by_field_name("name")
    name = data[name_node.start_byte : name_node.end_byte].decode("utf-8", "replace") if name_node else ""
    if node.type == "class_definition":
        node_type = "class"
    else:
        node_type = "function"
        parent = outer.parent
        while parent is not None and parent.type not in _DEF_TYPES:
            parent = parent.parent
        if parent is not None and parent.type == "class_definition":
            node_type = "method"
    return Span(
        node_id,
        node_type,
        name,
        start_line,
        node.start_point[0] + 1,
        header_end_row(node) + 1,
        end.end_point[0] + 1,
        source_hash(data[outer.start_byte : end.end_byte]),
        first[: len(first) - len(first.lstrip(" \t"))],
        file_ok,
        tree,
    )


def parse_tree(data: bytes) -> Tree:
    """A bare tree-sitter parse of ``data``; the last few trees are kept by content hash (agents of
    one file, and a proposal and its approval, parse the same unchanged text again and again).
    Trees are never mutated: ``splice_problem`` edits a copy."""
    key = bytes_hash(data)
    tree = _TREE_CACHE.get(key)
    if tree is not None:
        _TREE_CACHE.move_to_end(key)
        return tree
    parser, _ = _tools()
    tree = parser.parse(data)
    if TREE_CACHE_SIZE > 0:
        _TREE_CACHE[key] = tree
        while len(_TREE_CACHE) > TREE_CACHE_SIZE:
            _TREE_CACHE.popitem(last=False)
    return tree


def locate(text: str, node_id: str, path: str = "") -> Span | None:
    """The span of the node whose anchor is ``node_id`` in ``text`` (None when it is not there).

    One bare tree-sitter parse (no extraction of the whole file): the anchor comment is found
    by text search and its definition by walking up the tree. A ``path`` of another registry
    language than Python is located with that language's parse (``source_edit_lang``).
    """
    language = other_language(path)
    if language is not None:
        fields = span_fields(text, node_id, language)
        return None if fields is None else Span(*fields)  # type: ignore[arg-type]
    data = text.encode("utf-8", errors="surrogateescape")
    head = data[:4096].split(b"\n")[: FILE_ANCHOR_SCAN_LINES + 1]
    found = find_file_anchor(head)
    tree = parse_tree(data)
    root = tree.root_node
    file_ok = not root.has_error
    if found is not None and found[0] == node_id:
        line_count = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
        return Span(node_id, "file", "", 1, 1, 1, max(line_count, 1), source_hash(data), "", file_ok, tree)
    needle = node_id.encode("ascii")
    position = data.find(needle)
    while position >= 0:
        comment = root.descendant_for_byte_range(position, position + 1)
        if comment is not None and comment.type == "comment":
            match = NODE_ANCHOR_RE.search(data[comment.start_byte : comment.end_byte])
            if match and match.group(1) == needle:
                owner = _owner(comment, root, data)
                if owner is not None:
                    return _span_of(owner, node_id, data, text, file_ok, tree)
        position = data.find(needle, position + 1)
    # fallback: the indexer's own extraction (anchors in unusual places)
    parsed = parse_python(data)
    for definition in parsed.defs:
        if definition.anchor == node_id:
            start = root.descendant_for_byte_range(definition.def_byte, definition.def_byte + 1)
            while start is not None and start.type not in _DEF_TYPES:
                start = start.parent
            if start is not None:
                return _span_of(start, node_id, data, text, file_ok, tree)
    return None


def span_defs(text: str, span: Span) -> ParsedFile:
    """The definitions of the span alone, dedented (qualnames relative to the node's parent)."""
    lines = split_lines(text)[span.start_line - 1 : span.end_line]
    indent = span.indent
    body = "".join(line.removeprefix(indent) for line in lines)
    return parse_python(body.encode("utf-8"))


def span_text(text: str, span: Span) -> str:
    return "".join(split_lines(text)[span.start_line - 1 : span.end_line])


def splice(text: str, span: Span, replacement: str) -> str:
    lines = split_lines(text)
    return "".join(lines[: span.start_line - 1]) + replacement + "".join(lines[span.end_line :])


def newline_of(text: str) -> str:
    return "\r\n" if "\r\n" in text[:8192] else "\n"


def span_diff(old: str, new: str, file_path: str, first_line: int) -> str:
    """Unified diff of a node's old and new text, hunk line numbers counted in the file."""
    shift = first_line - 1
    out: list[str] = []
    old_lines = [line.rstrip("\r\n") + "\n" for line in split_lines(old)]
    new_lines = [line.rstrip("\r\n") + "\n" for line in split_lines(new)]
    for line in difflib.unified_diff(old_lines, new_lines, f"a/{file_path}", f"b/{file_path}"):
        match = _HUNK_RE.match(line)
        if match:
            old_start = int(match.group(1)) + shift
            new_start = int(match.group(3)) + shift
            line = f"@@ -{old_start}{match.group(2) or ''} +{new_start}{match.group(4) or ''} @@\n"
        out.append(line)
    return "".join(out)


def _tools() -> tuple[Parser, None]:
    """The process's one Python parser (``parsing.python_source``)."""
    return python_parser(), None


def _point(data: bytes, offset: int) -> Point:
    row = data.count(b"\n", 0, offset)
    return Point(row, offset - (data.rfind(b"\n", 0, offset) + 1))


def splice_problem(text: str, span: Span, replacement: str, path: str = "") -> str | None:
    """The first syntax error of ``text`` with ``span`` replaced, or None. Reparses incrementally
    from the tree ``span`` was found in (only the replaced region is parsed again); ``path``: the
    file's language's grammar checks it."""
    if span.tree is None:
        return syntax_problem(splice(text, span, replacement), path)
    lines = split_lines(text)
    before = "".join(lines[: span.start_line - 1]).encode("utf-8", errors="surrogateescape")
    old = "".join(lines[span.start_line - 1 : span.end_line]).encode("utf-8", errors="surrogateescape")
    new = replacement.encode("utf-8", errors="surrogateescape")
    after = "".join(lines[span.end_line :]).encode("utf-8", errors="surrogateescape")
    old_data = before + old + after
    new_data = before + new + after
    start = len(before)
    tree = span.tree.copy()
    tree.edit(
        start_byte=start,
        old_end_byte=start + len(old),
        new_end_byte=start + len(new),
        start_point=_point(old_data, start),
        old_end_point=_point(old_data, start + len(old)),
        new_end_point=_point(new_data, start + len(new)),
    )
    parser, _ = _tools()
    return first_syntax_error(parser.parse(new_data, tree).root_node)


def syntax_problem(text: str, path: str = "") -> str | None:
    """Where the first syntax error of ``text`` is (a bare tree-sitter parse: no extraction), or None."""
    language = other_language(path)
    if language is not None:
        return language.syntax_error(text.encode("utf-8", errors="surrogateescape"))
    parser, _ = _tools()
    return first_syntax_error(parser.parse(text.encode("utf-8")).root_node)
