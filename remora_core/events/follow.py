"""Follow the event logs of several project roots on one asyncio loop: the one path by which
events reach a long-lived face (the Neovim host pushes them to Lua), whichever process wrote
them (this one's agent runner, the hub, ``remora run`` in another terminal).

Each root gets an :class:`EventTailer` (its own read connection, starting at the log's current
end; at its start when the database is created later) once its database exists; one wait
covers every root's commit watch. Without inotify (or while a root has no database yet) the
loop checks every ``POLL_INTERVAL_S``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from remora_core.events.models import BaseEvent
from remora_core.events.tail import EventTailer
from remora_core.events.wakeup import WakeSchedule, wait_for_commit
from remora_core.store.db import database_path

POLL_INTERVAL_S = 0.03  # when a root's database cannot be watched (no inotify, not created yet)
WATCHED_POLL_S = 1.0  # with commit watches on every root: a safety net only
RETRY_S = 1.0  # how often a root without a database (or a working watch) is tried again

OnEvents = Callable[[Path, list[BaseEvent]], None]
OnError = Callable[[Path, Exception], None]


class RootsFollower:
    """Calls ``on_events(root, events)`` with what each followed root's log gained, in order.
    A root whose log cannot be read is reported to ``on_error`` once and dropped."""

    def __init__(self, on_events: OnEvents, on_error: OnError) -> None:
        self.on_events = on_events
        self.on_error = on_error
        self.tailers: dict[Path, EventTailer] = {}
        self.waiting: dict[Path, int | None] = {}  # roots not tailed yet -> where to start
        self.retried = 0.0
        self.schedule = WakeSchedule()
        self._changed: asyncio.Event | None = None

    def follow(self, root: Path) -> bool:
        """Follow ``root`` from the current end of its log; False when it already was."""
        if root in self.tailers or root in self.waiting:
            return False
        self.waiting[root] = None if database_path(root).exists() else 0  # a new log: all of it
        self._open(root)
        if self._changed is not None:
            self._changed.set()
        return True

    def roots(self) -> set[Path]:
        return set(self.tailers) | set(self.waiting)

    def _open(self, root: Path) -> None:
        if not database_path(root).exists():
            return
        after = self.waiting.pop(root, None)
        try:
            self.tailers[root] = EventTailer(root, after=after)
        except Exception as error:  # noqa: BLE001 -- a damaged database must not kill the loop
            self.on_error(root, error)

    def _retry(self) -> None:
        now = time.monotonic()
        if now - self.retried < RETRY_S:
            return
        self.retried = now
        for root in list(self.waiting):
            self._open(root)
        for root, tailer in list(self.tailers.items()):
            if tailer.watch.fileno() is None:  # e.g. the watch limit was reached: try a new one
                tailer.close()
                self.tailers.pop(root)
                self.waiting[root] = tailer.position
                self._open(root)

    def poll(self) -> bool:
        """Deliver what every root's log gained since the last call; True when anything did."""
        found = False
        for root, tailer in list(self.tailers.items()):
            try:
                events = tailer.poll()
            except Exception as error:  # noqa: BLE001 -- a locked or damaged db must not kill the loop
                tailer.close()
                self.tailers.pop(root)
                self.on_error(root, error)
                continue
            if events:
                found = True
                self.on_events(root, events)
        return found

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Follow until ``stop`` is set (or the task is cancelled)."""
        self._changed = asyncio.Event()
        try:
            while stop is None or not stop.is_set():
                tailers = self.tailers.values()
                watched = not self.waiting and all(t.watch.fileno() is not None for t in tailers)
                if not watched:
                    self._retry()
                seconds = self.schedule.timeout(WATCHED_POLL_S if watched else POLL_INTERVAL_S)
                watches = [tailer.watch for tailer in self.tailers.values()]
                self.schedule.waited(await wait_for_commit(watches, seconds, self._changed))
                self._changed.clear()
                if self.poll():
                    self.schedule.found()
        finally:
            self._changed = None

    def close(self) -> None:
        for tailer in self.tailers.values():
            tailer.close()
        self.tailers.clear()
        self.waiting.clear()
