"""Issue #9 through real processes: the hub never follows a symbolic link (no writes outside the
root, no ids replaced), parser workers die with a killed ``remora index``, and a command that
waits for the index lock says so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from remora_core.events import EventTailer
from remora_core.hub import hub_status, stop_hub
from remora_core.index.lock import index_lock
from remora_core.store.store import Store
from tests.conftest import ids_by_qualname, run_cli, write_files
from tests.test_hub import Seen, start_hub, topology


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"  # a zombie is dead (waiting for a reaper)


def test_the_hub_never_follows_a_directory_link_created_while_it_watches(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    outside = tmp_path / "outside"
    write_files(
        root,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "def alpha():\n    return 1\n",
            "pkg/b.py": "from pkg.a import alpha\n\ndef beta():\n    return alpha()\n",
        },
    )
    write_files(outside, {"ext.py": "def external():\n    return 2\n"})
    outside_before = (outside / "ext.py").read_bytes()
    proc = start_hub(root)
    try:
        ids_a, ids_b = ids_by_qualname(root, "pkg/a.py"), ids_by_qualname(root, "pkg/b.py")
        with EventTailer(root, after=None) as raw_tailer:
            tailer = Seen(raw_tailer)
            os.mkdir(root / "app")
            os.symlink("../pkg", root / "app/lib")  # the same files a second time
            os.symlink(".", root / "pkg/loop")  # a loop
            os.symlink(outside, root / "linked")  # files outside the root
            os.symlink(outside / "ext.py", root / "ext_link.py")
            time.sleep(0.5)
            write_files(root, {"sentinel.py": "def sentinel():\n    return 0\n"})
            topology(tailer, "sentinel.py")  # every earlier change has been indexed
        assert (outside / "ext.py").read_bytes() == outside_before
        assert ids_by_qualname(root, "pkg/a.py") == ids_a and ids_by_qualname(root, "pkg/b.py") == ids_b
        store = Store.open(root)
        try:
            paths = sorted(store.file_rows())
        finally:
            store.close()
        assert paths == ["pkg/__init__.py", "pkg/a.py", "pkg/b.py", "sentinel.py"]
        assert (root / "ext_link.py").is_symlink()
    finally:
        if hub_status(root).running:
            stop_hub(root, timeout=5)
        proc.wait(timeout=10)


def _big_tree(root: Path) -> None:
    body = "".join(f"def f{i}(x):\n    return [x, {i}, 'padding padding padding padding padding']\n\n" for i in range(700))
    write_files(root, {f"pkg/m{n:02d}.py": body for n in range(40)})  # ~2.6 MB: parsed in worker processes
    write_files(root, {".remora/config.toml": "[index]\nworkers = 2\n"})


def test_parser_workers_die_with_a_killed_index_and_the_next_index_runs(tmp_path: Path) -> None:
    _big_tree(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "remora_core.cli", "index", str(tmp_path), "--no-inject"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while time.monotonic() < deadline and proc.poll() is None:
        workers = _children(proc.pid)
        if len(workers) >= 2:
            break
        time.sleep(0.01)
    assert len(workers) >= 2, "the index never started its parser processes"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers), "parser processes outlived their parent"
    done = run_cli("index", str(tmp_path), "--no-inject")
    assert done.returncode == 0 and "waiting for the index lock" not in done.stderr, done.stderr


def test_a_command_waiting_for_the_index_lock_says_what_it_waits_for(tmp_path: Path) -> None:
    write_files(tmp_path, {"m.py": "def f():\n    return 1\n"})
    with index_lock(tmp_path, on_wait=None):
        proc = subprocess.Popen(
            [sys.executable, "-m", "remora_core.cli", "index", str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert "waiting for the index lock" in line and f"held by pid {os.getpid()}" in line, line
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "got the index lock" in err, err
