"""``ServiceHandlers``: every API operation as a plain method over the engine facade.

Framework-agnostic: arguments are ids and pydantic request models, results are pydantic
response models, failures are project exceptions (the HTTP adapter maps them to the one
error envelope). No engine logic lives here: each method is a call into the facade (or the
store it exposes for graph reads) and a reshaping of its answer.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from remora_core import __version__
from remora_core.agents.errors import ProposalError
from remora_core.agents.extensions import discover_extensions
from remora_core.agents.hunks import diff_hunks
from remora_core.agents.proposal_model import Proposal
from remora_core.editor.node_state import node_state_payload
from remora_core.engine.facade import Engine
from remora_core.errors import NodeNotFoundError, ProjectError, RemoraError
from remora_core.events.models import BaseEvent
from remora_core.hub.status import hub_status
from remora_core.project import node_source
from remora_core.service import models as m
from remora_core.service.projector import EventProjector
from remora_core.store.store import NodeRow

SECRET_KEYS = ("key", "token", "secret", "password")
TAG_LIMIT = 10_000  # request ids remembered (per event id and per correlation id)


class TooBusyError(RemoraError):
    """Too many agent turns are queued or running; retry after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RequestTags:
    """Which ``X-Request-ID`` caused which event: by event id (events a request stored) and by
    correlation id (the turns a chat started, whichever process runs them). Bounded (LRU)."""

    def __init__(self, limit: int = TAG_LIMIT) -> None:
        self.limit = limit
        self.by_event: OrderedDict[str, str] = OrderedDict()
        self.by_correlation: OrderedDict[str, str] = OrderedDict()

    def _put(self, table: OrderedDict[str, str], key: str, request_id: str) -> None:
        table[key] = request_id
        table.move_to_end(key)
        while len(table) > self.limit:
            table.popitem(last=False)

    def tag_event(self, event_id: str, request_id: str) -> None:
        self._put(self.by_event, event_id, request_id)

    def tag_correlation(self, correlation_id: str, request_id: str) -> None:
        self._put(self.by_correlation, correlation_id, request_id)

    def request_id(self, event_id: str, correlation_id: str | None) -> str | None:
        found = self.by_event.get(event_id)
        if found is None and correlation_id is not None:
            found = self.by_correlation.get(correlation_id)
        return found


def node_ref(row: NodeRow) -> m.NodeRef:
    return m.NodeRef(
        id=row.id, type=row.node_type, name=row.name, qualname=row.qualname,
        file=row.file_path, line=row.def_line, status=row.status,
    )


def node_summary(row: NodeRow) -> m.NodeSummary:
    return m.NodeSummary(
        **node_ref(row).model_dump(), start_line=row.start_line, end_line=row.end_line, parent_id=row.parent_id
    )


def proposal_out(proposal: Proposal) -> m.ProposalOut:
    hunks = [m.Hunk(**hunk.as_dict()) for hunk in diff_hunks(proposal.old_source, proposal.new_source)]
    return m.ProposalOut(
        **proposal.model_dump(
            include={
                "id", "node_id", "kind", "file_path", "status", "diff", "old_source", "new_source",
                "agent_id", "correlation_id", "feedback", "created_at", "resolved_at",
            }
        ),
        hunks=hunks,
    )


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: ("<redacted>" if any(word in key.lower() for word in SECRET_KEYS) and "env" not in key else _scrub(item))
            for key, item in value.items()
        }
    return value


