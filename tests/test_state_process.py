"""The node-state child process of ``remora-hub``: its pipe protocol, and that it dies with the hub."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

from remora_core.hub.state.child import BEGIN, END, UNCHANGED, follow
from remora_core.hub.state.context import emit_hub_hint
from remora_core.hub.state.service import StateHub
from remora_core.store.store import Store
from tests.state_helpers import FAST, make_project, node_id
from tests.test_hub import kill, start_hub
from tests.test_state_hub import wait_for


def _follow(hub: StateHub, *messages: bytes) -> None:
    read, write = os.pipe()
    for message in messages:
        os.write(write, message)
    os.close(write)
    follow(hub, read)  # returns at EOF
    os.close(read)


def test_the_pipe_pauses_and_wakes_the_state_hub(tmp_path: Path) -> None:
    hub = StateHub(tmp_path, FAST, build=False)  # not started: only its flags are looked at
    _follow(hub, BEGIN)
    assert hub._paused and hub.last_wake == 0.0
    _follow(hub, END)
    assert not hub._paused and hub.last_wake > 0.0
    stamp = hub.last_wake
    _follow(hub, BEGIN, UNCHANGED)
    assert not hub._paused and hub.last_wake == stamp  # a pass without changes: no new settle time
    _follow(hub, BEGIN, END, BEGIN)  # read at once: the change counts, the new pass holds it
    assert hub._paused and hub.last_wake > stamp


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text() if Path(f"/proc/{pid}/stat").exists() else ""
    return " Z " not in stat  # a zombie is dead too


def test_the_state_child_runs_niced_and_dies_with_the_hub(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", {".remora/config.toml": "[hub]\nstate = true\n"})
    proc = start_hub(root)
    try:
        log = root.parent / "hub-test.log"
        wait_for(lambda: "node state: child process" in log.read_text(), "the state child")
        match = re.search(r"node state: child process (\d+)", log.read_text())
        assert match is not None
        child = int(match.group(1))
        base = os.getpriority(os.PRIO_PROCESS, proc.pid)
        wait_for(lambda: os.getpriority(os.PRIO_PROCESS, child) >= min(19, base + 10), "the child to lower its priority")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 20
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child)
    finally:
        kill(proc)


def test_a_hint_from_another_process_wakes_the_idle_state_child(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", {".remora/config.toml": "[hub]\nstate = true\n"})
    proc = start_hub(root)
    try:
        markdown = root / ".agentfs/nodes/shop/report.py/summary.md"
        wait_for(markdown.exists, "the first full state build")
        time.sleep(0.5)  # the child is idle: blocked, no polling
        store = Store.open(root)
        try:
            emit_hub_hint(store, "rm_agent000", node_id(root, "summary"), "found a new caller")
        finally:
            store.close()
        wait_for(lambda: "hint: found a new caller" in markdown.read_text(), "the hinted update")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        finally:
            kill(proc)
