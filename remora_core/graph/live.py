"""``LiveGraph``: a ``TopologyGraph`` kept in step with the project's ``TopologyChanged`` events.

Every long-lived process (the hub, the Neovim host, the HTTP service) keeps one per project:

    graph = LiveGraph(root)      # starts at the current end of the event log, nothing loaded
    graph.start()                # on a running asyncio loop: applies events as they commit
    ...
    await graph.stop()           # or graph.close() once the loop is gone

It tails the event log with ``EventTailer`` (woken by commits, see ``events.tail``) and turns
each ``TopologyChanged`` into an invalidation of the lazily hydrated graph; the next query
re-reads what was dropped. Every query also catches up first (one ``PRAGMA data_version``
when nothing changed), so a process that never calls ``start()`` (the CLI, a test) still reads
a graph in step with the index. Not thread-safe: use it from the thread that created it (the
loop's thread when started).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from remora_core.events.models import BaseEvent, TopologyChangedEvent
from remora_core.events.tail import EventTailer
from remora_core.events.wakeup import wait_for_commit
from remora_core.graph.hydrate import GraphNode
from remora_core.graph.topology import Impact, TopologyGraph

# A batch this long (a cold index, a branch switch) clears the graph instead of invalidating
# file by file: re-reading a neighbourhood on demand is cheaper than thousands of invalidations.
RESET_BATCH = 200
YIELD_EVERY = 16  # events applied between two turns of the loop

Applied = Callable[[Sequence[TopologyChangedEvent]], None]


class GraphReader(Protocol):
    """The graph queries agents, tools and faces use (``TopologyGraph`` and ``LiveGraph``)."""

    def node(self, node_id: str) -> GraphNode: ...

    def parent(self, node_id: str) -> str | None: ...

    def callers(self, node_id: str) -> list[str]: ...

    def callees(self, node_id: str) -> list[str]: ...

    def impact(self, node_id: str, depth: int = 3) -> Impact: ...


class LiveGraph:
    """One project's topology graph, following its event log. See the module docstring."""

    def __init__(self, root_or_db: Path, *, poll_interval: float | None = None) -> None:
        """``root_or_db``: a project root or its ``.db`` path (the database must exist)."""
        self.tailer = EventTailer(
            root_or_db, after=None, event_types=["TopologyChanged"], poll_interval=poll_interval
        )
        self.graph = TopologyGraph(self.tailer.connection)  # one read connection for both
        self.applied = 0  # TopologyChanged events applied since the start
        self.listeners: list[Applied] = []
        self._task: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None

    # -- following ---------------------------------------------------------------------
    @property
    def position(self) -> int:
        """The ``seq`` of the last event seen (every change up to it is applied)."""
        return self.tailer.position

    def apply(self, events: Sequence[BaseEvent]) -> int:
        """Invalidate what ``events`` changed; returns how many were topology changes."""
        changes = [event for event in events if isinstance(event, TopologyChangedEvent)]
        if len(changes) >= RESET_BATCH:
            self.graph.clear()
        else:
            for change in changes:
                self.graph.invalidate_change(change)
        self.applied += len(changes)
        for listener in list(self.listeners):
            listener(changes)
        return len(changes)

    def invalidate_file(self, path: str) -> None:
        """Drop what the graph knows of ``path`` (for an index path that emits no event)."""
        self.graph.invalidate_file(path)

    def catch_up(self) -> int:
        """Apply every event committed since the last look (never blocks); returns how many."""
        count = 0
        while batch := self.tailer.poll():
            count += self.apply(batch)
        return count

    def start(self) -> None:
        """Follow the log in a task of the running loop (a no-op when already started)."""
        if self._task is not None and not self._task.done():
            return
        self._stop = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._follow(self._stop), name="remora-graph")

    async def _follow(self, stop: asyncio.Event) -> None:
        """Like ``EventTailer.afollow``, a poll's events applied together: a burst (a cold index
        commits thousands) resets the graph at once instead of invalidating file by file."""
        tailer = self.tailer
        while not stop.is_set():
            batch = tailer.poll()
            if len(batch) >= RESET_BATCH:
                self.apply(batch)
            else:
                for start in range(0, len(batch), YIELD_EVERY):
                    self.apply(batch[start : start + YIELD_EVERY])
                    await asyncio.sleep(0)  # share the loop between slices
            if not batch:
                seconds = tailer.schedule.timeout(tailer.poll_interval)
                tailer.schedule.waited(await wait_for_commit([tailer.watch], seconds, stop))

    async def stop(self) -> None:
        """Stop following and close the connection."""
        if self._stop is not None:
            self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.close()

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.tailer.close()

    # -- queries (each catches up first) --------------------------------------------------
    def view(self) -> TopologyGraph:
        """The graph, in step with every event committed so far (for queries not wrapped here)."""
        self.catch_up()
        return self.graph

    def node(self, node_id: str) -> GraphNode:
        return self.view().node(node_id)

    def parent(self, node_id: str) -> str | None:
        return self.view().parent(node_id)

    def children(self, node_id: str) -> list[str]:
        return self.view().children(node_id)

    def callers(self, node_id: str) -> list[str]:
        return self.view().callers(node_id)

    def callees(self, node_id: str) -> list[str]:
        return self.view().callees(node_id)

    def impact(self, node_id: str, depth: int = 3) -> Impact:
        return self.view().impact(node_id, depth)
