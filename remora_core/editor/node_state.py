"""The ``node_state`` editor request: what the panel's node-state section shows (signature, tests
and their last result, complexity and its trend, freshness, the markdown file to open)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

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


TOOLS_REQUEST = "node_state_tools"
RUN_REQUEST = "node_state_run"


def update_tool_schemas(root: Path, store: Store, config: HubConfig) -> list[dict[str, Any]]:
    """The hub's update tools as OpenAI "function" schemas (what the tool forms render)."""
    from remora_core.hub.state.store import NodeStateStore
    from remora_core.hub.state.tools import ToolContext, update_toolset

    _, toolset, _ = update_toolset(ToolContext(root, store, NodeStateStore(store.connection), config))
    return toolset.schemas()


def run_update_tool(root: Path, store: Store, config: HubConfig, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Run one update tool from a form: ``{ok, text}`` (a failure is a result, never a raise)."""
    from remora_core.hub.state.store import NodeStateStore
    from remora_core.hub.state.tools import ToolContext, update_toolset

    _, toolset, by_name = update_toolset(ToolContext(root, store, NodeStateStore(store.connection), config))
    checked = toolset.validate(name, arguments)
    if not isinstance(checked, BaseModel):
        return {"ok": False, "text": checked.text}
    try:
        result = by_name[name].call(**{key: getattr(checked, key) for key in type(checked).model_fields})
    except Exception as error:  # noqa: BLE001 - shown in the form, like an agent tool's error
        return {"ok": False, "text": f"error: tool {name!r} failed: {type(error).__name__}: {error}"}
    text = result.model_dump_json(indent=2) if isinstance(result, BaseModel) else str(result)
    return {"ok": True, "text": text}
