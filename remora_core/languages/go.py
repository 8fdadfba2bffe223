"""Go: funcs, methods, struct and interface types; anchors ``// rm_xxxxxxxx`` (gofmt-shaped).

Nodes: top-level ``func`` declarations ("function"), methods ("method", qualname ``Type.Method``,
the receiver's type name with ``*`` and type arguments dropped), struct and interface types
("class"). A method's parent is its receiver type when the type is declared in the same file,
else the file at parse time; the receiver type is kept in ``ParsedDef.bases[0]`` and the resolver
re-parents the method to its type in any file of the package (``GoSymbols.parents``). Anchors: ``// rm_xxxxxxxx`` one space after the definition line's code
(gofmt keeps a single space); the file anchor ``// remora-file: rm_xxxxxxxx`` at the end of the
``package`` line: never between a ``//go:build`` line and its blank line, never inside the
package's doc comment. gofmt aligns the trailing comments of neighbouring one-line declarations:
when ``gofmt`` is on PATH and the file was gofmt-clean, the anchored file is passed through it
(``Go.after_anchors``: only blanks before comments change), else such anchors stay one space
after the code (``gofmt -l`` then lists the file). Resolution: ``languages.go_resolve``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from bisect import bisect_right
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from remora_core.languages.base import Language
from remora_core.parsing import anchors
from remora_core.parsing.model import NodeType, ParsedCall, ParsedDef, ParsedFile, ParsedImport
from remora_core.parsing.python_source import first_syntax_error  # any tree-sitter tree

if TYPE_CHECKING:
    import tree_sitter

    from remora_core.languages.go_resolve import GoSymbols

GO_ANCHOR = anchors.anchor_syntax("//", pad=False, file_inline=True)
PACKAGE_REF = -1  # ParsedImport.level of the entry naming the file's own package (module "")
_DOTTED_RE = re.compile(r"[^\W\d]\w*(?:\.[^\W\d]\w*)*")
_NEWLINE = re.compile(b"\n")
QUERY_FILES = ("definitions", "calls", "imports", "locals")
_STRING_TYPES = frozenset({"raw_string_literal", "interpreted_string_literal", "comment"})


def _gofmt(data: bytes) -> bytes | None:
    """``gofmt``'s output for ``data`` (None without gofmt or when it fails)."""
    tool = shutil.which("gofmt")
    if tool is None:
        return None
    try:
        done = subprocess.run([tool], input=data, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _non_blank(data: bytes) -> bytes:
    return re.sub(rb"[ \t]+", b"", data)


class _Tools:
    def __init__(self, language: tree_sitter.Language, go: Go) -> None:
        from tree_sitter import Parser, Query

        self.parser = Parser(language)
        # The four query files as one query: one walk of the tree per file.
        self.query = Query(language, "\n".join(go.query(purpose) for purpose in QUERY_FILES))


def _text(data: bytes, node: tree_sitter.Node) -> str:
    return data[node.start_byte : node.end_byte].decode("utf-8", errors="replace")


def _type_name(data: bytes, node: tree_sitter.Node | None) -> str | None:
    """``T`` of ``T``, ``*T``, ``T[K]``, ``*T[K]``; ``pkg.T`` of ``pkg.T``, ``*pkg.T[K]`` (None
    for other types)."""
    while node is not None and node.type in ("pointer_type", "generic_type", "parenthesized_type"):
        node = node.named_children[0] if node.type != "generic_type" else node.child_by_field_name("type")
    if node is not None and node.type in ("type_identifier", "qualified_type"):
        return _text(data, node)
    return None


def import_alias(path: str) -> str:
    """The name an import binds when it names none: the last path element, without a ``/vN``
    major-version suffix or a ``.vN`` (gopkg.in) suffix; the resolver prefers the package's own name."""
    parts = path.split("/")
    last = parts[-1]
    if re.fullmatch(r"v\d+", last) and len(parts) > 1:
        last = parts[-2]
    last = re.sub(r"\.v\d+$", "", last)
    return last.replace("-", "_").replace(".", "_")


class _Extractor:
    def __init__(self, data: bytes, tree: tree_sitter.Tree, tools: _Tools) -> None:
        self.data = data
        self.root = tree.root_node
        self.tools = tools
        self.free = anchors.AnchorFreeText(data, GO_ANCHOR)
        self.line_starts = [0, *(match.end() for match in _NEWLINE.finditer(data))]
        self.defs: list[ParsedDef] = []
        self.def_nodes: list[tree_sitter.Node] = []
        from tree_sitter import QueryCursor

        self.matches: dict[str, list[dict[str, list[tree_sitter.Node]]]] = {}
        for _, captures in QueryCursor(tools.query).matches(self.root):
            kind = next(key for key in ("function", "method", "class", "callee", "import", "var", "short") if key in captures)
            self.matches.setdefault(kind, []).append(captures)

    # -- lines ---------------------------------------------------------------------------
    def line(self, number: int) -> bytes:
        """The text of 1-based line ``number`` without its newline."""
        if number < 1 or number > len(self.line_starts):
            return b""
        start = self.line_starts[number - 1]
        end = self.line_starts[number] - 1 if number < len(self.line_starts) else len(self.data)
        return self.data[start:end].rstrip(b"\r")

    def in_token(self, offset: int) -> bool:
        """Whether byte ``offset`` is inside a comment or a string (an anchor there is not one)."""
        node = self.root.descendant_for_byte_range(offset, offset + 1)
        return node is not None and node.type in _STRING_TYPES and node.start_byte < offset

    def is_comment(self, offset: int) -> bool:
        node = self.root.descendant_for_byte_range(offset, offset + 1)
        return node is not None and node.type == "comment"

    # -- definitions ---------------------------------------------------------------------
    def add_defs(self) -> None:
        found: list[tuple[tree_sitter.Node, str, str, tree_sitter.Node | None]] = []
        for captures in [*self.matches.get("function", []), *self.matches.get("method", []), *self.matches.get("class", [])]:
            for kind in ("function", "method", "class"):
                if kind in captures and (kind != "class" or self.top_level(captures[kind][0])):
                    receiver = captures.get("receiver", [None])[0]
                    found.append((captures[kind][0], kind, _text(self.data, captures["name"][0]), receiver))
        found.sort(key=lambda item: item[0].start_byte)
        types = {name: index for index, (_, kind, name, _) in enumerate(found) if kind == "class"}
        positions: dict[int, int] = {}
        for index, (node, kind, name, receiver) in enumerate(found):
            bases: tuple[str, ...] = ()
            parent = -1
            qualname = name
            node_type: NodeType = "function"
            if kind == "method":
                node_type = "method"
                receiver_type = self.receiver_type(receiver)
                if receiver_type is not None and "." not in receiver_type:
                    bases = (receiver_type,)
                    qualname = f"{receiver_type}.{name}"
                    if receiver_type in types:
                        parent = positions.get(types[receiver_type], -1)
                        if parent < 0:  # the type comes later in the file: fixed below
                            parent = -2 - types[receiver_type]
            elif kind == "class":
                node_type = "class"
                bases = self.embedded(node)
            positions[index] = len(self.defs)
            self.defs.append(self.make_def(node, node_type, name, qualname, parent, bases))
            self.def_nodes.append(node)
        for parsed in self.defs:  # methods before their type: point at the type's position
            if parsed.parent <= -2:
                parsed.parent = positions[-2 - parsed.parent]

    @staticmethod
    def top_level(spec: tree_sitter.Node) -> bool:
        declaration = spec.parent
        return declaration is not None and declaration.parent is not None and declaration.parent.type == "source_file"

    def receiver_type(self, receiver: tree_sitter.Node | None) -> str | None:
        if receiver is None:
            return None
        for child in receiver.named_children:
            if child.type == "parameter_declaration":
                return _type_name(self.data, child.child_by_field_name("type"))
        return None

    def embedded(self, spec: tree_sitter.Node) -> tuple[str, ...]:
        """Embedded types of a struct or interface (their methods are promoted)."""
        body = spec.child_by_field_name("type")
        names: list[str] = []
        if body is None:
            return ()
        for child in body.named_children:
            if child.type == "field_declaration_list":
                for field in child.named_children:
                    if field.type == "field_declaration" and field.child_by_field_name("name") is None:
                        name = _type_name(self.data, field.child_by_field_name("type"))
                        if name and "." not in name:
                            names.append(name)
            elif child.type == "type_elem":
                for part in child.named_children:
                    name = _type_name(self.data, part)
                    if name and "." not in name:
                        names.append(name)
        return tuple(names)

    def make_def(
        self,
        node: tree_sitter.Node,
        node_type: NodeType,
        name: str,
        qualname: str,
        parent: int,
        bases: tuple[str, ...],
    ) -> ParsedDef:
        def_line = node.start_point[0] + 1
        body = node.child_by_field_name("body") or node.child_by_field_name("type")
        header_end = body.start_point[0] + 1 if body is not None else def_line
        parsed = ParsedDef(
            node_type=node_type,
            name=name,
            qualname=qualname,
            parent=parent,
            start_line=def_line,
            def_line=def_line,
            header_end_line=max(header_end, def_line),
            end_line=node.end_point[0] + 1,
            start_byte=node.start_byte,
            def_byte=node.start_byte,
            end_byte=node.end_byte,
            source_hash=self.free.span_hash(node.start_byte, node.end_byte),
            bases=bases,
        )
        self.locate_anchor(parsed, node)
        return parsed

    def locate_anchor(self, parsed: ParsedDef, node: tree_sitter.Node) -> None:
        for number in range(parsed.def_line, parsed.header_end_line + 1):
            line = self.line(number)
            if b"rm_" not in line:
                continue
            for match in GO_ANCHOR.node_re.finditer(line):
                if self.is_comment(self.line_starts[number - 1] + match.start()):
                    parsed.anchor = match.group(1).decode("ascii")
                    parsed.anchor_line = number
                    return
        for number in range(parsed.def_line, parsed.header_end_line + 1):
            line = self.line(number)
            end = self.line_starts[number - 1] + len(line)
            if line.strip() and not self.in_token(end):
                parsed.inject_line = number
                return

    # -- file, imports, calls ------------------------------------------------------------
    def file_anchor(self, parsed: ParsedFile) -> None:
        clause = next((child for child in self.root.named_children if child.type == "package_clause"), None)
        if clause is None:
            parsed.file_anchor_insert_line = 1
            return
        number = clause.end_point[0] + 1
        parsed.file_anchor_insert_line = number
        line = self.line(number)
        match = GO_ANCHOR.file_re.search(line)
        if match and self.is_comment(self.line_starts[number - 1] + match.start()):
            parsed.file_anchor = match.group(1).decode("ascii")
            parsed.file_anchor_line = number
        package = clause.named_children[0] if clause.named_children else None
        if package is not None:
            parsed.imports.append(ParsedImport("", PACKAGE_REF, _text(self.data, package), "", number))

    def add_imports(self, parsed: ParsedFile) -> None:
        for captures in self.matches.get("import", []):
            path = _text(self.data, captures["path"][0]).strip('"`')
            alias_nodes = captures.get("alias")
            alias = _text(self.data, alias_nodes[0]) if alias_nodes else ""
            line = captures["import"][0].start_point[0] + 1
            # name None: the package's own name binds it (alias is the guess from the path).
            parsed.imports.append(
                ParsedImport(path, 0, alias or None, alias or import_alias(path), line)
            )

    def add_calls(self, parsed: ParsedFile) -> None:
        callees = [captures["callee"][0] for captures in self.matches.get("callee", [])]
        if not callees or not self.defs:
            return
        # Functions and methods are top-level and never overlap: the caller is the last one
        # starting before the call, when the call is inside it.
        functions = [(d.start_byte, d.end_byte, index) for index, d in enumerate(self.defs) if d.node_type != "class"]
        starts = [start for start, _, _ in functions]
        locals_cache: dict[int, dict[str, str]] = {}
        declarations: dict[int, list[tree_sitter.Node]] = {}
        if any(b"." in self.data[node.start_byte : node.end_byte] for node in callees):
            found = [*self.matches.get("var", []), *self.matches.get("short", [])]
            for node in [next(iter(captures.values()))[0] for captures in found]:
                at = bisect_right(starts, node.start_byte) - 1
                if at >= 0 and node.start_byte < functions[at][1]:
                    declarations.setdefault(functions[at][2], []).append(node)
        for callee in sorted(callees, key=lambda node: node.start_byte):
            at = bisect_right(starts, callee.start_byte) - 1
            if at < 0 or callee.start_byte >= functions[at][1]:
                continue
            caller = functions[at][2]
            text = _text(self.data, callee)
            if not _DOTTED_RE.fullmatch(text):
                continue
            head, dot, rest = text.partition(".")
            if dot and "." not in rest:
                typed = locals_cache.get(caller)
                if typed is None:
                    typed = locals_cache[caller] = self.typed_names(
                        self.def_nodes[caller], declarations.get(caller, [])
                    )
                if head in typed:
                    text = f"{typed[head]}.{rest}"
            parsed.calls.append(ParsedCall(caller, text, callee.start_point[0] + 1))

    def typed_names(self, function: tree_sitter.Node, declarations: list[tree_sitter.Node]) -> dict[str, str]:
        """Receiver, parameters and locals of a function whose type is a named type of the
        package (``x T``, ``x *T``, ``var x T``, ``x := T{}``, ``x := &T{}``, ``x := new(T)``)."""
        found: dict[str, str] = {}
        lists = [function.child_by_field_name("receiver"), function.child_by_field_name("parameters")]
        for plist in lists:
            for declaration in plist.named_children if plist is not None else ():
                type_name = _type_name(self.data, declaration.child_by_field_name("type"))
                if type_name is None:
                    continue
                for child in declaration.children_by_field_name("name"):
                    found[_text(self.data, child)] = type_name
        for node in sorted(declarations, key=lambda item: item.start_byte):
            if node.type == "var_spec":
                type_name = _type_name(self.data, node.child_by_field_name("type"))
                values = node.child_by_field_name("value")
                if type_name is None and values is not None and values.named_children:
                    type_name = self.literal_type(values.named_children[0])
                if type_name is not None:
                    for child in node.children_by_field_name("name"):
                        found[_text(self.data, child)] = type_name
            elif node.type == "short_var_declaration":
                left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
                if left is not None and right is not None:
                    for name, value in zip(left.named_children, right.named_children, strict=False):
                        type_name = self.literal_type(value)
                        if type_name is not None and name.type == "identifier":
                            found[_text(self.data, name)] = type_name
        return found

    def literal_type(self, value: tree_sitter.Node) -> str | None:
        if value.type == "unary_expression" and value.named_children:
            value = value.named_children[-1]
        if value.type == "composite_literal":
            return _type_name(self.data, value.child_by_field_name("type"))
        if value.type == "call_expression":
            function = value.child_by_field_name("function")
            arguments = value.child_by_field_name("arguments")
            if function is not None and _text(self.data, function) == "new" and arguments is not None:
                return _type_name(self.data, arguments.named_children[0]) if arguments.named_children else None
        return None


class Go(Language):
    name: ClassVar[str] = "go"
    extensions: ClassVar[tuple[str, ...]] = (".go",)
    filetypes: ClassVar[tuple[str, ...]] = ("go",)
    anchor: ClassVar[anchors.AnchorSyntax] = GO_ANCHOR
    node_kinds: ClassVar[dict[str, NodeType]] = {
        "function_declaration": "function",
        "method_declaration": "method",
        "type_spec (struct_type, interface_type)": "class",
    }
    grammar_package: ClassVar[str] = "tree-sitter-go"
    commands: ClassVar[tuple[str, ...]] = ("gofmt",)
    parents_across_files: ClassVar[bool] = True

    def __init__(self) -> None:
        self._tools: _Tools | None = None

    def grammar(self) -> tree_sitter.Language:
        import tree_sitter_go
        from tree_sitter import Language as Grammar

        return Grammar(tree_sitter_go.language())

    def tools(self) -> _Tools:
        if self._tools is None:
            self._tools = _Tools(self.grammar(), self)
        return self._tools

    def parse(self, data: bytes) -> ParsedFile:
        tools = self.tools()
        tree = tools.parser.parse(data)
        extractor = _Extractor(data, tree, tools)
        problems: list[str] = []
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            problems.append(f"not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start})")
        syntax = first_syntax_error(tree.root_node)
        if syntax is not None:
            problems.insert(0, syntax)
        parsed = ParsedFile(
            source_hash=anchors.source_hash(data, GO_ANCHOR),
            line_count=len(extractor.line_starts) - (1 if data.endswith(b"\n") else 0),
            problems=problems,
            syntax_error=syntax is not None,
        )
        extractor.add_defs()
        parsed.defs = extractor.defs
        extractor.file_anchor(parsed)
        extractor.add_imports(parsed)
        extractor.add_calls(parsed)
        return parsed

    def syntax_error(self, data: bytes) -> str | None:
        return first_syntax_error(self.tools().parser.parse(data).root_node)

    def after_anchors(self, original: bytes, anchored: bytes) -> bytes:
        """``anchored`` as gofmt aligns it, when ``original`` was gofmt-clean and gofmt only
        moved blanks (else ``anchored`` unchanged)."""
        formatted = _gofmt(anchored)
        if formatted is None or formatted == anchored or _gofmt(original) != original:
            return anchored
        if _non_blank(formatted) != _non_blank(anchored):
            return anchored
        return formatted

    def new_resolver(self, root: Path | None = None) -> GoSymbols:
        from remora_core.languages.go_resolve import GoSymbols

        return GoSymbols(root)


LANGUAGE = Go()
