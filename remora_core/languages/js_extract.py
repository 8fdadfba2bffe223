"""Tree-sitter extraction of JavaScript / TypeScript / TSX definitions, anchors, imports and calls.

One parse per file and three queries (``queries/<dialect>/{definitions,calls,imports}.scm``);
this module filters and nests their captures into a ``ParsedFile``:

* nodes: function declarations, functions and arrow functions bound to a name (``const f = ...``,
  ``exports.f = ...``, class fields), ``export default`` functions and classes (named
  ``default`` when anonymous), classes and methods (getters, setters, static, ``#private``);
  an exported object literal holding functions (``export const api = { run() {} }``) is a
  ``class`` node and its functions are its methods; TypeScript interfaces, type aliases and
  enums are ``class`` nodes. Overload signatures and abstract methods (no body) are not nodes:
  the implementation is. A TSX component is a function.
* imports: one ``ParsedImport`` per bound name, with ``level`` saying what it is (see
  ``IMPORT`` / ``REEXPORT`` / ``EXPORT``) and ``module`` the specifier as written.
* calls: ``f``, ``a.b.c``, ``this.m``, ``super.m`` (optional chaining ``a?.b`` reads ``a.b``).
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache
from typing import Literal

from tree_sitter import Language, Node, Parser, Query, QueryCursor, Tree

from remora_core.languages import js_anchors
from remora_core.languages.base import query_text
from remora_core.parsing.model import NodeType, ParsedCall, ParsedDef, ParsedFile, ParsedImport
from remora_core.parsing.python_source import first_syntax_error, last_code_node, line_at

Dialect = Literal["javascript", "typescript", "tsx"]
DIALECTS: tuple[Dialect, ...] = ("javascript", "typescript", "tsx")

# ParsedImport.level for JS files (``module`` is the specifier as written, "" for local exports):
IMPORT = 0  # ``import {name as alias} from m`` / ``const alias = require(m)`` (name None: the module)
REEXPORT = 1  # ``export {name as alias} from m``, ``export * from m`` (name and alias "*")
EXPORT = 2  # ``export {name as alias}``, ``export default name``: this file exports local ``name``
DEFAULT = "default"

_FUNCTION_VALUES = frozenset({"arrow_function", "function_expression", "generator_function", "function"})
_CLASS_KINDS = frozenset(
    {
        "class_declaration",
        "abstract_class_declaration",
        "class",
        "interface_declaration",
        "type_alias_declaration",
        "enum_declaration",
    }
)
# Where a `//` comment appended at the end of a line would not be a comment (or would change
# what the line holds): inside these nodes, unless a statement block lies closer.
_UNSAFE_EOL = frozenset(
    {
        "string",
        "template_string",
        "regex",
        "comment",
        "jsx_text",
        "jsx_element",
        "jsx_self_closing_element",
        "jsx_opening_element",
        "jsx_closing_element",
        "jsx_fragment",
        "jsx_expression",
        "html_comment",
    }
)
_SAFE_SCOPE = frozenset({"statement_block", "class_body", "program", "object", "interface_body", "enum_body"})
_CALLEE_RE = re.compile(r"(?:this|super|[A-Za-z_$][\w$]*)(?:\.#?[A-Za-z_$][\w$]*)*")
_CJS_EXPORT_RE = re.compile(r"(?:module\.)?exports(?:\.([A-Za-z_$][\w$]*))?")


@dataclass(slots=True)
class Tools:
    language: Language
    parser: Parser
    definitions: Query
    calls: Query
    imports: Query


def _query_text(dialect: Dialect, purpose: str) -> str:
    """TSX has its own ``calls`` (JSX elements render components); the rest is TypeScript's."""
    return query_text(purpose, dialect, "typescript")


def grammar(dialect: Dialect) -> Language:
    """The tree-sitter grammar of one dialect."""
    if dialect == "javascript":
        import tree_sitter_javascript

        return Language(tree_sitter_javascript.language())
    import tree_sitter_typescript

    raw = tree_sitter_typescript.language_tsx() if dialect == "tsx" else tree_sitter_typescript.language_typescript()
    return Language(raw)


