"""Project-wide symbol table and import-aware resolution of ``calls`` and ``imports`` edges.

A call links to a definition only when the name written at the call site can be followed
the way Python would bind it; anything else creates no edge, and a call is never linked to
every node that happens to share its name.

Names (``f()``, the head of ``a.b.f()``), innermost scope first:

1. a definition nested in the calling function or in one of its enclosing functions
   (class bodies are not enclosing scopes: a bare ``m()`` inside a method never means the
   method ``m``);
2. a module-level definition of the caller's module;
3. a name bound by an import of the module (the last such import wins), followed through
   re-exports (``from .x import f`` in a package ``__init__.py``) up to MAX_REEXPORT_DEPTH;
4. a submodule of the caller's package ``__init__.py`` (``pkg.sub`` once imported);
5. a public (not ``_``-prefixed) name exported by a ``from m import *`` of the module.

Attributes (``.f`` of a resolved head): of a module, the same rules 2-5 in that module; of
a namespace package (a directory without ``__init__.py``), its submodule; of a class, its
method (or nested class), searched in the class then its in-project bases (breadth first).

``self.m()`` / ``cls.m()`` resolve through the enclosing class and its bases,
``super().m()`` through the bases only. Calling a class links to the class node. Bare
``self()`` / ``cls()``, builtins, the stdlib, parameters, locals and attributes of
unknown objects create no edge; neither does a call of a function by itself.

Imports edges link a file to the project file an import statement loads: ``import a.b.c``
the deepest in-project module of the chain; ``from m import n`` the file of ``m``, or the
submodule ``m.n`` when ``m`` itself does not bind ``n``; ``from m import *`` the file of m.
"""

from __future__ import annotations

from array import array
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from sys import intern
from typing import Literal, NamedTuple

from remora_core.index.word_index import WordIndex

MAX_REEXPORT_DEPTH = 5
MAX_BASE_DEPTH = 10

BindingKind = Literal["node", "module", "namespace"]
# ("node", node id) | ("module", file path) | ("namespace", dotted package without a file)
Binding = tuple[BindingKind, str]

FUNCTION_TYPES = ("function", "method")
# A file of at most this many nodes finds a node's row by a scan of its ids (no index kept).
SMALL_FILE_NODES = 16
STAR = "*"


class ImportRef(NamedTuple):  # tuples: hundreds of thousands are built per cold index
    module: str
    level: int
    name: str | None
    alias: str
    line: int


CallRef = tuple[str, str]  # (caller node id, callee as written): plain tuples, built by the 100k


# Definition names the symbol table shares among files (a bounded cache: interning every name
# costs the interning table what it saves).
SHARED_NAMES = 4096


def shared_name(names: dict[str, str], name: str) -> str:
    """``name``, kept in ``names`` while it has room (the frequent names come early)."""
    if len(names) < SHARED_NAMES:
        names[name] = name
    return name


def import_ref(module: str, level: int, name: str | None, alias: str, line: int) -> ImportRef:
    """An import as the symbol table keeps it: its module and name interned (a few hundred
    modules are imported ten thousand times), its alias the same string as the name or module
    it repeats (it mostly does: JSON decodes each as a string of its own)."""
    module = intern(module)
    name = None if name is None else intern(name)
    if alias == name and name is not None:
        alias = name
    elif alias == module:
        alias = module
    return ImportRef(module, level, name, alias, line)


