"""Event tailer benchmark: idle CPU and commit-to-read latency across processes.

    python bench/tail_bench.py [--idle 10] [--events 100]

1. Idle CPU of a thread following an empty event log with ``EventTailer.follow`` (defaults:
   on Linux a commit watch wakes it, with a 0.25 s safety poll; elsewhere a 10 ms poll), and
   the same with the commit watch switched off (10 ms poll).
2. Latency from the start of ``EventLog.append`` in a writer process to the event being
   read by a tailer in this process, both ways.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from remora_core.events import EventTailer
from remora_core.store.store import Store

WRITER = """
import sys, time
from pathlib import Path
from remora_core.events import AgentErrorEvent, EventLog
from remora_core.store.store import Store
store = Store.open(Path(sys.argv[1]))
log = EventLog(store.connection)
time.sleep(0.5)
for _ in range(int(sys.argv[2])):
    log.append(AgentErrorEvent(agent_id="rm_bench00", error=repr(time.time())))
    time.sleep(0.03)
"""


def make_tailer(root: Path, watched: bool) -> EventTailer:
    if watched:
        return EventTailer(root, after=None)
    tailer = EventTailer(root, after=None, poll_interval=0.01)
    tailer.watch.close()
    return tailer


def idle_cpu(root: Path, seconds: float, watched: bool) -> tuple[float, str]:
    stop = threading.Event()
    ready = threading.Event()
    how: list[str] = []

    def run() -> None:
        with make_tailer(root, watched) as tailer:
            how.append("commit watch" if tailer.watch.fileno() is not None else f"{tailer.poll_interval * 1000:g} ms poll")
            ready.set()
            for _ in tailer.follow(stop=stop):
                pass

    thread = threading.Thread(target=run)
    thread.start()
    ready.wait()
    time.sleep(0.5)
    before = time.process_time()
    time.sleep(seconds)
    used = time.process_time() - before
    stop.set()
    thread.join()
    return 100 * used / seconds, how[0]


def latency(root: Path, events: int, watched: bool) -> list[float]:
    samples: list[float] = []
    with make_tailer(root, watched) as tailer:
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(root), str(events)])
        for event in tailer.follow(timeout=30):
            samples.append((time.time() - float(event.error)) * 1000)  # type: ignore[attr-defined]
            if len(samples) == events:
                break
        writer.wait(30)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--events", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="remora-tail-bench-") as temp:
        root = Path(temp)
        Store.open(root).close()
        for watched in (True, False):
            share, how = idle_cpu(root, args.idle, watched)
            samples = sorted(latency(root, args.events, watched))
            p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
            print(
                f"tailer ({how}): idle CPU {share:.2f} % over {args.idle:g} s; append-to-read over "
                f"{len(samples)} events p50 {statistics.median(samples):.2f} ms, p95 {p95:.2f} ms"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
