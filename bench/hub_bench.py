"""Hub benchmark: save-to-event latency, idle CPU, and RSS after indexing the standard library.

    python bench/hub_bench.py [--edits 200] [--idle 30] [--skip-rss]
    python bench/hub_bench.py --stdlib [--edits 40] [--leaf colorsys.py] [--wide re/__init__.py]

1. Latency: a project with one 1,000-line file; ``remora-hub --watch`` runs in its own
   process; this process writes the file (a body edit, plain ``write``: half change a value
   in place, half add or remove a line), then waits with an
   ``EventTailer`` for the file's ``TopologyChangedEvent``. The time from just before the
   write to the event being read here is one sample. The reader is an ``EventTailer`` with
   its defaults (on Linux a commit wakes it at once; elsewhere it polls every 10 ms), or
   one polling every ``--poll-ms`` instead.
   Edits are spaced by a random 20-60 ms: saves do not keep step with the hub's watch timer.
   Targets: p50 <= 30 ms, p95 <= 60 ms over ``--edits`` edits.
2. Idle CPU of the hub over ``--idle`` seconds with no file changes (target < 1 %).
3. RSS of a hub that indexed a copy of ``sysconfig.get_paths()["stdlib"]`` (``*.py``, no
   site-packages): VmRSS once it is watching, and VmHWM (peak) (target RSS <= 250 MB).

``--stdlib`` (instead of 1 and 2): incremental at the stdlib's scale. After the hub on the
stdlib copy is watching, ``--edits`` saves of a leaf module (no other file imports it) and
as many of a module imported by 100+ others, each save an interface change (a def appended,
then taken out again; alternating with a signature change of that def while it is there), the
same save-to-event samples as 1. Targets: leaf p50 <= 30 ms, p95 <= 60 ms; the widely
imported module p95 <= 100 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from stdlib_tree import copy_stdlib

from remora_core.events import EventTailer, TopologyChangedEvent
from remora_core.hub import hub_status

FUNCTIONS = 100  # 10 lines each: a 1,000-line file
# Half the edits change a value in place; the others add a line to a body or take it out
# again (every later line moves, so call sites' lines change and the file's calls re-resolve).
EDIT_KINDS = ("value", "add line", "value", "remove line")
TICKS = os.sysconf("SC_CLK_TCK")
STATE = False  # --state: the hub with the node-state hub on ([hub] state = true), for comparison


def big_file(version: int, edited: int) -> str:
    parts = []
    for index in range(FUNCTIONS):
        value = version if index == edited else 0
        parts.append(
            f"def function_{index}(argument):\n"
            f"    total = argument + {value}\n"
            f"    for item in range({index}):\n"
            f"        total += item\n"
            f"    if total > {index * 10}:\n"
            f"        return helper_{index % 7}(total)\n"
            f"    return total\n"
            f"\n"
            f"\n"
            f"\n"
        )
    parts.extend(f"def helper_{index}(value):\n    return value\n\n\n" for index in range(7))
    return "".join(parts)


def start_hub(root: Path, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "remora_core.cli.hub", "--watch", str(root)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        status = hub_status(root)
        if status.running and status.state == "watching":
            return proc
        if proc.poll() is not None:
            sys.exit(f"bench: hub exited with {proc.returncode}; see {log}")
        time.sleep(0.05)
    sys.exit("bench: hub did not get ready")


def wait_state_built(root: Path, limit: float = 300.0) -> None:
    """--state: wait for the first node-state build (a one-time cost, measured by
    ``state_bench.py``), so the edits measure the steady state."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        connection = sqlite3.connect(root / ".remora" / "remora.db")
        try:
            nodes, states = connection.execute(
                "SELECT (SELECT count(*) FROM nodes WHERE status = 'active'), (SELECT count(*) FROM node_state)"
            ).fetchone()
        except sqlite3.OperationalError:
            nodes, states = 1, 0
        finally:
            connection.close()
        if nodes and states >= nodes:
            print(f"(node state: first build of {states} nodes done {time.monotonic() - started:.1f} s after the hub was ready)")
            return
        time.sleep(0.1)
    sys.exit("bench: the first node-state build did not finish")


