"""The real ``remora-hub`` process: watching, events through the tailer, lock, signals, crash recovery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from remora_core.events import EventTailer, TopologyChangedEvent
from remora_core.hub import ensure_hub, hub_status, stop_hub
from remora_core.hub.paths import lock_path, log_path, pid_path
from tests.conftest import ids_by_qualname, nodes_of, write_files

HUB = [sys.executable, "-m", "remora_core.cli.hub"]
EVENT_TIMEOUT = 15.0


def start_hub(root: Path, *extra: str) -> subprocess.Popen[str]:
    out = open(root.parent / "hub-test.log", "a")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [*HUB, "--watch", str(root), *extra], stdout=out, stderr=subprocess.STDOUT, text=True
    )
    out.close()
    wait_state(root, "watching", proc)
    return proc


def wait_state(
    root: Path, state: str, proc: subprocess.Popen[str] | None = None, timeout: float = 20.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = hub_status(root)
        if status.running and status.state == state:
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(
                f"hub exited with {proc.returncode}: {(root.parent / 'hub-test.log').read_text()}"
            )
        time.sleep(0.02)
    raise AssertionError(f"hub never reached {state!r}: {hub_status(root)}")


class Seen:
    """Everything a tailer delivered, so that waiting for one event never drops another."""

    def __init__(self, tailer: EventTailer) -> None:
        self.tailer = tailer
        self.events: list[TopologyChangedEvent] = []
        self.used: set[int] = set()

    def wait(
        self, path: str, predicate: Callable[[TopologyChangedEvent], bool] = lambda e: True
    ) -> TopologyChangedEvent:
        deadline = time.monotonic() + EVENT_TIMEOUT
        while True:
            for event in self.events:
                if event.seq not in self.used and event.file_path == path and predicate(event):
                    self.used.add(event.seq or 0)
                    return event
            if time.monotonic() > deadline:
                raise AssertionError(f"no TopologyChanged event for {path!r}; saw {self.events}")
            self.events.extend(e for e in self.tailer.poll() if isinstance(e, TopologyChangedEvent))
            time.sleep(0.01)


def topology(
    seen: Seen, path: str, predicate: Callable[[TopologyChangedEvent], bool] = lambda e: True
) -> TopologyChangedEvent:
    return seen.wait(path, predicate)


def kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(5)


@pytest.fixture
def root(project: Callable[[dict[str, str | bytes]], Path]) -> Iterator[Path]:
    made = project(
        {
            "pkg/__init__.py": "",
            "pkg/a.py": """
                def alpha():
                    return 1

                def beta():
                    return alpha()
                """,
            "app.py": """
                from pkg.a import beta

                def main():
                    return beta()
                """,
            ".gitignore": "ignored/\n",
        }
    )
    yield made
    if hub_status(made).running:
        stop_hub(made, timeout=3)


def test_watch_emits_events_for_edits_deletes_and_renames(root: Path) -> None:
    proc = start_hub(root)
    try:
        ids = ids_by_qualname(root, "pkg/a.py")
        with EventTailer(root, after=None) as raw_tailer:
            tailer = Seen(raw_tailer)
            # edit: a new function
            with open(root / "pkg/a.py", "a") as handle:
                handle.write("\ndef gamma():\n    return 3\n")
            event = topology(tailer, "pkg/a.py", lambda e: bool(e.added_nodes))
            gamma = ids_by_qualname(root, "pkg/a.py")["gamma"]
            assert event.added_nodes == [gamma]
            # atomic-rename save of a changed body (what editors do)
            text = (root / "pkg/a.py").read_text().replace("return 1", "return 11")
            temp = root / "pkg/.a.py.swp"
            temp.write_text(text)
            os.replace(temp, root / "pkg/a.py")
            event = topology(tailer, "pkg/a.py", lambda e: bool(e.changed_nodes))
            assert ids["alpha"] in event.changed_nodes and not event.added_nodes
            # ignored paths and non-Python files produce nothing
            write_files(
                root, {"ignored/x.py": "def x():\n    pass\n", "notes.txt": "hi", ".venv/lib/v.py": "x = 1\n"}
            )
            # rename: ids move with the code
            os.rename(root / "pkg/a.py", root / "pkg/b.py")
            moved = topology(tailer, "pkg/b.py")
            assert set(moved.added_nodes) >= {ids["alpha"], ids["beta"], gamma}
            topology(tailer, "pkg/a.py", lambda e: e.deleted)
            # The watcher may deliver the two halves of the rename in one batch (the ids are
            # "removed" from a.py) or in two, in either order (orphaned by a.py's pass and revived
            # by b.py's, or moved by b.py's pass first): either way the ids live on in b.py.
            moved_ids = {ids["alpha"], ids["beta"], gamma}
            assert ids_by_qualname(root, "pkg/b.py")["alpha"] == ids["alpha"]
            assert {row.id for row in nodes_of(root, "pkg/b.py")} >= moved_ids  # active
            assert nodes_of(root, "pkg/a.py") == []
            # delete: nodes orphaned
            main_ids = ids_by_qualname(root, "app.py")
            (root / "app.py").unlink()
            gone = topology(tailer, "app.py", lambda e: e.deleted)
            assert set(gone.orphaned_nodes) == set(main_ids.values())
            assert {row.status for row in nodes_of(root, "app.py", active_only=False)} == {"orphaned"}
            # a new directory with a module in it
            write_files(root, {"sub/deep/new.py": "def fresh():\n    return 0\n"})
            # the barrier: this event comes after every change written before it (the ignored ones too)
            topology(tailer, "sub/deep/new.py", lambda e: bool(e.added_nodes))
            for event in [*tailer.events, *raw_tailer.poll()]:
                assert not (
                    isinstance(event, TopologyChangedEvent)
                    and event.file_path.startswith(("ignored/", ".venv/"))
                )
        assert not any(row for row in nodes_of(root, "ignored/x.py", active_only=False))
    finally:
        kill(proc)


def test_second_hub_exits_zero_reporting_the_first_and_sigterm_is_fast(root: Path) -> None:
    proc = start_hub(root)
    try:
        second = subprocess.run(
            [*HUB, "--watch", str(root)], capture_output=True, text=True, timeout=30, check=False
        )
        assert second.returncode == 0
        assert f"pid {proc.pid}" in second.stdout and "running" in second.stdout
        status = subprocess.run(
            [*HUB, "status", str(root), "--json"], capture_output=True, text=True, timeout=30, check=False
        )
        assert status.returncode == 0 and f'"pid": {proc.pid}' in status.stdout
        # background work: the hub runs niced ([hub] nice, 10), field 19 of /proc/PID/stat
        niceness = int(Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
        assert niceness == max(10, os.nice(0))
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(5)
        assert time.monotonic() - sent < 1.0
        assert proc.returncode == 0
        assert not hub_status(root).running and not pid_path(root).exists()
        stopped = subprocess.run(
            [*HUB, "status", str(root)], capture_output=True, text=True, timeout=30, check=False
        )
        assert stopped.returncode == 3 and "not running" in stopped.stdout
    finally:
        kill(proc)


def test_kill9_then_restart_catches_up(root: Path) -> None:
    proc = start_hub(root)
    ids = ids_by_qualname(root, "pkg/a.py")
    # kill -9 in the middle of a burst of edits
    for number in range(5):
        with open(root / "pkg/a.py", "a") as handle:
            handle.write(f"\ndef burst{number}():\n    return {number}\n")
        time.sleep(0.01)
    proc.kill()
    proc.wait(5)
    assert not hub_status(root).running and hub_status(root).stale_pid == proc.pid
    # changes while the hub is down
    (root / "pkg/a.py").write_text((root / "pkg/a.py").read_text().replace("def beta", "def beta_renamed"))
    (root / "app.py").unlink()
    write_files(root, {"late.py": "def late():\n    return 1\n"})
    with EventTailer(root, after=None) as raw_tailer:
        tailer = Seen(raw_tailer)
        proc = start_hub(root)
        try:
            renamed = topology(tailer, "pkg/a.py", lambda e: ids["beta"] in e.orphaned_nodes)
            assert renamed.added_nodes  # beta_renamed (and any burst functions not yet indexed)
            topology(tailer, "app.py", lambda e: e.deleted)
            topology(tailer, "late.py", lambda e: bool(e.added_nodes))
        finally:
            kill(proc)
    names = set(ids_by_qualname(root, "pkg/a.py"))
    assert {f"burst{n}" for n in range(5)} <= names and "beta_renamed" in names
    assert "# rm_" in (root / "late.py").read_text()
    # the database is consistent: no edge points at a missing node, every file row has its node
    import sqlite3

    conn = sqlite3.connect(root / ".remora/remora.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert (
        conn.execute("SELECT count(*) FROM files WHERE file_id NOT IN (SELECT id FROM nodes)").fetchone()[0]
        == 0
    )
    conn.close()


def test_stale_pid_and_lock_are_taken_over(root: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    pid_path(root).parent.mkdir(exist_ok=True)
    lock_path(root).write_text("")
    pid_path(root).write_text(
        f'{{"pid": {dead.pid}, "root": "{root}", "mode": "watch", "state": "watching", "started_at": 0, "updated_at": 0}}'
    )
    status = hub_status(root)
    assert not status.running and status.stale_pid == dead.pid
    proc = start_hub(root)
    try:
        assert hub_status(root).pid == proc.pid
    finally:
        proc.terminate()
        proc.wait(5)
    assert f"took over the lock from dead hub pid {dead.pid}" in (root.parent / "hub-test.log").read_text()


def test_ensure_hub_spawns_detached_and_returns_fast_when_running(root: Path) -> None:
    first = ensure_hub(root)
    assert first.running and first.pid
    wait_state(root, "watching")
    started = time.monotonic()
    again = ensure_hub(root)
    assert time.monotonic() - started < 0.1
    assert again.pid == first.pid
    assert os.getsid(first.pid) == first.pid  # its own session: survives the caller's terminal
    assert "watching" in log_path(root).read_text()
    cli = subprocess.run([*HUB, "stop", str(root)], capture_output=True, text=True, timeout=30, check=False)
    assert cli.returncode == 0 and "stopped" in cli.stdout
    assert not hub_status(root).running
    assert stop_hub(root).running is False  # stopping a stopped hub is fine


def test_once_indexes_and_emits_events(root: Path) -> None:
    done = subprocess.run(
        [*HUB, "--once", str(root)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert '"files": 3' in done.stdout
    with EventTailer(root) as tailer:
        paths = sorted(e.file_path for e in tailer.poll() if isinstance(e, TopologyChangedEvent))
    assert paths == ["app.py", "pkg/__init__.py", "pkg/a.py"]
    usage = subprocess.run([*HUB, "status"], capture_output=True, text=True, timeout=30, check=False)
    assert usage.returncode == 2 and "PATH" in usage.stderr


def test_a_gitignore_change_while_watching_reindexes_what_it_uncovers(root: Path) -> None:
    proc = start_hub(root)
    try:
        with EventTailer(root, after=None) as raw_tailer:
            seen = Seen(raw_tailer)
            write_files(root, {"ignored/hidden.py": "def hidden():\n    return 0\n"})
            write_files(root, {"visible.py": "def visible():\n    return 0\n"})
            topology(seen, "visible.py")  # the barrier: written after the ignored file
            assert nodes_of(root, "ignored/hidden.py") == []  # ignored: no event, no node
            assert not [e for e in seen.events if e.file_path == "ignored/hidden.py"]
            (root / ".gitignore").write_text("# nothing ignored any more\n")
            event = topology(seen, "ignored/hidden.py", lambda e: bool(e.added_nodes))
            assert ids_by_qualname(root, "ignored/hidden.py")["hidden"] in event.added_nodes
    finally:
        kill(proc)
