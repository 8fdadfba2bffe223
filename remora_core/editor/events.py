"""Events as the editor shows them: one short line each, plus the node ids they concern."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from remora_core.events.models import (
    AgentCompleteEvent,
    AgentErrorEvent,
    AgentMessageEvent,
    BaseEvent,
    HumanChatEvent,
    ModelResponseEvent,
    RewriteProposalEvent,
    RewriteRejectedEvent,
    ToolCallEvent,
    ToolResultEvent,
    TopologyChangedEvent,
)
from remora_core.events.store import EventLog

TEXT_WIDTH = 60


def _short(text: str, width: int = TEXT_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def event_text(event: BaseEvent) -> str:
    """A one-line human description of ``event`` (without its time and type)."""
    if isinstance(event, TopologyChangedEvent):
        parts = [
            f"{label} {len(ids)}"
            for label, ids in (
                ("added", event.added_nodes),
                ("changed", event.changed_nodes),
                ("orphaned", event.orphaned_nodes),
                ("removed", event.removed_nodes),
            )
            if ids
        ]
        return f"{event.file_path}: " + (", ".join(parts) if parts else "re-indexed")
    if isinstance(event, AgentMessageEvent):
        return f"{event.from_agent} -> {event.to_agent}: {_short(event.message, 40)}"
    if isinstance(event, HumanChatEvent):
        return _short(event.message)
    if isinstance(event, ToolCallEvent):
        return event.tool_name
    if isinstance(event, ToolResultEvent):
        return f"{event.tool_name}{' (error)' if event.is_error else ''}: {_short(event.result, 40)}"
    if isinstance(event, ModelResponseEvent):
        calls = [c.get("name", "?") for c in (*event.tool_calls, *event.recovered)]
        how = " (from text)" if event.recovered else " (code-block fallback)" if event.fallback else ""
        said = _short(event.text, 40) if event.text.strip() else ""
        return f"round {event.round}: " + (", ".join(calls) + how if calls or how else said or "(empty reply)")
    if isinstance(event, AgentCompleteEvent):
        return _short(event.result)
    if isinstance(event, AgentErrorEvent):
        return _short(event.error)
    if isinstance(event, RewriteProposalEvent):
        return f"proposal {event.proposal_id}"
    if isinstance(event, RewriteRejectedEvent):
        return f"proposal {event.proposal_id}: {_short(event.feedback, 40)}"
    proposal = getattr(event, "proposal_id", None)
    return f"proposal {proposal}" if proposal else ""


def event_nodes(event: BaseEvent) -> list[str]:
    """Every node id ``event`` is about (its agent, its sender, the nodes a topology change names)."""
    found: list[str] = []
    for node_id in (event.agent_ref(), event.source_agent()):
        if node_id and node_id not in found:
            found.append(node_id)
    if isinstance(event, TopologyChangedEvent):
        for ids in (event.added_nodes, event.changed_nodes, event.orphaned_nodes, event.removed_nodes):
            found.extend(node_id for node_id in ids if node_id not in found)
    return found


def event_summary(event: BaseEvent) -> dict[str, Any]:
    """Plain data for the Lua side (msgpack): never the full payload (diffs can be large)."""
    return {
        "seq": event.seq or 0,
        "time": event.timestamp,
        "type": event.event_type,
        "kind": event.kind,
        "text": event_text(event),
        "nodes": event_nodes(event),
        "correlation_id": event.correlation_id,
    }


def agent_push(root: Path, event: BaseEvent) -> dict[str, Any] | None:
    """The "agent" push of an event of an agent (None for others): what Lua's agent views need
    to know that a node's conversation or proposals changed."""
    node = event.agent_ref()
    if not node or isinstance(event, TopologyChangedEvent):
        return None
    return {
        "root": str(root),
        "type": event.event_type,
        "node": node,
        "correlation_id": event.correlation_id,
        "seq": event.seq or 0,
    }


def node_events(connection: sqlite3.Connection, node_id: str, file_path: str | None, limit: int) -> list[BaseEvent]:
    """The latest ``limit`` events about ``node_id``, oldest first: its own, and topology changes naming it."""
    log = EventLog(connection)
    events: dict[int, BaseEvent] = {event.seq or 0: event for event in log.by_agent(node_id, limit=limit)}
    if file_path is not None:
        for event in log.by_file(file_path, "TopologyChanged", limit=limit):
            if node_id in event_nodes(event):
                events[event.seq or 0] = event
    return [events[seq] for seq in sorted(events)][-limit:]
