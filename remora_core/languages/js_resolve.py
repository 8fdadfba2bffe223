"""Resolution of JavaScript / TypeScript ``calls`` and ``imports`` edges over the project's
symbol table (``remora_core.index.symbols.SymbolTable``: files, nodes, members).

Specifiers: relative ones (``./a``, ``../b/c.js``) are tried as written, then with each JS/TS
extension, then as a directory's ``index.<ext>``; a ``.js``-family specifier also finds the
TypeScript file it is compiled from (``./a.js`` -> ``a.ts``). Bare specifiers go through the
nearest ``tsconfig.json`` / ``jsconfig.json`` ``compilerOptions.paths`` (patterns with one
``*``) and ``baseUrl``; anything else (``react``, ``node:fs``) is a package: no edge.

Names at a call site, innermost first: a definition nested in the calling function or an
enclosing function; a top-level definition of the file; a name bound by an import
(``import {a as b}``, default imports, ``import * as ns``, ``require``), followed through the
target file's exports: ``export {x as y}``, ``export default x``, re-exports
(``export {x} from``, ``export * from``, ``export * as ns from``) up to ``MAX_REEXPORT_DEPTH``,
and its top-level definitions. ``this.m()`` resolves in the enclosing class and its bases,
``super.m()`` in the bases; ``new C()`` and ``C()`` link to the class; calling a module bound by
``require`` links to its ``module.exports`` / default export. Parameters shadow outer names.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from remora_core.index.symbols import Binding, ImportRef, SymbolNode, SymbolTable
from remora_core.languages.js_extract import DEFAULT, EXPORT, IMPORT, REEXPORT

MAX_REEXPORT_DEPTH = 5
MAX_BASE_DEPTH = 10
RESOLVE_EXTENSIONS = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")
_TS_FOR_JS = {".js": (".ts", ".tsx"), ".jsx": (".tsx",), ".mjs": (".mts",), ".cjs": (".cts",)}
_CONFIG_NAMES = ("tsconfig.json", "jsconfig.json")
_JSONC_RE = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/', re.DOTALL)
_TRAILING_COMMA_RE = re.compile(r",(\s*[}\]])")


def load_jsonc(text: str) -> object:
    """JSON with comments and trailing commas (tsconfig's dialect)."""
    stripped = _JSONC_RE.sub(lambda m: m.group(0) if m.group(0).startswith('"') else "", text)
    return json.loads(_TRAILING_COMMA_RE.sub(r"\1", stripped))


@dataclass(frozen=True, slots=True)
class PathConfig:
    """``compilerOptions.baseUrl`` and ``paths`` of one tsconfig, as root-relative directories."""

    directory: str  # root-relative folder of the tsconfig ("" at the root)
    base_url: str | None
    paths: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def candidates(self, spec: str) -> list[str]:
        base = self.base_url if self.base_url is not None else self.directory
        found: list[str] = []
        for pattern, targets in self.paths:
            prefix, star, suffix = pattern.partition("*")
            if star:
                if not (spec.startswith(prefix) and spec.endswith(suffix) and len(spec) >= len(prefix + suffix)):
                    continue
                matched = spec[len(prefix) : len(spec) - len(suffix)]
            elif spec != pattern:
                continue
            else:
                matched = ""
            found.extend(posixpath.normpath(posixpath.join(base, t.replace("*", matched))) for t in targets)
        if self.base_url is not None:
            found.append(posixpath.normpath(posixpath.join(self.base_url, spec)))
        return found


def read_path_config(root: Path, directory: str) -> PathConfig | None:
    """The path mapping of ``directory``'s tsconfig.json / jsconfig.json, if it has one."""
    for name in _CONFIG_NAMES:
        config = root / directory / name
        try:
            data = load_jsonc(config.read_text(encoding="utf-8", errors="replace"))
        except (OSError, ValueError):
            continue
        options = data.get("compilerOptions") if isinstance(data, dict) else None
        if not isinstance(options, dict):
            return PathConfig(directory, None)
        base_url = options.get("baseUrl")
        base = posixpath.normpath(posixpath.join(directory, base_url)) if isinstance(base_url, str) else None
        if base == ".":
            base = ""
        raw_paths = options.get("paths")
        paths: list[tuple[str, tuple[str, ...]]] = []
        if isinstance(raw_paths, dict):
            for pattern, targets in raw_paths.items():
                if isinstance(targets, list):
                    paths.append((pattern, tuple(t for t in targets if isinstance(t, str))))
        return PathConfig(directory, base, tuple(paths))
    return None


@dataclass(slots=True)
class JsResolver:
    """Resolves the JS/TS files of a ``SymbolTable`` (``root``: where tsconfig files are read)."""

    table: SymbolTable
    root: Path | None = None
    _configs: dict[str, PathConfig | None] = field(default_factory=dict)

    # -- specifiers --------------------------------------------------------------------
    def _config_for(self, path: str) -> PathConfig | None:
        directory = posixpath.dirname(path)
        while True:
            if directory not in self._configs:
                self._configs[directory] = read_path_config(self.root, directory) if self.root else None
            if self._configs[directory] is not None:
                return self._configs[directory]
            if not directory:
                return None
            directory = posixpath.dirname(directory)

    def _existing(self, base: str) -> str | None:
        files = self.table.files
        if base in files:
            return base
        stem, extension = posixpath.splitext(base)
        for replacement in _TS_FOR_JS.get(extension, ()):
            if stem + replacement in files:
                return stem + replacement
        for extension in RESOLVE_EXTENSIONS:
            if base + extension in files:
                return base + extension
        for extension in RESOLVE_EXTENSIONS:
            index = posixpath.join(base, "index" + extension)
            if index in files:
                return index
        return None

    def target_file(self, path: str, spec: str) -> str | None:
        """The project file a specifier written in ``path`` loads, or None (a package)."""
        if not spec:
            return None
        if spec.startswith("."):
            base = posixpath.normpath(posixpath.join(posixpath.dirname(path), spec))
            return None if base.startswith("..") else self._existing(base)
        config = self._config_for(path)
        if config is None:
            return None
        for candidate in config.candidates(spec):
            if not candidate.startswith(".."):
                found = self._existing(candidate)
                if found is not None:
                    return found
        return None

    # -- edges -------------------------------------------------------------------------
    def resolve_file(self, path: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """(calls edges, imports edges) produced by the code of ``path``."""
        symbols = self.table.files[path]
        imports: set[tuple[str, str]] = set()
        for ref in symbols.imports:
            if ref.level in (IMPORT, REEXPORT) and ref.module:
                target = self.target_file(path, ref.module)
                if target is not None and target != path:
                    imports.add((symbols.file_id, self.table.files[target].file_id))
        calls: set[tuple[str, str]] = set()
        for caller, callee in set(symbols.calls):
            target_id = self.resolve_call(path, caller, callee)
            if target_id is not None and target_id != caller:
                calls.add((caller, target_id))
        return sorted(calls), sorted(imports)

    def resolve_call(self, path: str, caller_id: str, callee: str) -> str | None:
        parts = callee.split(".")
        head = parts[0]
        if head in ("this", "super"):
            if len(parts) != 2:
                return None
            cls = self._enclosing_class(caller_id)
            if cls is None:
                return None
            if head == "this":
                return self._class_member(cls, parts[1], 0)
            for base in self._bases(cls):
                found = self._class_member(base, parts[1], 0)
                if found is not None:
                    return found
            return None
        binding = self._scope_lookup(path, caller_id, head)
        for part in parts[1:]:
            if binding is None:
                return None
            binding = self._attribute(binding, part)
        if binding is None:
            return None
        if binding[0] == "module":  # calling what require() returned: module.exports
            binding = self._export(binding[1], DEFAULT, 0)
        return binding[1] if binding is not None and binding[0] == "node" else None

    # -- names -------------------------------------------------------------------------
    def _node(self, node_id: str | None) -> SymbolNode | None:
        return self.table.nodes.get(node_id) if node_id is not None else None

    def _scope_lookup(self, path: str, caller_id: str, name: str) -> Binding | None:
        members = self.table.members
        scope = self._node(caller_id)
        while scope is not None and scope.node_type != "file":
            if scope.node_type != "class":
                if name in scope.params:
                    return None
                found = members.get(scope.id, {}).get(name)
                if found is not None:
                    return ("node", found)
            scope = self._node(scope.parent_id)
        return self._file_name(path, name, 0)

    def _file_name(self, path: str, name: str, depth: int) -> Binding | None:
        """What ``name`` means at the top level of ``path``: a definition, else an import."""
        symbols = self.table.files.get(path)
        if symbols is None:
            return None
        found = self.table.members.get(symbols.file_id, {}).get(name)
        if found is not None:
            return ("node", found)
        ref = self._import_alias(path, name)
        return self._follow(path, ref, depth) if ref is not None else None

    def _import_alias(self, path: str, alias: str) -> ImportRef | None:
        last: ImportRef | None = None
        for ref in self.table.files[path].imports:
            if ref.level == IMPORT and ref.alias == alias:
                last = ref
        return last

    def _follow(self, path: str, ref: ImportRef, depth: int) -> Binding | None:
        """What an import (or re-export) entry binds: a module, or one export of it."""
        if depth > MAX_REEXPORT_DEPTH:
            return None
        target = self.target_file(path, ref.module)
        if target is None:
            return None
        if ref.name is None:
            return ("module", target)
        return self._export(target, ref.name, depth + 1)

    def _export(self, path: str, name: str, depth: int) -> Binding | None:
        """The binding the file ``path`` exports as ``name``."""
        if depth > MAX_REEXPORT_DEPTH:
            return None
        symbols = self.table.files.get(path)
        if symbols is None:
            return None
        stars: list[ImportRef] = []
        for ref in reversed(symbols.imports):
            if ref.alias == name and ref.level == EXPORT and ref.name is not None:
                return self._file_name(path, ref.name, depth + 1)
            if ref.alias == name and ref.level == REEXPORT:
                return self._follow(path, ref, depth)
            if ref.level == REEXPORT and ref.name == "*":
                stars.append(ref)
        found = self.table.members.get(symbols.file_id, {}).get(name)
        if found is not None:
            return ("node", found)
        if name == DEFAULT:
            return None  # `export *` never re-exports the default export
        for ref in stars:
            target = self.target_file(path, ref.module)
            binding = self._export(target, name, depth + 1) if target is not None else None
            if binding is not None:
                return binding
        return None

    def _attribute(self, binding: Binding, name: str) -> Binding | None:
        kind, value = binding
        if kind == "module":
            return self._export(value, name, 0)
        node = self._node(value)
        if node is None or node.node_type != "class":
            return None
        found = self._class_member(node.id, name, 0)
        return ("node", found) if found is not None else None

    # -- classes -----------------------------------------------------------------------
    def _enclosing_class(self, node_id: str) -> str | None:
        node = self._node(node_id)
        while node is not None and node.node_type != "file":
            parent = self._node(node.parent_id)
            if parent is not None and parent.node_type == "class":
                return parent.id
            node = parent
        return None

    def _bases(self, class_id: str) -> list[str]:
        node = self._node(class_id)
        if node is None:
            return []
        found: list[str] = []
        for base in node.bases:
            parts = base.split(".")
            binding = self._file_name(node.file_path, parts[0], 0)
            for part in parts[1:]:
                binding = self._attribute(binding, part) if binding is not None else None
            target = self._node(binding[1]) if binding is not None and binding[0] == "node" else None
            if target is not None and target.node_type == "class":
                found.append(target.id)
        return found

    def _class_member(self, class_id: str, name: str, depth: int) -> str | None:
        if depth > MAX_BASE_DEPTH:
            return None
        found = self.table.members.get(class_id, {}).get(name)
        if found is not None:
            return found
        for base in self._bases(class_id):
            found = self._class_member(base, name, depth + 1)
            if found is not None:
                return found
        return None



def _spec_words(spec: str) -> set[str]:
    """The names a specifier can match a file by: its last segment, without any extension."""
    tail = spec.rstrip("/").rsplit("/", 1)[-1]
    return {tail, tail.split(".", 1)[0]}


def _path_words(path: str) -> set[str]:
    """What a specifier naming ``path`` ends with: its stem, or its folder for an ``index`` file."""
    parts = path.split("/")
    stem = parts[-1].split(".", 1)[0]
    return {stem, parts[-2]} if stem == "index" and len(parts) > 1 else {stem}


class JsSymbols(SymbolTable):
    """The JS/TS/TSX symbol table of a project (the registry's ``Resolver``): the Python table's
    bookkeeping (files, nodes, members) with JavaScript's resolution (``JsResolver``)."""

    def __init__(self, root: Path | None = None) -> None:
        super().__init__()
        self.resolver = JsResolver(self, root)

    def resolve_file(self, path: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        return self.resolver.resolve_file(path)

    def resolve_call(self, path: str, caller_id: str, callee: str) -> str | None:
        return self.resolver.resolve_call(path, caller_id, callee)

    def mentions(self, path: str, names: set[str]) -> bool:
        words = self._words.get(path)
        if words is None:
            found = self._mention_words(path, module_parts=False)  # a specifier is not dotted
            if found is None:
                return False
            words = self._words[path] = frozenset(found)
        return not words.isdisjoint(names) or "*" in words

    def dependents(self, paths: set[str]) -> set[str]:
        """Files with a specifier that may name one of ``paths`` (by its stem or index folder)."""
        wanted = set().union(*(_path_words(path) for path in paths)) if paths else set()
        found: set[str] = set()
        for path, symbols in self.files.items():
            if any(ref.module and not wanted.isdisjoint(_spec_words(ref.module)) for ref in symbols.imports):
                found.add(path)
        return found
