"""What the side panel shows about one node: identity, span, relations, recent events."""

from __future__ import annotations

from typing import Any

from remora_core.editor.events import event_summary, node_events
from remora_core.errors import NodeNotFoundError
from remora_core.graph.impact import impact_data
from remora_core.graph.live import GraphReader
from remora_core.graph.topology import TopologyGraph
from remora_core.store.store import NodeRow, Store


def node_ref(row: NodeRow) -> dict[str, Any]:
    """A jumpable reference: id, type, name, file and anchor line."""
    return {
        "id": row.id,
        "type": row.node_type,
        "name": row.name,
        "qualname": row.qualname,
        "file": row.file_path,
        "line": row.def_line,
        "status": row.status,
    }


def _refs(store: Store, ids: list[str]) -> list[dict[str, Any]]:
    rows = store.nodes(ids)
    refs = [node_ref(rows[node_id]) for node_id in ids if node_id in rows]
    refs.sort(key=lambda ref: (ref["file"], ref["line"]))
    return refs


def node_info(
    store: Store, node_id: str, *, event_limit: int = 20, graph: GraphReader | None = None
) -> dict[str, Any]:
    """The panel data of ``node_id``; raises NodeNotFoundError when the index does not know it.
    Callers, callees and ``impact`` (transitive callers by file) come from ``graph`` (the
    process's live graph; a fresh view of the store without one)."""
    row = store.node(node_id)
    if row is None:
        raise NodeNotFoundError(f"node {node_id!r} is not in the index (save the file and let the hub index it)")
    parent = store.node(row.parent_id) if row.parent_id else None
    view = graph if graph is not None else TopologyGraph(store.connection)
    impact = impact_data(view, node_id)
    info = node_ref(row)
    info.update(
        {
            "start": row.start_line,
            "end": row.end_line,
            "parent": node_ref(parent) if parent is not None else None,
            "callers": _refs(store, view.callers(node_id)),
            "callees": _refs(store, view.callees(node_id)),
            "impact": {"depth": impact["depth"], "callers": len(impact["callers"]), "files": impact["files"]},
            "events": [
                event_summary(event)
                for event in node_events(store.connection, node_id, row.file_path, event_limit)
            ],
        }
    )
    return info
