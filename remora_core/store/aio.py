"""The async face of the stores: one aiosqlite connection whose thread runs the sync queries.

An asyncio loop must never wait on SQLite: a write lock held by another process (the hub
indexing a big tree holds it for seconds) makes ``BEGIN IMMEDIATE`` wait up to the busy
timeout, and a sync call would stall every coroutine of the loop meanwhile (in the Neovim
host, its RPC replies too). ``AsyncDatabase`` opens its connection with aiosqlite, which runs
it in a thread of its own: the busy wait happens there and the loop keeps running.

Both faces share one API. Every query of the stores is a sync function of a
``sqlite3.Connection`` (``TriggerQueue.claim``, ``activation.enter``, ``EventLog.append``, ...);
the sync face calls it with its connection (the CLI, the hub indexer), the async face awaits
``db.run(function, *args)``, which calls it with ``db.connection`` on aiosqlite's thread:

    db = await AsyncDatabase.open(path)
    queue = TriggerQueue(db.connection, EventLog(db.connection))   # bound to the db thread
    claimed = await db.run(queue.claim, runner_id, limit=4, lease_seconds=60)
    await db.close()

Objects bound to ``db.connection`` may only be used through ``db.run`` (sqlite3 checks it).
``run`` queues the call on aiosqlite's own job queue (``Connection._execute``, what every
aiosqlite method uses; ``tests/test_store_async.py`` would catch a change of it).
The connection is opened by ``store.db.connect`` on that thread (same pragmas and
migrations as every other connection): SQLite touches the file, never Python's ``open()``,
so no other connection of this process loses its POSIX locks.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import aiosqlite

from remora_core.store.db import connect

P = ParamSpec("P")
T = TypeVar("T")
CHUNK_ROWS = 256


class AsyncDatabase:
    """One project database for one event loop; its queries run on aiosqlite's thread."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._aio = connection
        self.path = path
        self.loop = asyncio.get_running_loop()

    @classmethod
    async def open(cls, path: Path, *, create: bool = False) -> AsyncDatabase:
        """Connect to the database at ``path`` (opened and migrated on the connection's thread)."""
        connection = aiosqlite.Connection(lambda: connect(path, create=create), CHUNK_ROWS)
        # A connection nobody closed must not keep the process alive at exit.
        connection._thread.daemon = True
        await connection
        return cls(connection, path)

    @property
    def connection(self) -> sqlite3.Connection:
        """The sqlite3 connection of the db thread: bind store objects to it, use them via ``run``."""
        return self._aio._conn

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``function(*args, **kwargs)`` on the db thread (where SQLite may wait for a lock)."""
        result: T = await self._aio._execute(function, *args, **kwargs)
        return result

    async def fetchall(self, sql: str, parameters: tuple[Any, ...] | list[Any] = ()) -> list[tuple[Any, ...]]:
        rows = await self._aio.execute_fetchall(sql, parameters)
        return [tuple(row) for row in rows]

    async def close(self) -> None:
        try:
            await self._aio.close()
        except ValueError:
            pass  # already closed

    def close_soon(self) -> None:
        """Close without awaiting (from sync code, or when the loop that opened it is gone)."""
        self._aio.stop()
