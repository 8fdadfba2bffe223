"""Stopping the hub in the middle of its catch-up pass: fast, and nothing is lost or corrupted."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from remora_core.hub import hub_status
from tests.test_hub import HUB, kill, wait_state


def _many_files(count: int, functions: int) -> dict[str, str | bytes]:
    body = "".join(
        f"def f{n}(x):\n    return g{n}(x) + {n}\n\n\ndef g{n}(x):\n    return x\n\n\n"
        for n in range(functions)
    )
    return {
        f"gen/m{index}.py": f"from gen.m{(index + 1) % count} import f0\n\n\n{body}" for index in range(count)
    }


def _wait_catch_up_child(pid: int, timeout: float = 20.0) -> None:
    """Until the hub ``pid`` has a child process (its catch-up ``--once`` pass; Linux /proc)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    deadline = time.monotonic() + timeout
    while not children.read_text().split():
        if time.monotonic() > deadline:
            raise AssertionError(f"hub {pid} started no catch-up child within {timeout} s")
        time.sleep(0.01)


def test_sigint_and_kill9_during_catch_up(project: Callable[[dict[str, str | bytes]], Path]) -> None:
    root = project(_many_files(300, 30))
    out = root.parent / "hub-test.log"
    for signum in (signal.SIGINT, signal.SIGKILL):
        with open(out, "a") as log:
            proc = subprocess.Popen([*HUB, "--watch", str(root)], stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_state(root, "indexing", proc)
            _wait_catch_up_child(proc.pid)  # the catch-up pass is under way in its child
            sent = time.monotonic()
            proc.send_signal(signum)
            proc.wait(5)
            assert time.monotonic() - sent < 1.0
            assert not hub_status(root).running
        finally:
            kill(proc)
    with open(out, "a") as log:
        proc = subprocess.Popen([*HUB, "--watch", str(root)], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_state(root, "watching", proc, timeout=60)
    finally:
        proc.terminate()
        proc.wait(5)
    conn = sqlite3.connect(root / ".remora/remora.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM files").fetchone()[0] == 300
    assert conn.execute("SELECT count(*) FROM nodes WHERE status = 'active'").fetchone()[0] == 300 * 61
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()
    assert all("# rm_" in (root / f"gen/m{index}.py").read_text() for index in range(300))