def cpu_seconds(pid: int) -> float:
    """CPU of the hub; with ``--state`` also of its live children (the node-state process)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    used = (int(fields[11]) + int(fields[12])) / TICKS
    if STATE:
        children = Path(f"/proc/{pid}/task/{pid}/children")
        for child in children.read_text().split() if children.exists() else []:
            try:
                used += cpu_seconds(int(child))
            except (FileNotFoundError, ProcessLookupError):
                pass
    return used


def wait_settled(pid: int, window: float = 2.0, limit: float = 300.0) -> float:
    """Seconds until the hub uses under 1 % CPU over ``window`` (its node-state updates after a
    burst of edits are done); 0 when it already does."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        before = cpu_seconds(pid)
        time.sleep(window)
        if (cpu_seconds(pid) - before) / window < 0.01:
            waited = time.monotonic() - started - window
            return waited if waited > 0.5 else 0.0
    return time.monotonic() - started


def memory(pid: int) -> dict[str, int]:
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) // 1024
    return found


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def latency_and_idle(temp: Path, edits: int, idle: float, poll_ms: float | None) -> None:
    root = temp / "latency"
    root.mkdir()
    if STATE:
        (root / ".remora").mkdir()
        (root / ".remora" / "config.toml").write_text("[hub]\nstate = true\n")
    target = root / "big.py"
    target.write_text(big_file(0, -1))
    proc = start_hub(root, temp / "latency.log")
    try:
        if STATE:
            wait_state_built(root)
        samples: list[float] = []
        gaps = random.Random(7)
        by_kind: dict[str, list[float]] = {}
        with EventTailer(root, after=None, poll_interval=None if poll_ms is None else poll_ms / 1000) as tailer:
            how = "a commit wakes it" if tailer.watch.fileno() is not None else f"it polls every {tailer.poll_interval * 1000:g} ms"
            if poll_ms is not None:
                tailer.watch.close()
                how = f"it polls every {poll_ms:g} ms"
            text = target.read_text()  # anchored by the hub's catch-up pass
            for number in range(1, edits + 1):
                index = number % FUNCTIONS
                lines = text.split("\n")
                body = [i for i, line in enumerate(lines) if line.startswith("    total = argument + ")][
                    index
                ]
                kind = EDIT_KINDS[number % len(EDIT_KINDS)]
                if kind == "value":
                    lines[body] = f"    total = argument + {number}"
                elif kind == "add line":
                    lines.insert(body + 1, "    total += 1")
                else:
                    del lines[lines.index("    total += 1")]
                text = "\n".join(lines)
                started = time.perf_counter()
                with open(target, "w") as handle:
                    handle.write(text)
                event = tailer.wait_for(
                    lambda e: isinstance(e, TopologyChangedEvent) and e.file_path == "big.py", timeout=10
                )
                elapsed = time.perf_counter() - started
                if event is None:
                    sys.exit(f"bench: no event for edit {number}")
                samples.append(elapsed * 1000)
                by_kind.setdefault(kind, []).append(elapsed * 1000)
                time.sleep(gaps.uniform(0.02, 0.06))
        p50 = statistics.median(samples)
        p95 = percentile(samples, 0.95)
        print(
            f"save-to-event latency over {edits} edits of a {len(text.splitlines())}-line file "
            f"(read by a tailer: {how}):"
        )
        print(f"  p50 {p50:.1f} ms (limit 30)  {'OK' if p50 <= 30 else 'OVER'}")
        print(f"  p95 {p95:.1f} ms (limit 60)  {'OK' if p95 <= 60 else 'OVER'}")
        print(
            f"  min {min(samples):.1f} ms, max {max(samples):.1f} ms, mean {statistics.mean(samples):.1f} ms"
        )
        for kind, values in by_kind.items():
            print(f"  {kind}: p50 {statistics.median(values):.1f} ms, p95 {percentile(values, 0.95):.1f} ms")
        time.sleep(1.0)
        settled = wait_settled(proc.pid)
        if settled:
            print(f"  (the hub's node-state work after the edits took {settled:.1f} s; idle is measured after it)")
        before = cpu_seconds(proc.pid)
        time.sleep(idle)
        used = cpu_seconds(proc.pid) - before
        share = 100 * used / idle
        print(
            f"hub idle CPU over {idle:.0f} s: {used:.2f} s = {share:.2f} % (limit 1 %)  {'OK' if share < 1 else 'OVER'}"
        )
    finally:
        proc.terminate()
        proc.wait(10)


