"""``Engine``: the one facade every face uses (the CLI, the Neovim host, the HTTP service). No
UI, no pynvim. Synchronous methods only touch the database and files; the ``async`` ones run
agent turns on the caller's event loop. (``remora_core.agents.service.AgentService`` is the
same class under its first name.)

    engine = Engine(root)
    correlation = engine.chat("rm_a1b2c3d4", "add type hints")   # or a name: engine.chat("parse", ...)
    await engine.run_pending()             # or: trigger = await engine.wait(correlation)
    engine.proposals()                     # pending proposals
    engine.approve(proposal_id)            # applies to the file, re-indexes it (hunks=[0, 2]: some)
    engine.approve_lines(proposal_id, lines)  # the editor's approve: the new buffer lines
    engine.reject(proposal_id, "why")      # re-runs the agent with the feedback (new correlation)
    engine.status("parse"); engine.stop("parse")
    engine.ghost("pkg/mod.py", 12, "a helper that ...")   # a new node asked for on an empty line
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar

from remora_core.agents import activation
from remora_core.agents.bus import EventBus, EventingProposals
from remora_core.agents.context import LocalAgentContext, ProposalSink
from remora_core.agents.errors import AgentError, ProposalError
from remora_core.agents.extensions import ExtensionRegistry, discover_extensions
from remora_core.agents.node import hydrate_agent
from remora_core.agents.proposal_model import Proposal, ProposalStatus
from remora_core.agents.proposals import ApplyResult, ProposalStore, splice_proposal
from remora_core.agents.tools import ToolSet
from remora_core.agents.triggers import Trigger, TriggerKind, TriggerQueue, new_correlation_id
from remora_core.config import RemoraConfig, load_config
from remora_core.engine.ghost import GhostPlan, ghost_message, new_ghost_id, plan_ghost
from remora_core.engine.nodes import Neighbours, neighbours, resolve_node
from remora_core.errors import NodeNotFoundError, WriteRefusedError
from remora_core.events.models import (
    BaseEvent,
    HumanChatEvent,
    RewriteAppliedEvent,
    RewriteRejectedEvent,
    TopologyChangedEvent,
)
from remora_core.events.topology import index_with_events
from remora_core.graph.impact import DEFAULT_IMPACT_DEPTH, impact_data
from remora_core.graph.live import GraphReader, LiveGraph
from remora_core.graph.topology import TopologyGraph
from remora_core.index.indexer import Indexer, IndexReport
from remora_core.languages import language_for_path
from remora_core.parsing.python_source import parse_python
from remora_core.project import relative_path
from remora_core.store.store import NodeRow, Store

if TYPE_CHECKING:  # the runner imports the model client (openai, ~1 s): only turns need it
    from remora_core.agents.llm import ChatModel
    from remora_core.agents.node import ContextProvider
    from remora_core.agents.runner import DbSide, Runner

NodeState = Literal["idle", "running", "waiting", "error"]
T = TypeVar("T")


@dataclass(slots=True)
class Rejection:
    proposal: Proposal
    correlation_id: str | None  # the feedback run's new correlation (None: no feedback, no re-run)
    trigger_id: str | None


@dataclass(slots=True)
class CancelReport:
    correlation_id: str
    queued: int  # queued triggers cancelled
    running: int  # running triggers flagged (any process)
    tasks: int  # turns of this process cancelled now
    proposals: int  # pending proposals of the correlation cancelled


@dataclass(slots=True)
class NodeStatus:
    """What a node's agent is doing: ``running`` (a turn queued or running), ``waiting`` (a
    proposal waits for the human), ``error`` (its last turn failed) or ``idle``."""

    node_id: str
    state: NodeState
    since: float | None = None  # when the turn was queued / the newest pending proposal made
    correlation_id: str | None = None
    error: str | None = None
    pending: list[str] = field(default_factory=list)  # ids of its pending proposals, oldest first

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "since": self.since,
            "correlation_id": self.correlation_id,
            "error": self.error,
            "pending": list(self.pending),
        }


@dataclass(slots=True)
class Ghost:
    """A ghost request sent: where the new node goes and the correlation of the agent's turn."""

    ghost_id: str
    plan: GhostPlan
    correlation_id: str

    def as_dict(self) -> dict[str, Any]:
        return {"ghost": self.ghost_id, "correlation_id": self.correlation_id, **self.plan.as_dict()}


