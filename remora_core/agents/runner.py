"""The agent runner: claims queued triggers and runs their turns as asyncio tasks.

- At most ``AgentsConfig.concurrency`` top-level turns run at once (a semaphore; a runner
  claims only as many triggers as it has free slots, so other runner processes get the rest).
  Nested turns (``message_node``) run inside their caller's task and take no extra slot.
- ``message_node`` / ``ask_parent`` run the target as a nested turn under the same
  correlation, one level deeper; its reply is the caller's tool result (not a new activation
  of the caller). Cycles and ``max_depth`` are refused with a tool result (see activation.py).
- A heartbeat renews the leases of running claims and notices cancellation asked for by
  another process (``cancel_requested``).
- Cancelling a correlation cancels its tasks; a cancelled turn never wrote a file (tools only
  create complete proposal rows), so nothing is left half-applied.
- The loop never waits on SQLite: every write of the runner (claims, leases, outcomes,
  activation rows, turn events, proposals) runs on the thread of an ``AsyncDatabase``
  (aiosqlite, see ``store.aio``), so another process holding the write lock (the hub indexing)
  stalls only that thread. Listeners are told on the loop.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from uuid import uuid4

from remora_core.agents import activation
from remora_core.agents.bus import EventBus, EventingProposals, QueuedEvents, TurnEmitter
from remora_core.agents.context import LocalAgentContext
from remora_core.agents.errors import AgentError
from remora_core.agents.extensions import ExtensionRegistry, discover_extensions
from remora_core.agents.history import conversation
from remora_core.agents.llm import ChatModel, LLMClient
from remora_core.agents.loop import TurnResult, run_turn
from remora_core.agents.node import ContextProvider, hydrate_agent
from remora_core.agents.proposal_model import Proposal
from remora_core.agents.proposals import ProposalStore
from remora_core.agents.strategy import turn_policy
from remora_core.agents.triggers import Trigger, TriggerQueue, new_correlation_id
from remora_core.config import RemoraConfig
from remora_core.engine.ghost import ghost_placement
from remora_core.errors import RemoraError
from remora_core.events.models import (
    AgentCompleteEvent,
    AgentErrorEvent,
    AgentMessageEvent,
    BaseEvent,
    event_from_json,
)
from remora_core.events.store import EventLog, last_seq, read_after
from remora_core.events.subscriptions import has_subscriptions
from remora_core.graph.live import LiveGraph
from remora_core.graph.topology import TopologyGraph
from remora_core.store.aio import AsyncDatabase
from remora_core.store.db import write_transaction
from remora_core.store.store import Store

SUBSCRIPTION_CURSOR = "runner.subscription_seq"


@dataclass(slots=True)
class DbSide:
    """The runner's store objects bound to an ``AsyncDatabase`` (used only through ``db.run``)."""

    db: AsyncDatabase
    queue: TriggerQueue
    bus: EventBus  # tells the runner's loop-side bus about what it stores
    sink: EventingProposals


class DbProposals:
    """The proposal sink of the runner's turns: stores on the db thread (``asubmit``)."""

    def __init__(self, side: DbSide, fallback: EventingProposals) -> None:
        self.side = side
        self.fallback = fallback  # the loop-side sink (its bus holds the turn's deferred events)

    def submit(self, proposal: Proposal) -> Proposal:
        return self.fallback.submit(proposal)

    async def asubmit(self, proposal: Proposal) -> Proposal:
        deferred = self.fallback.bus.take_deferred()  # the ToolCall is stored with the proposal

        def submit() -> Proposal:
            for event in deferred:
                self.side.bus.defer(event)
            return self.side.sink.submit(proposal)

        return await self.side.db.run(submit)


def new_runner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:6]}"