@cache
def tools(dialect: Dialect) -> Tools:
    """Grammar, parser and the three queries of one dialect (one set per process)."""
    language = grammar(dialect)
    return Tools(
        language,
        Parser(language),
        Query(language, _query_text(dialect, "definitions")),
        Query(language, _query_text(dialect, "calls")),
        Query(language, _query_text(dialect, "imports")),
    )


def parse_tree(data: bytes, dialect: Dialect) -> Tree:
    return tools(dialect).parser.parse(data)


def _string_value(node: Node) -> str:
    text = (node.text or b"").decode("utf-8", errors="replace")
    return text[1:-1] if len(text) >= 2 and text[0] in "'\"`" else text


def _export_of(node: Node) -> Node | None:
    """The ``export`` statement a declaration belongs to, if any."""
    parent = node.parent
    if parent is not None and parent.type in ("lexical_declaration", "variable_declaration"):
        parent = parent.parent
    return parent if parent is not None and parent.type == "export_statement" else None


def _is_default_export(statement: Node | None) -> bool:
    return statement is not None and any(child.type == "default" for child in statement.children)


class Extractor:
    """Turns one tree's query captures into a ``ParsedFile``."""

    def __init__(self, data: bytes, tree: Tree, dialect: Dialect) -> None:
        self.data = data
        self.root = tree.root_node
        self.tools = tools(dialect)
        self.anchor_free = js_anchors.AnchorFreeText(data)
        self.defs: list[ParsedDef] = []
        self.body_starts: list[int] = []
        self.def_nodes: list[Node] = []  # the node each def came from (object containers: the object)
        self.imports: list[ParsedImport] = []
        self.calls: list[ParsedCall] = []
        self.taken_lines: set[int] = set()

    def text(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", errors="replace")

    # -- definitions -------------------------------------------------------------------
    def add_defs(self) -> None:
        found: list[tuple[Node, Node | None]] = []
        for _, captures in QueryCursor(self.tools.definitions).matches(self.root):
            node = captures["def"][0]
            names = captures.get("name")
            found.append((node, names[0] if names else None))
        found.sort(key=lambda item: (item[0].start_byte, -item[0].end_byte))
        open_ends: list[tuple[int, int]] = []  # (end byte, def index) of enclosing definitions
        containers: set[int] = set()  # node ids of the object literals that are class nodes
        for node, name_node in found:
            while open_ends and node.start_byte >= open_ends[-1][0]:
                open_ends.pop()
            parent = open_ends[-1][1] if open_ends else -1
            index = self.add_def(node, name_node, parent, containers)
            if index is not None:
                open_ends.append((self.def_nodes[index].end_byte, index))

    def _shape(self, node: Node, name_node: Node | None, containers: set[int]) -> tuple[str, Node, Node] | None:
        """(name, the function/class/object node, the span node) of a capture, or None when it
        is not a Remora node."""
        kind = node.type
        if kind == "export_statement":  # export default <anonymous function/class/object>
            value = node.child_by_field_name("value")
            if value is None or not _is_default_export(node):
                return None
            if value.type == "object" and not self._holds_functions(value):
                return None
            return DEFAULT, value, node
        assert name_node is not None
        name = self.text(name_node)
        if kind == "variable_declarator":
            value = node.child_by_field_name("value")
            assert value is not None
            declaration = node.parent
            span = declaration if declaration is not None and declaration.named_child_count == 1 else node
            statement = _export_of(node)
            if statement is not None and span is declaration:
                span = statement
            if value.type == "object" and (statement is None or not self._holds_functions(value)):
                return None
            return name, value, span
        if kind == "assignment_expression":
            left = node.child_by_field_name("left")
            value = node.child_by_field_name("right")
            assert left is not None and value is not None
            target = left.child_by_field_name("object")
            if target is None or _CJS_EXPORT_RE.fullmatch(self.text(target)) is None:
                return None
            statement = node.parent
            return name, value, statement if statement is not None else node
        holder = node.parent
        if kind in ("pair", "method_definition") and holder is not None and holder.type == "object" and (
            holder.id not in containers
        ):
            return None
        if kind in ("pair", "field_definition", "public_field_definition"):
            value = node.child_by_field_name("value")
            assert value is not None
            if kind == "pair" and name_node.type == "string":
                name = _string_value(name_node)
            return name, value, node
        span = node
        statement = node.parent
        if statement is not None and statement.type == "export_statement":
            span = statement
        return name, node, span

    def _holds_functions(self, obj: Node) -> bool:
        for child in obj.named_children:
            if child.type == "method_definition":
                return True
            if child.type == "pair":
                value = child.child_by_field_name("value")
                if value is not None and value.type in _FUNCTION_VALUES:
                    return True
        return False

    def add_def(self, node: Node, name_node: Node | None, parent: int, containers: set[int]) -> int | None:
        shape = self._shape(node, name_node, containers)
        if shape is None:
            return None
        name, target, span = shape
        parent_def = self.defs[parent] if parent >= 0 else None
        node_type: NodeType
        if target.type in _CLASS_KINDS or target.type == "object":
            node_type = "class"
            if target.type == "object":
                containers.add(target.id)
        elif parent_def is not None and parent_def.node_type == "class":
            node_type = "method"
        else:
            node_type = "function"
        body = target.child_by_field_name("body")
        if target.type == "object":
            body = target
        first = span
        for decorator in (child for child in span.children if child.type == "decorator"):
            if decorator.start_byte < first.start_byte:
                first = decorator
        previous = span.prev_named_sibling
        while previous is not None and previous.type == "decorator":  # a method's, in a class body
            first, previous = previous, previous.prev_named_sibling
        start = first.start_byte
        anchor_from = name_node if name_node is not None else target
        def_row = anchor_from.start_point[0]
        header_end = body.start_point[0] if body is not None else target.end_point[0]
        header_end = max(header_end, def_row)
        last = last_code_node(span)
        qualname = f"{parent_def.qualname}.{name}" if parent_def is not None else name
        parsed = ParsedDef(
            node_type=node_type,
            name=name,
            qualname=qualname,
            parent=parent,
            start_line=first.start_point[0] + 1,
            def_line=def_row + 1,
            header_end_line=header_end + 1,
            end_line=last.end_point[0] + 1,
            start_byte=start,
            def_byte=span.start_byte,
            end_byte=last.end_byte,
            source_hash=self.anchor_free.span_hash(start, last.end_byte),
        )
        self.locate_anchor(parsed, anchor_from.start_byte - anchor_from.start_point[1], header_end - def_row + 1)
        if node_type == "class":
            parsed.bases = self.class_bases(target)
        else:
            parsed.params = self.parameter_names(target)
        self.defs.append(parsed)
        self.def_nodes.append(target if target.type == "object" else span)
        self.body_starts.append(body.start_byte if body is not None else target.end_byte)
        return len(self.defs) - 1

    def locate_anchor(self, parsed: ParsedDef, line_start: int, count: int) -> None:
        """The anchor of a definition, where it is written or where a formatter leaves it: at the
        end of a header line, on its own line right after the header (where an anchor after an
        opening ``{`` / ``(`` / ``=>`` is written, and where prettier moves one), or after the
        definition's last token (where prettier moves the anchor of a one-line definition).
        Else ``inject_line``: the first header line a ``//`` comment can end without changing
        the program (not inside a string, template literal, regex, comment or JSX) and that no
        other definition uses."""
        lines: list[tuple[int, int, bytes]] = []
        position = line_start
        for offset in range(count + 1):
            if position > len(self.data):
                break
            text = line_at(self.data, position)
            lines.append((parsed.def_line + offset, position, text))
            position += len(text) + 1
        header, after = (lines[:count], lines[count:])
        if after and not after[0][2].lstrip().startswith(b"//"):
            after = []  # the line after the header holds code: not an own-line anchor
        if self._take_anchor(parsed, header + after) or self._take_trailing_anchor(parsed):
            return
        for number, start, line in header:
            if number in self.taken_lines:
                continue
            if self.eol_is_safe(start + len(line.rstrip(b"\r"))):
                parsed.inject_line = number
                self.taken_lines.add(number)
                return

    def _take_anchor(self, parsed: ParsedDef, lines: list[tuple[int, int, bytes]]) -> bool:
        for number, start, line in lines:
            if b"rm_" not in line or number in self.taken_lines:
                continue
            for match in js_anchors.NODE_ANCHOR_RE.finditer(line):
                if self.is_comment(start + match.start()):
                    parsed.anchor = match.group(1).decode("ascii")
                    parsed.anchor_line = number
                    self.taken_lines.add(number)
                    return True
        return False

    def _take_trailing_anchor(self, parsed: ParsedDef) -> bool:
        """An anchor comment right after the definition's last token, on its last line."""
        end = parsed.end_byte
        line_end = self.data.find(b"\n", end)
        rest = self.data[end : line_end if line_end >= 0 else len(self.data)]
        match = js_anchors.TRAILING_ANCHOR_RE.match(rest)
        if match is None or parsed.end_line in self.taken_lines or not self.is_comment(end + match.start(1)):
            return False
        parsed.anchor = match.group(2).decode("ascii")
        parsed.anchor_line = parsed.end_line
        self.taken_lines.add(parsed.end_line)
        return True

    def is_comment(self, position: int) -> bool:
        hit = self.root.descendant_for_byte_range(position, position + 1)
        return hit is not None and hit.type == "comment"

    def eol_is_safe(self, eol: int) -> bool:
        """Whether a line comment appended at byte ``eol`` (a line's end) is a comment and
        changes nothing: not inside a string, template literal, regex, comment or JSX."""
        node: Node | None = self.root.descendant_for_byte_range(eol, eol)
        while node is not None and node.type not in _SAFE_SCOPE:
            if node.type in _UNSAFE_EOL and node.start_byte < eol and (
                eol < node.end_byte or node.type == "comment" and self.data[node.start_byte : node.start_byte + 2] == b"/*"
            ):
                return False
            if node.type.startswith("jsx") and node.start_byte < eol < node.end_byte:
                return False
            node = node.parent
        return True

    def parameter_names(self, function: Node) -> tuple[str, ...]:
        parameters = function.child_by_field_name("parameters")
        if parameters is None:
            single = function.child_by_field_name("parameter")  # x => ...
            return (self.text(single),) if single is not None and single.type == "identifier" else ()
        names: list[str] = []
        for child in parameters.named_children:
            if child.type in ("required_parameter", "optional_parameter"):
                child = child.child_by_field_name("pattern") or child
            if child.type == "assignment_pattern":
                child = child.child_by_field_name("left") or child
            if child.type == "rest_pattern" and child.named_child_count:
                child = child.named_children[0]
            if child.type == "identifier":
                names.append(self.text(child))
        return tuple(names)

    def class_bases(self, node: Node) -> tuple[str, ...]:
        for child in node.children:
            if child.type != "class_heritage":
                continue
            clause = next((c for c in child.named_children if c.type == "extends_clause"), child)
            value = clause.child_by_field_name("value") if clause is not child else None
            if value is None:
                value = next((c for c in clause.named_children if c.type != "extends_clause"), None)
            if value is not None and value.type in ("identifier", "member_expression"):
                return ("".join(self.text(value).split()),)
        return ()

    # -- imports -----------------------------------------------------------------------
    def add_imports(self) -> None:
        captured: list[tuple[int, str, Node]] = []
        for name, nodes in QueryCursor(self.tools.imports).captures(self.root).items():
            if name in ("import", "export", "require", "cjs_export", "import_require"):
                captured.extend((node.start_byte, name, node) for node in nodes)
        for _, kind, node in sorted(captured, key=lambda item: item[0]):
            line = node.start_point[0] + 1
            if kind == "import":
                self._import_statement(node, line)
            elif kind == "export":
                self._export_statement(node, line)
            elif kind == "require":
                self._require(node, line)
            elif kind == "import_require":
                self._import_require(node, line)
            else:
                self._cjs_export(node, line)

    def _add(self, module: str, level: int, name: str | None, alias: str, line: int) -> None:
        self.imports.append(ParsedImport(module, level, name, alias, line))

    def _import_statement(self, node: Node, line: int) -> None:
        source = node.child_by_field_name("source")
        if source is None:
            return
        module = _string_value(source)
        clause = next((c for c in node.named_children if c.type == "import_clause"), None)
        if clause is None:
            require = next((c for c in node.named_children if c.type == "import_require_clause"), None)
            if require is None:
                self._add(module, IMPORT, None, "", line)  # import './side-effect'
            return
        for part in clause.named_children:
            if part.type == "identifier":
                self._add(module, IMPORT, DEFAULT, self.text(part), line)
            elif part.type == "namespace_import":
                alias = next((c for c in part.named_children if c.type == "identifier"), None)
                if alias is not None:
                    self._add(module, IMPORT, None, self.text(alias), line)
            elif part.type == "named_imports":
                for spec in (c for c in part.named_children if c.type == "import_specifier"):
                    name_node = spec.child_by_field_name("name")
                    alias_node = spec.child_by_field_name("alias") or name_node
                    if name_node is not None and alias_node is not None:
                        self._add(module, IMPORT, self._spec_text(name_node), self.text(alias_node), line)

    def _spec_text(self, node: Node) -> str:
        return _string_value(node) if node.type == "string" else self.text(node)

    def _import_require(self, node: Node, line: int) -> None:
        # TypeScript: import x = require('m')
        alias = next((c for c in node.named_children if c.type == "identifier"), None)
        source = node.child_by_field_name("source") or next(
            (c for c in node.named_children if c.type == "string"), None
        )
        if alias is not None and source is not None:
            self._add(_string_value(source), IMPORT, None, self.text(alias), line)

    def _export_statement(self, node: Node, line: int) -> None:
        source = node.child_by_field_name("source")
        module = _string_value(source) if source is not None else ""
        level = REEXPORT if source is not None else EXPORT
        clause = next((c for c in node.named_children if c.type == "export_clause"), None)
        if clause is not None:
            for spec in (c for c in clause.named_children if c.type == "export_specifier"):
                name_node = spec.child_by_field_name("name")
                alias_node = spec.child_by_field_name("alias") or name_node
                if name_node is not None and alias_node is not None:
                    self._add(module, level, self._spec_text(name_node), self._spec_text(alias_node), line)
            return
        if source is not None:
            namespace = next((c for c in node.named_children if c.type == "namespace_export"), None)
            if namespace is not None:
                alias = next((c for c in namespace.named_children if c.type in ("identifier", "string")), None)
                if alias is not None:
                    self._add(module, REEXPORT, None, self._spec_text(alias), line)
            else:
                self._add(module, REEXPORT, "*", "*", line)
            return
        if not _is_default_export(node):
            return
        declaration = node.child_by_field_name("declaration")
        value = node.child_by_field_name("value")
        named = declaration.child_by_field_name("name") if declaration is not None else None
        if named is None and value is not None and value.type == "identifier":
            named = value
        if named is not None:
            self._add("", EXPORT, self.text(named), DEFAULT, line)

    def _require(self, node: Node, line: int) -> None:
        arguments = node.child_by_field_name("arguments")
        spec = arguments.named_children[0] if arguments is not None and arguments.named_child_count else None
        if spec is None or spec.type != "string":
            return
        module = _string_value(spec)
        parent = node.parent
        member: str | None = None
        if parent is not None and parent.type == "member_expression":  # require('m').name
            prop = parent.child_by_field_name("property")
            member = self.text(prop) if prop is not None else None
            node, parent = parent, parent.parent
        if parent is None or parent.type != "variable_declarator" or parent.child_by_field_name("value") != node:
            self._add(module, IMPORT, None, "", line)
            return
        target = parent.child_by_field_name("name")
        if target is None:
            return
        if target.type == "identifier":
            self._add(module, IMPORT, member, self.text(target), line)
        elif target.type == "object_pattern" and member is None:
            for part in target.named_children:
                if part.type == "shorthand_property_identifier_pattern":
                    self._add(module, IMPORT, self.text(part), self.text(part), line)
                elif part.type == "pair_pattern":
                    key, value = part.child_by_field_name("key"), part.child_by_field_name("value")
                    if key is not None and value is not None and value.type == "identifier":
                        self._add(module, IMPORT, self.text(key), self.text(value), line)

    def _cjs_export(self, node: Node, line: int) -> None:
        assignment = node.named_children[0]
        left, right = assignment.child_by_field_name("left"), assignment.child_by_field_name("right")
        if left is None or right is None:
            return
        match = _CJS_EXPORT_RE.fullmatch(self.text(left))
        if match is None:
            return
        exported = match.group(1)
        if exported is None and not self.text(left).startswith("module."):
            return  # `exports = x` rebinds a local only
        self._add("", EXPORT, self.text(right), exported or DEFAULT, line)

    # -- calls -------------------------------------------------------------------------
    def add_calls(self) -> None:
        defs = self.defs
        if not defs:
            return
        nodes = QueryCursor(self.tools.calls).captures(self.root).get("callee", [])
        nodes.sort(key=lambda node: (node.start_byte, node.end_byte))
        starts = [parsed.def_byte for parsed in defs]
        for node in nodes:
            position = node.start_byte
            index = bisect_right(starts, position) - 1
            while index >= 0 and not (self.body_starts[index] <= position < defs[index].end_byte):
                index = defs[index].parent
            if index < 0 or defs[index].node_type == "class":
                continue
            raw = self.text(node)
            if node.parent is not None and node.parent.type.startswith("jsx") and raw[:1].islower():
                continue  # <div>: an intrinsic element, not a component
            if node.type == "member_expression":
                raw = "".join(raw.split()).replace("?.", ".")
                if _CALLEE_RE.fullmatch(raw) is None:
                    continue
            if raw in ("require", "this", "super"):
                continue
            self.calls.append(ParsedCall(index, raw, node.start_point[0] + 1))

    def finish(self) -> ParsedFile:
        data = self.data
        head = data[:4096].split(b"\n")[: js_anchors.FILE_ANCHOR_SCAN_LINES + 1]
        parsed = ParsedFile(
            source_hash=hashlib.blake2b(self.anchor_free.text, digest_size=16).hexdigest(),
            line_count=data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0),
            defs=self.defs,
            imports=self.imports,
            calls=self.calls,
            file_anchor_insert_line=js_anchors.file_anchor_insert_line(head),
        )
        found = js_anchors.find_file_anchor(head)
        if found is not None:
            parsed.file_anchor, parsed.file_anchor_line = found
        problem = first_syntax_error(self.root)
        if problem is not None:
            parsed.syntax_error = True
            parsed.problems.append(problem)
        return parsed


def parse_source(data: bytes, dialect: Dialect) -> ParsedFile:
    """Definitions, anchors, imports and calls of one JS/TS/TSX file's bytes. Never raises:
    syntax errors and invalid UTF-8 are reported in ``ParsedFile.problems`` (no anchors are
    written into a file with a syntax error)."""
    problems: list[str] = []
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        problems.append(f"not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start})")
    extractor = Extractor(data, parse_tree(data, dialect), dialect)
    extractor.add_defs()
    extractor.add_imports()
    extractor.add_calls()
    parsed = extractor.finish()
    parsed.problems.extend(problems)
    return parsed
