"""``AgentService``: the one facade every face uses (the CLI now, the Neovim host and the HTTP
API later). No UI, no pynvim. Synchronous methods only touch the database; the ``async``
ones run agent turns on the caller's event loop.

    service = AgentService(root)
    correlation = service.chat("rm_a1b2c3d4", "add type hints")
    await service.run_pending()            # or: trigger = await service.wait(correlation)
    service.proposals()                    # pending proposals
    service.approve(proposal_id)           # applies to the file, re-indexes it
    service.reject(proposal_id, "why")     # re-runs the agent with the feedback (new correlation)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from remora_core.agents import activation
from remora_core.agents.bus import EventBus, Listener
from remora_core.agents.errors import AgentError, ProposalError
from remora_core.agents.llm import ChatModel
from remora_core.agents.node import ContextProvider
from remora_core.agents.proposal_model import Proposal, ProposalStatus
from remora_core.agents.proposals import ApplyResult
from remora_core.agents.runner import Runner
from remora_core.agents.triggers import Trigger, TriggerKind, new_correlation_id
from remora_core.config import RemoraConfig, load_config
from remora_core.errors import NodeNotFoundError
from remora_core.events.models import (
    BaseEvent,
    HumanChatEvent,
    RewriteAppliedEvent,
    RewriteRejectedEvent,
    event_from_json,
)
from remora_core.index.indexer import Indexer
from remora_core.store.store import Store


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


def feedback_message(proposal: Proposal, feedback: str) -> str:
    return (
        f"The human rejected your proposal {proposal.id!r} with this feedback:\n{feedback}\n\n"
        f"The rejected change was:\n{proposal.diff}\n"
        "Take the feedback into account and propose again (or answer if no change is needed)."
    )


class AgentService:
    """Chat, run, cancel, proposals and events of one project."""

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
    ) -> None:
        self.root = root.resolve()
        self.config = config or load_config(self.root)
        self._owns_store = store is None
        self.store = store or Store.open(self.root, create=False)
        self.bus = EventBus(self.store.connection)
        self.runner = Runner(
            self.root,
            self.store,
            self.config,
            bus=self.bus,
            model=model,
            providers=providers,
            runner_id=runner_id,
            lease_seconds=lease_seconds,
            heartbeat_seconds=heartbeat_seconds,
        )
        self.queue = self.runner.queue
        self._proposals = self.runner.proposals

    def close(self) -> None:
        if self._owns_store:
            self.store.close()

    async def aclose(self) -> None:
        await self.runner.aclose()
        self.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """``listener(event)`` after every event this service stores (for push to an editor)."""
        return self.bus.add_listener(listener)

    # -- chat and running --------------------------------------------------------------
    def chat(self, node_id: str, message: str, *, new_conversation: bool = False) -> str:
        """Queue a human chat to ``node_id`` (a HumanChat event); returns its new correlation id.
        The node's earlier exchanges go with it (``[agents] history_turns``) unless
        ``new_conversation``."""
        return self._queue_human(node_id, message, "human_chat", new_conversation).correlation_id

    def chat_trigger(self, node_id: str, message: str, *, new_conversation: bool = False) -> Trigger:
        """Like :meth:`chat`, returning the queued trigger row."""
        return self._queue_human(node_id, message, "human_chat", new_conversation)

    def _queue_human(
        self, node_id: str, message: str, kind: TriggerKind, new_conversation: bool = False
    ) -> Trigger:
        row = self.store.node(node_id)
        if row is None:
            raise NodeNotFoundError(f"no node {node_id!r} in the index")
        if row.status != "active":
            raise AgentError(f"node {node_id!r} is {row.status}; it has no agent")
        if not message.strip():
            raise AgentError(f"empty message to {node_id!r}")
        correlation_id = new_correlation_id()
        event = HumanChatEvent(
            to_agent=node_id, message=message, correlation_id=correlation_id, new_conversation=new_conversation
        )
        trigger = self.queue.enqueue(
            node_id,
            kind,
            message,
            correlation_id,
            events=[event],
            trigger_event_id=event.event_id,
        )
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
        in other runner processes at their next heartbeat) and its pending proposals."""
        queued, running = self.queue.request_cancel(correlation_id)
        tasks = self.runner.cancel_local(correlation_id)
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
        return CancelReport(correlation_id, queued, running, tasks, cancelled)

    # -- proposals ---------------------------------------------------------------------
    def proposals(
        self, status: ProposalStatus | None = "pending", *, node_id: str | None = None
    ) -> list[Proposal]:
        return self._proposals.list(node_id=node_id, status=status)

    def proposal(self, proposal_id: str) -> Proposal:
        return self._proposals.get(proposal_id)

    def approve(self, proposal_id: str) -> ApplyResult:
        """Apply to the file on disk and re-index it. Never raises for a stale or already
        resolved proposal: look at ``result.applied`` / ``result.status`` / ``result.message``."""
        result = self._proposals.approve(proposal_id)
        if result.applied:
            self.reindex(result.file_path)
            self._applied(proposal_id)
        return result

    def apply_to_lines(self, proposal_id: str, lines: list[str]) -> ApplyResult:
        """The editor's approve: the new buffer lines (the caller writes the buffer, then calls
        :meth:`reindex` once the file is saved)."""
        result = self._proposals.apply_to_lines(proposal_id, lines)
        if result.applied:
            self._applied(proposal_id)
        return result

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

    def reindex(self, file_path: str) -> None:
        """Bring the index up to date for one file (relative to the root)."""
        Indexer(self.root, self.store, self.config.index).index(paths=[file_path])

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
        query = "SELECT seq, event_type, payload FROM events WHERE seq > ?"
        args: list[object] = [after_seq]
        if node_id is not None:
            query += " AND (agent_id = ? OR (event_type = 'AgentMessage' AND json_extract(payload, '$.from_agent') = ?))"
            args.extend([node_id, node_id])
        if correlation_id is not None:
            query += " AND correlation_id = ?"
            args.append(correlation_id)
        query += " ORDER BY seq LIMIT ?"
        args.append(limit)
        return [
            event_from_json(kind, payload, seq)
            for seq, kind, payload in self.store.connection.execute(query, args)
        ]

    def last_seq(self) -> int:
        return self.bus.log.last_seq()
