"""``EventFeed``: one tailer of the event store fanned out to many stream clients.

The server follows the store with the engine's ``EventTailer`` (so events written by the hub,
``remora run``, Neovim or this server arrive alike) and pushes each event, rendered once, into
every subscriber's bounded queue. ``put`` never blocks: a subscriber whose queue is full is
dropped from the feed and its memory released; its stream then tells the client to resync from
its last id (``event: resync``) and ends, so a slow client never holds up the others.

Resume without gap or duplicate (``events``): subscribe first, then replay the store from the
client's ``Last-Event-ID``, then take live events with ``seq`` above the last one sent.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from remora_core.events.models import BaseEvent
from remora_core.events.tail import EventTailer

REPLAY_PAGE = 500
KEEPALIVE_S = 15.0
FLUSH_GAP_S = 0.01  # wake stream clients at most this often: under a burst each write carries
# several events (one socket write per client per wake is most of the fan-out's CPU); an event
# that follows a quiet moment is delivered at once


@dataclass(slots=True)
class Item:
    """One event as every subscriber sees it (rendered once)."""

    seq: int
    envelope: dict[str, Any]
    data: str  # the envelope as JSON
    nodes: tuple[str, ...]  # the node ids a ``?node=`` filter matches
    sse: bytes  # the SSE message (``id:`` + ``data:``), encoded once for every client


def item_of(envelope: dict[str, Any]) -> Item:
    nodes = tuple(
        value for key in ("agent_id", "to_agent", "from_agent") if isinstance(value := envelope.get(key), str)
    )
    data = json.dumps(envelope, separators=(",", ":"))
    return Item(envelope["seq"], envelope, data, nodes, f"id: {envelope['seq']}\ndata: {data}\n\n".encode())


@dataclass(eq=False)
class Subscriber:
    limit: int
    items: deque[Item] = field(default_factory=deque)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    overflowed: bool = False

    def put(self, item: Item, *, wake: bool = True) -> bool:
        """Queue ``item`` (and wake the stream unless ``wake`` is False: the feed wakes it later);
        False (and the queue emptied, the stream woken) when the client fell ``limit`` behind."""
        if len(self.items) >= self.limit:
            self.overflowed = True
            self.items.clear()
            self.ready.set()
            return False
        self.items.append(item)
        if wake:
            self.ready.set()
        return True

    async def take(self, timeout: float) -> list[Item]:
        """Every queued item (waiting up to ``timeout`` for one); [] on timeout or overflow."""
        if not self.items and not self.overflowed:
            self.ready.clear()
            # A timer handle, not asyncio.wait_for (which makes a task per wait: the hot path).
            timer = asyncio.get_running_loop().call_later(timeout, self.ready.set)
            try:
                await self.ready.wait()
            finally:
                timer.cancel()
        batch = list(self.items)
        self.items.clear()
        return batch


class Resync(Exception):
    """The subscriber fell too far behind: resume from ``last_id``."""

    def __init__(self, last_id: int) -> None:
        super().__init__(f"client fell behind after event {last_id}")
        self.last_id = last_id


class EventFeed:
    """Follows the project's event store and fans events out to subscribers."""

    def __init__(
        self,
        root: Path,
        render: Callable[[BaseEvent], dict[str, Any]],
        replay: Callable[[int, str | None, int], list[BaseEvent]],
        *,
        queue_size: int = 1000,
    ) -> None:
        self.root = root
        self.render = render
        self.replay = replay
        self.queue_size = queue_size
        self.subscribers: set[Subscriber] = set()
        self.listeners: list[Callable[[Item], None]] = []
        self.position = 0
        self.dropped = 0  # subscribers told to resync
        self.closed = False
        self.flush_gap = FLUSH_GAP_S
        self._flush: asyncio.Handle | None = None
        self._flushed_at = 0.0

    def close(self) -> None:
        """End every stream (server shutdown): their generators return at their next wake-up."""
        self.closed = True
        for subscriber in self.subscribers:
            subscriber.ready.set()

    def subscribe(self) -> Subscriber:
        subscriber = Subscriber(self.queue_size)
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def publish(self, item: Item) -> None:
        self.position = max(self.position, item.seq)
        for listener in self.listeners:
            listener(item)
        for subscriber in list(self.subscribers):
            if not subscriber.put(item, wake=False):
                self.subscribers.discard(subscriber)
                self.dropped += 1
        if self._flush is None:
            loop = asyncio.get_running_loop()
            due = self._flushed_at + self.flush_gap
            if due <= loop.time():
                self._flush = loop.call_soon(self._wake)
            else:
                self._flush = loop.call_at(due, self._wake)

    def _wake(self) -> None:
        self._flush = None
        self._flushed_at = asyncio.get_running_loop().time()
        for subscriber in self.subscribers:
            if subscriber.items:
                subscriber.ready.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Tail the store from its current end until ``stop`` is set."""
        tailer = EventTailer(self.root, after=None)
        self.position = tailer.position
        try:
            async for event in tailer.afollow(stop=stop):
                self.publish(item_of(self.render(event)))
        finally:
            tailer.close()

    async def events(
        self, after: int, *, node: str | None = None, keepalive: float = KEEPALIVE_S, live: bool = True
    ) -> AsyncIterator[list[Item]]:
        """Every event with ``seq > after`` (about ``node`` if given), in batches: the replay, then
        live ones (not with ``live=False``). An empty batch means ``keepalive`` seconds passed
        without one. Raises Resync when the client fell too far behind."""
        subscriber = self.subscribe()
        last = after
        try:
            while True:  # replay (the subscriber queues live events meanwhile)
                page = self.replay(last, node, REPLAY_PAGE)
                if page:
                    items = [item_of(self.render(event)) for event in page]
                    last = items[-1].seq
                    yield items
                if len(page) < REPLAY_PAGE:
                    break
            while live and not self.closed:
                batch = await subscriber.take(keepalive)
                if self.closed:
                    return
                if subscriber.overflowed:
                    raise Resync(last)
                fresh = []
                for item in batch:
                    if item.seq <= last or (node is not None and node not in item.nodes):
                        continue
                    last = item.seq
                    fresh.append(item)
                if fresh or not batch:
                    yield fresh
        finally:
            self.unsubscribe(subscriber)
