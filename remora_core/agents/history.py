"""A node's conversation so far, from the event store, for its next turn (``[agents]
history_turns`` / ``history_tokens``).

An *exchange* is one correlation that started with a human message to the node (a chat or a
rejection's feedback): the human's message, then one assistant message with the agent's reply,
the proposals it made and what became of them (applied, rejected with the feedback, pending).
The newest exchanges are kept within both budgets (tokens estimated at 4 characters each); a
chat sent with ``new_conversation`` starts afresh: nothing before it is sent.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from remora_core.events.models import BaseEvent
from remora_core.events.store import EventLog

CHARS_PER_TOKEN = 4
DIFF_CHARS = 800  # of a proposal's diff, in the history
_TYPES = (
    "HumanChat",
    "AgentComplete",
    "AgentError",
    "RewriteProposal",
    "RewriteApplied",
    "RewriteRejected",
)


@dataclass(slots=True)
class _Exchange:
    correlation_id: str
    human: str = ""
    new_conversation: bool = False
    reply: str | None = None
    error: str | None = None
    proposals: dict[str, str] = field(default_factory=dict)  # id -> diff
    outcomes: dict[str, str] = field(default_factory=dict)  # id -> "applied" | "rejected: ..."

    def messages(self) -> list[dict[str, Any]]:
        parts: list[str] = []
        if self.reply:
            parts.append(self.reply.strip())
        elif self.error:
            parts.append(f"(my turn failed: {self.error})")
        for proposal_id, diff in self.proposals.items():
            clipped = diff if len(diff) <= DIFF_CHARS else diff[:DIFF_CHARS] + "\n..."
            outcome = self.outcomes.get(proposal_id, "pending")
            parts.append(f"[I proposed {proposal_id} ({outcome}):\n{clipped.rstrip()}]")
        return [
            {"role": "user", "content": self.human},
            {"role": "assistant", "content": "\n".join(parts) or "(no reply)"},
        ]


def _size(messages: list[dict[str, Any]]) -> int:
    return sum(len(str(message["content"])) for message in messages) // CHARS_PER_TOKEN + 4 * len(messages)


def _exchanges(events: list[BaseEvent]) -> tuple[dict[str, _Exchange], dict[str, str]]:
    """The human's exchanges with the node, by correlation, oldest first, and what became of
    every proposal (applied / rejected with the feedback)."""
    exchanges: dict[str, _Exchange] = {}
    outcomes: dict[str, str] = {}
    for event in events:
        data = event.model_dump()
        event_type, correlation_id = event.event_type, event.correlation_id
        if event_type in ("RewriteApplied", "RewriteRejected"):
            feedback = str(data.get("feedback") or "").strip()
            outcomes[str(data["proposal_id"])] = (
                "applied" if event_type == "RewriteApplied" else f"rejected: {feedback}" if feedback else "rejected"
            )
            continue
        if correlation_id is None:
            continue
        if event_type == "HumanChat":
            exchange = exchanges.setdefault(correlation_id, _Exchange(correlation_id))
            exchange.human = str(data.get("message", ""))
            exchange.new_conversation = bool(data.get("new_conversation"))
            continue
        exchange_or_none = exchanges.get(correlation_id)
        if exchange_or_none is None:
            continue  # a turn started by another agent, not the human
        if event_type == "AgentComplete":
            exchange_or_none.reply = str(data.get("result", ""))
        elif event_type == "AgentError":
            exchange_or_none.error = str(data.get("error", ""))
        elif event_type == "RewriteProposal":
            exchange_or_none.proposals[str(data["proposal_id"])] = str(data.get("diff", ""))
    return exchanges, outcomes


def conversation(
    connection: sqlite3.Connection,
    node_id: str,
    current_correlation: str | None,
    *,
    turns: int,
    max_tokens: int,
    scan_limit: int = 2000,
) -> list[dict[str, Any]]:
    """The chat messages of ``node_id``'s earlier exchanges (oldest first), within the budgets.
    Empty when the current correlation's chat asked for a new conversation."""
    if turns <= 0 or max_tokens <= 0:
        return []
    exchanges, outcomes = _exchanges(EventLog(connection).by_agent_types(node_id, _TYPES, limit=scan_limit))
    ordered = list(exchanges.values())
    if current_correlation is not None:
        current = exchanges.get(current_correlation)
        if current is not None and current.new_conversation:
            return []
        ordered = [exchange for exchange in ordered if exchange.correlation_id != current_correlation]
    kept: list[list[dict[str, Any]]] = []
    budget = max_tokens
    for exchange in reversed(ordered):
        if len(kept) >= turns:
            break
        exchange.outcomes = outcomes
        messages = exchange.messages()
        size = _size(messages)
        if size > budget:
            break
        budget -= size
        kept.append(messages)
        if exchange.new_conversation:
            break
    return [message for messages in reversed(kept) for message in messages]