class ServiceHandlers:
    """The API of one project over one engine facade (single-threaded: call from one loop)."""

    def __init__(self, engine: Engine, *, run_agents: bool = False) -> None:
        self.engine = engine
        self.root: Path = engine.root
        self.run_agents = run_agents
        self.tags = RequestTags()

    # -- request ids -------------------------------------------------------------------
    @contextmanager
    def caused_by(self, request_id: str) -> Iterator[None]:
        """Tag every event the facade stores inside the block with ``request_id``."""
        remove = self.engine.bus.add_listener(lambda event: self.tags.tag_event(event.event_id, request_id))
        try:
            yield
        finally:
            remove()

    def envelope(self, event: BaseEvent) -> dict[str, Any]:
        """The event as the API streams it: ``seq``, ``event_type``, ``kind``, ``request_id`` + fields."""
        data = event.envelope()
        data["request_id"] = self.tags.request_id(event.event_id, event.correlation_id)
        return data

    # -- graph reads -------------------------------------------------------------------
    def _node(self, node_id: str) -> NodeRow:
        row = self.engine.store.node(node_id)
        if row is None:
            raise NodeNotFoundError(f"no node {node_id!r} in the index")
        return row

    def files(self) -> list[str]:
        return sorted(self.engine.store.file_rows())

    def nodes(self, file: str) -> list[m.NodeSummary]:
        path = file.strip().removeprefix("./")
        if not path or Path(path).is_absolute() or ".." in Path(path).parts:
            raise ProjectError(f"file {file!r} must be a path relative to the project root")
        rows = self.engine.store.nodes_in_file(path, active_only=True)
        if not rows:
            raise NodeNotFoundError(f"no nodes indexed for {path!r}")
        return [node_summary(row) for row in rows]

    def node(self, node_id: str) -> m.NodeDetail:
        store = self.engine.store
        row = self._node(node_id)
        parent = store.node(row.parent_id) if row.parent_id else None

        def refs(ids: list[str]) -> list[m.NodeRef]:
            found = store.nodes(ids)
            return sorted((node_ref(found[i]) for i in ids if i in found), key=lambda r: (r.file, r.line))

        return m.NodeDetail(
            **node_summary(row).model_dump(),
            source=node_source(self.root, row),
            parent=node_ref(parent) if parent else None,
            children=refs(store.edge_targets(node_id, "parent_of")),
            callers=refs(store.edge_sources(node_id, "calls")),
            callees=refs(store.edge_targets(node_id, "calls")),
            proposals=[p.id for p in self.engine.proposals("pending", node_id=node_id)],
        )

    def node_state(self, node_id: str) -> m.NodeState:
        """The node's hub state (``freshness: "missing"`` before the hub built one)."""
        payload = node_state_payload(self.root, self.engine.store, node_id, self.engine.config.hub)
        return m.NodeState.model_validate(payload)

    def events(self, *, after: int = 0, node_id: str | None = None, limit: int = 100) -> m.EventList:
        if node_id is not None:
            self._node(node_id)
        events = self.engine.events(after, node_id=node_id, limit=limit)
        return m.EventList(
            events=[m.Event.model_validate(self.envelope(e)) for e in events], last_seq=self.engine.last_seq()
        )

    # -- commands ----------------------------------------------------------------------
    def active_turns(self) -> tuple[int, int]:
        queue = self.engine.queue
        return queue.queued_count(), len(queue.list(status="running", limit=10_000))

    def chat(self, node_id: str, request: m.ChatRequest, request_id: str, *, max_active: int) -> m.ChatResponse:
        self._node(node_id)
        queued, running = self.active_turns()
        if queued + running >= max_active:
            raise TooBusyError(
                f"{queued + running} agent turns are queued or running (limit {max_active}); retry later", 5
            )
        with self.caused_by(request_id):
            trigger = self.engine.chat_trigger(node_id, request.message)
        self.tags.tag_correlation(trigger.correlation_id, request_id)
        return m.ChatResponse(
            node_id=node_id, correlation_id=trigger.correlation_id, trigger_id=trigger.id, request_id=request_id
        )

    def proposals(self, status: str | None = "pending") -> list[m.ProposalOut]:
        return [proposal_out(p) for p in self.engine.proposals(status)]  # type: ignore[arg-type]

    def proposal(self, proposal_id: str) -> m.ProposalOut:
        return proposal_out(self.engine.proposal(proposal_id))

    def approve(self, proposal_id: str, request: m.ApproveRequest, request_id: str) -> m.ApplyResponse:
        self.engine.proposal(proposal_id)  # ProposalError (404) when unknown
        with self.caused_by(request_id):
            done = self.engine.approve(proposal_id, request.hunks)
        return m.ApplyResponse(
            proposal_id=done.proposal_id, status=done.status, applied=done.applied,
            message=done.message, file_path=done.file_path, request_id=request_id,
        )

    def reject(self, proposal_id: str, request: m.RejectRequest, request_id: str) -> m.RejectResponse:
        self.engine.proposal(proposal_id)
        with self.caused_by(request_id):
            rejection = self.engine.reject(proposal_id, request.feedback)
        if rejection.correlation_id is not None:
            self.tags.tag_correlation(rejection.correlation_id, request_id)
        return m.RejectResponse(
            proposal_id=proposal_id, status=rejection.proposal.status,
            correlation_id=rejection.correlation_id, request_id=request_id,
        )

    def input(self, request: m.InputResponse, request_id: str, *, max_active: int) -> m.ChatResponse:
        """The human's answer to the turn of correlation ``request_id``: a new chat to its agent
        (human input starts a new correlation, DESIGN.md)."""
        turns = [t for t in self.engine.triggers(request.request_id) if t.parent_id is None]
        if not turns:
            raise NodeNotFoundError(f"no turn with correlation {request.request_id!r}")
        return self.chat(turns[0].agent_id, m.ChatRequest(message=request.response), request_id, max_active=max_active)

    # -- project -----------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        data: dict[str, Any] = _scrub(self.engine.config.model_dump(mode="json"))
        return data

    def plan(self, request: m.RunRequest) -> m.PlanResponse:
        """Discovery + graph only: the nodes under ``target_path`` and the extension each would run."""
        target = request.target_path.strip().strip("/")
        if Path(target).is_absolute() or ".." in Path(target).parts:
            raise ProjectError(f"target_path {request.target_path!r} must be relative to the project root")
        registry = discover_extensions(self.root, Path(self.engine.config.agents.models_dir))
        rows = self.engine.store.active_nodes()
        chosen = [
            row for row in rows
            if (not target or row[3] == target or row[3].startswith(target + "/"))
            and (request.node_type is None or row[1] == request.node_type)
        ]
        found = self.engine.store.nodes([row[0] for row in chosen])
        nodes = []
        for node_id in sorted(found, key=lambda i: (found[i].file_path, found[i].start_line)):
            row = found[node_id]
            extension = registry.match(row.node_type, row.name)
            nodes.append(
                m.PlanNode(
                    id=row.id, type=row.node_type, qualname=row.qualname, file=row.file_path,
                    line=row.def_line, extension=extension.__name__ if extension else None,
                )
            )
        return m.PlanResponse(
            nodes=nodes, extensions=[e.__name__ for e in registry.extensions], extension_errors=registry.problems
        )

    def running_turns(self) -> list[dict[str, Any]]:
        return [
            {"agent_id": t.agent_id, "correlation_id": t.correlation_id, "trigger_id": t.id}
            for t in self.engine.queue.list(status="running", limit=1000)
        ]

    def snapshot(self, recent: int = 50) -> m.Snapshot:
        projector = EventProjector(recent)
        last = self.engine.last_seq()
        for event in self.engine.events(max(0, last - recent), limit=recent):
            projector.record(self.envelope(event))
        projector.proposals = {
            p.id: {"id": p.id, "node_id": p.node_id, "file_path": p.file_path, "diff": p.diff,
                   "correlation_id": p.correlation_id, "seq": p.event_seq}
            for p in self.engine.proposals("pending")
        }
        projector.running = {t["agent_id"]: t for t in self.running_turns()}
        return m.Snapshot.model_validate(projector.to_dict())

    def health(self) -> m.Health:
        hub = hub_status(self.root)
        queued, running = self.active_turns()
        return m.Health(
            status="ok", version=__version__, root=str(self.root), last_seq=self.engine.last_seq(),
            hub=m.HubInfo(running=hub.running, pid=hub.pid, state=hub.state, mode=hub.mode),
            runner=m.RunnerInfo(in_process=self.run_agents, queued=queued, running=running),
        )


def proposal_error_status(error: ProposalError) -> int:
    """404 for an unknown proposal, 409 for one that cannot change any more."""
    return 404 if str(error).startswith("no proposal") else 409
