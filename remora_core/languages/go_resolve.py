"""Go resolution: ``calls`` and ``imports`` edges from what ``languages.go`` stored per file.

A package is the set of files of one directory with the same ``package`` name. Calls:

1. ``F()``: a func or type of the caller's package (any of its files), else of a dot-imported package;
2. ``T.M()`` / ``pkg.T.M()`` (written ``x.M()`` with ``x`` a receiver, parameter or local of type ``T``, ``*T``,
   ``T{}``, ``&T{}``, ``new(T)``, or ``T.M`` itself; ``pkg.T`` likewise): the method ``M`` of type ``T``,
   declared in any file of the package, else of a type ``T`` embeds (promoted methods);
3. ``pkg.F()``: ``F`` of the package an import of the file binds to ``pkg`` (its explicit name, or
   the imported package's own ``package`` name).

Imports: ``go.mod``'s ``module`` path maps an import path to a directory of the project (the
longest module path wins in a multi-module tree; without a ``go.mod``, the longest directory the
import path ends with); the edge goes from the importing file to every file of that package
(``_test.go`` files excluded). The standard library and other modules make no edge.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from remora_core.index.symbols import FileSymbols, SymbolNode

PACKAGE_REF = -1  # languages.go: the ImportRef naming the file's own package
MAX_EMBED_DEPTH = 10
_MODULE_RE = re.compile(rb"^\s*module\s+\"?([^\s\"]+)\"?", re.MULTILINE)

PackageKey = tuple[str, str]  # (directory, package name)


def _directory(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


class GoSymbols:
    """The Go files of one project and what their names resolve to."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root
        self.files: dict[str, FileSymbols] = {}
        self.nodes: dict[str, SymbolNode] = {}
        self.file_nodes: dict[str, list[str]] = {}
        self._dirty = True
        self._package_of: dict[str, PackageKey] = {}
        self._scope: dict[PackageKey, dict[str, str]] = {}
        self._methods: dict[PackageKey, dict[str, dict[str, str]]] = {}
        self._package_files: dict[PackageKey, list[str]] = {}
        self._dir_package: dict[str, PackageKey] = {}  # importable package of a directory
        self._modules: list[tuple[str, str]] | None = None  # (module path, directory), longest first

    # -- updates -------------------------------------------------------------------------
    def add_file(self, symbols: FileSymbols, nodes: Iterable[SymbolNode]) -> None:
        if symbols.path in self.files:
            self.remove_file(symbols.path)
        self.files[symbols.path] = symbols
        ids: list[str] = []
        for node in nodes:
            self.nodes[node.id] = node
            ids.append(node.id)
        self.file_nodes[symbols.path] = ids
        self._dirty = True

    def remove_file(self, path: str) -> None:
        if self.files.pop(path, None) is None:
            return
        for node_id in self.file_nodes.pop(path, []):
            node = self.nodes.get(node_id)
            if node is not None and node.file_path == path:
                del self.nodes[node_id]
        self._dirty = True

    # -- derived tables ------------------------------------------------------------------
    def _refresh(self) -> None:
        if not self._dirty:
            return
        self._package_of.clear()
        self._scope = defaultdict(dict)
        self._methods = defaultdict(lambda: defaultdict(dict))
        self._package_files = defaultdict(list)
        names: dict[str, Counter[str]] = defaultdict(Counter)
        for path in sorted(self.files):
            package = next((ref.name for ref in self.files[path].imports if ref.level == PACKAGE_REF), None) or ""
            key = (_directory(path), package)
            self._package_of[path] = key
            self._package_files[key].append(path)
            if not path.endswith("_test.go") and package != "main":
                names[key[0]][package] += 1
            for node_id in self.file_nodes.get(path, ()):
                node = self.nodes.get(node_id)
                if node is None or node.node_type == "file":
                    continue
                if node.node_type == "method":
                    if node.bases:
                        self._methods[key][node.bases[0]].setdefault(node.name, node.id)
                else:
                    self._scope[key].setdefault(node.name, node.id)
        self._dir_package = {directory: (directory, count.most_common(1)[0][0]) for directory, count in names.items()}
        self._modules = None  # directories came or went: look for go.mod files again
        self._dirty = False

    def _go_modules(self) -> list[tuple[str, str]]:
        """(module path, directory) of every ``go.mod`` above a known Go file, longest path first."""
        if self._modules is not None:
            return self._modules
        found: dict[str, str] = {}
        if self.root is not None:
            directories = {_directory(path) for path in self.files}
            seen: set[str] = set()
            for directory in directories:
                parts = directory.split("/") if directory else []
                for cut in range(len(parts), -1, -1):
                    candidate = "/".join(parts[:cut])
                    if candidate in seen:
                        break
                    seen.add(candidate)
                    try:
                        text = (self.root / candidate / "go.mod").read_bytes()
                    except OSError:
                        continue
                    match = _MODULE_RE.search(text)
                    if match:
                        found[match.group(1).decode("utf-8", errors="replace")] = candidate
        self._modules = sorted(found.items(), key=lambda item: -len(item[0]))
        return self._modules

    def import_directory(self, import_path: str) -> str | None:
        """The project directory an import path names, if it is in the project."""
        self._refresh()
        for module, directory in self._go_modules():
            if import_path == module or import_path.startswith(module + "/"):
                rest = import_path[len(module) + 1 :]
                target = "/".join(part for part in (directory, rest) if part)
                return target if target in self._dir_package else None
        if self._go_modules():
            return None
        candidates = [d for d in self._dir_package if d and (import_path == d or import_path.endswith("/" + d))]
        return max(candidates, key=len) if candidates else None

    def _bound_packages(self, path: str) -> tuple[dict[str, PackageKey], list[PackageKey]]:
        """(name -> imported package, dot-imported packages) of one file."""
        bound: dict[str, PackageKey] = {}
        dotted: list[PackageKey] = []
        for ref in self.files[path].imports:
            if ref.level != 0:
                continue
            directory = self.import_directory(ref.module)
            if directory is None:
                continue
            key = self._dir_package[directory]
            if ref.name == ".":
                dotted.append(key)
            elif ref.name is not None:
                bound[ref.name] = key
            else:
                bound[key[1]] = key
                bound.setdefault(ref.alias, key)
        return bound, dotted

    # -- resolution ----------------------------------------------------------------------
    def resolve_file(self, path: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        self._refresh()
        symbols = self.files[path]
        imports: set[tuple[str, str]] = set()
        for ref in symbols.imports:
            directory = self.import_directory(ref.module) if ref.level == 0 else None
            if directory is None:
                continue
            for target in self._package_files[self._dir_package[directory]]:
                if target != path and not target.endswith("_test.go"):
                    imports.add((symbols.file_id, self.files[target].file_id))
        calls: set[tuple[str, str]] = set()
        bound, dotted = self._bound_packages(path)
        own = self._package_of[path]
        for caller, callee in set(symbols.calls):
            found = self._resolve_call(own, bound, dotted, callee)
            if found is not None and found != caller:
                calls.add((caller, found))
        return sorted(calls), sorted(imports)

    def _resolve_call(
        self, own: PackageKey, bound: dict[str, PackageKey], dotted: list[PackageKey], callee: str
    ) -> str | None:
        head, _, rest = callee.partition(".")
        if not rest:
            for key in (own, *dotted):
                found = self._scope[key].get(head)
                if found is not None:
                    return found
            return None
        if "." in rest:  # pkg.T.M: a method of an imported package's type
            package = bound.get(head)
            type_name, _, method = rest.partition(".")
            return None if package is None or "." in method else self._method(package, type_name, method)
        local = self._scope[own].get(head)
        if local is not None:
            node = self.nodes.get(local)
            return self._method(own, head, rest) if node is not None and node.node_type == "class" else None
        package = bound.get(head)
        if package is not None:
            return self._scope[package].get(rest)
        return None

    def _method(self, key: PackageKey, type_name: str, name: str, depth: int = 0) -> str | None:
        found = self._methods[key].get(type_name, {}).get(name)
        if found is not None or depth >= MAX_EMBED_DEPTH:
            return found
        type_id = self._scope[key].get(type_name)
        node = self.nodes.get(type_id) if type_id is not None else None
        for embedded in node.bases if node is not None else ():
            found = self._method(key, embedded, name, depth + 1)
            if found is not None:
                return found
        return None

    def parents(self, paths: set[str]) -> dict[str, str]:
        """Method id -> its receiver type's id, for methods of ``paths`` whose type is declared in
        another file of the package (a method parsed with its type in the same file has it already)."""
        self._refresh()
        found: dict[str, str] = {}
        for path in paths:
            symbols = self.files.get(path)
            if symbols is None:
                continue
            key = self._package_of[path]
            for node_id in self.file_nodes.get(path, ()):
                node = self.nodes.get(node_id)
                if node is None or node.node_type != "method" or not node.bases or node.parent_id != symbols.file_id:
                    continue
                type_id = self._scope[key].get(node.bases[0])
                type_node = self.nodes.get(type_id) if type_id is not None else None
                if type_node is not None and type_node.node_type == "class" and type_node.file_path != path:
                    found[node_id] = type_node.id
        return found

    # -- change propagation --------------------------------------------------------------
    def mentions(self, path: str, names: set[str]) -> bool:
        symbols = self.files.get(path)
        if symbols is None:
            return False
        words: set[str] = set()
        for _, callee in symbols.calls:
            words.update(callee.split("."))
        for ref in symbols.imports:
            words.add(ref.alias)
        return not words.isdisjoint(names)

    def through_bases(self, names: set[str]) -> set[str]:
        """``names`` plus every type embedding one of them, transitively (promoted methods)."""
        found = set(names)
        frontier = set(names)
        types = [node for node in self.nodes.values() if node.node_type == "class" and node.bases]
        while frontier:
            added = {node.name for node in types if node.name not in found and not frontier.isdisjoint(node.bases)}
            found |= added
            frontier = added
        return found

    def dependents(self, paths: set[str]) -> set[str]:
        """The other files of the same directories, and the files importing those directories."""
        self._refresh()
        directories = {_directory(path) for path in paths}
        found = {path for path in self.files if _directory(path) in directories}
        for path, symbols in self.files.items():
            for ref in symbols.imports:
                if ref.level == 0 and ref.module.rsplit("/", 1)[-1] in {d.rsplit("/", 1)[-1] for d in directories}:
                    found.add(path)
                    break
        return found



