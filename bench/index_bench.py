"""Index benchmark: cold index of the standard library vs the tree-sitter parse floor and ctags.

    python bench/index_bench.py [--runs 3] [--scale 1,2,4] [--breakdown]

Copies the ``*.py`` files of ``sysconfig.get_paths()["stdlib"]`` (site-packages excluded)
to a temporary tree, then times, interleaved in each round of this one run:
  * the parse floor: ``bench/parse_floor.py`` (a whole process that reads and parses every file
    with tree-sitter in ``multiprocessing.Pool(2)`` and does nothing else),
  * ``remora index --no-inject --json`` on the tree with no database (cold, parallel parsing),
  * ``ctags -R --languages=Python`` on the tree (Universal Ctags; skipped when not installed),
then the same ``remora index`` again on the unchanged tree (no-change re-index).
Each figure is the median of ``--runs`` rounds: wall time of the whole command, its CPU time
(user + system of the command and every process it started) and its peak RSS summed over its
process group (``/proc`` sampled every 20 ms: the sum of the group's RSS at the worst sample).
``--scale 1,2,4`` also prints a scaling table: 1x, 2x, 4x the stdlib (side-by-side copies).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stdlib_tree import copy_stdlib, copy_stdlib_times

COLD_LIMIT_RATIO = 2.0  # cold index / parse floor
OLD_CTAGS_RATIO = 4.0  # the foundation issue's figure, printed for reference
REINDEX_LIMIT_S = 1.0
RSS_LIMIT_MB = 150.0
SAMPLE_S = 0.02
PAGE = os.sysconf("SC_PAGE_SIZE")
FLOOR = str(Path(__file__).resolve().parent / "parse_floor.py")


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    stdout: str
    # pid -> (command line, RSS MB) of each process of the group at the worst sample (--breakdown)
    worst: dict[int, tuple[str, float]] = field(default_factory=dict)


def _group_rss(group: int) -> dict[int, int]:
    """Bytes of RSS of each process of process group ``group``, by pid."""
    found: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            if int(fields[2]) != group:  # pgrp
                continue
            with open(f"/proc/{entry}/statm", "rb") as handle:
                found[int(entry)] = int(handle.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return found


def _command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace").strip()[-60:]
    except OSError:
        return "?"


def measured(command: list[str]) -> Run:
    """Run ``command`` in its own session; wall, CPU of it and its descendants, peak group RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    peak = 0
    worst: dict[int, tuple[str, float]] = {}
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, worst
        while not done.is_set():
            by_pid = _group_rss(process.pid)
            total = sum(by_pid.values())
            if total > peak:
                peak = total
                worst = {pid: (_command_line(pid), rss / 1e6) for pid, rss in by_pid.items()}
            done.wait(SAMPLE_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if process.returncode != 0:
        sys.exit(f"bench: {command[0]} failed ({process.returncode}): {err.strip()[:500]}")
    return Run(elapsed, cpu, peak / 1e6, out, worst)


def _median(runs: list[Run]) -> Run:
    return Run(
        statistics.median(r.wall for r in runs),
        statistics.median(r.cpu for r in runs),
        statistics.median(r.rss_mb for r in runs),
        runs[-1].stdout,
    )


def _row(name: str, run: Run, floor: Run | None) -> str:
    ratio = f"{run.wall / floor.wall:5.2f}x" if floor else "      "
    return f"{name:<32} {run.wall:7.2f} s  cpu {run.cpu:6.2f} s  rss {run.rss_mb:6.0f} MB  {ratio}"


def _cold(remora: list[str], tree: Path) -> Run:
    shutil.rmtree(tree / ".remora", ignore_errors=True)
    return measured([*remora, "index", "--no-inject", "--json", str(tree)])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scale", default="", help="comma-separated multiples of the stdlib, e.g. 1,2,4")
    parser.add_argument(
        "--breakdown", action="store_true", help="print each process's RSS at the worst sample of the last cold run"
    )
    args = parser.parse_args()
    ctags = shutil.which("ctags")
    remora = [sys.executable, "-m", "remora_core.cli"]
    floor_cmd = [sys.executable, FLOOR]
    print(
        f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cores: {len(os.sched_getaffinity(0))}"
    )
    with tempfile.TemporaryDirectory(prefix="remora-bench-") as temp:
        tree = Path(temp) / "stdlib"
        files, size = copy_stdlib(tree)
        print(f"tree: {files} files, {size / 1e6:.1f} MB (copy of {sysconfig.get_paths()['stdlib']})")
        tags = Path(temp) / "tags"
        floors: list[Run] = []
        colds: list[Run] = []
        ctags_runs: list[Run] = []
        warms: list[Run] = []
        ratios: list[float] = []
        for _ in range(args.runs):
            floors.append(measured([*floor_cmd, str(tree)]))
            colds.append(_cold(remora, tree))
            ratios.append(colds[-1].wall / floors[-1].wall)
            if ctags is not None:
                ctags_runs.append(measured([ctags, "-R", "--languages=Python", "-f", str(tags), str(tree)]))
        for _ in range(args.runs):
            warms.append(measured([*remora, "index", "--no-inject", "--json", str(tree)]))
            assert json.loads(warms[-1].stdout)["changed_files"] == 0
        report = json.loads(colds[-1].stdout)
        floor, cold, warm = _median(floors), _median(colds), _median(warms)
        print(f"nodes: {report['nodes']}  edges: {report['edges']}  problems: {len(report['errors'])}")
        print(
            f"{'(median of ' + str(args.runs) + ' interleaved rounds)':<32} {'wall':>9}  {'':>14}  {'peak RSS (group)':>16}  / floor"
        )
        print(_row("parse floor (tree-sitter, Pool(2))", floor, floor))
        print(_row("remora cold index", cold, floor))
        if ctags_runs:
            print(_row("ctags -R --languages=Python", _median(ctags_runs), floor))
        print(_row("remora no-change re-index", warm, floor))
        ratio = statistics.median(ratios)
        print(
            f"cold / floor (median of per-round ratios): {ratio:.2f}x  (limit {COLD_LIMIT_RATIO:.1f}x)  "
            f"{'OK' if ratio <= COLD_LIMIT_RATIO else 'OVER'}   rounds: {', '.join(f'{r:.2f}' for r in ratios)}"
        )
        print(f"cold CPU / floor CPU: {cold.cpu / floor.cpu:.2f}x  (less sensitive to other load than wall)")
        if ctags_runs:
            ctags_ratio = cold.wall / _median(ctags_runs).wall
            print(f"cold / ctags: {ctags_ratio:.2f}x  (old limit {OLD_CTAGS_RATIO:.0f}x, for reference)")
        print(
            f"cold peak RSS: {cold.rss_mb:.0f} MB  (limit {RSS_LIMIT_MB:.0f} MB)  {'OK' if cold.rss_mb <= RSS_LIMIT_MB else 'OVER'}"
        )
        print(
            f"no-change re-index: {warm.wall:.3f} s  (limit {REINDEX_LIMIT_S:.0f} s)  {'OK' if warm.wall <= REINDEX_LIMIT_S else 'OVER'}"
        )
        if args.breakdown:
            _print_breakdown(colds[-1])
        shutil.rmtree(tree)
        if args.scale:
            _scaling(remora, floor_cmd, Path(temp), [int(x) for x in args.scale.split(",")])
    return 0


def _print_breakdown(run: Run) -> None:
    print(f"cold index, worst sample ({run.rss_mb:.0f} MB in all), by process:")
    for pid, (command, rss_mb) in sorted(run.worst.items()):
        print(f"  pid {pid:>7}  {rss_mb:6.1f} MB  {command}")


def _scaling(remora: list[str], floor_cmd: list[str], temp: Path, multiples: list[int]) -> None:
    print("\nscaling (one round each, under the load above):")
    print(
        "| stdlib copies | files | MB | floor wall s | remora wall s | / floor | remora CPU s | peak RSS MB (group) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for copies in multiples:
        tree = temp / f"x{copies}"
        files, size = copy_stdlib_times(tree, copies)
        floor = measured([*floor_cmd, str(tree)])
        cold = _cold(remora, tree)
        print(
            f"| {copies}x | {files} | {size / 1e6:.1f} | {floor.wall:.2f} | {cold.wall:.2f} | "
            f"{cold.wall / floor.wall:.2f} | {cold.cpu:.2f} | {cold.rss_mb:.0f} |",
            flush=True,
        )
        shutil.rmtree(tree)


if __name__ == "__main__":
    sys.exit(main())
