"""The hub's side of its node-state child (``hub/state/child.py``): start it, tell it when an
index pass begins and ends (one byte on its stdin; never blocks the hub), stop it."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

from remora_core.hub.state.child import BEGIN, END, UNCHANGED


class StateProcess:
    def __init__(self, root: Path, after: int | None) -> None:
        command = [sys.executable, "-m", "remora_core.hub.state.child", str(root), "--parent-pid", str(os.getpid())]
        if after is not None:
            command += ["--after", str(after)]
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        assert self.proc.stdin is not None
        self._fd = self.proc.stdin.fileno()
        flags = fcntl.fcntl(self._fd, fcntl.F_GETFL)
        fcntl.fcntl(self._fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _send(self, message: bytes) -> None:
        try:
            os.write(self._fd, message)
        except (BlockingIOError, BrokenPipeError, OSError):
            pass  # a full pipe: the child has messages to read; a dead child: nothing to tell

    def begin(self) -> None:
        """An index pass starts: the child starts no update until ``end``."""
        self._send(BEGIN)

    def end(self, changed: bool) -> None:
        """The pass committed; ``changed``: it appended TopologyChanged events."""
        self._send(END if changed else UNCHANGED)

    def stop(self, timeout: float) -> bool:
        """Close its stdin (it stops), kill it after ``timeout``. True when it exited in time."""
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return False
