"""``impact_data``: what depends on a node, as plain data for every face (CLI, panel, HTTP,
the node-state hub's impact summary)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from remora_core.graph.live import GraphReader

DEFAULT_IMPACT_DEPTH = 3


def impact_data(graph: GraphReader, node_id: str, depth: int = DEFAULT_IMPACT_DEPTH) -> dict[str, Any]:
    """``{"node", "depth", "callers": [node + "distance"], "files": [{"path", "callers"}]}`` (a
    node is a ``GraphNode`` as a dict: id, node_type, name, qualname, file_path, start_line, ...):
    the transitive callers of ``node_id`` within ``depth`` hops, nearest first, and the files
    they live in (``NodeNotFoundError`` for an unknown node)."""
    impact = graph.impact(node_id, depth)
    return {
        "node": asdict(graph.node(node_id)),
        "depth": depth,
        "callers": [{**asdict(node), "distance": impact.distance[node.id]} for node in impact.callers],
        "files": [{"path": path, "callers": ids} for path, ids in impact.files().items()],
    }
