"""``EventProjector``: a reducer from event envelopes to UI state, with a stable ``to_dict()``.

Any face can reuse it (the dashboard does; an external frontend can port it): feed it
``/v1/snapshot`` once, then every event of ``/v1/events`` in order. It only reads envelope
fields (``seq``, ``event_type``, ``kind`` and the event's own fields), never the database.
"""

from __future__ import annotations

from collections import deque
from typing import Any

RECENT = 50

_ENDS = {"AgentComplete": "idle", "AgentError": "error"}


def _event_node(event: dict[str, Any]) -> str | None:
    for key in ("agent_id", "to_agent"):
        value = event.get(key)
        if isinstance(value, str):
            return value
    return None


class EventProjector:
    """Nodes seen in events, running turns, pending proposals and the newest events."""

    def __init__(self, recent: int = RECENT) -> None:
        self.last_seq = 0
        self.nodes: dict[str, dict[str, Any]] = {}
        self.running: dict[str, dict[str, Any]] = {}
        self.proposals: dict[str, dict[str, Any]] = {}
        self.recent: deque[dict[str, Any]] = deque(maxlen=recent)

    def seed(self, *, last_seq: int, proposals: list[dict[str, Any]], running: list[dict[str, Any]]) -> None:
        """Start from the store's current state (pending proposals, running turns) at ``last_seq``."""
        self.last_seq = last_seq
        for proposal in proposals:
            self.proposals[proposal["id"]] = proposal
        for turn in running:
            self.running[turn["agent_id"]] = turn

    def record(self, event: dict[str, Any]) -> None:
        """Apply one event envelope; events at or below ``last_seq`` are ignored (idempotent replay)."""
        seq = event.get("seq")
        if not isinstance(seq, int) or seq <= self.last_seq:
            return
        self.last_seq = seq
        self.recent.append(event)
        kind = event.get("event_type")
        node = _event_node(event)
        if node is not None:
            state = self.nodes.setdefault(node, {"state": "idle"})
            state["last_event"] = kind
            state["last_seq"] = seq
        if kind == "AgentStart" and node is not None:
            self.running[node] = {
                "agent_id": node,
                "correlation_id": event.get("correlation_id"),
                "started_seq": seq,
            }
            self.nodes[node]["state"] = "running"
        elif kind in _ENDS and node is not None:
            self.running.pop(node, None)
            self.nodes[node]["state"] = _ENDS[kind]
        elif kind == "RewriteProposal":
            self.proposals[event["proposal_id"]] = {
                "id": event["proposal_id"],
                "node_id": node,
                "file_path": event.get("file_path"),
                "diff": event.get("diff", ""),
                "correlation_id": event.get("correlation_id"),
                "seq": seq,
            }
        elif kind in ("RewriteApplied", "RewriteRejected"):
            self.proposals.pop(event.get("proposal_id", ""), None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (stable keys: last_seq, nodes, running, proposals, recent)."""
        return {
            "last_seq": self.last_seq,
            "nodes": {key: dict(value) for key, value in sorted(self.nodes.items())},
            "running": {key: dict(value) for key, value in sorted(self.running.items())},
            "proposals": {key: dict(value) for key, value in self.proposals.items()},
            "recent": list(self.recent),
        }