class CallPairs(Collection[CallRef]):
    """A file's calls as the symbol table keeps them: each (caller, callee) once, in first-seen
    order, packed (a tuple per call, then one string per distinct callee, were the table's
    biggest part). The file's distinct callers are kept once, its distinct callees as one
    newline-joined string, and each pair as two indexes into those in an ``array``; read back
    (``iter``) only when the file is resolved. Iterates as ``CallRef``s."""

    __slots__ = ("_callees", "_callers", "_pairs")

    def __init__(self, calls: Iterable[CallRef] = ()) -> None:
        unique = dict.fromkeys(calls)
        caller_column, callee_column = tuple(zip(*unique, strict=True)) or ((), ())
        callers = {caller: index for index, caller in enumerate(dict.fromkeys(caller_column))}
        callees = {callee: index for index, callee in enumerate(dict.fromkeys(callee_column))}
        self._callers: tuple[str, ...] = tuple(callers)
        text = "\n".join(callees)
        # A callee holding a newline (never seen: a callee is a dotted name) is kept as a tuple.
        self._callees: str | tuple[str, ...] = text if text.count("\n") == len(callees) - 1 else tuple(callees)
        code = "H" if len(callees) < 65536 and len(callers) < 65536 else "I"
        pairs = self._pairs = array(code, bytes(2 * len(unique) * array(code).itemsize))
        pairs[0::2] = array(code, map(callers.__getitem__, caller_column))
        pairs[1::2] = array(code, map(callees.__getitem__, callee_column))

    def __iter__(self) -> Iterator[CallRef]:
        callees = self._callees.split("\n") if isinstance(self._callees, str) else self._callees
        pairs = self._pairs
        return zip(map(self._callers.__getitem__, pairs[0::2]), map(callees.__getitem__, pairs[1::2]), strict=True)

    def __len__(self) -> int:
        return len(self._pairs) // 2

    def __contains__(self, item: object) -> bool:
        return any(pair == item for pair in self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CallPairs):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"CallPairs({list(self)!r})"


@dataclass(slots=True)
class FileSymbols:
    path: str
    file_id: str
    imports: list[ImportRef] = field(default_factory=list)
    calls: Collection[CallRef] = field(default_factory=list)  # a CallPairs once in a SymbolTable


@dataclass(slots=True)
class _FileMemo:
    """Lookups made while one file is resolved (``resolve_file``), kept until it is done: what
    each module-level name of the file binds, and ``bound.attribute`` of what names bind."""

    path: str
    file_id: str
    heads: dict[str, Binding | None] = field(default_factory=dict)
    scopes: dict[str, list[tuple[dict[str, str] | None, Collection[str]]]] = field(default_factory=dict)
    classes: dict[str, str | None] = field(default_factory=dict)  # caller -> its enclosing class
    methods: dict[tuple[str, str, bool], str | None] = field(default_factory=dict)  # ``_method``'s answers
    attributes: dict[tuple[Binding, str], Binding | None] = field(default_factory=dict)


@dataclass(slots=True)
class _ImportBindings:
    aliases: dict[str, ImportRef] = field(default_factory=dict)
    stars: list[ImportRef] = field(default_factory=list)


class SymbolNode(NamedTuple):
    id: str
    node_type: str
    name: str
    file_path: str
    parent_id: str | None
    bases: tuple[str, ...] = ()
    # parameter names (a call through one has no known target): a tuple, or a frozenset read back
    params: Collection[str] = ()


def module_names(paths: Iterable[str]) -> dict[str, str]:
    """Module name -> path for every file: dotted from the nearest non-package directory,
    plus the full root-relative dotted path as an alias (namespace packages, src layouts)."""
    path_set = set(paths)
    packages = {
        path.rsplit("/", 1)[0] if "/" in path else "" for path in path_set if path.endswith("__init__.py")
    }
    # The full dotted path of a file wins over another file's short name: it is unique, and
    # relative imports are resolved to it (``full_module``).
    names: dict[str, str] = {}
    for path in sorted(path_set):
        full = full_module(path)
        if full:
            names[full] = path
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


