"""What a caller can learn about a root's hub without talking to it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from remora_core.hub.lock import lock_held, pid_alive, read_pid_info
from remora_core.hub.paths import log_path


@dataclass(slots=True)
class HubStatus:
    root: str
    running: bool
    pid: int | None = None
    state: str | None = None  # starting | indexing | watching | stopping
    mode: str | None = None
    started_at: float | None = None
    log_path: str = ""
    stale_pid: int | None = None  # a pid file left by a hub that died

    def as_json(self) -> dict[str, object]:
        return asdict(self)

    def describe(self) -> str:
        if self.running:
            return f"remora-hub for {self.root!r} is running (pid {self.pid}, {self.state}); log {self.log_path!r}"
        extra = f" (stale pid file of dead pid {self.stale_pid})" if self.stale_pid else ""
        return f"remora-hub for {self.root!r} is not running{extra}"


def hub_status(root: Path) -> HubStatus:
    root = root.resolve()
    running = lock_held(root)
    info = read_pid_info(root)
    status = HubStatus(str(root), running, log_path=str(log_path(root)))
    if running and (info is None or not pid_alive(info.pid)):
        # The lock is taken but the pid file is a dead hub's (or not written yet): a new
        # hub is starting and has not written its own pid file so far.
        status.state = "starting"
    elif info is not None:
        if running:
            status.pid, status.state, status.mode, status.started_at = (
                info.pid,
                info.state,
                info.mode,
                info.started_at,
            )
        else:
            status.stale_pid = info.pid
    return status
