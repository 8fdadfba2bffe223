"""Follow the event log from another process: everything after a given ``seq``, as it is committed.

A tailer owns a dedicated read connection and checks ``PRAGMA data_version`` (a cheap,
in-memory check that changes when any other connection commits); it reads rows only
when the version moved. Between checks it waits for a commit: on Linux an inotify watch
on the database's directory (``events.wakeup``) wakes it as the writer appends to the
WAL, and the check is repeated every ``poll_interval`` seconds only as a safety net
(0.25 s by default); elsewhere it sleeps ``poll_interval`` (10 ms by default) between
checks. Either way an idle tailer costs almost nothing.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Self

from remora_core.events.models import BaseEvent, event_from_json
from remora_core.events.store import last_seq, read_after
from remora_core.events.wakeup import CommitWatch, WakeSchedule, wait_for_commit
from remora_core.store.db import connect, database_path

DEFAULT_POLL_INTERVAL = 0.01  # without a commit watch
WATCHED_POLL_INTERVAL = 0.25  # with one: a safety net only
BATCH = 500


class EventTailer:
    """Yields events with ``seq > after`` in order, across processes. Not thread-safe; one per consumer."""

    def __init__(
        self,
        root_or_db: Path,
        *,
        after: int | None = 0,
        event_types: Sequence[str] | None = None,
        poll_interval: float | None = None,
    ) -> None:
        """``root_or_db`` is a project root or a ``.db`` path. ``after=None`` starts at the current end.
        ``poll_interval``: the longest wait between two checks (default: see the module)."""
        path = root_or_db if root_or_db.suffix == ".db" else database_path(root_or_db)
        self.watch = CommitWatch(path)  # before the first read: no commit can slip by
        self.connection: sqlite3.Connection = connect(path)
        self.event_types = list(event_types) if event_types else None
        if poll_interval is None:
            poll_interval = DEFAULT_POLL_INTERVAL if self.watch.fileno() is None else WATCHED_POLL_INTERVAL
        self.poll_interval = poll_interval
        self.schedule = WakeSchedule()
        self._version: int | None = None
        if after is None:
            after = last_seq(self.connection)
        self.position: int = after

    def close(self) -> None:
        self.connection.close()
        self.watch.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one step ------------------------------------------------------------------------
    def _changed(self) -> bool:
        version = self.connection.execute("PRAGMA data_version").fetchone()[0]
        if version == self._version:
            return False
        self._version = version
        return True

    def poll(self, limit: int = BATCH) -> list[BaseEvent]:
        """The events committed since the last call (at most ``limit``); never blocks.

        Reads only when the database changed since the last poll (or after a full batch)."""
        if not self._changed():
            return []
        # Every seq <= newest is committed (writers are serialised), so rows of other types
        # up to it can be skipped for good without missing a later commit.
        newest = last_seq(self.connection)
        if newest <= self.position:
            return []
        rows = read_after(
            self.connection, self.position, limit=limit, event_types=self.event_types, upto=newest
        )
        events = [event_from_json(event_type, payload, seq) for seq, event_type, payload in rows]
        self.schedule.found()
        if len(rows) == limit:
            self.position = rows[-1][0]
            self._version = None  # more may be waiting: read again next time
        else:
            self.position = newest
        return events

    # -- waiting -------------------------------------------------------------------------
    def _wait(self, seconds: float, stop: threading.Event | None = None) -> None:
        """Wait until a commit may be visible, ``seconds`` pass, or ``stop`` is set."""
        self.schedule.waited(self.watch.wait(self.schedule.timeout(seconds), stop))

    # -- sync ----------------------------------------------------------------------------
    def follow(
        self, *, timeout: float | None = None, stop: threading.Event | None = None
    ) -> Iterator[BaseEvent]:
        """Yield events as they arrive, until ``timeout`` seconds pass with no end, or ``stop``
        is set (noticed within ``poll_interval``)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while stop is None or not stop.is_set():
            batch = self.poll()
            yield from batch
            if batch:
                continue
            wait = self.poll_interval
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    return
            self._wait(wait, stop)

    def wait_for(self, predicate: object, *, timeout: float) -> BaseEvent | None:
        """The first event for which ``predicate(event)`` is true, or None after ``timeout`` seconds."""
        assert callable(predicate)
        deadline = time.monotonic() + timeout
        while True:
            for event in self.poll():
                if predicate(event):
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._wait(min(self.poll_interval, remaining))

    # -- async ---------------------------------------------------------------------------
    async def afollow(self, *, stop: asyncio.Event | None = None) -> AsyncIterator[BaseEvent]:
        """Async variant of :meth:`follow`; reads are tiny, so they run on the loop thread."""
        while stop is None or not stop.is_set():
            batch = self.poll()
            for event in batch:
                yield event
            if batch:
                continue
            await self._await_commit(stop)

    async def _await_commit(self, stop: asyncio.Event | None) -> None:
        seconds = self.schedule.timeout(self.poll_interval)
        self.schedule.waited(await wait_for_commit([self.watch], seconds, stop))
