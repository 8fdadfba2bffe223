"""JavaScript (``.js .mjs .cjs .jsx``; the grammar reads JSX): the registry entry. TypeScript
(``typescript.py``) and TSX (``tsx.py``) are this class with another grammar and extensions;
the three share one resolver (a ``.tsx`` file imports ``.ts`` and ``.js`` files).

Declaration files (``.d.ts``, ``.d.mts``, ``.d.cts``) are not indexed: they hold no bodies (no
agent has code to own) and are usually generated, and a generated file would lose its anchors
each time it is rebuilt.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from remora_core.languages import js_anchors
from remora_core.languages.base import Language
from remora_core.languages.js_extract import Dialect, grammar, parse_source, parse_tree
from remora_core.languages.js_resolve import JsSymbols
from remora_core.parsing.anchors import AnchorSyntax, lone_cr_as_lf
from remora_core.parsing.model import NodeType, ParsedFile
from remora_core.parsing.python_source import first_syntax_error

if TYPE_CHECKING:
    import tree_sitter

DECLARATION_SUFFIXES = (".d.ts", ".d.mts", ".d.cts")
JS_NODE_KINDS: dict[str, NodeType] = {
    "function_declaration": "function",  # "method" directly inside a class or exported object
    "generator_function_declaration": "function",
    "variable_declarator": "function",  # const f = () => ... / function () {} / class {}
    "class_declaration": "class",
    "method_definition": "method",
    "field_definition": "method",  # a class field holding a function
    "object": "class",  # an exported object literal holding functions
}


class JavaScript(Language):
    name: ClassVar[str] = "javascript"
    title: ClassVar[str] = "JavaScript"
    dialect: ClassVar[Dialect] = "javascript"
    extensions: ClassVar[tuple[str, ...]] = (".js", ".mjs", ".cjs", ".jsx")
    excluded_suffixes: ClassVar[tuple[str, ...]] = ()
    filetypes: ClassVar[tuple[str, ...]] = ("javascript", "javascriptreact")
    anchor: ClassVar[AnchorSyntax] = js_anchors.SYNTAX
    node_kinds: ClassVar[dict[str, NodeType]] = JS_NODE_KINDS
    grammar_package: ClassVar[str] = "tree-sitter-javascript"
    resolver_group: ClassVar[str] = "javascript"  # JS, TS and TSX files resolve in one table
    member_wrapper: ClassVar[tuple[str, str] | None] = ("class RemoraMember {\n", "}\n")

    def grammar(self) -> tree_sitter.Language:
        return grammar(self.dialect)

    def parse(self, data: bytes) -> ParsedFile:
        return parse_source(lone_cr_as_lf(data), self.dialect)

    def syntax_error(self, data: bytes) -> str | None:
        return first_syntax_error(parse_tree(data, self.dialect).root_node)

    def new_resolver(self, root: Path | None = None) -> JsSymbols:
        return JsSymbols(root)


LANGUAGE = JavaScript()
