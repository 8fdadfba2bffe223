"""Tree-sitter extraction of Python definitions, anchors, imports and call sites.

One parse per file. Definitions are found by walking statement containers only (never
expressions), call sites by one tree-sitter query over the whole tree: both keep the work
on the Python side proportional to the number of statements and calls, not of tokens.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING

import tree_sitter_python
from tree_sitter import Language, Node, Parser, Query, QueryCursor, Tree

from remora_core.parsing import anchors, cpython
from remora_core.parsing.model import NodeType, ParsedCall, ParsedDef, ParsedFile, ParsedImport

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

# One walk of the tree finds everything. Besides definitions, imports and callees, the query
# captures what the fast path (``Extractor.add_clean_defs``, for trees without syntax errors) would
# otherwise fetch node by node: decorated definitions, parameter names (exactly those
# ``Extractor.parameter_names`` reads) and class bases (``Extractor.class_bases``).
_QUERY = """
[(function_definition) (class_definition)] @def
(decorated_definition) @decorated
[(import_statement) (import_from_statement)] @import
(call function: [(identifier) (attribute)] @callee)
(parameters (identifier) @param)
(parameters (default_parameter name: (_) @param))
(parameters (typed_default_parameter name: (_) @param))
(parameters (typed_parameter . (identifier) @param))
(parameters (typed_parameter . (list_splat_pattern . (identifier) @param)))
(parameters (typed_parameter . (dictionary_splat_pattern . (identifier) @param)))
(parameters (list_splat_pattern . (identifier) @param))
(parameters (dictionary_splat_pattern . (identifier) @param))
(class_definition superclasses: (argument_list [(identifier) (attribute)] @base))
"""
_NESTED_DEFS = frozenset({"function_definition", "class_definition", "decorated_definition"})
_SUPER_ARGS_RE = re.compile(r"^super\([^()]*\)")
_CALLEE_RE = re.compile(r"(?:super\(\)|[^\W\d]\w*)(?:\.[^\W\d]\w*)*")

_language: Language | None = None
_parser: Parser | None = None
_query: Query | None = None


def _tools() -> tuple[Parser, Query]:
    global _language, _parser, _query
    if _parser is None or _query is None:
        _language = Language(tree_sitter_python.language())
        _parser = Parser(_language)
        _query = Query(_language, _QUERY)
    return _parser, _query


def line_at(data: bytes, start: int) -> bytes:
    """The text of the line starting at byte ``start`` (without its newline)."""
    end = data.find(b"\n", start)
    return data[start : end if end >= 0 else len(data)]


def has_type_comment(start: int, line: bytes, is_comment: Callable[[int], bool]) -> bool:
    """Whether the line (starting at byte ``start``) holds a PEP 484 type comment (or a
    ``# type: ignore``): text appended to it would become part of the type comment."""
    if b"type" not in line:
        return False
    for match in anchors.TYPE_COMMENT_RE.finditer(line):
        if is_comment(start + match.start()):
            return True
    return False


def locate_anchor(
    data: bytes,
    parsed: ParsedDef,
    line_start: int,
    count: int,
    body_line: int | None,
    is_comment: Callable[[int], bool],
    eol_in_string: Callable[[int], bool],
) -> None:
    """Set ``parsed.anchor`` / ``anchor_line`` from the ``count`` header lines starting at byte
    ``line_start`` (or the first body line, starting at byte ``body_line``); else
    ``parsed.inject_line``: the first of those lines a comment can be appended to without
    changing the program (not ending in a backslash or inside a string, and holding no type
    comment), header lines first."""
    lines: list[tuple[int, int, bytes]] = []
    position = line_start
    for offset in range(count):
        text = line_at(data, position)
        lines.append((parsed.def_line + offset, position, text))
        position += len(text) + 1
    if body_line is not None:
        number = parsed.def_line + data.count(b"\n", line_start, body_line)
        lines.append((number, body_line, line_at(data, body_line)))
    for number, start, line in lines:
        if b"rm_" not in line:
            continue
        for match in anchors.NODE_ANCHOR_RE.finditer(line):
            if is_comment(start + match.start()):
                parsed.anchor = match.group(1).decode("ascii")
                parsed.anchor_line = number
                return
    for offset, (number, start, line) in enumerate(lines):
        line = line.rstrip(b"\r")
        if line.endswith(b"\\"):
            continue
        # A string can only be open at the end of the def line if a quote is on it; on
        # later lines one may have been opened further up.
        maybe_in_string = offset > 0 or b'"' in line or b"'" in line
        if maybe_in_string and eol_in_string(start + len(line)):
            continue
        if has_type_comment(start, line, is_comment):
            continue
        parsed.inject_line = number
        return


# A callee: (start byte, end byte, (row, column) of its start), from a capture or CPython's ``ast``.
Callee = tuple[int, int, tuple[int, int]]
_CALLEE_FIELDS = attrgetter("start_byte", "end_byte", "start_point")
_START = attrgetter("start_byte")
_SPAN = attrgetter("start_byte", "end_byte")


class Extractor:
    """Turns the captures of one query over one tree into parse results."""

    def __init__(self, data: bytes, root: Node) -> None:
        self.data = data
        self.root = root
        self.anchor_free = anchors.AnchorFreeText(data)
        # Most files are ASCII: then byte offsets are str offsets, and names are str slices.
        self.ascii: str | None = data.decode("ascii") if data.isascii() else None
        self.defs: list[ParsedDef] = []
        self.body_starts: list[int] = []  # byte where each def's body starts (call containment)
        self.imports: list[ParsedImport] = []
        self.import_bytes: list[int] = []  # start byte of each import's statement
        self.found_calls: list[ParsedCall] = []
        self.call_bytes: list[int] = []  # start byte of each call's callee

    def text(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", errors="replace")

    def add_parts(self, captures: dict[str, list[Node]]) -> None:
        """Definitions, imports and calls of one set of query captures (``query_captures``)."""
        # Captures come roughly, not exactly, in document order: sorted here (in C).
        nodes = sorted(captures.get("def", ()), key=_START)
        if self.root.has_error or not self.add_clean_defs(nodes, captures):
            self.add_defs(nodes)
        for node in sorted(captures.get("import", ()), key=_START):
            self.add_import(node)
        # Nested callees sharing a start byte (``super().save``, ``super``): innermost first.
        callees = list(map(_CALLEE_FIELDS, captures.get("callee", ())))
        callees.sort()
        self.add_calls(callees)

    # -- definitions -------------------------------------------------------------------
    def add_defs(self, nodes: list[Node]) -> None:
        """Definitions in document order; the parent is the innermost enclosing definition."""
        open_ends: list[tuple[int, int]] = []  # (end byte, def index) of enclosing definitions
        for node in nodes:
            start = node.start_byte
            while open_ends and start >= open_ends[-1][0]:
                open_ends.pop()
            name_node = node.child_by_field_name("name")
            if name_node is None:
                continue
            parent = open_ends[-1][1] if open_ends else -1
            index = self.add_def(node, name_node, parent)
            open_ends.append((node.end_byte, index))

    def add_clean_defs(self, nodes: list[Node], captures: dict[str, list[Node]]) -> bool:
        """``add_defs`` for a tree without syntax errors (``nodes`` sorted), with less work per
        definition: decorators, parameter names and bases come from the query's captures, and
        header lines without a quote, backslash, ``#`` or ``rm_`` need no lookups in the tree.
        The results equal ``add_defs``'s (a test compares them on the standard library). False
        (nothing added) when the captures are not in the expected shape: then ``add_defs``."""
        if not nodes:
            return True
        data = self.data
        text = self.ascii
        defs = self.defs
        body_starts = self.body_starts
        decorated: dict[int, tuple[int, int]] = {}  # def byte -> (span start byte, span row)
        for wrapper in captures.get("decorated", ()):
            inner = wrapper.child_by_field_name("definition")
            if inner is not None:
                decorated[inner.start_byte] = (wrapper.start_byte, wrapper.start_point[0])
        # Where a definition starts a body: that body's first line is not searched for anchors.
        nested_starts = {node.start_byte for node in nodes}
        nested_starts.update(start for start, _ in decorated.values())
        no_anchors = b"rm_" not in data
        span_hash = self.anchor_free.span_hash
        first = len(defs)
        open_ends: list[tuple[int, int]] = []  # (end byte, def index) of enclosing definitions
        for node in nodes:
            start = node.start_byte
            end = node.end_byte
            while open_ends and start >= open_ends[-1][0]:
                open_ends.pop()
            name_node = node.child_by_field_name("name")
            body = node.child_by_field_name("body")
            if name_node is None or body is None:
                del defs[first:], body_starts[first:]
                return False
            parent = open_ends[-1][1] if open_ends else -1
            parent_def = defs[parent] if parent >= 0 else None
            node_type: NodeType
            if node.type == "class_definition":
                node_type = "class"
            elif parent_def is not None and parent_def.node_type == "class":
                node_type = "method"
            else:
                node_type = "function"
            name_start, name_end = name_node.start_byte, name_node.end_byte
            name = text[name_start:name_end] if text is not None else data[name_start:name_end].decode("utf-8", errors="replace")
            def_row, def_column = node.start_point
            body_start = body.start_byte
            body_row, body_column = body.start_point
            header_end = _header_end(data, node, start, body_start, def_row)
            end_byte, end_row = _code_end(data, node, end)
            span_start, span_row = decorated.get(start, (start, def_row))
            parsed = ParsedDef(
                node_type,
                name,
                f"{parent_def.qualname}.{name}" if parent_def is not None else name,  # qualname
                parent,
                span_row + 1,  # start_line
                def_row + 1,  # def_line
                header_end + 1,  # header_end_line
                end_row + 1,  # end_line
                span_start,  # start_byte
                start,  # def_byte
                end_byte,
                span_hash(span_start, end_byte),  # source_hash
            )
            # The first body line (see ``add_def``), unless a definition starts the body.
            body_line: int | None = None
            if body_row > header_end and body_start not in nested_starts:
                body_line = body_start - body_column
            line_start = start - def_column
            anchor = _quick_anchor(data, line_start, header_end == def_row, body_line, no_anchors)
            if anchor is None:
                self.find_anchor(parsed, line_start, header_end - def_row + 1, body_line)
            elif anchor:
                parsed.anchor = anchor
                parsed.anchor_line = def_row + 1
            else:
                parsed.inject_line = def_row + 1
            defs.append(parsed)
            body_starts.append(body_start)
            open_ends.append((end, len(defs) - 1))
        if not self.add_header_names(first, captures):
            del defs[first:], body_starts[first:]
            return False
        return True

    def add_header_names(self, first: int, captures: dict[str, list[Node]]) -> bool:
        """Parameter names and class bases of ``self.defs[first:]`` from the captures: each lies
        in the header (between the ``def``/``class`` and the body) of its definition. False
        when one lies in none (not expected)."""
        data, text, defs, body_starts = self.data, self.ascii, self.defs, self.body_starts
        params = sorted(map(_SPAN, captures.get("param", ())))
        bases = sorted(map(_SPAN, captures.get("base", ())))
        for names, is_class in ((params, False), (bases, True)):
            at, count = 0, len(names)
            for index in range(first, len(defs)):
                parsed = defs[index]
                if at == count:
                    break
                if (parsed.node_type == "class") != is_class:
                    continue
                start, body_start = parsed.def_byte, body_starts[index]
                if names[at][0] < start:
                    return False
                found: list[str] = []
                while at < count and names[at][0] < body_start:
                    name_start, name_end = names[at]
                    if text is not None:
                        name = text[name_start:name_end]
                    else:
                        name = data[name_start:name_end].decode("utf-8", errors="replace")
                    found.append(name if not is_class or name.isidentifier() else "".join(name.split()))
                    at += 1
                if not found:
                    continue
                if is_class:
                    parsed.bases = tuple(found)
                else:
                    parsed.params = tuple(found)
            if at < count:
                return False
        return True

    def add_def(self, node: Node, name_node: Node, parent: int) -> int:
        is_class = node.type == "class_definition"
        parent_def = self.defs[parent] if parent >= 0 else None
        node_type: NodeType
        if is_class:
            node_type = "class"
        elif parent_def is not None and parent_def.node_type == "class":
            node_type = "method"
        else:
            node_type = "function"
        name = self.text(name_node)
        qualname = f"{parent_def.qualname}.{name}" if parent_def is not None else name
        span = node.parent
        if span is None or span.type != "decorated_definition":
            span = node
        def_row, def_column = node.start_point
        header_end = header_end_row(node)
        body = node.child_by_field_name("body")
        body_start = body.start_byte if body is not None else node.end_byte
        start_byte = span.start_byte
        last = last_code_node(node)
        end_byte = last.end_byte
        parsed = ParsedDef(
            node_type=node_type,
            name=name,
            qualname=qualname,
            parent=parent,
            start_line=span.start_point[0] + 1,
            def_line=def_row + 1,
            header_end_line=header_end + 1,
            end_line=last.end_point[0] + 1,
            start_byte=start_byte,
            def_byte=node.start_byte,
            end_byte=end_byte,
            source_hash=self.anchor_free.span_hash(start_byte, end_byte),
        )
        # A formatter splitting a one-line def moves its trailing anchor to the first body
        # line: look there too, unless that line starts a nested definition (its own anchor).
        body_line: int | None = None
        if body is not None and body.start_point[0] > header_end:
            first = body.named_child(0) if body.named_child_count else None
            if first is not None and first.type not in _NESTED_DEFS:
                body_line = body.start_byte - body.start_point[1]
        self.find_anchor(parsed, node.start_byte - def_column, header_end - def_row + 1, body_line)
        if is_class:
            parsed.bases = self.class_bases(node)
        else:
            parsed.params = self.parameter_names(node)
        self.defs.append(parsed)
        self.body_starts.append(body_start)
        return len(self.defs) - 1

    def find_anchor(self, parsed: ParsedDef, line_start: int, count: int, body_line: int | None) -> None:
        """Find the anchor on a header line (or the first body line); else where to add one."""
        locate_anchor(self.data, parsed, line_start, count, body_line, self.is_comment, self.eol_in_string)

    def is_comment(self, position: int) -> bool:
        hit = self.root.descendant_for_byte_range(position, position + 1)
        return hit is not None and hit.type == "comment"

    def eol_in_string(self, eol: int) -> bool:
        node: Node | None = self.root.descendant_for_byte_range(eol, eol)
        while node is not None:
            if node.type == "string" and node.start_byte < eol < node.end_byte:
                return True
            node = node.parent
        return False

    def parameter_names(self, node: Node) -> tuple[str, ...]:
        parameters = node.child_by_field_name("parameters")
        if parameters is None:
            return ()
        names: list[str] = []
        for child in parameters.named_children:
            kind = child.type
            if kind == "identifier":
                names.append(self.text(child))
            elif kind in ("default_parameter", "typed_default_parameter"):
                name = child.child_by_field_name("name")
                if name is not None:
                    names.append(self.text(name))
            elif kind in ("typed_parameter", "list_splat_pattern", "dictionary_splat_pattern"):
                inner = child.named_child(0) if child.named_child_count else None
                if inner is not None and inner.type in ("identifier", "list_splat_pattern", "dictionary_splat_pattern"):
                    if inner.type != "identifier":
                        inner = inner.named_child(0) if inner.named_child_count else None
                    if inner is not None and inner.type == "identifier":
                        names.append(self.text(inner))
        return tuple(names)

    def class_bases(self, node: Node) -> tuple[str, ...]:
        superclasses = node.child_by_field_name("superclasses")
        if superclasses is None:
            return ()
        bases: list[str] = []
        for child in superclasses.named_children:
            if child.type in ("identifier", "attribute"):
                bases.append("".join(self.text(child).split()))
        return tuple(bases)

    # -- imports -----------------------------------------------------------------------
    def add_import(self, node: Node) -> None:
        before = len(self.imports)
        self._add_import(node)
        self.import_bytes.extend([node.start_byte] * (len(self.imports) - before))

    def _add_import(self, node: Node) -> None:
        line = node.start_point[0] + 1
        if node.type == "import_statement":
            for child in node.children_by_field_name("name"):
                if child.type == "aliased_import":
                    module_node = child.child_by_field_name("name")
                    alias_node = child.child_by_field_name("alias")
                    if module_node is None or alias_node is None:
                        continue
                    self.imports.append(ParsedImport(self.text(module_node), 0, None, self.text(alias_node), line))
                else:
                    module = self.text(child)
                    self.imports.append(ParsedImport(module, 0, None, module.split(".")[0], line))
            return
        module_node = node.child_by_field_name("module_name")
        if module_node is None:
            return
        level = 0
        if module_node.type == "relative_import":
            module = ""
            for part in module_node.children:
                if part.type == "import_prefix":
                    level = part.end_byte - part.start_byte
                elif part.type == "dotted_name":
                    module = self.text(part)
        else:
            module = self.text(module_node)
        module = "".join(module.split())
        names = node.children_by_field_name("name")
        if not names:
            if any(child.type == "wildcard_import" for child in node.children):
                self.imports.append(ParsedImport(module, level, "*", "*", line))
            return
        for child in names:
            if child.type == "aliased_import":
                name_node = child.child_by_field_name("name")
                alias_node = child.child_by_field_name("alias")
                if name_node is None or alias_node is None:
                    continue
                self.imports.append(
                    ParsedImport(module, level, self.text(name_node), self.text(alias_node), line)
                )
            else:
                name = self.text(child)
                self.imports.append(ParsedImport(module, level, name, name, line))

    # -- calls -------------------------------------------------------------------------
    def add_calls(self, callees: Sequence[Callee]) -> None:
        """Call sites among ``callees`` (sorted: document order, nested ones sharing a start
        byte innermost first) that lie in the body of a function or method found so far."""
        defs = self.defs
        if not defs or not callees:
            return
        starts = [parsed.def_byte for parsed in defs]
        ends = [parsed.end_byte for parsed in defs]
        callers = [parsed.node_type != "class" for parsed in defs]
        body_starts = self.body_starts
        data = self.data
        found = self.found_calls
        positions = self.call_bytes
        first_body = body_starts[0]
        last = len(defs) - 1
        at = bisect_right(starts, callees[0][0]) - 1  # the last definition starting at or before
        callee_match = _CALLEE_RE.fullmatch
        new_tuple = tuple.__new__
        text = self.ascii
        for position, end, point in callees:
            if position < first_body:
                continue
            while at < last and starts[at + 1] <= position:
                at += 1
            index = at
            while index >= 0 and not (body_starts[index] <= position < ends[index]):
                index = defs[index].parent
            if index < 0 or not callers[index]:
                continue
            raw = text[position:end] if text is not None else data[position:end].decode("utf-8", errors="replace")
            if "." in raw and callee_match(raw) is None:  # an attribute: a dotted name or nothing
                if " " in raw or "\n" in raw or "\t" in raw:
                    raw = "".join(raw.split())
                if raw.startswith("super(") and not raw.startswith("super()"):
                    raw = _SUPER_ARGS_RE.sub("super()", raw, count=1)  # super(Cls, self).m
                if callee_match(raw) is None:
                    continue
            found.append(new_tuple(ParsedCall, (index, raw, point[0] + 1)))  # ParsedCall(...) without its __new__
            positions.append(position)

    def finish(self, problems: list[str], tree_errors: bool = True) -> ParsedFile:
        """The ParsedFile of everything added so far, with the file-level facts
        (``tree_errors=False``: the definitions came from CPython's ``ast``, not the tree)."""
        data = self.data
        head: Sequence[bytes] = data[:4096].split(b"\n")[: anchors.FILE_ANCHOR_SCAN_LINES + 1]
        line_count = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
        parsed = ParsedFile(
            source_hash=hashlib.blake2b(self.anchor_free.text, digest_size=16).hexdigest(),
            line_count=line_count,
            defs=self.defs,
            imports=self.imports,
            calls=self.found_calls,
            file_anchor_insert_line=anchors.file_anchor_insert_line(head),
        )
        found = anchors.find_file_anchor(head)
        if found is not None:
            parsed.file_anchor, parsed.file_anchor_line = found
        problem = first_syntax_error(self.root) if tree_errors else None
        if problem is not None:
            parsed.syntax_error = True
            parsed.problems.append(problem)
        parsed.problems.extend(problems)
        return parsed


def _recode(data: bytes, encoding: str) -> bytes | None:
    try:
        return data.decode(encoding).encode("utf-8")
    except (LookupError, UnicodeError):
        return None


def _header_end(data: bytes, node: Node, start: int, body_start: int, def_row: int) -> int:
    """``header_end_row(node)``, whose body starts at ``body_start``: without a comment in the
    header, the ':' closing it is the last one before the body (only blanks follow it)."""
    hash_at = data.find(b"#", start, body_start)
    if hash_at < 0:
        return def_row + data.count(b"\n", start, data.rfind(b":", start, body_start))
    # One comment, the header's last words (its anchor, usually), and no quote before it: the
    # ':' is the last one before that comment.
    line_end = data.find(b"\n", hash_at, body_start)
    if (
        line_end >= 0
        and data.find(b"#", hash_at + 1, body_start) < 0
        and data.find(b'"', start, hash_at) < 0
        and data.find(b"'", start, hash_at) < 0
        and data[line_end:body_start].isspace()
    ):
        return def_row + data.count(b"\n", start, data.rfind(b":", start, hash_at))
    return header_end_row(node)


def _code_end(data: bytes, node: Node, end: int) -> tuple[int, int]:
    """End byte and row of ``last_code_node(node)`` (``end``: ``node.end_byte``): ``node``'s own
    unless a '#' on its last line may start a trailing comment."""
    if data.find(b"#", data.rfind(b"\n", 0, end) + 1, end) < 0:
        return end, node.end_point[0]
    last = last_code_node(node)
    return last.end_byte, last.end_point[0]


def _quick_anchor(data: bytes, line_start: int, one_line: bool, body_line: int | None, no_anchors: bool) -> str | None:
    """``locate_anchor``'s answer without a look at the tree, for the common headers: the id
    when the def line (starting at byte ``line_start``) ends in an anchor comment with no quote
    before it (no string can hide the '#'); "" when a one-line header (first body line at
    ``body_line``) holds no ``rm_`` and its line takes a new anchor (no quote, ``type`` or final
    backslash); None otherwise: ask ``locate_anchor``."""
    line_end = data.find(b"\n", line_start)
    line = data[line_start : line_end if line_end >= 0 else len(data)]
    if not no_anchors and b"rm_" in line:
        match = anchors.NODE_ANCHOR_RE.search(line)
        if match is None:
            return None
        before = line[: match.start()]
        return None if b'"' in before or b"'" in before else match.group(1).decode("ascii")
    if not one_line or (not no_anchors and body_line is not None and b"rm_" in line_at(data, body_line)):
        return None
    line = line.rstrip(b"\r")
    return None if line.endswith(b"\\") or b'"' in line or b"'" in line or b"type" in line else ""


def last_code_node(node: Node) -> Node:
    """The last token of ``node`` that is not a comment (tree-sitter counts trailing comments in)."""
    while True:
        count = node.child_count
        if count == 0:
            return node
        child: Node | None = node.child(count - 1)
        while child is not None and child.type == "comment":
            child = child.prev_sibling
        if child is None:
            return node
        node = child


def first_syntax_error(root: Node) -> str | None:
    """Where the first (innermost) syntax error of a tree is, or None when it parsed cleanly."""
    if not root.has_error:
        return None
    node = root
    while not node.is_missing:
        child = next((c for c in node.children if c.has_error or c.is_missing or c.type == "ERROR"), None)
        if child is None:
            break
        node = child
    row, column = node.start_point
    what = f"missing {node.type!r}" if node.is_missing else "syntax error"
    return f"{what} at line {row + 1}, column {column + 1}"


def header_end_row(node: Node) -> int:
    """0-based row of the ':' closing a def/class header (comments may sit before the body)."""
    body = node.child_by_field_name("body")
    if body is None:
        return node.start_point[0]
    colon = body.prev_sibling
    while colon is not None and colon.type == "comment":
        colon = colon.prev_sibling
    return colon.start_point[0] if colon is not None and colon.type == ":" else node.start_point[0]


def python_language() -> Language:
    """The tree-sitter Python grammar (one per process)."""
    _tools()
    assert _language is not None
    return _language


def python_parser() -> Parser:
    """The process's one tree-sitter Python parser (parsers are not thread-safe: one thread)."""
    return _tools()[0]


@dataclass(slots=True)
class Chunk:
    """One top-level statement of a parsed file and the index ranges of what it holds."""

    start: int
    end: int
    kind: str
    defs: range
    imports: range
    calls: range


@dataclass(slots=True)
class Extraction:
    """A file's ParsedFile with the tree and positions it came from: what an incremental
    re-parse (``remora_core.parsing.incremental``) needs to reuse parts of it."""

    data: bytes
    tree: Tree
    parsed: ParsedFile
    body_starts: list[int]  # per def: byte where its body starts
    import_bytes: list[int]  # per import: start byte of its statement
    call_bytes: list[int]  # per call: start byte of its callee
    chunks: list[Chunk] | None = None  # top-level statements, when an incremental parse made them


def utf8_source(data: bytes) -> tuple[bytes, list[str]]:
    """``data`` as UTF-8 (recoded when it declares another encoding) with Python's line ends
    (a lone ``\r`` becomes ``\n``: same offsets), and any problem found."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        declared = anchors.declared_encoding(data)
        recoded = _recode(data, declared) if declared else None
        if recoded is None:
            problem = (
                f"not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start}) and no usable "
                "coding declaration; names were decoded with replacement characters"
            )
            return anchors.lone_cr_as_lf(data), [problem]
        return anchors.lone_cr_as_lf(recoded), []  # same lines, UTF-8 bytes: offsets refer to this text
    return anchors.lone_cr_as_lf(data), []


def parse_tree(data: bytes, old_tree: Tree | None = None) -> Tree:
    """tree-sitter's parse of ``data`` (incremental when ``old_tree`` was edited to match it)."""
    parser, _ = _tools()
    return parser.parse(data) if old_tree is None else parser.parse(data, old_tree)


def query_captures(node: Node) -> dict[str, list[Node]]:
    """The extraction query's captures under ``node`` (each list in document order, except that
    nested captures sharing a start byte may come in either order: ``Extractor.add_parts`` copes)."""
    _, query = _tools()
    return QueryCursor(query).captures(node)


def extract(data: bytes, tree: Tree, problems: list[str] | None = None) -> Extraction:
    """Everything from one parsed tree of ``data`` (UTF-8 bytes)."""
    extractor = Extractor(data, tree.root_node)
    extractor.add_parts(query_captures(tree.root_node))
    parsed = extractor.finish(problems or [])
    return Extraction(
        data, tree, parsed, extractor.body_starts, extractor.import_bytes, extractor.call_bytes
    )


def parse_python(data: bytes, check: bool = False) -> ParsedFile:
    """Extract definitions, anchors, imports and call sites from Python source bytes.

    Never raises on bad input: syntax errors and invalid UTF-8 are reported in
    ``ParsedFile.problems`` and every definition tree-sitter could recover is still returned.
    CPython has the last word (``settle``): a file tree-sitter cannot parse but CPython
    compiles takes its structure from ``ast``; with ``check`` a file tree-sitter parses is
    compiled too (``ParsedFile.compiles``), as before writing anchors into it.
    """
    view, problems = utf8_source(data)
    return settle(extract(view, parse_tree(view), problems), data, check)


def settle(extraction: Extraction, raw: bytes, check: bool = False) -> ParsedFile:
    """``extraction.parsed`` with CPython's verdict on ``raw`` (the file's own bytes)."""
    parsed = extraction.parsed
    if parsed.syntax_error:
        tree = cpython.cpython_tree(raw)
        if isinstance(tree, str):
            parsed.compiles = False
            parsed.problems[0] = tree  # CPython's message replaces tree-sitter's
            return parsed
        extractor = Extractor(extraction.data, extraction.tree.root_node)
        cpython.extract_from_ast(extractor, tree, cpython.Lexicon(extraction.data))
        settled = extractor.finish(parsed.problems[1:], tree_errors=False)
        settled.compiles = True
        return settled
    if check and parsed.compiles is None:
        compiles(parsed, raw)
    return parsed


def compiles(parsed: ParsedFile, raw: bytes) -> bool:
    """Whether CPython compiles ``raw`` (the bytes ``parsed`` came from): asked once, then
    kept in ``parsed.compiles``; a file CPython rejects becomes a ``syntax_error``."""
    if parsed.compiles is None:
        problem = cpython.cpython_problem(raw)
        parsed.compiles = problem is None
        if problem is not None:
            parsed.syntax_error = True
            parsed.problems.insert(0, problem)
    return parsed.compiles
