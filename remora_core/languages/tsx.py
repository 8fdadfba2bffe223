"""TSX (``.tsx``): TypeScript with JSX; a component is a function, ``<Label />`` calls ``Label``."""

from __future__ import annotations

from typing import ClassVar

from remora_core.languages.js_extract import Dialect
from remora_core.languages.typescript import TypeScript


class Tsx(TypeScript):
    name: ClassVar[str] = "tsx"
    title: ClassVar[str] = "TSX"
    dialect: ClassVar[Dialect] = "tsx"
    extensions: ClassVar[tuple[str, ...]] = (".tsx",)
    excluded_suffixes: ClassVar[tuple[str, ...]] = ()
    filetypes: ClassVar[tuple[str, ...]] = ("typescriptreact",)


LANGUAGE = Tsx()
