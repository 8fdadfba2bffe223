"""The ``node_state`` editor request: what the panel's node-state section shows (signature, tests
and their last result, complexity and its trend, freshness, the markdown file to open)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from remora_core.config import HubConfig
from remora_core.hub.state.view import state_view
from remora_core.store.store import Store

REQUEST = "node_state"


def node_state_payload(root: Path, store: Store, node_id: str, config: HubConfig) -> dict[str, Any]:
    """``{id, qualname, freshness, hub_state_key, last_updated, source_version, signature,
    complexity, complexity_trend, tests: [{test_id, how, last_result, last_run, duration}],
    summary, callers, callees, markdown (absolute path or None)}``."""
    view = state_view(root, store, node_id, config)
    state = view.pop("state")
    view["summary"] = state["summary"] if state else None
    view["callers"] = len(state["callers"]) if state else 0
    view["callees"] = len(state["callees"]) if state else 0
    view["tests"] = [
        {key: test[key] for key in ("test_id", "how", "last_result", "last_run", "duration")} for test in view["tests"]
    ]
    return view
