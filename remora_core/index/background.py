"""One helper thread that runs a cold build's SQLite statements in order while the caller works
on: each job is meant to be one statement that SQLite runs without Python's lock (an index
build, an ``INSERT ... SELECT``), so the two threads overlap. The queue is bounded (a caller
faster than the writer waits instead of holding the whole tree's rows); the caller uses the
connection only after :meth:`SerialWriter.finish`."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

_DONE = None


class SerialWriter:
    """Jobs run one after another in a helper thread; the first failure stops the work (the rest
    is dropped, the caller is never blocked) and is raised by :meth:`finish`."""

    def __init__(self, depth: int = 2) -> None:
        self._jobs: queue.Queue[tuple[Callable[..., None], tuple[Any, ...]] | None] = queue.Queue(depth)
        self._failures: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, name="remora-cold-writer", daemon=True)
        self._thread.start()

    def submit(self, work: Callable[..., None], *args: Any) -> None:
        """Queue ``work(*args)``; waits while ``depth`` jobs are already queued."""
        self._jobs.put((work, args))

    def finish(self) -> None:
        """Wait for every queued job; raise the first failure."""
        self._jobs.put(_DONE)
        self._thread.join()
        if self._failures:
            raise self._failures[0]

    def _run(self) -> None:
        while (job := self._jobs.get()) is not _DONE:
            if self._failures:
                continue  # drained, so that submit never waits on a dead writer
            work, args = job
            try:
                work(*args)
            except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
                self._failures.append(error)
