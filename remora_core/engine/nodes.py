"""Nodes as every face shows them: one serialiser of a stored node, one way to turn what a
user typed (an id, a name, a qualified name) into a node, and one query of a node's graph
neighbourhood (parent, children, callers, callees) that the CLI, the panel and the engine share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from remora_core.errors import NodeNotFoundError
from remora_core.store.store import NodeRow, Store

if TYPE_CHECKING:
    from remora_core.graph.live import GraphReader


def node_ref(row: NodeRow) -> dict[str, Any]:
    """A stored node as plain data (JSON / msgpack): identity, place (``line`` is the anchor
    line, the same as ``def_line``), span, parent and status."""
    return {
        "id": row.id,
        "type": row.node_type,
        "name": row.name,
        "qualname": row.qualname,
        "file": row.file_path,
        "line": row.def_line,
        "start_line": row.start_line,
        "def_line": row.def_line,
        "end_line": row.end_line,
        "parent_id": row.parent_id,
        "status": row.status,
    }


def resolve_node(store: Store, text: str) -> NodeRow:
    """The node ``text`` names: an id, or a name / qualified name that names exactly one node."""
    row = store.node(text)
    if row is not None:
        return row
    matches = store.find_nodes(text)
    if len(matches) == 1:
        return matches[0]
    if matches:
        listed = ", ".join(f"{m.id} ({m.file_path}:{m.def_line})" for m in matches[:5])
        raise NodeNotFoundError(f"{text!r} names {len(matches)} nodes: {listed}")
    raise NodeNotFoundError(f"no node {text!r} in the index")


@dataclass(slots=True)
class Neighbours:
    """A node's neighbourhood in the topology graph; each list sorted by (file, line)."""

    parent: NodeRow | None
    children: list[NodeRow]
    callers: list[NodeRow]
    callees: list[NodeRow]


def _sorted(store: Store, ids: list[str]) -> list[NodeRow]:
    rows = store.nodes(ids)
    found = [rows[node_id] for node_id in ids if node_id in rows]
    return sorted(found, key=lambda row: (row.file_path, row.def_line))


def neighbours(store: Store, row: NodeRow, graph: GraphReader | None = None) -> Neighbours:
    """Callers and callees from ``graph`` (the process's live topology graph) when given, else
    straight from the store's edges."""
    callers = graph.callers(row.id) if graph is not None else store.edge_sources(row.id, "calls")
    callees = graph.callees(row.id) if graph is not None else store.edge_targets(row.id, "calls")
    return Neighbours(
        store.node(row.parent_id) if row.parent_id else None,
        _sorted(store, store.edge_targets(row.id, "parent_of")),
        _sorted(store, callers),
        _sorted(store, callees),
    )
