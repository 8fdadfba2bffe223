"""What the side panel shows about one node: identity, span, relations, recent events."""

from __future__ import annotations

from typing import Any

from remora_core.editor.events import event_summary, node_events
from remora_core.engine.nodes import neighbours, node_ref
from remora_core.errors import NodeNotFoundError
from remora_core.graph.impact import impact_data
from remora_core.graph.live import GraphReader
from remora_core.graph.topology import TopologyGraph
from remora_core.store.store import Store


def node_info(
    store: Store, node_id: str, *, event_limit: int = 20, graph: GraphReader | None = None
) -> dict[str, Any]:
    """The panel data of ``node_id``; raises NodeNotFoundError when the index does not know it.
    Callers, callees and ``impact`` (transitive callers by file) come from ``graph`` (the
    process's live graph; a fresh view of the store without one)."""
    row = store.node(node_id)
    if row is None:
        raise NodeNotFoundError(f"node {node_id!r} is not in the index (save the file and let the hub index it)")
    view = graph if graph is not None else TopologyGraph(store.connection)
    near = neighbours(store, row, view)
    impact = impact_data(view, node_id)
    info = node_ref(row)
    info.update(
        {
            "start": row.start_line,
            "end": row.end_line,
            "parent": node_ref(near.parent) if near.parent is not None else None,
            "callers": [node_ref(caller) for caller in near.callers],
            "callees": [node_ref(callee) for callee in near.callees],
            "impact": {"depth": impact["depth"], "callers": len(impact["callers"]), "files": impact["files"]},
            "events": [
                event_summary(event)
                for event in node_events(store.connection, node_id, row.file_path, event_limit)
            ],
        }
    )
    return info
