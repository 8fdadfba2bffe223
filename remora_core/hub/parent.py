"""Serialise index passes of one root across processes (``.remora/index.lock``, blocking flock).

Two indexers running at once could both write anchors into the same files; the hub's own
passes (in-process and in its catch-up child) take this lock. Other indexers (``remora
index``) should take it too.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from remora_core.hub.paths import state_dir

INDEX_LOCK_FILE = "index.lock"
PR_SET_PDEATHSIG = 1


@contextmanager
def index_lock(root: Path) -> Iterator[None]:
    state_dir(root).mkdir(parents=True, exist_ok=True)
    fd = os.open(state_dir(root) / INDEX_LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def die_with_parent(parent_pid: int) -> None:
    """Linux: have the kernel SIGKILL this process when ``parent_pid`` (our parent) dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
