"""Starting, finding and stopping a root's hub from any process (the plugin, the CLI, tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from remora_core.errors import RemoraError
from remora_core.fileio import PRIVATE_FILE_MODE
from remora_core.fileio import state_dir as create_state_dir
from remora_core.hub.lock import lock_held, read_pid_info
from remora_core.hub.paths import log_path
from remora_core.hub.status import HubStatus, hub_status

LOG_ROTATE_BYTES = 5_000_000
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0


class HubError(RemoraError):
    """The hub could not be started or stopped."""


def _rotate_log(path: Path) -> None:
    try:
        if path.stat().st_size > LOG_ROTATE_BYTES:
            os.replace(path, path.with_name(path.name + ".1"))
    except FileNotFoundError:
        pass


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def spawn_hub(root: Path, extra_args: list[str] | None = None) -> subprocess.Popen[bytes]:
    """Start ``remora-hub --watch ROOT`` detached: new session, stdin from /dev/null, output to the log."""
    root = root.resolve()
    create_state_dir(root)  # 0700; a read-only tree is one clear ProjectError
    log = log_path(root)
    try:
        _rotate_log(log)
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    except OSError as error:
        raise HubError(f"cannot open the hub log {str(log)!r}: {error.strerror}") from None
    with open(fd, "ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "remora_core.cli.hub", "--watch", str(root), *(extra_args or [])],
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            cwd=str(root),
        )


def ensure_hub(root: Path, *, timeout: float = START_TIMEOUT_S) -> HubStatus:
    """Ensure the hub is running for ``root``: return at once if it runs, else spawn it and
    return as soon as it holds the lock (its catch-up pass may still be running)."""
    root = root.resolve()
    if not root.is_dir():
        raise HubError(f"project root {str(root)!r} is not a directory")
    status = hub_status(root)
    if status.running:
        return status
    child = spawn_hub(root)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = hub_status(root)
        if status.running and status.pid is not None:
            return status
        code = child.poll()
        if code is not None:
            status = hub_status(root)
            if status.running:  # another caller's hub won the race: fine
                return status
            raise HubError(
                f"remora-hub for {str(root)!r} exited with code {code} at start; log {str(log_path(root))!r}:\n"
                + _tail(log_path(root))
            )
        time.sleep(0.02)
    raise HubError(
        f"remora-hub for {str(root)!r} did not start within {timeout:.0f}s; log {str(log_path(root))!r}"
    )


def stop_hub(root: Path, *, timeout: float = STOP_TIMEOUT_S, force: bool = True) -> HubStatus:
    """SIGTERM the running hub and wait until it released the lock (SIGKILL after ``timeout``
    when ``force``). Returns the final status; not running is not an error."""
    root = root.resolve()
    status = hub_status(root)
    if not status.running:
        return status
    info = read_pid_info(root)
    if info is None:
        raise HubError(f"remora-hub for {str(root)!r} holds the lock but wrote no pid file")
    _signal(info.pid, signal.SIGTERM)
    if _wait_released(root, timeout):
        return hub_status(root)
    if force:
        _signal(info.pid, signal.SIGKILL)
        if _wait_released(root, 2.0):
            return hub_status(root)
    raise HubError(f"remora-hub pid {info.pid} for {str(root)!r} did not stop within {timeout:.0f}s")


def _signal(pid: int, signum: signal.Signals) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _wait_released(root: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not lock_held(root):
            return True
        time.sleep(0.01)
    return not lock_held(root)
