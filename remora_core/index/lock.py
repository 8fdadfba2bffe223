"""Serialise index passes of one root across processes (``.remora/index.lock``, blocking flock).

Two indexers running at once (the hub and ``remora index``, or the hub's catch-up child) could
both write anchors into the same files; every ``Indexer.index`` call takes this lock.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from remora_core.config import CONFIG_DIR

INDEX_LOCK_FILE = "index.lock"


@contextmanager
def index_lock(root: Path) -> Iterator[None]:
    """Hold the project's index lock (waits for another process's pass to finish)."""
    directory = root / CONFIG_DIR
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / INDEX_LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock
