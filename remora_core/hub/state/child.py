"""The node-state child process of ``remora-hub --watch``:

    python -m remora_core.hub.state.child ROOT --parent-pid PID [--after SEQ]

It runs a ``StateHub`` with its own interpreter (no GIL shared with the index passes), its own
database connection, at a lower CPU priority, and dies with the hub (``PR_SET_PDEATHSIG``). The
hub drives it through its stdin, one byte per message (``hub/state/process.py``): ``b`` an index
pass begins (no update starts until it ends), ``e`` it ended with changes, ``n`` without. EOF:
stop. Hints of other processes wake it through an inotify watch on the database (no polling):
an idle child blocks.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from remora_core.config import load_config
from remora_core.events.wakeup import CommitWatch
from remora_core.hub.parent import die_with_parent
from remora_core.hub.state.service import StateHub
from remora_core.store.db import database_path

NICE = 10  # an index pass (and the editor) comes first when the cores are busy
BEGIN, END, UNCHANGED = b"b", b"e", b"n"
WATCH_WAIT_S = 3600.0


def log(message: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} remora-hub-state[{os.getpid()}]: {message}", file=sys.stderr, flush=True)


def _watch_commits(hub: StateHub, watch: CommitWatch, stop: threading.Event) -> None:
    while not stop.is_set():
        if watch.wait(WATCH_WAIT_S, stop):
            hub.poke()


def follow(hub: StateHub, read: int) -> None:
    """Apply the hub's messages from the descriptor ``read`` until EOF."""
    while True:
        try:
            data = os.read(read, 256)
        except InterruptedError:
            continue
        if not data:
            return
        last = data[-1:]  # a burst of messages: only the latest state matters, plus any END
        if last == BEGIN:
            if END in data:
                hub.wake()
            hub.pause()
        elif END in data:
            hub.wake()
        elif last == UNCHANGED:
            hub.resume()


def run(root: Path, after: int | None) -> int:
    hub = StateHub(root, load_config(root).hub, log=log, poll_s=None, after=after)
    watch = CommitWatch(database_path(root))
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_commits, args=(hub, watch, stop), name="remora-state-watch", daemon=True)
    hub.start()
    watcher.start()
    try:
        follow(hub, sys.stdin.fileno())
    finally:
        stop.set()
        hub.stop(1.0)
        watch.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="remora-hub-state", description="The node-state child of remora-hub.")
    parser.add_argument("root")
    parser.add_argument("--parent-pid", type=int, required=True)
    parser.add_argument("--after", type=int, default=None, help="follow the event log from this seq")
    args = parser.parse_args(argv)
    die_with_parent(args.parent_pid)
    try:
        os.nice(NICE)
    except OSError:
        pass
    return run(Path(args.root).resolve(), args.after)


if __name__ == "__main__":
    sys.exit(main())
