"""What a face shows of one node's hub state (``remora state``, the Neovim panel request)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from remora_core.config import HubConfig
from remora_core.errors import NodeNotFoundError
from remora_core.hub.state.freshness import freshness
from remora_core.hub.state.model import state_key
from remora_core.hub.state.store import NodeStateStore
from remora_core.parsing.anchors import source_hash
from remora_core.project import node_source
from remora_core.store.store import Store


def state_view(root: Path, store: Store, node_id: str, config: HubConfig) -> dict[str, Any]:
    row = store.node(node_id)
    if row is None:
        raise NodeNotFoundError(f"no node {node_id!r} in the index")
    state = NodeStateStore(store.connection).get(node_id)
    try:
        current = source_hash(node_source(root, row).encode("utf-8"))
    except NodeNotFoundError:
        current = ""
    status = freshness(state, current, config.freshness_seconds)
    markdown = str(root / state.markdown_path) if state is not None and state.markdown_path else None
    return {
        "id": row.id,
        "type": row.node_type,
        "qualname": row.qualname,
        "file": row.file_path,
        "line": row.def_line,
        "hub_state_key": state_key(node_id),
        "freshness": status,
        "last_updated": state.last_updated if state else None,
        "source_version": state.source_version if state else None,
        "current_version": current,
        "signature": state.signature if state else None,
        "complexity": state.complexity if state else None,
        "complexity_trend": [point.value for point in state.complexity_history] if state else [],
        "tests": [test.model_dump() for test in state.tests] if state else [],
        "markdown": markdown if markdown and Path(markdown).exists() else None,
        "state": state.model_dump(mode="json") if state else None,
    }
