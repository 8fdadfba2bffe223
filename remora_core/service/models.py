"""The request and response models of the HTTP API (one JSON shape per payload; doc/api.md).

Versioning rule: fields are added, never removed or renamed. Request models forbid unknown
fields so a typo is a 422 naming the field, not a silent no-op.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from remora_core.hub.state.freshness import Freshness
from remora_core.hub.state.model import TestOutcome


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChatRequest(_Request):
    message: str = Field(min_length=1, max_length=100_000, description="What the human says to the node's agent.")


class ApproveRequest(_Request):
    hunks: list[int] | None = Field(
        None, description="0-based indexes of the diff hunks to apply (omitted: the whole proposal)."
    )


class RejectRequest(_Request):
    feedback: str = Field("", max_length=100_000, description="Why; non-empty feedback re-runs the agent.")


class RunRequest(_Request):
    """What ``POST /v1/plan`` previews: the nodes under ``target_path`` (a file or directory, relative
    to the root; empty: the whole project), optionally only those of ``node_type``."""

    target_path: str = Field("", max_length=4096)
    node_type: Literal["file", "class", "function", "method"] | None = None


class InputResponse(_Request):
    """A human's answer to a turn: ``request_id`` is the correlation id of the turn being answered."""

    request_id: str = Field(min_length=1, max_length=200)
    response: str = Field(min_length=1, max_length=100_000)


ProposalStatusFilter = Literal["pending", "applied", "rejected", "stale", "cancelled", "all"]


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code (not_found, conflict, invalid, unauthorized, ...).")
    message: str
    status: int
    request_id: str | None = None
    details: list[dict[str, Any]] | None = None


class ErrorEnvelope(BaseModel):
    """Every error answer of every route."""

    error: ErrorBody


class NodeRef(BaseModel):
    id: str
    type: str
    name: str
    qualname: str
    file: str
    line: int
    status: str


class NodeSummary(NodeRef):
    start_line: int
    end_line: int
    parent_id: str | None = None


class NodeDetail(NodeSummary):
    source: str
    parent: NodeRef | None = None
    children: list[NodeRef] = Field(default_factory=list)
    callers: list[NodeRef] = Field(default_factory=list)
    callees: list[NodeRef] = Field(default_factory=list)
    proposals: list[str] = Field(default_factory=list, description="Ids of its pending proposals.")


class NodeTest(BaseModel):
    test_id: str = Field(description="pytest node id: path::[Class::]name")
    how: Literal["name", "calls", "skeleton"] = Field(description="How the test was mapped to the node.")
    last_result: TestOutcome
    last_run: float | None = None
    duration: float | None = None


class NodeState(BaseModel):
    """A node's hub state as the editor panel shows it (``remora_core.editor.node_state``)."""

    id: str
    type: str
    qualname: str
    file: str
    line: int
    hub_state_key: str
    freshness: Freshness = Field(
        description="fresh: from the current source and recent; stale: otherwise; missing: no state yet."
    )
    last_updated: float | None = None
    source_version: str | None = Field(None, description="Hash of the source the state was computed from.")
    current_version: str = Field(description="Hash of the node's source on disk now ('' if unreadable).")
    signature: str | None = None
    complexity: int | None = None
    complexity_trend: list[int] = Field(default_factory=list, description="Complexity values, oldest first.")
    tests: list[NodeTest] = Field(default_factory=list)
    summary: str | None = None
    callers: int = Field(0, description="How many callers the state recorded.")
    callees: int = Field(0, description="How many callees the state recorded.")
    markdown: str | None = Field(None, description="Absolute path of the node's markdown file, if written.")


class Event(BaseModel):
    """One stored event: the envelope every stream and list carries (extra fields by ``event_type``)."""

    model_config = ConfigDict(extra="allow")

    seq: int
    event_type: str
    kind: Literal["graph", "agent", "tool", "human", "topology", "hub"]
    event_id: str
    timestamp: float
    correlation_id: str | None = None
    request_id: str | None = None


class EventList(BaseModel):
    events: list[Event]
    last_seq: int = Field(description="The newest seq of the whole log (resume SSE from here).")


class ChatResponse(BaseModel):
    node_id: str
    correlation_id: str
    trigger_id: str
    request_id: str


class Hunk(BaseModel):
    index: int
    header: str
    lines: list[str]


class ProposalOut(BaseModel):
    id: str
    node_id: str
    kind: str
    file_path: str
    status: str
    diff: str
    old_source: str
    new_source: str
    agent_id: str | None = None
    correlation_id: str | None = None
    feedback: str | None = None
    created_at: float
    resolved_at: float | None = None
    hunks: list[Hunk] = Field(default_factory=list)


class ApplyResponse(BaseModel):
    proposal_id: str
    status: str
    applied: bool
    message: str
    file_path: str
    request_id: str


class RejectResponse(BaseModel):
    proposal_id: str
    status: str
    correlation_id: str | None = Field(None, description="The re-run's correlation (None: no feedback, no re-run).")
    request_id: str


class PlanNode(BaseModel):
    id: str
    type: str
    qualname: str
    file: str
    line: int
    extension: str | None = Field(None, description="The extension model that would run it (None: base prompt).")


class PlanResponse(BaseModel):
    nodes: list[PlanNode]
    extensions: list[str]
    extension_errors: list[str]


class HubInfo(BaseModel):
    running: bool
    pid: int | None = None
    state: str | None = None
    mode: str | None = None


class RunnerInfo(BaseModel):
    in_process: bool = Field(description="This server runs queued agent turns itself.")
    queued: int
    running: int


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    root: str
    last_seq: int
    hub: HubInfo
    runner: RunnerInfo


class TurnOut(BaseModel):
    trigger_id: str
    agent_id: str
    correlation_id: str
    status: str
    started_seq: int | None = None


class Snapshot(BaseModel):
    """The projector's state (``EventProjector.to_dict``): render it, then apply ``/v1/events`` from
    ``last_seq``."""

    last_seq: int
    nodes: dict[str, dict[str, Any]] = Field(description="Nodes seen in events: id -> {last_event, last_seq, state}.")
    running: dict[str, dict[str, Any]] = Field(description="Running turns by agent id.")
    proposals: dict[str, dict[str, Any]] = Field(description="Pending proposals by id.")
    recent: list[dict[str, Any]] = Field(description="The newest events, oldest first.")


class ConfigOut(BaseModel):
    """The resolved configuration (every section, defaults filled in) without secrets."""

    model_config = ConfigDict(extra="allow")