def stdlib_rss(temp: Path) -> None:
    root = temp / "stdlib"
    files, _ = copy_stdlib(root)
    if STATE:  # the edits below then land while the node-state child runs its first build
        (root / ".remora").mkdir(exist_ok=True)
        (root / ".remora" / "config.toml").write_text("[hub]\nstate = true\n")
    started = time.perf_counter()
    proc = start_hub(root, temp / "stdlib.log")
    try:
        ready = time.perf_counter() - started
        time.sleep(1.0)
        mem = memory(proc.pid)
        rss = mem["VmRSS"]
        print(f"hub on the stdlib copy ({files} files): ready (catch-up pass done) in {ready:.1f} s")
        print(f"  RSS {rss} MB (limit 250)  {'OK' if rss <= 250 else 'OVER'}; peak (VmHWM) {mem['VmHWM']} MB")
        # edits in steady state (a module nobody imports, and one that much of the stdlib imports)
        with EventTailer(root, after=None) as tailer:
            for name in ("colorsys.py", "textwrap.py"):
                target = root / name
                started = time.perf_counter()
                target.write_text(target.read_text() + "\n\ndef bench_added():\n    return 1\n")
                tailer.wait_for(
                    lambda e, name=name: isinstance(e, TopologyChangedEvent) and e.file_path == name,
                    timeout=120,
                )
                print(
                    f"  save-to-event of an edit to {name}: {(time.perf_counter() - started) * 1000:.0f} ms"
                )
        mem = memory(proc.pid)
        print(f"  RSS after those edits {mem['VmRSS']} MB; peak {mem['VmHWM']} MB")
        if STATE:
            children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
            for child in children:
                mem = memory(int(child))
                print(f"  node-state child {child} (first build running): RSS {mem['VmRSS']} MB; peak {mem['VmHWM']} MB")
    finally:
        proc.terminate()
        proc.wait(10)


def importer_count(root: Path, rel: str) -> int:
    """How many files have an ``imports`` edge into ``rel`` (read from the hub's database)."""
    import sqlite3

    connection = sqlite3.connect(f"file:{root / '.remora' / 'remora.db'}?mode=ro", uri=True)
    try:
        row = connection.execute(
            "SELECT count(DISTINCT e.file_path) FROM edges e JOIN files f ON f.file_id = e.to_id "
            "WHERE e.edge_type = 'imports' AND f.path = ?",
            (rel,),
        ).fetchone()
    finally:
        connection.close()
    return int(row[0])


def interface_saves(tailer: EventTailer, root: Path, rel: str, edits: int, gaps: random.Random) -> dict[str, list[float]]:
    """``edits`` saves of ``rel``, each changing its interface; save-to-event ms by kind."""
    target = root / rel
    original = target.read_text()
    kinds = {
        "def added": original + "\n\ndef bench_added(value):\n    return value\n",
        "signature changed": original + "\n\ndef bench_added(value, other=None):\n    return value\n",
        "def removed": original,
    }
    order = ("def added", "def removed", "def added", "signature changed", "def removed")
    samples: dict[str, list[float]] = {}
    for number in range(edits):
        kind = order[number % len(order)]
        started = time.perf_counter()
        with open(target, "w") as handle:
            handle.write(kinds[kind])
        event = tailer.wait_for(
            lambda e: isinstance(e, TopologyChangedEvent) and e.file_path == rel, timeout=60
        )
        if event is None:
            sys.exit(f"bench: no event for edit {number} of {rel}")
        samples.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
        time.sleep(gaps.uniform(0.02, 0.06))
    target.write_text(original)
    return samples


