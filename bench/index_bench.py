"""Index benchmark: cold index of the standard library vs Universal Ctags, and a no-change re-index.

    python bench/index_bench.py [--runs 3] [--tree DIR]

Copies the ``*.py`` files of ``sysconfig.get_paths()["stdlib"]`` (site-packages excluded)
to a temporary tree, then times, in this one run:
  * ``ctags -R --languages=Python`` on the tree (Universal Ctags, Debian's ``universal-ctags``),
  * ``remora index --no-inject --json`` on the tree with no database (cold, parallel parsing),
  * the same command again on the unchanged tree (no-change re-index).
Each figure is the median of ``--runs`` runs, wall time of the whole command.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stdlib_tree import copy_stdlib

COLD_LIMIT_RATIO = 4.0
REINDEX_LIMIT_S = 1.0


def timed(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"bench: {command[0]} failed ({done.returncode}): {done.stderr.strip()[:500]}")
    return elapsed, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ctags = shutil.which("ctags")
    if ctags is None:
        sys.exit("bench: ctags not found (apt-get install universal-ctags)")
    version = subprocess.run([ctags, "--version"], capture_output=True, text=True, check=True).stdout.splitlines()[0]
    remora = [sys.executable, "-m", "remora_core.cli"]
    with tempfile.TemporaryDirectory(prefix="remora-bench-") as temp:
        tree = Path(temp) / "stdlib"
        files, size = copy_stdlib(tree)
        print(f"tree: {files} files, {size / 1e6:.1f} MB (copy of {sysconfig.get_paths()['stdlib']})")
        print(f"cores: {len(os.sched_getaffinity(0))}; ctags: {version}")
        tags = Path(temp) / "tags"
        ctags_times, cold_times, warm_times = [], [], []
        report: dict[str, object] = {}
        for _ in range(args.runs):
            ctags_times.append(timed([ctags, "-R", "--languages=Python", "-f", str(tags), str(tree)])[0])
            shutil.rmtree(tree / ".remora", ignore_errors=True)
            elapsed, out = timed([*remora, "index", "--no-inject", "--json", str(tree)])
            cold_times.append(elapsed)
            report = json.loads(out)
        for _ in range(args.runs):
            elapsed, out = timed([*remora, "index", "--no-inject", "--json", str(tree)])
            warm_times.append(elapsed)
            assert json.loads(out)["changed_files"] == 0
    ctags_s = statistics.median(ctags_times)
    cold_s = statistics.median(cold_times)
    warm_s = statistics.median(warm_times)
    ratio = cold_s / ctags_s
    print(f"nodes: {report['nodes']}  edges: {report['edges']}  problems: {len(report['errors'])}")  # type: ignore[arg-type]
    print(f"ctags -R --languages=Python: {ctags_s:.2f} s   (runs: {', '.join(f'{t:.2f}' for t in ctags_times)})")
    print(f"remora cold index:           {cold_s:.2f} s   (runs: {', '.join(f'{t:.2f}' for t in cold_times)})")
    print(f"cold / ctags ratio:          {ratio:.2f}x  (limit {COLD_LIMIT_RATIO:.0f}x)  {'OK' if ratio <= COLD_LIMIT_RATIO else 'OVER'}")
    print(f"no-change re-index:          {warm_s:.3f} s  (limit {REINDEX_LIMIT_S:.0f} s)  {'OK' if warm_s <= REINDEX_LIMIT_S else 'OVER'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
