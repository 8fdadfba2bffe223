"""The runner's side of the event log: append events, tell in-process listeners, translate the
turn loop's ``emit`` steps into stored events, and store proposals with their event."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from remora_core.agents.proposal_model import Proposal
from remora_core.agents.proposals import ProposalStore
from remora_core.agents.tools import parse_arguments
from remora_core.events.models import (
    AgentStartEvent,
    BaseEvent,
    ModelResponseEvent,
    RewriteProposalEvent,
    ToolCallEvent,
    ToolResultEvent,
    new_event_id,
)
from remora_core.events.store import Appended, EventLog
from remora_core.store.db import write_transaction

Listener = Callable[[BaseEvent], None]
SLOW_TOOLS: frozenset[str] = frozenset({"message_node", "ask_parent"})  # their ToolCall is written at once


class EventBus:
    """Appends through ``EventLog`` and calls the listeners with every event it stored."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.log = EventLog(connection)
        self.listeners: list[Listener] = []
        self._deferred: list[BaseEvent] = []

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event)`` after each event this process stores; returns the remover."""
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener) if listener in self.listeners else None

    def notify(self, events: Sequence[BaseEvent]) -> None:
        for event in events:
            for listener in list(self.listeners):
                listener(event)

    def defer(self, event: BaseEvent) -> None:
        """Store ``event`` with the next append (one transaction instead of two: a quick tool's
        ToolCall is written together with its ToolResult, in order)."""
        self._deferred.append(event)

    def take_deferred(self) -> list[BaseEvent]:
        """The deferred events, for a caller that stores them in its own transaction."""
        events, self._deferred = self._deferred, []
        return events

    def forward_to(self, bus: EventBus, loop: asyncio.AbstractEventLoop) -> None:
        """Tell ``bus``'s listeners, on ``loop``, about every event this bus stores (this bus
        writes on a db thread, see ``store.aio``; listeners live on the loop)."""

        def forward(event: BaseEvent) -> None:
            loop.call_soon_threadsafe(bus.notify, [event])

        self.add_listener(forward)

    def append_all(self, events: Sequence[BaseEvent]) -> None:
        """Store ``events`` in one transaction, then tell the listeners."""
        with write_transaction(self.connection):
            self.log.append_in_transaction(events)
        self.notify(events)

    def append(self, event: BaseEvent, *, also: Callable[[int], None] | None = None) -> Appended:
        """Store the deferred events and ``event`` in one transaction (plus ``also(seq)``, run
        after the insert in the same transaction with the event's seq)."""
        events = [*self._deferred, event]
        self._deferred.clear()
        with write_transaction(self.connection):
            appended = self.log.append_in_transaction(events)
            if also is not None:
                also(appended[-1].seq)
        self.notify(events)
        return appended[-1]


def clean(value: Any) -> Any:
    """``value`` with lone surrogates in its strings replaced (they cannot be stored as UTF-8)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "replace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {clean(key): clean(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean(item) for item in value]
    return value


def _arguments(text: str) -> dict[str, Any]:
    value = parse_arguments(text)
    return clean(value) if isinstance(value, dict) else {"_raw": clean(text)}


class EventSink(Protocol):
    """Where a turn's events go: ``EventBus`` (sync) or the runner's ``QueuedEvents`` (async)."""

    def append(self, event: BaseEvent) -> object: ...

    def defer(self, event: BaseEvent) -> None: ...


class QueuedEvents:
    """An ``EventSink`` for a loop: appends run on the db thread of ``writer`` (an ``EventBus``
    bound to an ``AsyncDatabase``'s connection), in order; deferral stays on the loop's ``bus``
    so a ToolCall is written with its ToolResult. ``flush()`` waits for the writes and raises
    the first failure."""

    def __init__(self, bus: EventBus, writer: EventBus, run: Callable[..., Any]) -> None:
        self.bus = bus
        self.writer = writer
        self.run = run  # AsyncDatabase.run
        self.pending: list[asyncio.Future[None]] = []

    def defer(self, event: BaseEvent) -> None:
        self.bus.defer(event)

    def append(self, event: BaseEvent) -> None:
        events = [*self.bus.take_deferred(), event]
        self.pending.append(asyncio.ensure_future(self.run(self.writer.append_all, events)))

    async def flush(self) -> None:
        pending, self.pending = self.pending, []
        for future in pending:
            await future


class TurnEmitter:
    """The ``emit`` callback of one turn: AgentStart, ToolCall and ToolResult become stored events.

    (Complete / Error / cancel are stored by the runner together with the trigger's outcome.)
    """

    def __init__(
        self, bus: EventSink, agent_id: str, correlation_id: str, trigger_event_id: str | None
    ) -> None:
        self.bus = bus
        self.agent_id = agent_id
        self.correlation_id = correlation_id
        self.trigger_event_id = trigger_event_id
        self._call_id = ""

    def __call__(self, event_type: str, payload: dict[str, Any]) -> None:
        event: BaseEvent
        if event_type == "agent_turn_started":
            event = AgentStartEvent(
                agent_id=self.agent_id,
                trigger_event_id=self.trigger_event_id,
                correlation_id=self.correlation_id,
            )
        elif event_type == "tool_call":
            self._call_id = new_event_id()
            name = str(payload.get("tool", ""))
            call = ToolCallEvent(
                agent_id=self.agent_id,
                tool_name=name,
                call_id=self._call_id,
                arguments=_arguments(str(payload.get("arguments") or "")),
                correlation_id=self.correlation_id,
            )
            if name in SLOW_TOOLS:
                self.bus.append(call)  # visible at once: the nested turn may take minutes
            else:
                self.bus.defer(call)
            return
        elif event_type == "model_response":
            event = ModelResponseEvent(
                agent_id=self.agent_id,
                round=int(payload.get("round", 0)),
                text=clean(str(payload.get("text") or "")),
                tool_calls=clean(list(payload.get("tool_calls") or [])),
                recovered=clean(list(payload.get("recovered") or [])),
                fallback=clean(payload.get("fallback")),
                dropped=clean(list(payload.get("dropped") or [])),
                finish_reason=payload.get("finish_reason"),
                tool_choice=payload.get("tool_choice"),
                notes=clean(list(payload.get("notes") or [])),
                usage=dict(payload.get("usage") or {}),
                correlation_id=self.correlation_id,
            )
            self.bus.defer(event)  # stored with the next step (a tool call or the outcome)
            return
        elif event_type == "tool_result":
            event = ToolResultEvent(
                agent_id=self.agent_id,
                tool_name=str(payload.get("tool", "")),
                call_id=self._call_id,
                result=clean(str(payload.get("result", ""))),
                is_error=not payload.get("ok", True),
                correlation_id=self.correlation_id,
            )
        else:
            return
        self.bus.append(event)


class EventingProposals:
    """A proposal sink: stores the proposal, then its ``RewriteProposal`` event (with the diff)."""

    def __init__(self, proposals: ProposalStore, bus: EventBus) -> None:
        self.proposals = proposals
        self.bus = bus

    def submit(self, proposal: Proposal) -> Proposal:
        stored = self.proposals.submit(proposal)
        appended = self.bus.append(
            RewriteProposalEvent(
                agent_id=proposal.agent_id or proposal.node_id,
                proposal_id=proposal.id,
                old_source=proposal.old_source,
                new_source=proposal.new_source,
                diff=proposal.diff,
                file_path=proposal.file_path,
                correlation_id=proposal.correlation_id,
            ),
            also=lambda seq: self.proposals.set_event_seq_in_transaction(proposal.id, seq),
        )
        stored.event_seq = appended.seq
        return stored
