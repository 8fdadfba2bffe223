"""The event models of the bus (seed 002 section 7a) plus tool and hub events.

Every event class has a ``kind`` (graph | agent | tool | human | topology | hub) and is
stored under its ``event_type`` (the class name without the ``Event`` suffix). A stored
payload is the model's JSON; :func:`event_from_json` turns it back into the right class.

Kinds: ``agent`` (AgentStart/Complete/Error, RewriteProposal: what an agent does),
``graph`` (AgentMessage: one node talking to another along the graph), ``human``
(HumanChat, RewriteApplied/Rejected: a person's decision), ``tool`` (ToolCall/Result),
``topology`` (TopologyChanged, from the hub) and ``hub`` (HubStarted/Stopped).
"""

from __future__ import annotations

import time
from typing import Any, ClassVar, Literal
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from remora_core.errors import RemoraError

EventKind = Literal["graph", "agent", "tool", "human", "topology", "hub"]
EVENT_KINDS: tuple[str, ...] = ("graph", "agent", "tool", "human", "topology", "hub")


class UnknownEventError(RemoraError):
    """A stored event has a type no model is registered for, or a payload that does not fit it."""


def new_event_id() -> str:
    return uuid4().hex[:12]


class BaseEvent(BaseModel):
    """Common fields. ``seq`` is the bus position, set once the event is stored (never serialised)."""

    model_config = ConfigDict(extra="forbid")

    kind: ClassVar[EventKind]
    event_type: ClassVar[str]

    event_id: str = Field(default_factory=new_event_id)
    timestamp: float = Field(default_factory=time.time)
    correlation_id: str | None = None
    seq: int | None = Field(default=None, exclude=True)

    def agent_ref(self) -> str | None:
        """The agent this event is about (stored in ``events.agent_id`` for indexed lookups)."""
        return getattr(self, "agent_id", None)

    def file_ref(self) -> str | None:
        """The file this event is about (stored in ``events.file_path``)."""
        return getattr(self, "file_path", None)

    def source_agent(self) -> str | None:
        """The agent that caused the event (what a subscription's ``from_agents`` matches)."""
        return self.agent_ref()

    def to_json(self) -> str:
        return self.model_dump_json()

    def envelope(self) -> dict[str, Any]:
        """The event as one self-describing JSON object (for SSE, RPC notifications, logs)."""
        return {
            "seq": self.seq,
            "event_type": self.event_type,
            "kind": self.kind,
            **self.model_dump(mode="json"),
        }


# -- agent ------------------------------------------------------------------------------
class AgentStartEvent(BaseEvent):
    kind: ClassVar[EventKind] = "agent"
    agent_id: str
    trigger_event_id: str | None = None


class AgentCompleteEvent(BaseEvent):
    kind: ClassVar[EventKind] = "agent"
    agent_id: str
    result: str


class AgentErrorEvent(BaseEvent):
    kind: ClassVar[EventKind] = "agent"
    agent_id: str
    error: str


class AgentMessageEvent(BaseEvent):
    """One node messaging another along the graph (``message_node``, ``ask_parent``)."""

    kind: ClassVar[EventKind] = "graph"
    from_agent: str
    to_agent: str
    message: str

    def agent_ref(self) -> str | None:
        return self.to_agent

    def source_agent(self) -> str | None:
        return self.from_agent


class RewriteProposalEvent(BaseEvent):
    kind: ClassVar[EventKind] = "agent"
    agent_id: str
    proposal_id: str
    old_source: str
    new_source: str
    diff: str  # unified diff
    file_path: str | None = None


class RewriteAppliedEvent(BaseEvent):
    kind: ClassVar[EventKind] = "human"
    agent_id: str
    proposal_id: str
    file_path: str | None = None


class RewriteRejectedEvent(BaseEvent):
    kind: ClassVar[EventKind] = "human"
    agent_id: str
    proposal_id: str
    feedback: str
    file_path: str | None = None


class HumanChatEvent(BaseEvent):
    kind: ClassVar[EventKind] = "human"
    to_agent: str
    message: str
    new_conversation: bool = False  # the node's earlier exchanges are not sent with this one

    def agent_ref(self) -> str | None:
        return self.to_agent

    def source_agent(self) -> str | None:
        return None


# -- tool -------------------------------------------------------------------------------
class ToolCallEvent(BaseEvent):
    kind: ClassVar[EventKind] = "tool"
    agent_id: str
    tool_name: str
    call_id: str = Field(default_factory=new_event_id)
    arguments: dict[str, Any] = Field(default_factory=dict)


class ToolResultEvent(BaseEvent):
    kind: ClassVar[EventKind] = "tool"
    agent_id: str
    tool_name: str
    call_id: str
    result: str
    is_error: bool = False


class ModelResponseEvent(BaseEvent):
    """One model round of a turn, as the model wrote it: the raw text, the tool calls the server
    parsed, the calls Remora read from the text (``recovered``: name, arguments, form), a
    code-block ``fallback`` turned into a proposal, dropped repeats, and the token usage."""

    kind: ClassVar[EventKind] = "agent"
    agent_id: str
    round: int
    text: str = ""
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    recovered: list[dict[str, Any]] = Field(default_factory=list)
    fallback: dict[str, Any] | None = None
    dropped: list[dict[str, Any]] = Field(default_factory=list)
    finish_reason: str | None = None
    tool_choice: str | None = None
    notes: list[str] = Field(default_factory=list)
    usage: dict[str, int] = Field(default_factory=dict)


