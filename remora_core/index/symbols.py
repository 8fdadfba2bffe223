"""Project-wide symbol table and import-aware resolution of ``calls`` and ``imports`` edges.

A call links to a definition only when the name can be followed: a nested or module-level
definition of the caller's module, a name imported into it (following re-exports), an
attribute of an imported module, ``self.m()`` / ``cls.m()`` / ``super().m()`` through the
enclosing class and its in-project bases, or ``Class.m()``. Anything else creates no edge;
a call is never linked to every node that happens to share its name. Calling a class
links to the class node.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_REEXPORT_DEPTH = 5
MAX_BASE_DEPTH = 10


@dataclass(frozen=True, slots=True)
class ImportRef:
    module: str
    level: int
    name: str | None
    alias: str
    line: int


@dataclass(frozen=True, slots=True)
class CallRef:
    caller: str  # node id
    callee: str
    line: int


@dataclass(slots=True)
class FileSymbols:
    path: str
    file_id: str
    imports: list[ImportRef] = field(default_factory=list)
    calls: list[CallRef] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SymbolNode:
    id: str
    node_type: str
    name: str
    file_path: str
    parent_id: str | None
    bases: tuple[str, ...] = ()


def module_names(paths: Iterable[str]) -> dict[str, str]:
    """Module name -> path for every file: dotted from the nearest non-package directory,
    plus the full root-relative dotted path as an alias (namespace packages, src layouts)."""
    path_set = set(paths)
    packages = {path.rsplit("/", 1)[0] if "/" in path else "" for path in path_set if path.endswith("__init__.py")}
    names: dict[str, str] = {}
    for path in sorted(path_set):
        parts = path[:-3].split("/")
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not parts:
            continue
        full = ".".join(parts)
        # Walk up while the directory is a package.
        directory_parts = path.split("/")[:-1]
        cut = len(directory_parts)
        while cut > 0 and "/".join(directory_parts[:cut]) in packages:
            cut -= 1
        short = ".".join(parts[cut:]) if parts[cut:] else full
        names.setdefault(short, path)
        names.setdefault(full, path)
    return names


class SymbolTable:
    """What the resolver knows about the whole project; updated one file at a time."""

    def __init__(self) -> None:
        self.files: dict[str, FileSymbols] = {}
        self.nodes: dict[str, SymbolNode] = {}
        self.members: dict[str, dict[str, str]] = {}  # scope id (file/class/function) -> name -> id
        self.file_nodes: dict[str, list[str]] = {}
        self.module_to_path: dict[str, str] = {}
        self.path_to_module: dict[str, str] = {}
        self._modules_dirty = True
        self._bases: dict[str, list[str]] = {}

    # -- updates -----------------------------------------------------------------------
    def remove_file(self, path: str) -> None:
        if self.files.pop(path, None) is None:
            return
        for node_id in self.file_nodes.pop(path, []):
            self.nodes.pop(node_id, None)
            self.members.pop(node_id, None)
        self._modules_dirty = True
        self._bases.clear()

    def add_file(self, symbols: FileSymbols, nodes: Iterable[SymbolNode]) -> None:
        """Add (or replace) a file. ``nodes`` are in document order, the file node included."""
        if symbols.path in self.files:
            self.remove_file(symbols.path)
        self.files[symbols.path] = symbols
        ids: list[str] = []
        for node in nodes:
            self.nodes[node.id] = node
            ids.append(node.id)
            if node.parent_id is not None:
                # Later definitions of the same name win, as in Python.
                self.members.setdefault(node.parent_id, {})[node.name] = node.id
        self.file_nodes[symbols.path] = ids
        self._modules_dirty = True
        self._bases.clear()

    def _modules(self) -> None:
        if self._modules_dirty:
            self.module_to_path = module_names(self.files)
            self.path_to_module = {}
            for module, path in self.module_to_path.items():
                current = self.path_to_module.get(path)
                if current is None or len(module) < len(current):
                    self.path_to_module[path] = module
            self._modules_dirty = False

    # -- resolution --------------------------------------------------------------------
    def resolve_file(self, path: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """(calls edges, imports edges) produced by the code of ``path``."""
        self._modules()
        symbols = self.files[path]
        imports: set[tuple[str, str]] = set()
        for ref in symbols.imports:
            target = self._import_target_file(path, ref)
            if target is not None and target != path:
                imports.add((symbols.file_id, self.files[target].file_id))
        calls: set[tuple[str, str]] = set()
        for call in symbols.calls:
            target_id = self.resolve_call(path, call.caller, call.callee)
            if target_id is not None and target_id != call.caller:
                calls.add((call.caller, target_id))
        return sorted(calls), sorted(imports)

    def _absolute_module(self, path: str, ref: ImportRef) -> str | None:
        if ref.level == 0:
            return ref.module
        module = self.path_to_module.get(path)
        if module is None:
            return None
        package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
        parts = package.split(".") if package else []
        up = ref.level - 1
        if up > len(parts):
            return None
        base = ".".join(parts[: len(parts) - up]) if up else package
        if ref.module:
            return f"{base}.{ref.module}" if base else ref.module
        return base or None

    def _import_target_file(self, path: str, ref: ImportRef) -> str | None:
        module = self._absolute_module(path, ref)
        if module is None:
            return None
        if ref.name is not None and ref.name != "*":
            submodule = self.module_to_path.get(f"{module}.{ref.name}")
            if submodule is not None:
                return submodule
        if ref.name is None:
            # ``import a.b.c``: the deepest module of the chain that is in the project.
            parts = module.split(".")
            for cut in range(len(parts), 0, -1):
                found = self.module_to_path.get(".".join(parts[:cut]))
                if found is not None:
                    return found
            return None
        return self.module_to_path.get(module)

    def _module_member(self, module_path: str, name: str, depth: int = 0) -> tuple[str, str] | None:
        """("node", id) or ("module", path) for ``name`` looked up in a module."""
        self._modules()
        module = self.path_to_module.get(module_path)
        if module is not None:
            sub = self.module_to_path.get(f"{module}.{name}")
            if sub is not None and sub != module_path:
                found_node = self.members.get(self.files[module_path].file_id, {}).get(name)
                if found_node is None:
                    return ("module", sub)
        file_id = self.files[module_path].file_id
        node_id = self.members.get(file_id, {}).get(name)
        if node_id is not None:
            return ("node", node_id)
        if depth >= MAX_REEXPORT_DEPTH:
            return None
        for ref in self.files[module_path].imports:
            if ref.alias == name:
                return self._bound_import(module_path, ref, depth + 1)
        return None

    def _bound_import(self, path: str, ref: ImportRef, depth: int = 0) -> tuple[str, str] | None:
        """What an import statement binds its alias to: a module or a node."""
        module = self._absolute_module(path, ref)
        if module is None:
            return None
        if ref.name is None:
            bound = module if ref.alias != module.split(".")[0] else module.split(".")[0]
            target = self.module_to_path.get(bound)
            return ("module", target) if target is not None else None
        sub = self.module_to_path.get(f"{module}.{ref.name}")
        if sub is not None:
            return ("module", sub)
        target = self.module_to_path.get(module)
        if target is None:
            return None
        return self._module_member(target, ref.name, depth)

    def _lookup_name(self, path: str, scope_id: str, name: str) -> tuple[str, str] | None:
        """Python scoping: enclosing functions, then the module, then its imports."""
        scope: str | None = scope_id
        file_id = self.files[path].file_id
        while scope is not None and scope != file_id:
            node = self.nodes.get(scope)
            if node is None:
                break
            if node.node_type in ("function", "method"):
                found = self.members.get(scope, {}).get(name)
                if found is not None:
                    return ("node", found)
            scope = node.parent_id
        found = self.members.get(file_id, {}).get(name)
        if found is not None:
            return ("node", found)
        for ref in reversed(self.files[path].imports):
            if ref.alias == name:
                return self._bound_import(path, ref)
        return None

    def _enclosing_class(self, node_id: str) -> str | None:
        node = self.nodes.get(node_id)
        while node is not None:
            parent = self.nodes.get(node.parent_id) if node.parent_id else None
            if parent is not None and parent.node_type == "class":
                return parent.id
            node = parent
        return None

    def _class_bases(self, class_id: str) -> list[str]:
        cached = self._bases.get(class_id)
        if cached is not None:
            return cached
        self._bases[class_id] = []  # guards against a class that (indirectly) inherits itself
        node = self.nodes[class_id]
        bases: list[str] = []
        for base in node.bases:
            target = self._resolve_dotted(node.file_path, node.parent_id or self.files[node.file_path].file_id, base)
            if target is not None and self.nodes[target].node_type == "class":
                bases.append(target)
        self._bases[class_id] = bases
        return bases

    def _method(self, class_id: str, name: str, skip_self: bool = False) -> str | None:
        seen: set[str] = set()
        queue = [class_id]
        depth = 0
        while queue and depth < MAX_BASE_DEPTH:
            next_queue: list[str] = []
            for current in queue:
                if current in seen:
                    continue
                seen.add(current)
                if not (skip_self and current == class_id):
                    found = self.members.get(current, {}).get(name)
                    if found is not None:
                        return found
                next_queue.extend(self._class_bases(current))
            queue = next_queue
            depth += 1
        return None

    def _resolve_dotted(self, path: str, scope_id: str, dotted: str) -> str | None:
        parts = dotted.split(".")
        bound = self._lookup_name(path, scope_id, parts[0])
        for part in parts[1:]:
            if bound is None:
                return None
            kind, value = bound
            if kind == "module":
                bound = self._module_member(value, part)
            elif self.nodes[value].node_type == "class":
                method = self._method(value, part)
                bound = ("node", method) if method is not None else None
            else:
                return None
        if bound is None or bound[0] != "node":
            return None
        return bound[1]

    def resolve_call(self, path: str, caller_id: str, callee: str) -> str | None:
        """The id of the definition ``callee`` (as written at the call site) refers to."""
        head, _, rest = callee.partition(".")
        if head in ("self", "cls") and rest and "." not in rest:
            class_id = self._enclosing_class(caller_id)
            if class_id is not None:
                return self._method(class_id, rest)
            return None
        if head == "super()" and rest and "." not in rest:
            class_id = self._enclosing_class(caller_id)
            if class_id is not None:
                return self._method(class_id, rest, skip_self=True)
            return None
        if head in ("self", "cls", "super()"):
            return None
        return self._resolve_dotted(path, caller_id, callee)