def pass_seconds(log: Path, start: int) -> list[float]:
    """The hub's index-pass times (its log's "N changed path(s): ... in X s" lines) after byte
    ``start`` of ``log``: the part of a save's latency spent indexing, the rest being the watch
    and the scheduling of a loaded machine."""
    found = re.findall(r"changed path\(s\): [1-9]\d* file\(s\) changed in ([0-9.]+)s", log.read_text()[start:])
    return [float(value) * 1000 for value in found]


def stdlib_latency(temp: Path, edits: int, leaf: str, wide: str) -> None:
    root = temp / "stdlib"
    files, _ = copy_stdlib(root)
    started = time.perf_counter()
    proc = start_hub(root, temp / "stdlib.log")
    try:
        print(f"hub on the stdlib copy ({files} files): ready in {time.perf_counter() - started:.1f} s")
        time.sleep(1.0)
        gaps = random.Random(7)
        with EventTailer(root, after=None) as tailer:
            for rel, limits in ((leaf, (30, 60)), (wide, (None, 100))):
                log_start = len((temp / "stdlib.log").read_text())
                samples = interface_saves(tailer, root, rel, edits, gaps)
                time.sleep(0.5)  # the pass of the hub's own anchor write, if any
                passes = pass_seconds(temp / "stdlib.log", log_start)
                every = [value for values in samples.values() for value in values]
                p50, p95 = statistics.median(every), percentile(every, 0.95)
                print(f"{rel} (imported by {importer_count(root, rel)} files), {len(every)} interface saves:")
                limit50, limit95 = limits
                verdict50 = "" if limit50 is None else f" (limit {limit50})  {'OK' if p50 <= limit50 else 'OVER'}"
                print(f"  p50 {p50:.1f} ms{verdict50}")
                print(f"  p95 {p95:.1f} ms (limit {limit95})  {'OK' if p95 <= limit95 else 'OVER'}")
                for kind, values in samples.items():
                    print(f"  {kind}: p50 {statistics.median(values):.1f} ms, p95 {percentile(values, 0.95):.1f} ms")
                if passes:
                    print(
                        f"  the hub's index passes ({len(passes)}, its log): p50 {statistics.median(passes):.1f} ms, "
                        f"p95 {percentile(passes, 0.95):.1f} ms"
                    )
        mem = memory(proc.pid)
        print(f"  hub RSS after the edits {mem['VmRSS']} MB; peak {mem['VmHWM']} MB")
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--idle", type=float, default=30.0)
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--state", action="store_true", help="hub with node state on ([hub] state = true)")
    parser.add_argument(
        "--poll-ms", type=float, default=None, help="make the reading tailer poll this often, without its commit watch"
    )
    parser.add_argument("--stdlib", action="store_true", help="incremental saves at the stdlib's scale instead")
    parser.add_argument("--leaf", default="colorsys.py", help="--stdlib: the module nobody imports")
    parser.add_argument("--wide", default="re/__init__.py", help="--stdlib: the module imported by 100+ others")
    args = parser.parse_args()
    print(f"cores: {len(os.sched_getaffinity(0))}; load average {os.getloadavg()[0]:.1f}")
    if args.stdlib:
        with tempfile.TemporaryDirectory(prefix="remora-hub-bench-") as temp:
            stdlib_latency(Path(temp), args.edits if args.edits != 200 else 40, args.leaf, args.wide)
        return 0
    with tempfile.TemporaryDirectory(prefix="remora-hub-bench-") as temp:
        global STATE
        STATE = args.state
        latency_and_idle(Path(temp), args.edits, args.idle, args.poll_ms)
        if not args.skip_rss:
            stdlib_rss(Path(temp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
