"""The hub context provider: plugged into the agents' ``ContextProvider`` seam, it adds the
node's hub state to the prompt only when fresh, and a one-line warning otherwise. Every use is a
``HubContextUsed`` event. Agents run normally without any hub state."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from remora_core.agents.tools import tool
from remora_core.config import HubConfig
from remora_core.events.models import HubContextUsedEvent
from remora_core.events.store import EventLog
from remora_core.hub.state.freshness import Freshness, freshness
from remora_core.hub.state.model import NodeState, state_key
from remora_core.hub.state.store import NodeStateStore
from remora_core.store.store import Store


class HubContextBlob(BaseModel):
    hub_state_key: str
    freshness_status: Freshness
    last_updated: float | None = None
    source_version: str | None = None
    text: str = ""


def _section(state: NodeState) -> str:
    lines = ["# Hub Context (fresh node state)"]
    if state.signature:
        lines.append(f"- Signature: `{state.signature}`")
    lines.append(f"- Summary: {state.summary}")
    if state.complexity is not None:
        lines.append(f"- Complexity: {state.complexity}")
    if state.call_sites:
        sites = ", ".join(f"{site.file_path}:{site.line} ({site.caller})" for site in state.call_sites[:10])
        lines.append(f"- Call sites: {sites}")
    if state.tests:
        tests = ", ".join(f"{test.test_id} [{test.last_result}]" for test in state.tests[:8])
        lines.append(f"- Tests: {tests}")
    else:
        lines.append("- Tests: none found")
    if state.exports:
        lines.append(f"- Exports: {', '.join(state.exports[:30])}")
    if state.similar:
        lines.append(f"- Similar nodes: {', '.join(f'{s.qualname} ({s.id})' for s in state.similar[:5])}")
    return "\n".join(lines)


def hub_context(store: Store, node_id: str, current_version: str, config: HubConfig) -> HubContextBlob:
    """The blob of one node: its freshness, metadata, and the prompt text to use."""
    try:
        state = NodeStateStore(store.connection).get(node_id)
    except Exception:  # noqa: BLE001 - no hub tables, a damaged row: the agent runs without
        state = None
    status = freshness(state, current_version, config.freshness_seconds)
    if status == "fresh" and state is not None:
        text = _section(state)
    elif status == "stale":
        text = "Hub context is stale for this node (not used): rely on your tools for signatures, callers and tests."
    else:
        text = "No hub context for this node yet: rely on your tools for signatures, callers and tests."
    return HubContextBlob(
        hub_state_key=state_key(node_id),
        freshness_status=status,
        last_updated=state.last_updated if state else None,
        source_version=state.source_version if state else None,
        text=text,
    )


class HubContextProvider:
    """A ``ContextProvider`` (callable on the hydrated ``ASTAgentNode``) for one store."""

    def __init__(self, store: Store, config: HubConfig, *, record: bool = True) -> None:
        self.store = store
        self.config = config
        self.record = record
        self.log = EventLog(store.connection)
        self.trace_error: str | None = None

    def __call__(self, node: Any) -> str | None:
        node_id = str(node.remora_id)
        blob = hub_context(self.store, node_id, str(node.source_hash), self.config)
        if self.record and blob.freshness_status != "missing":  # a use of hub state (fresh or stale)
            try:
                self.log.append(
                    HubContextUsedEvent(
                        agent_id=node_id,
                        hub_state_key=blob.hub_state_key,
                        freshness=blob.freshness_status,
                        last_updated=blob.last_updated,
                        source_version=blob.source_version,
                    )
                )
            except Exception as error:  # noqa: BLE001 - the trace is best effort; the prompt is not
                self.trace_error = f"{type(error).__name__}: {error}"
        return blob.text


def emit_hub_hint(store: Store, agent_id: str, node_id: str, note: str = "", updates: list[str] | None = None) -> int:
    """Append a non-blocking ``HubUpdateHint`` (the hub refreshes the node when it reads it)."""
    from remora_core.events.models import HubUpdateHintEvent

    appended = EventLog(store.connection).append(
        HubUpdateHintEvent(agent_id=agent_id, node_id=node_id, note=note, updates=list(updates or []))
    )
    return appended.seq


class HubHintTools:
    """An agent tool (``@tool`` schema) an extension can add: tell the hub a node's state is worth
    a refresh. Non-blocking: it appends one event and returns at once."""

    def __init__(self, context: Any) -> None:
        self.context = context  # an AgentContext: node_id, store

    @tool
    def hub_update_hint(self, note: str, node_id: str = "") -> str:
        """Tell the background hub that a node's facts changed (callers, tests, signature ...).

        Args:
            note: What you found, in one line.
            node_id: The node to refresh (default: yourself).
        """
        target = node_id or self.context.node_id
        seq = emit_hub_hint(self.context.store, self.context.node_id, target, note)
        return f"hub hint recorded (event {seq}); the hub refreshes {target!r} in the background"