class Runner:
    """Runs the triggers of one project. One per process is enough; several may race safely."""

    def __init__(
        self,
        root: Path,
        store: Store,
        config: RemoraConfig,
        *,
        bus: EventBus | None = None,
        model: ChatModel | None = None,
        registry: ExtensionRegistry | None = None,
        providers: Sequence[ContextProvider] = (),
        runner_id: str | None = None,
        lease_seconds: float = 60.0,
        heartbeat_seconds: float | None = None,
        graph: LiveGraph | None = None,
    ) -> None:
        self.root = root
        self.graph = graph  # the process's live graph; None: a fresh view of the store per turn
        self.store = store
        self.config = config
        self.bus = bus or EventBus(store.connection)
        self.queue = TriggerQueue(store.connection, self.bus.log)
        self.proposals = ProposalStore(store, root)
        self.sink = EventingProposals(self.proposals, self.bus)
        self.registry = (
            registry if registry is not None else discover_extensions(root, Path(config.agents.models_dir))
        )
        self.providers = list(providers)
        self.runner_id = runner_id or new_runner_id()
        self.lease_seconds = lease_seconds
        self.heartbeat_seconds = (
            heartbeat_seconds if heartbeat_seconds is not None else min(1.0, lease_seconds / 4)
        )
        self._model = model
        self._client: LLMClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._tasks: dict[str, asyncio.Task[Trigger]] = {}  # top-level trigger id -> task
        self._running: dict[str, str] = {}  # running trigger id (nested included) -> correlation id
        self._side: DbSide | None = None
        self._opening: asyncio.Task[DbSide] | None = None

    # -- model -------------------------------------------------------------------------
    def model(self) -> ChatModel:
        if self._model is not None:
            return self._model
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = LLMClient(self.config.llm)
            self._client_loop = loop
        return self._client

    async def aclose(self) -> None:
        if self._client is not None and self._client_loop is asyncio.get_running_loop():
            await self._client.close()
        self._client = None
        side, self._side, self._opening = self._side, None, None
        if side is not None:
            if side.db.loop is asyncio.get_running_loop():
                await side.db.close()
            else:
                side.db.close_soon()

    def close(self) -> None:
        """Close the db thread's connection without a loop (``aclose`` is the polite way)."""
        side, self._side, self._opening = self._side, None, None
        if side is not None:
            side.db.close_soon()

    async def side(self) -> DbSide:
        """The store objects of this loop's ``AsyncDatabase`` (opened once, on first use)."""
        loop = asyncio.get_running_loop()
        if self._side is not None and self._side.db.loop is loop:
            return self._side
        if self._opening is None or self._opening.get_loop() is not loop:
            self._opening = loop.create_task(self._open_side(loop))
        return await asyncio.shield(self._opening)

    async def _open_side(self, loop: asyncio.AbstractEventLoop) -> DbSide:
        if self._side is not None:
            self._side.db.close_soon()  # opened by a loop that is gone (asyncio.run twice)
            self._side = None
        db = await AsyncDatabase.open(self.store.path)
        connection = db.connection
        bus = EventBus(connection)
        bus.forward_to(self.bus, loop)
        queue = TriggerQueue(connection, bus.log)
        sink = EventingProposals(ProposalStore(Store(connection, self.store.path), self.root), bus)
        self._side = DbSide(db, queue, bus, sink)
        return self._side

    def _slots(self) -> asyncio.Semaphore:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.config.agents.concurrency)
        return self._semaphore

    # -- subscriptions -----------------------------------------------------------------
    def pump_subscriptions(self, limit: int = 500) -> int:
        """Turn events after the shared cursor that match subscriptions into triggers (exactly
        once across processes: the cursor moves in the same transaction). Returns how many."""
        return self._pump(self.store.connection, self.queue, self.bus.log, limit)

    async def apump_subscriptions(self, limit: int = 500) -> int:
        """:meth:`pump_subscriptions` on the db thread."""
        side = await self.side()
        return await side.db.run(self._pump, side.db.connection, side.queue, side.bus.log, limit)

    def _pump(self, connection: sqlite3.Connection, queue: TriggerQueue, log: EventLog, limit: int) -> int:
        created = 0
        with write_transaction(connection):
            meta = Store(connection, self.store.path)  # the connection this pump runs on
            stored = meta.meta(SUBSCRIPTION_CURSOR)
            newest = last_seq(connection)
            cursor = int(stored) if stored is not None else newest  # a new cursor starts at the end (no replay)
            rows = (
                read_after(connection, cursor, limit=limit)
                if newest > cursor and has_subscriptions(connection)
                else []
            )
            for seq, event_type, payload in rows:
                event = event_from_json(event_type, payload, seq)
                for agent_id in log.matcher.match(connection, event):
                    if agent_id == event.source_agent():
                        continue  # an agent is never triggered by its own events
                    created += self._subscription_trigger(connection, queue, agent_id, event)
            end = rows[-1][0] if len(rows) == limit else newest
            if end != cursor or stored is None:
                meta.set_meta(SUBSCRIPTION_CURSOR, str(end))
        return created

    def _subscription_trigger(
        self, connection: sqlite3.Connection, queue: TriggerQueue, agent_id: str, event: BaseEvent
    ) -> int:
        correlation_id = event.correlation_id or new_correlation_id()
        depth = queue.next_depth(correlation_id)
        message = (
            f"An event you subscribed to happened ({event.event_type}, seq {event.seq}):\n"
            f"{json.dumps(event.envelope(), default=str)}"
        )
        queue.insert(
            connection,
            agent_id,
            "subscription",
            message,
            correlation_id,
            source_agent=event.source_agent(),
            trigger_event_id=event.event_id,
            depth=int(depth),
        )
        return 1

    # -- driving -----------------------------------------------------------------------
    async def run_pending(self) -> list[Trigger]:
        """Run queued triggers (and those they cause) until none is left; returns the finished ones."""
        return await self._drive(stop=None, until_empty=True, poll_interval=0.0)

    async def run_forever(self, stop: asyncio.Event | None = None, poll_interval: float = 0.25) -> None:
        """Keep claiming and running triggers until ``stop`` is set (or the task is cancelled)."""
        await self._drive(stop=stop, until_empty=False, poll_interval=poll_interval)

    async def _drive(
        self, *, stop: asyncio.Event | None, until_empty: bool, poll_interval: float
    ) -> list[Trigger]:
        finished: list[Trigger] = []
        running: set[asyncio.Task[Trigger]] = set()
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            while stop is None or not stop.is_set():
                try:
                    claimed = await self._claim()
                except sqlite3.OperationalError:
                    # locked past the busy timeout (another process's long index pass): try again
                    await self._idle(stop, max(poll_interval, 0.05))
                    continue
                for trigger in claimed:
                    running.add(self._start(trigger))
                if not running:
                    if until_empty:
                        break
                    await self._idle(stop, poll_interval)
                    continue
                timeout = None if until_empty else poll_interval
                done, running = await asyncio.wait(
                    running, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                finished.extend(self._outcome(task) for task in done)
        finally:
            heartbeat.cancel()
            for task in running:
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)
        return finished

    async def _claim(self) -> list[Trigger]:
        """Pump the subscriptions, then claim what fits the free slots (on the db thread)."""
        await self.apump_subscriptions()
        side = await self.side()
        free = self.config.agents.concurrency - len(self._tasks)
        return await side.db.run(side.queue.claim, self.runner_id, limit=free, lease_seconds=self.lease_seconds)

    async def _idle(self, stop: asyncio.Event | None, seconds: float) -> None:
        if stop is None:
            await asyncio.sleep(seconds)
            return
        try:
            await asyncio.wait_for(stop.wait(), seconds)
        except TimeoutError:
            pass

    def _outcome(self, task: asyncio.Task[Trigger]) -> Trigger:
        if not task.cancelled() and task.exception() is None:
            return task.result()
        trigger = self.queue.get(task.get_name())
        assert trigger is not None
        return trigger

    def _start(self, trigger: Trigger) -> asyncio.Task[Trigger]:
        task = asyncio.create_task(self._run_top(trigger), name=trigger.id)
        self._tasks[trigger.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(trigger.id, None))
        return task

    async def run_trigger(self, trigger_id: str, *, poll_interval: float = 0.05) -> Trigger:
        """Run one queued trigger here, or wait for whoever claimed it; returns it finished."""
        side = await self.side()
        trigger = await side.db.run(
            side.queue.claim_id, trigger_id, self.runner_id, lease_seconds=self.lease_seconds
        )
        if trigger is not None:
            heartbeat = asyncio.create_task(self._heartbeat())
            try:
                task = self._start(trigger)
                try:
                    return await task
                except asyncio.CancelledError:
                    if not task.cancelled():
                        raise
            finally:
                heartbeat.cancel()
        while True:
            current = await side.db.run(side.queue.get, trigger_id)
            if current is None:
                raise AgentError(f"no trigger {trigger_id!r}")
            if current.finished:
                return current
            await asyncio.sleep(poll_interval)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            side = await self.side()
            try:
                flagged = await side.db.run(
                    side.queue.renew, self.runner_id, list(self._running), lease_seconds=self.lease_seconds
                )
            except (RemoraError, sqlite3.OperationalError):
                continue
            for correlation_id in {self._running[t] for t in flagged if t in self._running}:
                self.cancel_local(correlation_id)

    def cancel_local(self, correlation_id: str) -> int:
        """Cancel this process's tasks of ``correlation_id``; returns how many."""
        count = 0
        for trigger_id, task in list(self._tasks.items()):
            if self._running.get(trigger_id) == correlation_id and not task.done():
                task.cancel()
                count += 1
        return count

    # -- turns -------------------------------------------------------------------------
    async def _run_top(self, trigger: Trigger) -> Trigger:
        self._running[trigger.id] = trigger.correlation_id
        try:
            async with self._slots():
                await self._run_claimed(trigger)
        except asyncio.CancelledError:
            await self._finish(trigger, "cancelled", error=f"turn of {trigger.agent_id!r} cancelled")
            raise
        finally:
            self._running.pop(trigger.id, None)
        return self._reload(trigger)

    async def _run_claimed(self, trigger: Trigger) -> None:
        side = await self.side()
        try:
            if trigger.depth >= self.config.agents.max_depth:
                raise activation.ActivationRefusedError(
                    f"max activation depth {self.config.agents.max_depth} reached in correlation "
                    f"{trigger.correlation_id!r}; {trigger.agent_id!r} is not run"
                )
            path = await side.db.run(
                activation.enter,
                side.db.connection,
                trigger.correlation_id,
                (),
                trigger.agent_id,
                self.config.agents.max_depth,
            )
        except RemoraError as error:
            await self._finish(trigger, "failed", error=str(error))
            return
        try:
            await self._execute(trigger, path)
        except RemoraError:
            pass  # recorded by _execute
        finally:
            await self._leave(trigger.correlation_id, trigger.agent_id)

    async def _leave(self, correlation_id: str, agent_id: str) -> None:
        """Leave the activation path on the db thread; the row goes even if this task is cancelled."""
        side = await self.side()
        await asyncio.shield(side.db.run(activation.leave, side.db.connection, correlation_id, agent_id))

    def _reload(self, trigger: Trigger) -> Trigger:
        current = self.queue.get(trigger.id)
        assert current is not None
        return current

    async def _finish(
        self, trigger: Trigger, status: str, *, reply: str | None = None, error: str | None = None
    ) -> None:
        event: BaseEvent
        if status == "done":
            event = AgentCompleteEvent(
                agent_id=trigger.agent_id, result=reply or "", correlation_id=trigger.correlation_id
            )
        else:
            event = AgentErrorEvent(
                agent_id=trigger.agent_id, error=error or status, correlation_id=trigger.correlation_id
            )
        events = [*self.bus.take_deferred(), event]
        side = await self.side()
        finished = side.db.run(side.queue.finish, trigger.id, status, reply=reply, error=error, events=events)  # type: ignore[arg-type]
        # shielded: a cancelled turn still records its outcome (the write runs on the db thread)
        if await asyncio.shield(finished):
            self.bus.notify(events)

    async def _execute(self, trigger: Trigger, path: tuple[str, ...]) -> str:
        """Run the turn of ``trigger`` with the agent at the end of ``path``; record the outcome."""
        try:
            result = await self._turn(trigger, path)
        except asyncio.CancelledError:
            await self._finish(trigger, "cancelled", error=f"turn of {trigger.agent_id!r} cancelled")
            raise
        except RemoraError as error:
            await self._finish(trigger, "failed", error=str(error))
            raise
        except Exception as error:  # a bug in a turn must not kill the runner
            message = f"turn of {trigger.agent_id!r} failed: {type(error).__name__}: {error}"
            await self._finish(trigger, "failed", error=message)
            raise AgentError(message) from error
        await self._finish(trigger, "done", reply=result.reply)
        return result.reply

    async def _turn(self, trigger: Trigger, path: tuple[str, ...]) -> TurnResult:
        graph = self.graph if self.graph is not None else TopologyGraph(self.store.connection)
        hydrated = hydrate_agent(
            self.root, self.store, trigger.agent_id, registry=self.registry, providers=self.providers, graph=graph
        )
        side = await self.side()
        context = LocalAgentContext(
            trigger.agent_id,
            self.root,
            self.store,
            DbProposals(side, self.sink),
            trigger.correlation_id,
            self.config.index.anchor_column,
            messenger=partial(self._message, trigger, path),
            live_graph=graph,
            placement=ghost_placement(trigger.message) if trigger.kind == "human_chat" else None,
        )
        events = QueuedEvents(self.bus, side.bus, side.db.run)
        emitter = TurnEmitter(events, trigger.agent_id, trigger.correlation_id, trigger.trigger_event_id)
        agents = self.config.agents
        tools = hydrated.toolset(context)
        history = (
            conversation(
                self.store.connection,
                trigger.agent_id,
                trigger.correlation_id,
                turns=agents.history_turns,
                max_tokens=agents.history_tokens,
            )
            if trigger.kind in ("human_chat", "feedback")
            else []
        )
        try:
            return await run_turn(
                self.model(),
                hydrated.node.system_prompt(compact=agents.prompt == "compact"),
                trigger.message,
                tools,
                max_tool_rounds=self.config.llm.max_tool_rounds,
                deadline=agents.turn_timeout,
                emit=emitter,
                agent_id=trigger.agent_id,
                correlation_id=trigger.correlation_id,
                history=history,
                policy=turn_policy(self.config, hydrated.node, trigger.message, tools.names),
            )
        finally:
            await asyncio.shield(events.flush())

    async def _message(self, caller: Trigger, path: tuple[str, ...], target_id: str, request: str) -> str:
        """``message_node`` from the end of ``path``: a nested turn of ``target_id``; its reply."""
        correlation_id = caller.correlation_id
        side = await self.side()
        new_path = await side.db.run(
            activation.enter, side.db.connection, correlation_id, path, target_id, self.config.agents.max_depth
        )
        try:
            event = AgentMessageEvent(
                from_agent=path[-1], to_agent=target_id, message=request, correlation_id=correlation_id
            )
            nested = await side.db.run(
                side.queue.enqueue,
                target_id,
                "agent_message",
                request,
                correlation_id,
                events=[event],
                parent_id=caller.id,
                source_agent=path[-1],
                trigger_event_id=event.event_id,
                depth=len(path),
                claimed_by=self.runner_id,
                lease_seconds=self.lease_seconds,
            )
            self.bus.notify([event])
            self._running[nested.id] = correlation_id
            try:
                return await self._execute(nested, new_path)
            except RemoraError as error:
                raise AgentError(f"{target_id!r} could not answer: {error}") from None
            finally:
                self._running.pop(nested.id, None)
        finally:
            await self._leave(correlation_id, target_id)
