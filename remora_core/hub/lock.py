"""One hub per project root: an ``flock`` on ``.remora/hub.lock`` plus a JSON pid file.

The kernel drops an ``flock`` when its holder dies (even by ``kill -9``), so a dead hub
never holds the lock; its pid file is then stale and the next hub simply overwrites it.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from remora_core.errors import ProjectError
from remora_core.fileio import PRIVATE_FILE_MODE, pid_alive  # noqa: F401 (hub.status imports it from here)
from remora_core.fileio import state_dir as create_state_dir
from remora_core.hub.paths import lock_path, pid_path

ACQUIRE_RETRY_S = 0.3  # a status probe holds a shared lock for microseconds: retry past it


@dataclass(slots=True)
class PidInfo:
    pid: int
    root: str
    mode: str
    state: str  # starting | indexing | watching | stopping
    started_at: float
    updated_at: float


def read_pid_info(root: Path) -> PidInfo | None:
    try:
        data = json.loads(pid_path(root).read_text(encoding="utf-8"))
        return PidInfo(**data)
    except (OSError, ValueError, TypeError):
        return None


def lock_held(root: Path) -> bool:
    """True while some process holds the hub lock of ``root``."""
    path = lock_path(root)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return True
        raise
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


class HubLock:
    """The exclusive hub lock of one root, held for the life of the hub process."""

    def __init__(self, root: Path, mode: str) -> None:
        self.root = root
        self.mode = mode
        self.fd: int | None = None
        self.info: PidInfo | None = None
        self.previous: PidInfo | None = None  # a stale pid file that was taken over

    def acquire(self) -> bool:
        """Take the lock; False when another live hub holds it."""
        create_state_dir(self.root)  # 0700; a read-only tree is one clear ProjectError
        try:
            fd = os.open(lock_path(self.root), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE_MODE)
        except OSError as error:
            raise ProjectError(f"cannot open the hub lock {str(lock_path(self.root))!r}: {error.strerror}") from None
        deadline = time.monotonic() + ACQUIRE_RETRY_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(0.02)
        self.fd = fd
        previous = read_pid_info(self.root)
        if previous is not None and previous.pid != os.getpid():
            self.previous = previous
        now = time.time()
        self.info = PidInfo(os.getpid(), str(self.root), self.mode, "starting", now, now)
        self._write()
        return True

    def set_state(self, state: str) -> None:
        if self.info is None:
            return
        self.info.state = state
        self.info.updated_at = time.time()
        self._write()

    def _write(self) -> None:
        assert self.info is not None
        target = pid_path(self.root)
        temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with open(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, PRIVATE_FILE_MODE), "w") as handle:
            handle.write(json.dumps(asdict(self.info)))
        os.replace(temp, target)

    def release(self) -> None:
        if self.fd is None:
            return
        current = read_pid_info(self.root)
        if current is not None and current.pid == os.getpid():
            try:
                pid_path(self.root).unlink()
            except FileNotFoundError:
                pass
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None
