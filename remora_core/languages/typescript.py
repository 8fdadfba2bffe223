"""TypeScript (``.ts .mts .cts``; not ``.d.ts`` declaration files): the registry entry. Interfaces,
type aliases and enums are "class" nodes; overload signatures and abstract methods (no body)
are not nodes, the implementation is."""

from __future__ import annotations

from typing import ClassVar

from remora_core.languages.javascript import DECLARATION_SUFFIXES, JS_NODE_KINDS, JavaScript
from remora_core.languages.js_extract import Dialect
from remora_core.parsing.model import NodeType

TS_NODE_KINDS: dict[str, NodeType] = {
    **JS_NODE_KINDS,
    "abstract_class_declaration": "class",
    "interface_declaration": "class",
    "type_alias_declaration": "class",
    "enum_declaration": "class",
    "public_field_definition": "method",
}


class TypeScript(JavaScript):
    name: ClassVar[str] = "typescript"
    title: ClassVar[str] = "TypeScript"
    dialect: ClassVar[Dialect] = "typescript"
    extensions: ClassVar[tuple[str, ...]] = (".ts", ".mts", ".cts")
    excluded_suffixes: ClassVar[tuple[str, ...]] = DECLARATION_SUFFIXES
    filetypes: ClassVar[tuple[str, ...]] = ("typescript",)
    node_kinds: ClassVar[dict[str, NodeType]] = TS_NODE_KINDS
    grammar_package: ClassVar[str] = "tree-sitter-typescript"


LANGUAGE = TypeScript()
