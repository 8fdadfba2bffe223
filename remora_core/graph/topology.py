"""The topology graph: a rustworkx ``PyDiGraph`` hydrated lazily from SQLite.

A node is *expanded* once all of its edges (in and out, every type) are in memory; a
query expands only the nodes it walks through, one SQL batch per BFS level, so a query
on a 100k-node project touches only its neighbourhood. ``invalidate_file`` drops a file's
nodes (and the nodes of the files importing it, whose call edges may have been re-resolved)
and un-expands their neighbours; they are re-read from SQLite on the next query.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import rustworkx as rx

from remora_core.errors import NodeNotFoundError
from remora_core.graph import hydrate
from remora_core.graph.hydrate import GraphNode

EDGE_TYPES: tuple[str, ...] = ("parent_of", "calls", "imports")


@dataclass(slots=True)
class Impact:
    """What depends on ``center``: its transitive callers within ``depth`` hops of ``calls``."""

    center: str
    depth: int
    callers: list[GraphNode] = field(default_factory=list)  # nearest first, then by place
    distance: dict[str, int] = field(default_factory=dict)

    def files(self) -> dict[str, list[str]]:
        """File path -> ids of the callers in it (files sorted by path)."""
        grouped: dict[str, list[str]] = {}
        for node in self.callers:
            grouped.setdefault(node.file_path, []).append(node.id)
        return dict(sorted(grouped.items()))


@dataclass(slots=True)
class Neighbourhood:
    """The nodes within ``depth`` hops of ``center`` and the edges between them."""

    center: str
    depth: int
    nodes: dict[str, GraphNode] = field(default_factory=dict)
    distance: dict[str, int] = field(default_factory=dict)
    edges: list[tuple[str, str, str]] = field(default_factory=list)


class TopologyGraph:
    """Read-only view of the ``nodes``/``edges`` tables for traversal queries. One per thread."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.graph: rx.PyDiGraph = rx.PyDiGraph(multigraph=True)
        self._index: dict[str, int] = {}
        self._expanded: dict[str, set[str]] = {}  # node id -> edge types fully loaded
        self._edges: set[tuple[str, str, str]] = set()
        self._by_file: dict[str, set[str]] = {}

    # -- size / cache --------------------------------------------------------------------
    @property
    def loaded_nodes(self) -> int:
        return self.graph.num_nodes()

    @property
    def loaded_edges(self) -> int:
        return self.graph.num_edges()

    def clear(self) -> None:
        """Forget everything (the next query re-reads from SQLite)."""
        self.graph = rx.PyDiGraph(multigraph=True)
        self._index.clear()
        self._expanded.clear()
        self._edges.clear()
        self._by_file.clear()

    def invalidate_file(self, path: str) -> None:
        """The hub re-indexed ``path``: drop what the cache knows of it and of its importers."""
        if not self._index:
            return  # nothing loaded: nothing can be stale
        doomed = set(self._by_file.get(path, ()))
        file_id = hydrate.file_node_id(self.connection, path)
        if file_id is not None:
            doomed.add(file_id)
            for importer in hydrate.importer_paths(self.connection, file_id):
                doomed |= self._by_file.get(importer, set())
        for node_id in doomed:
            self._drop(node_id)
        # Edges the new code of ``path`` produces may end at nodes that were expanded before
        # they existed: those must re-read their edges too.
        for end in hydrate.edge_ends_from_file(self.connection, path):
            self._expanded.pop(end, None)

    def invalidate_change(self, change: object) -> None:
        """Apply a ``TopologyChangedEvent`` (or anything with ``file_path`` and node id lists)."""
        path = getattr(change, "file_path", None)
        if isinstance(path, str):
            self.invalidate_file(path)
        for name in ("added_nodes", "removed_nodes", "orphaned_nodes", "changed_nodes"):
            self.invalidate_nodes(getattr(change, name, ()))

    def invalidate_nodes(self, node_ids: Iterable[str]) -> None:
        for node_id in node_ids:
            self._drop(node_id)

    def _drop(self, node_id: str) -> None:
        index = self._index.pop(node_id, None)
        if index is None:
            return
        for neighbour in {*self.graph.predecessor_indices(index), *self.graph.successor_indices(index)}:
            self._expanded.pop(self.graph[neighbour].id, None)
        node: GraphNode = self.graph[index]
        for source, target, edge_type in [*self.graph.in_edges(index), *self.graph.out_edges(index)]:
            self._edges.discard((self.graph[source].id, self.graph[target].id, edge_type))
        self.graph.remove_node(index)
        self._expanded.pop(node_id, None)
        members = self._by_file.get(node.file_path)
        if members is not None:
            members.discard(node_id)
            if not members:
                del self._by_file[node.file_path]

    # -- hydration -----------------------------------------------------------------------
    def _add_node(self, node: GraphNode) -> int:
        index = self.graph.add_node(node)
        self._index[node.id] = index
        self._by_file.setdefault(node.file_path, set()).add(node.id)
        return index

    def _load(self, ids: Iterable[str]) -> None:
        missing = [node_id for node_id in ids if node_id not in self._index]
        for node in hydrate.load_nodes(self.connection, missing):
            self._add_node(node)

    def expand(self, ids: Iterable[str], edge_types: Sequence[str] = EDGE_TYPES) -> None:
        """Make sure every ``edge_types`` edge of ``ids`` is in memory (one SQL batch for all)."""
        wanted = set(edge_types)
        todo = [node_id for node_id in dict.fromkeys(ids) if not wanted <= self._expanded.get(node_id, set())]
        if not todo:
            return
        self._load(todo)
        edges = hydrate.load_edges(self.connection, todo, sorted(wanted)) - self._edges
        self._load({end for edge in edges for end in edge[:2]})
        for edge in edges:
            source = self._index.get(edge[0])
            target = self._index.get(edge[1])
            if source is None or target is None:
                continue  # an edge to a row that no longer exists: ignore
            self.graph.add_edge(source, target, edge[2])
            self._edges.add(edge)
        for node_id in todo:
            if node_id in self._index:
                self._expanded.setdefault(node_id, set()).update(wanted)

    def _require(self, node_id: str, edge_types: Sequence[str] = EDGE_TYPES) -> int:
        self.expand([node_id], edge_types)
        index = self._index.get(node_id)
        if index is None:
            raise NodeNotFoundError(f"no node {node_id!r} in the index")
        return index

    # -- single node ---------------------------------------------------------------------
    def node(self, node_id: str) -> GraphNode:
        if node_id not in self._index:
            self._load([node_id])
        index = self._index.get(node_id)
        if index is None:
            raise NodeNotFoundError(f"no node {node_id!r} in the index")
        return self.graph[index]

    def _out(self, node_id: str, edge_type: str) -> list[str]:
        index = self._require(node_id, (edge_type,))
        found = {
            self.graph[target].id for _, target, kind in self.graph.out_edges(index) if kind == edge_type
        }
        return self._ordered(found)

    def _in(self, node_id: str, edge_type: str) -> list[str]:
        index = self._require(node_id, (edge_type,))
        found = {self.graph[source].id for source, _, kind in self.graph.in_edges(index) if kind == edge_type}
        return self._ordered(found)

    def _ordered(self, ids: Iterable[str]) -> list[str]:
        nodes = [self.graph[self._index[node_id]] for node_id in ids]
        nodes.sort(key=lambda node: (node.file_path, node.start_line, node.id))
        return [node.id for node in nodes]

    def parent(self, node_id: str) -> str | None:
        """The node containing ``node_id`` (class of a method, file of a function), or None for a file."""
        parents = self._in(node_id, "parent_of")
        return parents[0] if parents else None

    def children(self, node_id: str) -> list[str]:
        return self._out(node_id, "parent_of")

    def callers(self, node_id: str) -> list[str]:
        return self._in(node_id, "calls")

    def callees(self, node_id: str) -> list[str]:
        return self._out(node_id, "calls")

    def ancestors(self, node_id: str) -> list[str]:
        """Containing nodes, nearest first, up to the file node."""
        chain: list[str] = []
        current = self.parent(node_id)
        while current is not None and current not in chain:
            chain.append(current)
            current = self.parent(current)
        return chain

    def descendants(self, node_id: str) -> list[str]:
        """Every node contained in ``node_id`` (children, their children, ...), in source order."""
        found: list[str] = []
        frontier = [node_id]
        seen = {node_id}
        while frontier:
            self.expand(frontier, ("parent_of",))
            level: list[str] = []
            for current in frontier:
                for child in self.children(current):
                    if child not in seen:
                        seen.add(child)
                        level.append(child)
            found.extend(level)
            frontier = level
        return self._ordered(found)

    # -- files ---------------------------------------------------------------------------
    def _file_id(self, path: str) -> str:
        file_id = hydrate.file_node_id(self.connection, path)
        if file_id is None:
            raise NodeNotFoundError(f"no indexed file {path!r}")
        return file_id

    def imports_of_file(self, path: str) -> list[str]:
        """Paths of the project files that ``path`` imports."""
        return sorted(self.node(target).file_path for target in self._out(self._file_id(path), "imports"))

    def importers_of_file(self, path: str) -> list[str]:
        """Paths of the project files that import ``path``."""
        return sorted(self.node(source).file_path for source in self._in(self._file_id(path), "imports"))

    # -- walks ---------------------------------------------------------------------------
    def _steps(
        self, index: int, edge_types: Sequence[str], direction: str
    ) -> list[tuple[int, tuple[str, str, str]]]:
        steps: list[tuple[int, tuple[str, str, str]]] = []
        if direction in ("out", "both"):
            for source, target, kind in self.graph.out_edges(index):
                if kind in edge_types:
                    steps.append((target, (self.graph[source].id, self.graph[target].id, kind)))
        if direction in ("in", "both"):
            for source, target, kind in self.graph.in_edges(index):
                if kind in edge_types:
                    steps.append((source, (self.graph[source].id, self.graph[target].id, kind)))
        return steps

    def neighbourhood(
        self,
        node_id: str,
        depth: int = 2,
        *,
        edge_types: Sequence[str] = EDGE_TYPES,
        direction: str = "both",
    ) -> Neighbourhood:
        """Nodes within ``depth`` hops over ``edge_types`` (``direction`` out | in | both)."""
        if direction not in ("out", "in", "both"):
            raise ValueError(f"direction must be 'out', 'in' or 'both', not {direction!r}")
        self._require(node_id, edge_types)
        result = Neighbourhood(node_id, depth)
        result.distance[node_id] = 0
        edges: set[tuple[str, str, str]] = set()
        frontier = [node_id]
        for hop in range(1, depth + 1):
            self.expand(frontier, edge_types)
            level: list[str] = []
            for current in frontier:
                for neighbour, edge in self._steps(self._index[current], edge_types, direction):
                    edges.add(edge)
                    neighbour_id = self.graph[neighbour].id
                    if neighbour_id not in result.distance:
                        result.distance[neighbour_id] = hop
                        level.append(neighbour_id)
            frontier = level
            if not frontier:
                break
        result.nodes = {nid: self.graph[self._index[nid]] for nid in result.distance}
        result.edges = sorted(edges)
        return result

    def impact(self, node_id: str, depth: int = 3) -> Impact:
        """Transitive callers of ``node_id`` up to ``depth`` hops (what a change to it may break)."""
        if depth < 1:
            raise ValueError(f"impact depth must be at least 1, not {depth!r}")
        hood = self.neighbourhood(node_id, depth, edge_types=("calls",), direction="in")
        callers = [node for node_id_, node in hood.nodes.items() if node_id_ != node_id]
        callers.sort(key=lambda node: (hood.distance[node.id], node.file_path, node.start_line, node.id))
        return Impact(node_id, depth, callers, {node.id: hood.distance[node.id] for node in callers})

    def shortest_call_path(self, source: str, target: str, *, max_depth: int = 12) -> list[str] | None:
        """The shortest chain of ``calls`` edges from ``source`` to ``target`` (both included), or None."""
        self._require(source, ("calls",))
        self._require(target, ("calls",))
        if source == target:
            return [source]
        previous: dict[str, str | None] = {source: None}
        frontier = [source]
        for _ in range(max_depth):
            self.expand(frontier, ("calls",))
            level: list[str] = []
            for current in frontier:
                for callee in self.callees(current):
                    if callee in previous:
                        continue
                    previous[callee] = current
                    if callee == target:
                        path = [callee]
                        step = previous[callee]
                        while step is not None:
                            path.append(step)
                            step = previous[step]
                        return path[::-1]
                    level.append(callee)
            frontier = level
            if not frontier:
                return None
        return None