def full_module(path: str) -> str:
    """The root-relative dotted name of a file (``a/b/__init__.py`` -> ``a.b``)."""
    parts = path[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _namespaces(modules: Iterable[str]) -> set[str]:
    """Dotted prefixes of module names that are not modules themselves (namespace packages)."""
    module_set = set(modules)
    found: set[str] = set()
    for module in module_set:
        parts = module.split(".")
        for cut in range(1, len(parts)):
            prefix = ".".join(parts[:cut])
            if prefix not in module_set:
                found.add(prefix)
    return found


_TYPES: list[str] = ["file", "class", "function", "method"]  # a node type's code: its index here
_TYPE_CODES: dict[str, int] = {node_type: code for code, node_type in enumerate(_TYPES)}


_FUNCTION_CODES = frozenset(_TYPE_CODES[node_type] for node_type in FUNCTION_TYPES)
_CLASS_CODE = _TYPE_CODES["class"]


def _type_code(node_type: str) -> int:
    code = _TYPE_CODES.get(node_type)
    if code is None:  # a type of another language's table
        code = _TYPE_CODES[node_type] = len(_TYPES)
        _TYPES.append(node_type)
    return code


class _FileNodes:
    """One file's nodes as the table keeps them: columns (a tuple or bytes per field, in
    document order, the file node first) instead of a ``SymbolNode`` per node (96 bytes each,
    the table's biggest part). A node's row is found from its id by ``index``."""

    __slots__ = ("_index", "bases", "ids", "names", "params", "parents", "path", "paths", "types")

    def __init__(self, path: str, nodes: Iterable[SymbolNode]) -> None:
        columns = tuple(zip(*nodes, strict=True))  # SymbolNode's fields, each as a column
        ids, types, names, paths, parents, bases, params = columns or ((),) * len(SymbolNode._fields)
        self.path = path
        self.ids: tuple[str, ...] = ids
        try:
            self.types = bytes(map(_TYPE_CODES.__getitem__, types))
        except KeyError:  # a type of another language's table
            self.types = bytes(map(_type_code, types))
        self.names: tuple[str, ...] = names
        self.parents: tuple[str | None, ...] = parents
        self.bases: tuple[tuple[str, ...], ...] = bases
        self.params: tuple[Collection[str], ...] = params
        # Each node's own file when one is not ``path`` (rows read back from a stale database).
        self.paths: tuple[str, ...] | None = None if paths.count(path) == len(paths) else paths
        # id -> row, built on the first lookup in a file of more than a few nodes (and at once
        # when an id repeats: its last row is the node, as a dict of nodes would keep).
        self._index: dict[str, int] | None = None
        if len(set(self.ids)) != len(self.ids):
            self._index = {node_id: row for row, node_id in enumerate(self.ids)}

    def index(self, node_id: str) -> int:
        found = self._index
        if found is None:
            if len(self.ids) <= SMALL_FILE_NODES:
                return self.ids.index(node_id)
            found = self._index = {node_id: row for row, node_id in enumerate(self.ids)}
        return found[node_id]

    def rows(self) -> Iterable[tuple[str, int]]:
        """(id, row) of each node in document order (an id twice: its last row both times)."""
        found = self._index
        if found is None:
            return zip(self.ids, range(len(self.ids)))
        return ((node_id, found[node_id]) for node_id in self.ids)

    def file_path(self, row: int) -> str:
        return self.path if self.paths is None else self.paths[row]

    def node(self, row: int) -> SymbolNode:
        return SymbolNode(
            self.ids[row],
            _TYPES[self.types[row]],
            self.names[row],
            self.file_path(row),
            self.parents[row],
            self.bases[row],
            self.params[row],
        )


class _NodesView(Mapping[str, SymbolNode]):
    """``SymbolTable.nodes``: node id -> ``SymbolNode``, made from the columns when asked."""

    __slots__ = ("_owner",)

    def __init__(self, owner: dict[str, _FileNodes]) -> None:
        self._owner = owner

    def __getitem__(self, node_id: str) -> SymbolNode:
        record = self._owner[node_id]
        return record.node(record.index(node_id))

    def get(self, node_id: str, default: SymbolNode | None = None) -> SymbolNode | None:  # type: ignore[override]
        record = self._owner.get(node_id)
        return default if record is None else record.node(record.index(node_id))

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._owner

    def __iter__(self) -> Iterator[str]:
        return iter(self._owner)

    def __len__(self) -> int:
        return len(self._owner)


class SymbolTable:
    """What the resolver knows about the whole project; updated one file at a time."""

    def __init__(self) -> None:
        self.files: dict[str, FileSymbols] = {}
        # node id -> the nodes of the file it belongs to (the file added last that holds it)
        self._owner: dict[str, _FileNodes] = {}
        self.nodes: Mapping[str, SymbolNode] = _NodesView(self._owner)
        self.members: dict[str, dict[str, str]] = {}  # scope id (file/class/function) -> name -> id
        self._file_nodes: dict[str, _FileNodes] = {}  # path -> its nodes
        self.module_to_path: dict[str, str] = {}
        self.path_to_module: dict[str, str] = {}
        self.namespaces: set[str] = set()
        self._modules_dirty = True
        self._bases: dict[str, list[str]] = {}
        self._bindings: dict[str, _ImportBindings] = {}
        self._words: dict[str, frozenset[str]] = {}  # path -> every name its calls and imports spell
        # Inverted indexes, built on their first lookup (a save's questions, not a cold index's):
        # the names each file's calls, imports and bases spell; the segments of what its import
        # statements name; the segments of each class's bases.
        self._mentioning = WordIndex(self._mention_words)
        self._importing = WordIndex(self._import_words)
        self._inheriting = WordIndex(self._base_words)

    # -- updates -----------------------------------------------------------------------
    def remove_file(self, path: str) -> None:
        """Forget a file and the nodes it still owns. A node that moved to a file added
        earlier (same id, other ``file_path``) belongs to that file now and is kept."""
        if self._forget(path):
            self._modules_dirty = True  # module names depend on the set of paths only

    def _forget(self, path: str) -> bool:
        if self.files.pop(path, None) is None:
            return False
        self._bindings.pop(path, None)
        self._words.pop(path, None)
        self._mentioning.changed(path)
        self._importing.changed(path)
        record = self._file_nodes.pop(path, None)
        owner = self._owner
        for node_id, row in record.rows() if record is not None else ():
            current = owner.get(node_id)
            if current is not None and current.file_path(row if current is record else current.index(node_id)) == path:
                del owner[node_id]
                self.members.pop(node_id, None)
                self._inheriting.changed(node_id)
        self._bases.clear()
        return True

    def add_file(self, symbols: FileSymbols, nodes: Iterable[SymbolNode]) -> None:
        """Add (or replace) a file. ``nodes`` are in document order, the file node included."""
        if not self._forget(symbols.path):
            self._modules_dirty = True  # a new path; a replaced file keeps the module names
        if not isinstance(symbols.calls, CallPairs):  # every reader takes the calls as a set
            symbols.calls = CallPairs(symbols.calls)
        self.files[symbols.path] = symbols
        self._bindings.pop(symbols.path, None)
        self._words.pop(symbols.path, None)
        self._mentioning.changed(symbols.path)
        self._importing.changed(symbols.path)
        record = self._file_nodes[symbols.path] = _FileNodes(symbols.path, nodes)
        owner, members = self._owner, self.members
        owner.update(dict.fromkeys(record.ids, record))
        if not members.keys().isdisjoint(record.ids):
            for node_id in record.ids:
                members.pop(node_id, None)  # a moved node: its old children are not its members
        if self._inheriting.built:
            for node_id in record.ids:
                self._inheriting.changed(node_id)
        names, parents = record.names, record.parents
        for node_id, row in record.rows():
            parent_id = parents[row]
            if parent_id is not None:
                # Later definitions of the same name win, as in Python.
                members.setdefault(parent_id, {})[names[row]] = node_id
        self._bases.clear()

    def _modules(self) -> None:
        if self._modules_dirty:
            self.module_to_path = module_names(self.files)
            self.path_to_module = {}
            for module, path in self.module_to_path.items():
                current = self.path_to_module.get(path)
                if current is None or len(module) < len(current):
                    self.path_to_module[path] = module
            self.namespaces = _namespaces(self.module_to_path)
            self._modules_dirty = False

    def build_indexes(self) -> None:
        """Build the module map and the inverted indexes now (the hub, once loaded) rather than
        on the first save."""
        self._modules()
        self._mentioning.build(self.files)
        self._importing.build(self.files)
        self._inheriting.build(self._based_ids())

    def _based_ids(self) -> Iterator[str]:
        """The ids of the nodes that have bases (what ``_inheriting`` files: the others have no
        words), read from the columns without an index of each file's ids."""
        owner = self._owner
        for record in self._file_nodes.values():
            bases = record.bases
            for node_id, row in record.rows():
                if bases[row] and owner.get(node_id) is record:
                    yield node_id

    def mentions(self, path: str, names: set[str]) -> bool:
        """Whether a call, import or class base of ``path`` spells one of ``names`` as a dotted
        segment (a file that names none of them cannot resolve differently when only they change)."""
        words = self._words.get(path)
        if words is None:
            found = self._mention_words(path)
            if found is None:
                return False
            words = self._words[path] = frozenset(found)
        return not words.isdisjoint(names)

    def mentioning(self, names: Iterable[str]) -> set[str]:
        """Every file that ``mentions`` one of ``names``."""
        return self._mentioning.lookup(names, lambda: self.files)

    def import_dependents(self, tails: Iterable[str]) -> set[str]:
        """Files with an import statement whose imported name, or a dotted segment of whose
        module, is one of ``tails``."""
        return self._importing.lookup(tails, lambda: self.files)

    def _import_words(self, path: str) -> set[str] | None:
        symbols = self.files.get(path)
        if symbols is None:
            return None
        words: set[str] = set()
        for ref in symbols.imports:
            words.update(ref.module.split("."))
            if ref.name is not None:
                words.add(ref.name)
        return words

    def _base_words(self, node_id: str) -> set[str] | None:
        record = self._owner.get(node_id)
        if record is None:
            return None
        return {word for base in record.bases[record.index(node_id)] for word in base.split(".")}

    def _mention_words(self, path: str, module_parts: bool = True) -> set[str] | None:
        """Every name the calls, imports and class bases of ``path`` spell (with ``module_parts``,
        the dotted segments of imported modules too); None for an unknown file."""
        symbols = self.files.get(path)
        if symbols is None:
            return None
        found: set[str] = set()
        for _, callee in symbols.calls:
            found.update(callee.split("."))
        for ref in symbols.imports:
            if module_parts:
                found.update(ref.module.split("."))
            found.add(ref.alias)
            if ref.name is not None:
                found.add(ref.name)
        record = self._file_nodes.get(path)
        for node_id, row in record.rows() if record is not None else ():
            current = self._owner.get(node_id)
            if current is not record:  # moved to another file since
                row = current.index(node_id) if current is not None else -1
            for base in current.bases[row] if current is not None else ():
                found.update(base.split("."))
        return found

    def through_bases(self, names: set[str]) -> set[str]:
        """``names`` plus every class whose bases spell one of them, transitively: a class
        inherits what its bases hold, so its own name now means something else too."""
        found = set(names)
        frontier = set(names)
        while frontier:
            added = {
                name
                for node_id in self._inheriting.lookup(frontier, lambda: self._owner)
                if (name := self._name(node_id)) not in found
            }
            found |= added
            frontier = added
        return found

    # -- resolution: entry points ------------------------------------------------------
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
        # What this file's module-level names and the attributes of what they bind resolve to,
        # asked once per file (most call sites of a file spell the same few heads).
        memo = _FileMemo(path, symbols.file_id)
        for caller, callee in symbols.calls:  # each (caller, callee) once: see add_file
            target_id = self._resolve_callee(memo, caller, callee)
            if target_id is not None and target_id != caller:
                calls.add((caller, target_id))
        return sorted(calls), sorted(imports)

    def resolve_call(self, path: str, caller_id: str, callee: str) -> str | None:
        """The id of the definition ``callee`` (as written at the call site) refers to."""
        self._modules()
        return self._resolve_callee(_FileMemo(path, self.files[path].file_id), caller_id, callee)

    def _resolve_callee(self, memo: _FileMemo, caller_id: str, callee: str) -> str | None:
        head, _, rest = callee.partition(".")
        if head in ("self", "cls", "super()"):
            return self._resolve_self_call(memo, caller_id, head, rest)
        return self._resolve_dotted(memo, caller_id, callee)

    # -- modules and imports -----------------------------------------------------------
    def _module_binding(self, module: str) -> Binding | None:
        """A dotted module name as a binding: its file, or a namespace package."""
        path = self.module_to_path.get(module)
        if path is not None:
            return ("module", path)
        if module in self.namespaces:
            return ("namespace", module)
        return None

    def _absolute_module(self, path: str, ref: ImportRef) -> str | None:
        """The dotted module an import names, relative imports made absolute."""
        if ref.level == 0:
            return ref.module
        # Relative to the file's directory, as Python resolves it (``__package__``): the full
        # dotted path, never a shorter module name another file may share.
        module = full_module(path)
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
        """The project file an import statement loads (see the module docstring)."""
        module = self._absolute_module(path, ref)
        if module is None:
            return None
        if ref.name is None:
            parts = module.split(".")
            for cut in range(len(parts), 0, -1):
                found = self.module_to_path.get(".".join(parts[:cut]))
                if found is not None:
                    return found
            return None
        target = self.module_to_path.get(module)
        if ref.name == STAR:
            return target
        submodule = self.module_to_path.get(f"{module}.{ref.name}")
        own_package = target == path  # ``from . import x`` inside the package's own __init__.py
        if submodule is not None and (target is None or own_package or not self._binds(target, ref.name)):
            return submodule
        return target

    def _import_bindings(self, path: str) -> _ImportBindings:
        """The file's imports by alias (the last import of a name wins) and its star imports."""
        found = self._bindings.get(path)
        if found is None:
            found = _ImportBindings()
            for ref in self.files[path].imports:
                if ref.name == STAR:
                    found.stars.insert(0, ref)  # the last star import is searched first
                else:
                    found.aliases[ref.alias] = ref
            self._bindings[path] = found
        return found

    def _binds(self, module_path: str, name: str) -> bool:
        """Whether a module defines ``name`` or binds it by an explicit import."""
        if name in self.members.get(self.files[module_path].file_id, {}):
            return True
        return name in self._import_bindings(module_path).aliases

    def _bound_import(self, path: str, ref: ImportRef, depth: int) -> Binding | None:
        """What an import statement of ``path`` binds its alias to: a module or a node."""
        module = self._absolute_module(path, ref)
        if module is None:
            return None
        if ref.name is None:
            # ``import a.b.c`` binds ``a``; ``import a.b as c`` binds ``a.b``.
            first = module.split(".")[0]
            return self._module_binding(first if ref.alias == first else module)
        source = self._module_binding(module)
        if source is None:
            return None
        if source == ("module", path):
            # ``from . import x`` inside the package's own ``__init__.py``.
            return self._module_binding(f"{module}.{ref.name}")
        return self._attribute(source, ref.name, depth)

    def _module_member(self, module_path: str, name: str, depth: int) -> Binding | None:
        """``name`` looked up in a module: definition, import, submodule, star import."""
        symbols = self.files[module_path]
        node_id = self.members.get(symbols.file_id, {}).get(name)
        if node_id is not None:
            return ("node", node_id)
        if depth >= MAX_REEXPORT_DEPTH:
            return None
        ref = self._import_bindings(module_path).aliases.get(name)
        if ref is not None:
            return self._bound_import(module_path, ref, depth + 1)
        if module_path.endswith("__init__.py"):
            module = self.path_to_module.get(module_path)
            submodule = self._module_binding(f"{module}.{name}") if module is not None else None
            if submodule is not None:
                return submodule
        return self._star_member(module_path, name, depth)

    def _star_member(self, module_path: str, name: str, depth: int) -> Binding | None:
        """A public name exported to ``module_path`` by one of its ``from m import *``."""
        if name.startswith("_"):
            return None
        for ref in self._import_bindings(module_path).stars:
            module = self._absolute_module(module_path, ref)
            source = self.module_to_path.get(module) if module is not None else None
            if source is None or source == module_path:
                continue
            found = self._module_member(source, name, depth + 1)
            if found is not None:
                return found
        return None

    # -- names and attributes ----------------------------------------------------------
    def _lookup_name(self, memo: _FileMemo, scope_id: str, name: str) -> Binding | None:
        """Python scoping: enclosing functions (not classes), then the module's globals."""
        scopes = memo.scopes.get(scope_id)
        if scopes is None:
            scopes = memo.scopes[scope_id] = self._function_scopes(memo.file_id, scope_id)
        for scope_members, params in scopes:
            found = scope_members.get(name) if scope_members is not None else None
            if found is not None:
                return ("node", found)
            if name in params:
                return None  # a parameter shadows every outer name
        heads = memo.heads
        if name not in heads:
            heads[name] = self._module_member(memo.path, name, 0)
        return heads[name]

    def _function_scopes(self, file_id: str, scope_id: str) -> list[tuple[dict[str, str] | None, Collection[str]]]:
        """(members, parameters) of ``scope_id`` and its enclosing functions, innermost first:
        the scopes a bare name is looked up in before the module (class bodies are not)."""
        scopes: list[tuple[dict[str, str] | None, Collection[str]]] = []
        scope: str | None = scope_id
        owner, members = self._owner, self.members
        while scope is not None and scope != file_id:
            record = owner.get(scope)
            if record is None:
                break
            row = record.index(scope)
            if record.types[row] in _FUNCTION_CODES:
                scopes.append((members.get(scope), record.params[row]))
            scope = record.parents[row]
        return scopes

    def _name(self, node_id: str) -> str:
        record = self._owner[node_id]
        return record.names[record.index(node_id)]

    def _is_class(self, node_id: str) -> bool:
        record = self._owner.get(node_id)
        return record is not None and record.types[record.index(node_id)] == _CLASS_CODE

    def _attribute(self, bound: Binding, name: str, depth: int = 0) -> Binding | None:
        """``bound.name``: module member, namespace submodule or class method."""
        kind, value = bound
        if kind == "module":
            return self._module_member(value, name, depth)
        if kind == "namespace":
            return self._module_binding(f"{value}.{name}")
        if not self._is_class(value):
            return None
        method = self._method(value, name)
        return ("node", method) if method is not None else None

    def _resolve_dotted(self, memo: _FileMemo, scope_id: str, dotted: str) -> str | None:
        """The node ``a.b.c`` names from ``scope_id`` in ``memo``'s file, or None (modules are
        not call targets)."""
        parts = dotted.split(".")
        bound = self._lookup_name(memo, scope_id, parts[0])
        attributes = memo.attributes
        for part in parts[1:]:
            if bound is None:
                return None
            key = (bound, part)
            if key not in attributes:
                attributes[key] = self._attribute(bound, part)
            bound = attributes[key]
        if bound is None or bound[0] != "node" or bound[1] not in self._owner:
            return None
        return bound[1]

    # -- classes -----------------------------------------------------------------------
    def _resolve_self_call(self, memo: _FileMemo, caller_id: str, head: str, method: str) -> str | None:
        """``self.m()`` / ``cls.m()`` (class, then bases) and ``super().m()`` (bases only)."""
        if not method or "." in method:
            return None
        classes = memo.classes
        if caller_id not in classes:
            classes[caller_id] = self._enclosing_class(caller_id)
        class_id = classes[caller_id]
        if class_id is None:
            return None
        key = (class_id, method, head == "super()")
        if key not in memo.methods:
            memo.methods[key] = self._method(*key)
        return memo.methods[key]

    def _enclosing_class(self, node_id: str) -> str | None:
        owner = self._owner
        record = owner.get(node_id)
        while record is not None:
            parent_id = record.parents[record.index(node_id)]
            if not parent_id:
                return None
            record = owner.get(parent_id)
            if record is not None and record.types[record.index(parent_id)] == _CLASS_CODE:
                return parent_id
            node_id = parent_id
        return None

    def _class_bases(self, class_id: str) -> list[str]:
        """In-project base classes, resolved where the class is defined (cached)."""
        cached = self._bases.get(class_id)
        if cached is not None:
            return cached
        self._bases[class_id] = []  # guards against a class that (indirectly) inherits itself
        node = self.nodes.get(class_id)
        if node is None or node.file_path not in self.files:
            return []
        file_id = self.files[node.file_path].file_id
        scope = node.parent_id or file_id
        memo = _FileMemo(node.file_path, file_id)
        bases: list[str] = []
        for base in node.bases:
            target = self._resolve_dotted(memo, scope, base)
            if target is not None and self._is_class(target):
                bases.append(target)
        self._bases[class_id] = bases
        return bases

    def _method(self, class_id: str, name: str, skip_self: bool = False) -> str | None:
        """``name`` in the class, then breadth first in its bases (an approximate MRO)."""
        if not skip_self:  # most often the class's own (``self.m()``): no walk
            own = self.members.get(class_id)
            found = own.get(name) if own is not None else None
            if found is not None:
                return found
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