# -- topology ---------------------------------------------------------------------------
class TopologyChangedEvent(BaseEvent):
    """One file's nodes changed. ``changed_nodes`` kept their id but not their source."""

    kind: ClassVar[EventKind] = "topology"
    file_path: str
    added_nodes: list[str] = Field(default_factory=list)
    removed_nodes: list[str] = Field(default_factory=list)
    orphaned_nodes: list[str] = Field(default_factory=list)
    changed_nodes: list[str] = Field(default_factory=list)
    deleted: bool = False


# -- hub --------------------------------------------------------------------------------
class HubStartedEvent(BaseEvent):
    kind: ClassVar[EventKind] = "hub"
    pid: int
    root: str
    mode: Literal["once", "watch"] = "watch"


class HubStoppedEvent(BaseEvent):
    kind: ClassVar[EventKind] = "hub"
    pid: int
    reason: str = "stopped"


# -- node state (hub) -------------------------------------------------------------------
class NodeStateUpdatedEvent(BaseEvent):
    """The hub refreshed one node's state (``agent_id`` is the node). ``failed``: tool -> error."""

    kind: ClassVar[EventKind] = "hub"
    agent_id: str
    file_path: str
    source_version: str
    signals: list[str] = Field(default_factory=list)
    updates: list[str] = Field(default_factory=list)
    failed: dict[str, str] = Field(default_factory=dict)
    skipped: dict[str, str] = Field(default_factory=dict)  # update -> why it did not run
    markdown_path: str | None = None
    bundle: dict[str, Any] = Field(default_factory=dict)


class TriageDecisionEvent(BaseEvent):
    """What the triage model approved among the candidate updates, or why it fell back to all."""

    kind: ClassVar[EventKind] = "hub"
    agent_id: str
    candidates: list[str]
    approved: list[str]
    reasons: dict[str, str] = Field(default_factory=dict)
    fallback: bool = False
    fallback_reason: str = ""


class TestRunEvent(BaseEvent):
    """One ``run_single_test`` run: outcome and captured output (the trace's test log)."""

    __test__ = False  # not a pytest class
    kind: ClassVar[EventKind] = "hub"
    agent_id: str
    test_id: str
    outcome: Literal["passed", "failed", "error", "timeout"]
    duration: float
    output: str = ""


class ApiImpactEvent(BaseEvent):
    """A public signature changed: every call site that may need to follow."""

    kind: ClassVar[EventKind] = "hub"
    agent_id: str
    file_path: str
    old_signature: str | None
    new_signature: str | None
    call_sites: list[dict[str, Any]] = Field(default_factory=list)


class TestSkeletonOfferedEvent(BaseEvent):
    """A generated test skeleton under ``.agentfs/tests/``, offered for the project's tests."""

    __test__ = False
    kind: ClassVar[EventKind] = "hub"
    agent_id: str
    skeleton_path: str
    target_path: str
    proposal_id: str | None = None


class HubContextUsedEvent(BaseEvent):
    """An agent prompt was built with (fresh) or without (stale, missing) the hub's node state."""

    kind: ClassVar[EventKind] = "hub"
    agent_id: str
    hub_state_key: str
    freshness: Literal["fresh", "stale", "missing"]
    last_updated: float | None = None
    source_version: str | None = None


class HubUpdateHintEvent(BaseEvent):
    """An agent found facts worth a refresh of a node's state (the hub picks it up later)."""

    kind: ClassVar[EventKind] = "hub"
    agent_id: str
    node_id: str
    note: str = ""
    updates: list[str] = Field(default_factory=list)


EVENT_CLASSES: tuple[type[BaseEvent], ...] = (
    AgentStartEvent,
    AgentCompleteEvent,
    AgentErrorEvent,
    AgentMessageEvent,
    RewriteProposalEvent,
    RewriteAppliedEvent,
    RewriteRejectedEvent,
    HumanChatEvent,
    ToolCallEvent,
    ToolResultEvent,
    ModelResponseEvent,
    TopologyChangedEvent,
    HubStartedEvent,
    HubStoppedEvent,
    NodeStateUpdatedEvent,
    TriageDecisionEvent,
    TestRunEvent,
    ApiImpactEvent,
    TestSkeletonOfferedEvent,
    HubContextUsedEvent,
    HubUpdateHintEvent,
)

for _cls in EVENT_CLASSES:
    _cls.event_type = _cls.__name__.removesuffix("Event")

EVENT_TYPES: dict[str, type[BaseEvent]] = {cls.event_type: cls for cls in EVENT_CLASSES}


def event_class(event_type: str) -> type[BaseEvent]:
    """The model registered for ``event_type`` (``'TopologyChanged'`` or ``'TopologyChangedEvent'``)."""
    cls = EVENT_TYPES.get(event_type.removesuffix("Event"))
    if cls is None:
        raise UnknownEventError(f"unknown event type {event_type!r}")
    return cls


def event_from_json(event_type: str, payload: str | bytes, seq: int | None = None) -> BaseEvent:
    """Rebuild a stored event as its model class."""
    cls = event_class(event_type)
    try:
        event = cls.model_validate_json(payload)
    except ValidationError as error:
        raise UnknownEventError(
            f"stored {event_type!r} event does not fit its model: {error.errors()[0]['msg']}"
        ) from None
    event.seq = seq
    return event
