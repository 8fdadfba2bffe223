"""Serialise index passes of one root across processes (``.remora/index.lock``, blocking flock).

Two indexers running at once (the hub and ``remora index``, or the hub's catch-up child) could
both write anchors into the same files; every ``Indexer.index`` call takes this lock. The
holder writes its pid into the file; a process that has to wait says so on stderr, naming the
holder. The lock's descriptor is registered here so that forked parser workers close their
copy at start (``close_inherited_locks``): only the process that took the lock holds it, and a
worker orphaned by a ``kill -9`` of its parent can never keep the next pass waiting.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from remora_core.errors import ProjectError
from remora_core.fileio import PRIVATE_FILE_MODE, state_dir

INDEX_LOCK_FILE = "index.lock"
_held: set[int] = set()  # descriptors of the index locks this process holds


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 64, 0).decode("ascii", errors="replace").strip()
    except OSError:
        return "another process"
    return f"pid {text}" if text.isdigit() else "another process"


def _say(message: str) -> None:
    print(f"remora: {message}", file=sys.stderr, flush=True)


@contextmanager
def index_lock(root: Path, on_wait: Callable[[str], None] | None = _say) -> Iterator[None]:
    """Hold the project's index lock (waits for another process's pass to finish; ``on_wait``
    is told once what it waits for)."""
    path = state_dir(root) / INDEX_LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    except OSError as error:
        raise ProjectError(f"cannot open the index lock {str(path)!r}: {error.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait(f"waiting for the index lock {str(path)!r}, held by {_holder(fd)} (an index pass)")
            started = time.monotonic()
            fcntl.flock(fd, fcntl.LOCK_EX)
            if on_wait is not None:
                on_wait(f"got the index lock after {time.monotonic() - started:.1f} s")
        _held.add(fd)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        except OSError:
            pass  # the pid is only informative
        yield
    finally:
        _held.discard(fd)
        os.close(fd)  # releases the lock


def close_inherited_locks() -> None:
    """In a forked child: close the copies of the parent's index-lock descriptors, so that the
    child does not hold the lock (flock locks belong to the open file, shared by a fork)."""
    for fd in list(_held):
        try:
            os.close(fd)
        except OSError:
            pass
    _held.clear()
