"""Plain data produced by the parser. Slotted dataclasses: cheap to build and to pickle."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

NodeType = Literal["file", "class", "function", "method"]
NODE_TYPES: tuple[NodeType, ...] = ("file", "class", "function", "method")


@dataclass(slots=True)
class ParsedDef:
    """One ``def`` / ``async def`` / ``class`` found in a file. Lines are 1-based."""

    node_type: NodeType  # "class" | "function" | "method"
    name: str
    qualname: str  # dotted path of enclosing definitions, e.g. "Loader.load.inner"
    parent: int  # index of the enclosing definition in ParsedFile.defs, -1 for the file
    start_line: int  # first line of the span (the first decorator when decorated)
    def_line: int  # line holding the def/class keyword: where the anchor goes
    header_end_line: int  # line holding the ':' that closes the header
    end_line: int
    start_byte: int  # span start (decorators included)
    def_byte: int  # start of the def/class statement itself
    end_byte: int
    source_hash: str  # hash of the span with anchor comments removed
    anchor: str | None = None  # id found in the code
    anchor_line: int | None = None
    inject_line: int | None = None  # first header line a new anchor can be appended to safely
    bases: tuple[str, ...] = ()  # dotted base-class expressions (classes only)
    params: tuple[str, ...] = ()  # parameter names (functions and methods): they shadow outer names


class ParsedImport(NamedTuple):
    """One imported name. ``import a.b as c`` -> module "a.b", name None, alias "c"."""

    module: str  # dotted module; "" for ``from . import x``
    level: int  # number of leading dots (relative import)
    name: str | None  # imported symbol for ``from m import name``; None for ``import m``
    alias: str  # the name bound in this module ("*" for a wildcard import)
    line: int


class ParsedCall(NamedTuple):
    """One call site inside a function or method: ``caller`` indexes ParsedFile.defs.
    (Named tuples: a big file has thousands; they are cheap to build and to pickle.)"""

    caller: int
    callee: str  # "helper", "mod.func", "self.load", "cls.make", "super().save"
    line: int


@dataclass(slots=True)
class ParsedFile:
    """Everything the indexer needs from one file's bytes."""

    source_hash: str
    line_count: int
    defs: list[ParsedDef] = field(default_factory=list)
    imports: list[ParsedImport] = field(default_factory=list)
    calls: list[ParsedCall] = field(default_factory=list)
    file_anchor: str | None = None
    file_anchor_line: int | None = None
    file_anchor_insert_line: int = 1  # line number the file anchor line is inserted before
    problems: list[str] = field(default_factory=list)  # syntax errors, encoding problems
    syntax_error: bool = False  # CPython rejects it (tree-sitter recovered): no anchors are written
    compiles: bool | None = None  # CPython's verdict, once asked (None: not asked yet)
