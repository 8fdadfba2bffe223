"""Wake a tailer when another process commits to the database, instead of polling fast.

Every commit appends to the database's ``-wal`` file (a checkpoint writes the database
file itself), so an inotify watch on the database's directory sees each commit as it
happens. On Linux ``CommitWatch`` sets one up; elsewhere, or when inotify is unavailable
(no libc symbol, watch limit reached), ``fileno()`` is None and tailers poll instead.

The watch exists before the tailer's first read, so a commit that lands between a read
and the next wait is never missed: its notification waits in the kernel's queue.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
import select
import struct
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

IN_MODIFY = 0x002
IN_CLOSE_WRITE = 0x008
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
_MASK = IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of name
_READ_SIZE = 64 * 1024
# A commit's WAL writes wake a reader a moment before SQLite publishes the commit: when a
# wake finds nothing new, look again after at most these delays (a further write wakes the
# reader sooner) before going back to a long wait.
RECHECKS_AFTER_WAKE = (0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064)


def _inotify_fd(directory: Path) -> int | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    except (OSError, AttributeError):
        return None
    if fd < 0:
        return None
    if libc.inotify_add_watch(fd, os.fsencode(directory), _MASK) < 0:
        os.close(fd)
        return None
    return fd


class CommitWatch:
    """Tells whether the database at ``db_path`` may have been written since the last call."""

    def __init__(self, db_path: Path) -> None:
        self.names = {os.fsencode(db_path.name), os.fsencode(db_path.name + "-wal")}
        self._fd = _inotify_fd(db_path.parent)

    def fileno(self) -> int | None:
        """The inotify descriptor to wait on (readable after a write), or None: poll."""
        return self._fd

    def drain(self) -> bool:
        """Consume the queued notifications; True when one was about the database."""
        if self._fd is None:
            return True
        relevant = False
        while True:
            try:
                data = os.read(self._fd, _READ_SIZE)
            except (BlockingIOError, InterruptedError):
                return relevant
            except OSError:
                return True
            offset = 0
            while offset + _EVENT.size <= len(data):
                _, _, _, length = _EVENT.unpack_from(data, offset)
                start = offset + _EVENT.size
                if data[start : start + length].rstrip(b"\0") in self.names:
                    relevant = True
                offset = start + length

    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Block until the database is written (True) or ``timeout`` seconds pass (False).
        Without inotify it just waits ``timeout`` out (``stop`` ends that wait early)."""
        if self._fd is None:
            if stop is None:
                time.sleep(timeout)
            else:
                stop.wait(timeout)
            return False
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            ready, _, _ = select.select([self._fd], [], [], remaining)
            if ready and self.drain():
                return True

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class WakeSchedule:
    """How long a reader's next wait for a commit may last: ``longest``, except right after
    a wake that found nothing new, when the RECHECKS_AFTER_WAKE delays come first (the commit
    may not have been published yet). Call ``waited`` after each wait, ``found`` after a read
    that returned something."""

    def __init__(self) -> None:
        self._pending: list[float] = []

    def timeout(self, longest: float) -> float:
        return min(self._pending[0], longest) if self._pending else longest

    def waited(self, woke: bool) -> None:
        if self._pending:
            self._pending.pop(0)
        elif woke:
            self._pending = list(RECHECKS_AFTER_WAKE)

    def found(self) -> None:
        self._pending = []


async def wait_for_commit(
    watches: Sequence[CommitWatch], seconds: float, stop: asyncio.Event | None = None
) -> bool:
    """On the running loop: wait until one of ``watches`` sees its database written (True),
    ``seconds`` pass or ``stop`` is set (False). Watches without inotify are just waited out."""
    loop = asyncio.get_running_loop()
    woke = asyncio.Event()
    fds = [fd for watch in watches if (fd := watch.fileno()) is not None]
    for fd in fds:
        loop.add_reader(fd, woke.set)
    waiters = [asyncio.ensure_future(woke.wait())]
    if stop is not None:
        waiters.append(asyncio.ensure_future(stop.wait()))
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        for fd in fds:
            loop.remove_reader(fd)
    if not woke.is_set():
        return False
    drained = [watch.drain() for watch in watches if watch.fileno() is not None]  # every queue, no short cut
    return any(drained)
