"""The language registry: which languages Remora indexes, and which one a file is.

Each language is one module of this package (listed in ``LANGUAGE_MODULES``) exposing
``LANGUAGE``, an instance of ``base.Language`` (the contract is in ``base``'s docstring).
A language whose grammar package is not installed is left out (``:checkhealth remora`` says so).
Everything else in the engine asks this module, never names a language.
"""

from __future__ import annotations

import importlib
import shutil
from collections import ChainMap
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from remora_core.languages.base import Language, Resolver
from remora_core.parsing.model import ParsedFile

if TYPE_CHECKING:
    from remora_core.index.symbols import FileSymbols, SymbolNode

__all__ = [
    "Language",
    "ProjectSymbols",
    "Resolver",
    "all_languages",
    "excluded_suffixes",
    "extensions",
    "filetypes",
    "health",
    "is_source",
    "language_for_path",
    "language_of",
    "languages",
    "parse_source",
]

# Module names under remora_core.languages, in priority order (a suffix belongs to the first).
LANGUAGE_MODULES: tuple[str, ...] = ("python", "go", "javascript", "typescript", "tsx")

_all: list[Language] | None = None
_available: list[Language] | None = None
_by_suffix: dict[str, Language] = {}


def all_languages() -> list[Language]:
    """Every registered language, its grammar installed or not."""
    global _all
    if _all is None:
        _all = [importlib.import_module(f"remora_core.languages.{name}").LANGUAGE for name in LANGUAGE_MODULES]
    return _all


def languages() -> list[Language]:
    """The registered languages whose grammar is installed."""
    global _available
    if _available is None:
        _available = [language for language in all_languages() if language.grammar_available()]
        _by_suffix.clear()
        for language in _available:
            for suffix in language.extensions:
                _by_suffix.setdefault(suffix, language)
    return _available


def health() -> list[dict[str, object]]:
    """Per registered language: its grammar installed or not, its suffixes, its optional tools."""
    available = languages()
    return [
        {
            "name": language.name,
            "extensions": list(language.extensions),
            "grammar_package": language.grammar_package,
            "available": language in available,
            "tools": {tool: shutil.which(tool) is not None for tool in language.commands},
        }
        for language in all_languages()
    ]


def extensions() -> tuple[str, ...]:
    """Every indexed file suffix (with its dot)."""
    languages()
    return tuple(_by_suffix)


def excluded_suffixes() -> tuple[str, ...]:
    """Suffixes of files never indexed although ``extensions`` matches them (``.d.ts``)."""
    return tuple(suffix for language in languages() for suffix in language.excluded_suffixes)


def filetypes() -> tuple[str, ...]:
    """Every Neovim filetype of an indexed language."""
    return tuple(filetype for language in languages() for filetype in language.filetypes)


def language_for_path(path: str) -> Language | None:
    """The language of a file, by its suffix; None when Remora does not index it."""
    languages()
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    if dot <= 0:
        return None
    language = _by_suffix.get(name[dot:])
    if language is not None and language.excluded_suffixes and name.endswith(language.excluded_suffixes):
        return None  # TypeScript's .d.ts declaration files
    return language


def is_source(path: str) -> bool:
    """Whether ``path`` is a file of an indexed language."""
    return language_for_path(path) is not None


def language_of(path: str) -> Language:
    """The language of a file; the first registered one (Python) for an unknown suffix."""
    return language_for_path(path) or languages()[0]


def parse_source(path: str, data: bytes, default_parse: Callable[[str, bytes], ParsedFile] | None = None) -> ParsedFile:
    """Parse a file's bytes with its language. ``default_parse`` replaces the first language's
    (Python's) parser: the hub's incremental parser."""
    language = language_of(path)
    if default_parse is not None and language is languages()[0]:
        return default_parse(path, data)
    return language.parse(data)


class ProjectSymbols:
    """One resolver per language behind the interface the indexer uses: each file is added to,
    and resolved by, its own language's resolver only (no cross-language edges)."""

    def __init__(self, root: Path | None = None) -> None:
        # Languages of one ``resolver_group`` (JS, TS, TSX) share one table: they import each other.
        self.tables: dict[str, Resolver] = {}
        for language in languages():
            if language.group not in self.tables:
                self.tables[language.group] = language.new_resolver(root)
        # Every file of every language, by path (a live view of the resolvers' own maps).
        self.files: ChainMap[str, FileSymbols] = ChainMap(*(table.files for table in self.tables.values()))  # type: ignore[arg-type]

    @staticmethod
    def tables_name(path: str) -> str:
        return language_of(path).group

    def table(self, path: str) -> Resolver:
        return self.tables[self.tables_name(path)]

    def add_file(self, symbols: FileSymbols, nodes: Iterable[SymbolNode]) -> None:
        self.table(symbols.path).add_file(symbols, nodes)

    def remove_file(self, path: str) -> None:
        self.table(path).remove_file(path)

    def resolve_file(self, path: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        return self.table(path).resolve_file(path)

    def mentions(self, path: str, names: set[str]) -> bool:
        return self.table(path).mentions(path, names)

    def mentioning(self, names: Iterable[str]) -> set[str]:
        """Every file that ``mentions`` one of ``names``: a resolver's inverted index when it has
        one (Python's), else a scan of its files."""
        wanted = set(names)
        found: set[str] = set()
        for table in self.tables.values():
            lookup = getattr(table, "mentioning", None)
            if lookup is not None:
                found |= lookup(wanted)
            else:
                found.update(path for path in table.files if table.mentions(path, wanted))
        return found

    def build_indexes(self) -> None:
        """Build the resolvers' lookup indexes now (the hub, once loaded), where they have any."""
        for table in self.tables.values():
            build = getattr(table, "build_indexes", None)
            if build is not None:
                build()

    def through_bases(self, names: set[str]) -> set[str]:
        found = set(names)
        for table in self.tables.values():
            found |= table.through_bases(names)
        return found

    def parents(self, paths: set[str]) -> dict[str, str]:
        """Node id -> parent id decided at resolution time for nodes of ``paths`` (``Resolver.parents``,
        optional: Go's methods whose receiver type is declared in another file of the package)."""
        found: dict[str, str] = {}
        for name, table in self.tables.items():
            method = getattr(table, "parents", None)
            own = {path for path in paths if self.tables_name(path) == name}
            if method is not None and own:
                found.update(method(own))
        return found

    def dependents(self, paths: set[str]) -> set[str]:
        found: set[str] = set()
        for name, table in self.tables.items():
            own = {path for path in paths if self.tables_name(path) == name}
            if own:
                found |= table.dependents(own)
        return found