def feedback_message(proposal: Proposal, feedback: str) -> str:
    return (
        f"The human rejected your proposal {proposal.id!r} with this feedback:\n{feedback}\n\n"
        f"The rejected change was:\n{proposal.diff}\n"
        "Take the feedback into account and propose again (or answer if no change is needed)."
    )


@dataclass(slots=True)
class ToolOutcome:
    """A tool of a node run by the human: its result text (errors are results too)."""

    tool: str
    ok: bool
    text: str
    correlation_id: str


def _enqueue_human(queue: TriggerQueue, event: HumanChatEvent, kind: TriggerKind) -> Trigger:
    """The trigger of a human message and its event, in one transaction (either face)."""
    assert event.correlation_id is not None
    return queue.enqueue(
        event.to_agent,
        kind,
        event.message,
        event.correlation_id,
        events=[event],
        trigger_event_id=event.event_id,
    )


class Engine:
    """Chat, run, cancel, status, stop, ghost, proposals and events of one project."""

    def __init__(
        self,
        root: Path,
        *,
        config: RemoraConfig | None = None,
        store: Store | None = None,
        model: ChatModel | None = None,
        providers: Sequence[ContextProvider] = (),
        runner_id: str | None = None,
        lease_seconds: float = 60.0,
        heartbeat_seconds: float | None = None,
        graph: LiveGraph | None = None,
    ) -> None:
        """``graph``: the process's ``LiveGraph`` of this project (long-lived faces keep one);
        without it every query reads a fresh view of the store."""
        self.root = root.resolve()
        self.graph = graph
        self.config = config or load_config(self.root)
        self._owns_store = store is None
        self.store = store or Store.open(self.root, create=False)
        self.bus = EventBus(self.store.connection)
        self.queue = TriggerQueue(self.store.connection, self.bus.log)
        self._proposals = ProposalStore(self.store, self.root)
        self._runner: Runner | None = None
        self._view: Engine | None = None  # this engine on the runner's db thread (see _on_db)
        self._registry: ExtensionRegistry | None = None
        self.sink = EventingProposals(self._proposals, self.bus)  # proposals made by tools run here
        if not providers and self.config.hub.state:
            from remora_core.hub.state.context import HubContextProvider  # soft coupling: optional

            providers = (HubContextProvider(self.store, self.config.hub),)
        self._runner_options: dict[str, Any] = {
            "model": model,
            "providers": providers,
            "runner_id": runner_id,
            "lease_seconds": lease_seconds,
            "heartbeat_seconds": heartbeat_seconds,
            "graph": graph,
        }

    @classmethod
    def open(cls, root: Path, *, create: bool = False, **options: Any) -> Engine:
        """The engine of ``root``; ``create``: make its database when there is none yet (what
        ``remora index`` needs before the first pass). ``options``: as for the constructor."""
        engine = cls(root, store=Store.open(root.resolve(), create=create), **options)
        engine._owns_store = True
        return engine

    @property
    def runner(self) -> Runner:
        """The agent runner of this engine, made (and the model client imported) on first use:
        status, stop, proposals and approvals never load it."""
        if self._runner is None:
            from remora_core.agents.runner import Runner

            options = self._runner_options
            self._runner = Runner(
                self.root, self.store, self.config, bus=self.bus, registry=self.registry, **options
            )
        return self._runner

    @property
    def registry(self) -> ExtensionRegistry:
        """The project's extension models (``.remora/models``), discovered on first use."""
        if self._registry is None:
            self._registry = discover_extensions(self.root, Path(self.config.agents.models_dir))
        return self._registry

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()
        if self._owns_store:
            self.store.close()

    async def close_runner(self) -> None:
        """Close the runner's model client (on the loop that used it), if a runner was made."""
        if self._runner is not None:
            await self._runner.aclose()

    async def aclose(self) -> None:
        await self.close_runner()
        self.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- nodes -------------------------------------------------------------------------
    def resolve(self, node: str) -> NodeRow:
        """The node ``node`` names: an id, or a name / qualified name naming exactly one node."""
        return resolve_node(self.store, node)

    def neighbours(self, node: str) -> Neighbours:
        """``node``'s parent, children, callers and callees."""
        return neighbours(self.store, self.resolve(node), self.topology())

    def topology(self) -> GraphReader:
        """The graph queries read: the live graph, or a fresh view of the store."""
        return self.graph if self.graph is not None else TopologyGraph(self.store.connection)

    def impact(self, node: str, depth: int = DEFAULT_IMPACT_DEPTH) -> dict[str, Any]:
        """What may break if ``node`` changes: its transitive callers within ``depth`` calls
        and their files, as plain data (see ``graph.impact.impact_data``)."""
        return impact_data(self.topology(), self.resolve(node).id, depth)

    # -- chat and running --------------------------------------------------------------
    def chat(self, node_id: str, message: str, *, new_conversation: bool = False) -> str:
        """Queue a human chat to ``node_id`` (an id or a name, see :meth:`resolve`; a HumanChat
        event); returns its new correlation id."""
        return self._queue_human(node_id, message, "human_chat", new_conversation).correlation_id

    def chat_trigger(self, node_id: str, message: str, *, new_conversation: bool = False) -> Trigger:
        """Like :meth:`chat`, returning the queued trigger row."""
        return self._queue_human(node_id, message, "human_chat", new_conversation)

    async def achat(self, node_id: str, message: str, *, new_conversation: bool = False) -> str:
        """:meth:`chat` for an event loop: the trigger is written on the runner's db thread, so
        another process holding the write lock never stalls the loop."""
        event = self._human_event(node_id, message, new_conversation)
        side = await self.runner.side()
        await side.db.run(_enqueue_human, side.queue, event, "human_chat")
        self.bus.notify([event])
        return event.correlation_id or ""

    def _human_event(self, node: str, message: str, new_conversation: bool = False) -> HumanChatEvent:
        row = self.resolve(node)
        node_id = row.id
        if row.status != "active":
            raise AgentError(f"node {node_id!r} is {row.status}; it has no agent")
        if not message.strip():
            raise AgentError(f"empty message to {node_id!r}")
        return HumanChatEvent(
            to_agent=node_id, message=message, correlation_id=new_correlation_id(), new_conversation=new_conversation
        )

    def _queue_human(self, node: str, message: str, kind: TriggerKind, new_conversation: bool = False) -> Trigger:
        event = self._human_event(node, message, new_conversation)
        trigger = _enqueue_human(self.queue, event, kind)
        self.bus.notify([event])
        return trigger

    async def run_pending(self) -> list[Trigger]:
        """Run every queued trigger (here, racing safely with other runners); the finished ones."""
        return await self.runner.run_pending()

    async def run_forever(self, stop: asyncio.Event | None = None, poll_interval: float = 0.25) -> None:
        await self.runner.run_forever(stop, poll_interval)

    async def wait(self, correlation_id: str) -> Trigger:
        """Run the correlation's first trigger here if it is still queued (else wait for the runner
        that has it); returns it finished (``status``, ``reply``, ``error``)."""
        triggers = [t for t in self.queue.by_correlation(correlation_id) if t.parent_id is None]
        if not triggers:
            raise AgentError(f"no trigger with correlation {correlation_id!r}")
        return await self.runner.run_trigger(triggers[0].id)

    async def chat_and_wait(self, node_id: str, message: str) -> Trigger:
        return await self.wait(self.chat(node_id, message))

    def triggers(self, correlation_id: str) -> list[Trigger]:
        return self.queue.by_correlation(correlation_id)

    def cancel(self, correlation_id: str) -> CancelReport:
        """Cancel everything under ``correlation_id``: queued triggers, running turns (here now,
        in other runner processes at their next heartbeat) and its pending proposals. An id
        that no trigger, event or proposal carries is an error."""
        return self._cancel_here(self._cancel_stored(correlation_id))

    async def acancel(self, correlation_id: str) -> CancelReport:
        """:meth:`cancel` for an event loop (the writes run on the runner's db thread)."""
        return self._cancel_here(await self._on_db(lambda view: view._cancel_stored(correlation_id)))

    def _cancel_stored(self, correlation_id: str) -> CancelReport:
        """The database half of a cancel (``tasks`` is filled in by :meth:`_cancel_here`). An id
        that no trigger, event or proposal carries is an error."""
        if not self.queue.knows_correlation(correlation_id):
            raise AgentError(f"no correlation {correlation_id!r}: nothing to cancel")
        queued, running = self.queue.request_cancel(correlation_id)
        cancelled = 0
        for proposal in self._proposals.list(status="pending"):
            if proposal.correlation_id == correlation_id:
                try:
                    self._proposals.cancel(proposal.id)
                    cancelled += 1
                except ProposalError:
                    pass  # resolved meanwhile
        if not running:
            activation.clear(self.store.connection, correlation_id)
        return CancelReport(correlation_id, queued, running, 0, cancelled)

    def _cancel_here(self, report: CancelReport) -> CancelReport:
        """Cancel the correlation's turns running in this process (on the loop that runs them)."""
        if self._runner is not None:
            report.tasks = self._runner.cancel_local(report.correlation_id)
        return report

    def status(self, node: str) -> NodeStatus:
        """What ``node``'s agent is doing (see :class:`NodeStatus`)."""
        node_id = self.resolve(node).id
        pending = self.pending(node_id)
        ids = [p.id for p in pending]
        latest = self.queue.latest_root(node_id)
        if latest is not None and latest.status in ("queued", "running"):
            return NodeStatus(node_id, "running", latest.created_at, latest.correlation_id, pending=ids)
        if pending:
            newest = pending[-1]
            return NodeStatus(node_id, "waiting", newest.created_at, newest.correlation_id, pending=ids)
        if latest is not None and latest.status == "failed":
            error = latest.error or "failed"
            return NodeStatus(node_id, "error", latest.finished_at, latest.correlation_id, error)
        return NodeStatus(node_id, "idle")

    def stop(self, node: str) -> list[CancelReport]:
        """Cancel every correlation in which ``node``'s agent has a queued or running turn."""
        return [self._cancel_here(report) for report in self._stop_stored(node)]

    async def astop(self, node: str) -> list[CancelReport]:
        """:meth:`stop` for an event loop (the writes run on the runner's db thread)."""
        return [
            self._cancel_here(report) for report in await self._on_db(lambda view: view._stop_stored(node))
        ]

    def _stop_stored(self, node: str) -> list[CancelReport]:
        node_id = self.resolve(node).id
        return [self._cancel_stored(correlation) for correlation in self.queue.active_correlations(node_id)]

    # -- the async face: sync methods run on the runner's db thread ----------------------
    async def _on_db(self, call: Callable[[Engine], T]) -> T:
        """``call(view)`` on the runner's db thread, ``view`` being this engine bound to that
        thread's connection: a write lock held by another process waits there, never on the
        loop. Events it stores reach this engine's bus on the loop (``EventBus.forward_to``)."""
        side = await self.runner.side()
        view = self._view
        if view is None or view.store.connection is not side.db.connection:
            view = self._view = self._bound_to(side)
        return await side.db.run(call, view)

    def _bound_to(self, side: DbSide) -> Engine:
        view = Engine(
            self.root, config=self.config, store=Store(side.db.connection, self.store.path), graph=self.graph
        )
        view.bus, view.queue, view.sink = side.bus, side.queue, side.sink
        view._registry = self._registry
        return view

    # -- tools ---------------------------------------------------------------------------
    def _toolset(self, node_id: str, correlation_id: str | None, sink: ProposalSink | None = None) -> ToolSet:
        hydrated = hydrate_agent(self.root, self.store, node_id, registry=self.registry, graph=self.graph)

        async def ask(target_id: str, request: str) -> str:
            trigger = await self.wait(await self.achat(target_id, request))
            if trigger.status != "done":
                raise AgentError(f"{target_id!r} did not answer: {trigger.error or trigger.status}")
            return trigger.reply or ""

        context = LocalAgentContext(
            node_id,
            self.root,
            self.store,
            sink or self.sink,
            correlation_id,
            self.config.index.anchor_column,
            messenger=ask,
            live_graph=self.graph,
        )
        return hydrated.toolset(context)

    def tools(self, node: str) -> list[dict[str, Any]]:
        """The tools of ``node``'s agent (core + its extension's) as the model sees them: OpenAI
        function schemas, in order."""
        return self._toolset(self.resolve(node).id, None).schemas()

    async def call_tool(self, node: str, name: str, arguments: dict[str, Any] | str) -> ToolOutcome:
        """Run tool ``name`` of ``node``'s agent as the human (a new correlation: a proposal it
        makes is a normal pending proposal; ``message_node`` runs the target's turn here)."""
        correlation_id = new_correlation_id()
        from remora_core.agents.runner import DbProposals  # proposals stored on the db thread

        sink = DbProposals(await self.runner.side(), self.sink)
        result = await self._toolset(self.resolve(node).id, correlation_id, sink).call(name, arguments)
        return ToolOutcome(name, result.ok, result.text, correlation_id)

    # -- ghost nodes -------------------------------------------------------------------
    def ghost_plan(self, file: str | Path, line: int, lines: list[str] | None = None) -> GhostPlan:
        """Where a new node asked for on the empty ``line`` (1-based) of ``file`` goes (see
        ``engine.ghost``). ``lines``: the text of an editor buffer instead of the file on disk."""
        path = Path(file)
        rel = relative_path(self.root, path if path.is_absolute() else self.root / path)
        language = language_for_path(rel)
        if language is not None and language.name != "python":
            raise WriteRefusedError(
                f"ghost nodes are written into Python files only; {rel!r} is {language.name}: "
                "chat with the file node (or a neighbour) to add code there"
            )
        if lines is None:
            try:
                text = (self.root / rel).read_bytes().decode("utf-8", errors="surrogateescape")
            except OSError as error:
                raise NodeNotFoundError(f"cannot read {rel!r}: {error.strerror}") from None
            lines = text.split("\n")
            if text.endswith("\n"):
                lines.pop()
        parsed = parse_python("\n".join(lines).encode("utf-8", errors="surrogateescape"))
        rows = self.store.nodes_in_file(rel, active_only=True)
        file_id = parsed.file_anchor or next((r.id for r in rows if r.node_type == "file"), None)
        stored = {f"{r.node_type}:{r.qualname}": r.id for r in rows}
        return plan_ghost(parsed, lines, rel, line, file_id=file_id, stored_ids=stored)

    def ghost(
        self,
        file: str | Path,
        line: int,
        instruction: str,
        *,
        lines: list[str] | None = None,
        ghost_id: str | None = None,
    ) -> Ghost:
        """Ask the right agent for a new node at the empty ``line`` of ``file``: its turn is
        queued (run it with :meth:`wait` or a runner); the proposal is a ``new_node`` one."""
        if not instruction.strip():
            raise AgentError(f"empty instruction for the new node at {str(file)!r}:{line}")
        plan = self.ghost_plan(file, line, lines)
        ghost = ghost_id or new_ghost_id()
        message = ghost_message(ghost, instruction, plan.insert_after, plan.container)
        return Ghost(ghost, plan, self.chat(plan.target, message))

    async def aghost(self, file: str | Path, line: int, instruction: str, **options: Any) -> Ghost:
        """:meth:`ghost` for an event loop (the trigger is written on the runner's db thread)."""
        return await self._on_db(lambda view: view.ghost(file, line, instruction, **options))

    # -- proposals ---------------------------------------------------------------------
    def proposals(
        self, status: ProposalStatus | None = "pending", *, node_id: str | None = None
    ) -> list[Proposal]:
        return self._proposals.list(node_id=node_id, status=status)

    def proposal(self, proposal_id: str) -> Proposal:
        return self._proposals.get(proposal_id)

    def pending(self, node_id: str) -> list[Proposal]:
        """The pending proposals of ``node_id`` (about it, or made by its agent), oldest first."""
        return [p for p in self.proposals("pending") if node_id in (p.node_id, p.agent_id)]

    def stale_reason(self, proposal: Proposal, lines: list[str] | None = None) -> str | None:
        """Why ``proposal`` cannot be applied to the current text (``lines``: an editor buffer,
        else the file on disk), or None when it can."""
        if proposal.status == "stale":
            return "the node changed since the proposal was made"
        if proposal.status != "pending":
            return None
        if lines is not None:
            text = "\n".join(lines) + "\n"
        else:
            try:
                text = (self.root / proposal.file_path).read_bytes().decode("utf-8", errors="surrogateescape")
            except OSError:
                return f"cannot read {proposal.file_path!r}"
        spliced = splice_proposal(proposal, text)
        return spliced if isinstance(spliced, str) else None

    def approve(self, proposal_id: str, hunks: Sequence[int] | None = None) -> ApplyResult:
        """Apply to the file on disk and re-index it; ``hunks``: only these hunks (0-based
        indices of ``agents.hunks.diff_hunks(old, new)``). Never raises for a stale or already
        resolved proposal: look at ``result.applied`` / ``result.status`` / ``result.message``."""
        result = self._proposals.approve(proposal_id, hunks)
        if result.applied:
            self.reindex(result.file_path)
            self._applied(proposal_id)
        return result

    async def aapprove(self, proposal_id: str, hunks: Sequence[int] | None = None) -> ApplyResult:
        """:meth:`approve` for an event loop (claim, re-index and event on the runner's db thread)."""
        return await self._on_db(lambda view: view.approve(proposal_id, hunks))

    def approve_lines(
        self, proposal_id: str, lines: list[str], hunks: Sequence[int] | None = None
    ) -> ApplyResult:
        """The editor's approve: ``lines`` is the buffer; the result's ``replacement`` replaces
        ``[start, old_end)`` (one undo step) and ``lines`` is the whole new buffer. The caller
        writes the buffer, then calls :meth:`reindex` once the file is saved."""
        result = self._proposals.apply_to_lines(proposal_id, lines, hunks)
        if result.applied:
            self._applied(proposal_id)
        return result

    async def aapprove_lines(
        self, proposal_id: str, lines: list[str], hunks: Sequence[int] | None = None
    ) -> ApplyResult:
        """:meth:`approve_lines` for an event loop (the writes run on the runner's db thread)."""
        return await self._on_db(lambda view: view.approve_lines(proposal_id, lines, hunks))

    def apply_to_lines(self, proposal_id: str, lines: list[str]) -> ApplyResult:
        """The first name of :meth:`approve_lines` (every hunk)."""
        return self.approve_lines(proposal_id, lines)

    def _applied(self, proposal_id: str) -> None:
        proposal = self._proposals.get(proposal_id)
        self.bus.append(
            RewriteAppliedEvent(
                agent_id=proposal.agent_id or proposal.node_id,
                proposal_id=proposal.id,
                file_path=proposal.file_path,
                correlation_id=proposal.correlation_id,
            )
        )

    def reindex(self, file_path: str) -> list[TopologyChangedEvent]:
        """Bring the index up to date for one file (relative to the root); its TopologyChanged
        events (none when the index already had it)."""
        _, events = self.index(paths=[file_path], totals=False)
        return events

    def index(
        self, *, inject: bool | None = None, paths: Sequence[str] | None = None, totals: bool = True
    ) -> tuple[IndexReport, list[TopologyChangedEvent]]:
        """One index pass (the whole project, or ``paths``): its report and TopologyChanged events."""
        return index_with_events(
            Indexer(self.root, self.store, self.config.index), inject=inject, paths=paths, totals=totals
        )

    def nodes(self, file: str | Path, *, active_only: bool = True) -> list[NodeRow]:
        """The nodes indexed for ``file`` (absolute, or relative to the root), in file order."""
        path = Path(file)
        return self.store.nodes_in_file(
            relative_path(self.root, path if path.is_absolute() else self.root / path),
            active_only=active_only,
        )

    async def areindex(self, file_path: str) -> list[TopologyChangedEvent]:
        """:meth:`reindex` for an event loop (indexed on the runner's db thread)."""
        return await self._on_db(lambda view: view.reindex(file_path))

    async def areject(self, proposal_id: str, feedback: str = "") -> Rejection:
        """:meth:`reject` for an event loop (the writes run on the runner's db thread)."""
        return await self._on_db(lambda view: view.reject(proposal_id, feedback))

    def reject(self, proposal_id: str, feedback: str = "") -> Rejection:
        """Reject; with feedback, queue a re-run of the agent in a NEW correlation."""
        proposal = self._proposals.reject(proposal_id, feedback)
        agent_id = proposal.agent_id or proposal.node_id
        self.bus.append(
            RewriteRejectedEvent(
                agent_id=agent_id,
                proposal_id=proposal.id,
                feedback=feedback,
                file_path=proposal.file_path,
                correlation_id=proposal.correlation_id,
            )
        )
        if not feedback.strip() or self.store.node(agent_id) is None:
            return Rejection(proposal, None, None)
        trigger = self._queue_human(agent_id, feedback_message(proposal, feedback), "feedback")
        return Rejection(proposal, trigger.correlation_id, trigger.id)

    # -- events ------------------------------------------------------------------------
    def events(
        self,
        after_seq: int = 0,
        *,
        node_id: str | None = None,
        correlation_id: str | None = None,
        limit: int = 1000,
    ) -> list[BaseEvent]:
        """Stored events with ``seq > after_seq``, oldest first, about ``node_id`` (as agent,
        target or sender) and/or in ``correlation_id``."""
        if not -(2**63) <= after_seq < 2**63:
            raise AgentError(f"event sequence number {after_seq!r} is out of range (at most {2**63 - 1})")
        return self.bus.log.query(after_seq, node_id=node_id, correlation_id=correlation_id, limit=limit)

    def agent_events(self, node_id: str, event_types: Sequence[str], limit: int = 100) -> list[BaseEvent]:
        """The latest ``limit`` events of ``node_id``'s agent of these types, oldest first."""
        return self.bus.log.by_agent_types(node_id, event_types, limit=limit)

    def last_seq(self) -> int:
        return self.bus.log.last_seq()
