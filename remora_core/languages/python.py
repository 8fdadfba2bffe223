"""Python: the registry entry over ``parsing.python_source`` and ``index.symbols`` (unchanged)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from remora_core.index.symbols import SymbolTable, module_names
from remora_core.languages.base import Language
from remora_core.parsing.anchors import HASH, AnchorSyntax
from remora_core.parsing.model import NodeType, ParsedFile
from remora_core.parsing.python_source import (
    compiles,
    first_syntax_error,
    parse_python,
    python_language,
    python_parser,
)

if TYPE_CHECKING:
    import tree_sitter


class PythonSymbols(SymbolTable):
    """``index.symbols.SymbolTable`` with the registry's ``dependents``."""

    def dependents(self, paths: set[str]) -> set[str]:
        """Files whose import statements could name one of ``paths`` (any dotted segment of the
        imported module, or the imported name, is one of their module names' last parts)."""
        return self.import_dependents({module.rsplit(".", 1)[-1] for module in module_names(paths)})


class Python(Language):
    name: ClassVar[str] = "python"
    extensions: ClassVar[tuple[str, ...]] = (".py",)
    filetypes: ClassVar[tuple[str, ...]] = ("python",)
    anchor: ClassVar[AnchorSyntax] = HASH
    node_kinds: ClassVar[dict[str, NodeType]] = {
        "function_definition": "function",  # "method" directly inside a class
        "class_definition": "class",
    }
    grammar_package: ClassVar[str] = "tree-sitter-python"

    def grammar(self) -> tree_sitter.Language:
        return python_language()

    def parse(self, data: bytes) -> ParsedFile:
        return parse_python(data)

    def compiles(self, parsed: ParsedFile, data: bytes) -> bool:
        return compiles(parsed, data)  # CPython's verdict

    def syntax_error(self, data: bytes) -> str | None:
        return first_syntax_error(python_parser().parse(data).root_node)

    def new_resolver(self, root: Path | None = None) -> PythonSymbols:
        return PythonSymbols()


LANGUAGE = Python()
