"""The contract every language of the registry implements (``remora_core.languages``).

A language is one module in this package holding one ``Language`` subclass instance named
``LANGUAGE``, listed in ``LANGUAGE_MODULES`` of ``languages/__init__.py``, plus its tree-sitter
query files in ``queries/<name>/{definitions,calls,imports}.scm`` (read them with
``Language.query(purpose)``; packaged by ``pyproject.toml``'s package-data). Its grammar goes in
``pyproject.toml``'s dependencies; its cold-index row in ``bench/lang_bench.py``'s ``CORPORA``. Nothing else in the engine names a language: discovery, parsing,
anchors, resolution, proposals, the hub's watch filter and the Neovim filetypes all ask the
registry (``language_for_path``, ``languages``, ``extensions``, ``filetypes``).

What a language declares (class attributes):

- ``name``: "python", "go", "javascript", "typescript", "tsx" ... (unique).
- ``extensions``: file suffixes with the dot (``(".go",)``); a path belongs to the first language
  that lists its suffix. ``filetypes``: Neovim ``&filetype`` values of its buffers.
- ``anchor``: a ``parsing.anchors.AnchorSyntax`` (``anchor_syntax("//")`` for ``//`` comments):
  node anchor ``// rm_xxxxxxxx`` at the end of the definition line, file anchor
  ``// remora-file: rm_xxxxxxxx``. With ``pad=False`` a new node anchor follows the code after one
  space (gofmt); with ``file_inline=True`` the file anchor is appended to the line
  ``ParsedFile.file_anchor_insert_line`` (Go: the package clause) instead of being a line of its own.
- ``node_kinds``: tree-sitter node type -> Remora node type ("class" | "function" | "method"),
  for documentation and ``:checkhealth``. TS interfaces / enums / type aliases map to "class".

What a language does (methods):

- ``grammar()``: the ``tree_sitter.Language`` (loaded once per process; ``grammar_available()``
  is False when its PyPI package is missing: that language is then skipped, never an error).
- ``parse(data) -> ParsedFile`` (``parsing.model``): never raises. For every definition: name,
  qualname (dotted, e.g. ``Server.Start``), ``parent`` index (-1 = the file), lines / bytes of
  the span, ``def_line`` (where the anchor goes), ``source_hash`` (of the span with anchors
  stripped: ``anchors.AnchorFreeText(data, self.anchor).span_hash``), ``anchor`` / ``anchor_line``
  when found (only inside a real comment node), ``inject_line`` (the line a new anchor can be
  appended to without changing the program, None when none). File: ``source_hash`` of the whole
  file (anchors stripped), ``file_anchor`` / ``file_anchor_line`` and ``file_anchor_insert_line``
  (where a new file anchor goes: after a ``#!`` line, never breaking a directive or a build
  constraint). ``imports``: ``ParsedImport(module, level, name, alias, line)`` (the language
  chooses the spelling its resolver reads back; Go: module = import path, alias = local package
  name). ``calls``: ``ParsedCall(caller def index, callee as written, line)``. ``bases`` and
  ``params`` of ``ParsedDef`` may be used freely by the language's resolver. ``syntax_error``:
  the tree has errors (then no anchors are written into the file).
- ``compiles(parsed, data) -> bool``: the last check before anchors are written into a file
  (Python asks CPython; others: ``not parsed.syntax_error``).
- ``syntax_error(data) -> str | None``: where the first syntax error is (proposals: a rewrite of a
  node must parse with the file's grammar), None when clean.
- ``after_anchors(original, anchored) -> bytes``: what is written once anchors are added (default:
  ``anchored``; Go re-aligns comments the way gofmt does). Lines never move.
- ``new_resolver(root) -> Resolver``: a fresh per-language symbol table (see ``Resolver``) for the
  project at ``root`` (None in unit tests: no project files to read, e.g. ``go.mod`` /
  ``tsconfig.json``; paths given to the resolver are relative to ``root``). The indexer keeps one
  per language (``languages.ProjectSymbols``); files never resolve across languages.

A ``Resolver`` is fed ``index.symbols.FileSymbols`` (path, file id, ``ImportRef`` list, calls as
``(caller id, callee)``) and ``SymbolNode`` rows (id, type, name, file, parent id, bases, params)
one file at a time, exactly as the indexer stores them in ``files.refs`` (they come back from
there on the next run: keep everything the resolver needs in imports / calls / bases / params).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

from remora_core.parsing.anchors import HASH, AnchorSyntax
from remora_core.parsing.model import NodeType, ParsedFile

if TYPE_CHECKING:
    import tree_sitter

    from remora_core.index.symbols import FileSymbols, SymbolNode

QUERY_PURPOSES = ("definitions", "calls", "imports")  # a language may add its own (Go: locals)


class Resolver(Protocol):
    """A per-language symbol table: what the indexer calls (``index.symbols.SymbolTable`` is Python's)."""

    @property
    def files(self) -> Mapping[str, FileSymbols]:
        """Every file added, by path."""
        ...

    def add_file(self, symbols: FileSymbols, nodes: Iterable[SymbolNode]) -> None:
        """Add (or replace) one file; ``nodes`` in document order, the file node first."""

    def remove_file(self, path: str) -> None:
        """Forget one file (a node that moved to a file added earlier is kept)."""

    def resolve_file(self, path: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """(calls edges, imports edges) as sorted (source id, target id) pairs made by ``path``'s code."""

    def mentions(self, path: str, names: set[str]) -> bool:
        """Whether ``path``'s references spell one of ``names`` (else a change of only those names
        cannot change how it resolves). When unsure, True."""

    def through_bases(self, names: set[str]) -> set[str]:
        """``names`` plus the names that inherit their meaning (Python: subclasses). Else ``names``."""

    def dependents(self, paths: set[str]) -> set[str]:
        """Files whose resolution may change when files ``paths`` appear or disappear (modules
        named after them, Go: the other files of the same package directory)."""

    # Optional (looked up with getattr): ``parents(paths) -> dict[str, str]``, node id -> parent id
    # for nodes of ``paths`` whose parent is only known once every file is added (Go: a method
    # whose receiver type is declared in another file of the package). The indexer applies it to
    # the rows and ``parent_of`` edges of the files it just parsed.


class Language:
    """One language of the registry. Subclass, set the class attributes, implement the methods."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""  # its name in prompts ("TypeScript"); "" = ``name`` capitalised
    fence: ClassVar[str] = ""  # the info string of its fenced code blocks; "" = ``name``
    extensions: ClassVar[tuple[str, ...]] = ()
    filetypes: ClassVar[tuple[str, ...]] = ()
    anchor: ClassVar[AnchorSyntax] = HASH
    node_kinds: ClassVar[Mapping[str, NodeType]] = {}
    grammar_package: ClassVar[str] = ""  # the PyPI package of its grammar (for :checkhealth)
    commands: ClassVar[tuple[str, ...]] = ()  # optional commands it uses when on PATH (Go: gofmt)
    # Suffixes of files it does not index although ``extensions`` matches (TypeScript: ".d.ts").
    excluded_suffixes: ClassVar[tuple[str, ...]] = ()
    # Languages with the same group share one resolver (their files import each other: JS, TS,
    # TSX); "" is the language's own name.
    resolver_group: ClassVar[str] = ""
    # (prefix, suffix) that make a method's source a whole file (JS/TS: a class around it), for
    # checking a rewrite of a method that is not a statement of its own; None: it is one.
    member_wrapper: ClassVar[tuple[str, str] | None] = None
    # Whether a method's parent may be a type declared in another file of its directory (Go: a
    # package is a directory): a file whose types came, went or were renamed is re-indexed with
    # the other files of its directory, so that their methods' parents follow.
    parents_across_files: ClassVar[bool] = False

    @property
    def group(self) -> str:
        return self.resolver_group or self.name

    def grammar(self) -> tree_sitter.Language:
        raise NotImplementedError

    def grammar_available(self) -> bool:
        try:
            self.grammar()
        except ImportError:
            return False
        return True

    def parse(self, data: bytes) -> ParsedFile:
        raise NotImplementedError

    def compiles(self, parsed: ParsedFile, data: bytes) -> bool:
        if parsed.compiles is None:
            parsed.compiles = not parsed.syntax_error
        return parsed.compiles

    def syntax_error(self, data: bytes) -> str | None:
        raise NotImplementedError

    def after_anchors(self, original: bytes, anchored: bytes) -> bytes:
        """The bytes written after anchors were added to ``original``: ``anchored``, or the
        language's formatter's alignment of it (Go: gofmt re-aligns trailing comments)."""
        return anchored

    def new_resolver(self, root: Path | None = None) -> Resolver:
        raise NotImplementedError

    def query(self, purpose: str) -> str:
        """The text of ``queries/<name>/<purpose>.scm``."""
        return query_text(purpose, self.name)

    def __repr__(self) -> str:
        return f"<Language {self.name}>"


@cache
def query_text(purpose: str, *names: str) -> str:
    """The text of ``queries/<name>/<purpose>.scm`` for the first of ``names`` that has one (a
    dialect falls back to the language it extends: TSX reads TypeScript's definitions)."""
    folder = resources.files("remora_core.languages").joinpath("queries")
    for name in names:
        path = folder.joinpath(name, f"{purpose}.scm")
        if path.is_file():
            return path.read_text("utf-8")
    raise FileNotFoundError(f"no {purpose}.scm query for any of {names!r}")
