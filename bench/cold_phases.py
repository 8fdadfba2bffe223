"""The parent's share of a cold index: its CPU outside the wait for worker results, and the
serial tail after the last result (the workers are idle then).

    python bench/cold_phases.py [--runs 3] [TREE]

Without ``TREE`` the stdlib is copied to a temporary tree (``bench/stdlib_tree.py``). Each
round runs a fresh interpreter that indexes the tree cold (``Indexer.index(inject=False)``,
the database removed first) with a few functions wrapped to time them:
  * ``wait``: time (wall and CPU) inside ``next()`` of the parse results: blocked on the
    workers, plus unpacking their results (the workers' side of the issue),
  * ``parent CPU``: the parent process's CPU (all its threads) minus the CPU inside that wait,
  * ``tail``: from the last result to the end of ``index()`` (wall and CPU), the serial part,
  * per-phase CPU of the parent's steps (cumulative over the run, each in its own thread:
    ``_write_known`` and ``insert_edges_json`` run in a helper thread while the main one resolves
    calls; a tail wall time below the tail's CPU time is that overlap).
CPU figures (``time.process_time``) are the stable part on a shared machine; medians printed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

PARENT_CPU_LIMIT_S = 3.0
TAIL_LIMIT_S = 1.2


def _child(tree: Path) -> dict[str, float]:
    """One cold index of ``tree`` in this process; the figures."""
    import remora_core.index.indexer as indexer_module
    from remora_core.index import cold
    from remora_core.index.indexer import Indexer
    from remora_core.languages import ProjectSymbols
    from remora_core.store.store import Store

    cpu: dict[str, float] = defaultdict(float)

    def timed(owner: Any, name: str) -> None:
        function = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()  # this thread's: the cold build's helper thread is timed apart
            try:
                return function(*args, **kwargs)
            finally:
                cpu[name] += time.thread_time() - started

        setattr(owner, name, wrapper)

    for owner, name in (
        (Indexer, "_index_file"),
        (cold, "index_new_file"),
        (cold, "_flush"),
        (cold, "_write_known"),
        (ProjectSymbols, "resolve_file"),
        (ProjectSymbols, "parents"),
        (Store, "put_nodes"),
        (Store, "put_files"),
        (Store, "insert_node_values"),
        (Store, "insert_file_values"),
        (Store, "put_edges"),
        (Store, "insert_edges_json"),
        (Store, "insert_parent_edges"),
        (Store, "create_indexes"),
        (indexer_module, "count_totals"),
        (indexer_module, "discover"),
    ):
        if hasattr(owner, name):
            timed(owner, name)
    transaction = Store.transaction

    class TimedTransaction:
        """``Store.transaction`` whose exit (the commit) is timed."""

        def __init__(self, store: Store, **kwargs: Any) -> None:
            self.inner = transaction(store, **kwargs)

        def __enter__(self) -> Any:
            return self.inner.__enter__()

        def __exit__(self, *exc: object) -> Any:
            started = time.process_time()
            try:
                return self.inner.__exit__(*exc)  # type: ignore[arg-type]
            finally:
                cpu["commit"] += time.process_time() - started

    def timed_transaction(self: Store, **kwargs: Any) -> TimedTransaction:
        return TimedTransaction(self, **kwargs)

    Store.transaction = timed_transaction  # type: ignore[method-assign]
    marks: dict[str, float] = {}
    original = indexer_module.parse_files

    def parse_files(*args: Any, **kwargs: Any) -> Iterator[Any]:
        results = original(*args, **kwargs)
        while True:
            wall, started = time.perf_counter(), time.process_time()
            try:
                item = next(results)
            except StopIteration:
                return
            finally:
                cpu["wait"] += time.process_time() - started
                cpu["wait_wall"] += time.perf_counter() - wall
                marks["last_wall"], marks["last_cpu"] = time.perf_counter(), time.process_time()
            yield item

    indexer_module.parse_files = parse_files
    shutil.rmtree(tree / ".remora", ignore_errors=True)
    store = Store.open(tree)
    wall, started = time.perf_counter(), time.process_time()
    report = Indexer(tree, store).index(inject=False)
    end_wall, end_cpu = time.perf_counter(), time.process_time()
    store.close()
    figures: dict[str, float] = {f"cpu {name}": round(value, 3) for name, value in cpu.items()}
    figures["wall"] = round(end_wall - wall, 3)
    figures["cpu"] = round(end_cpu - started, 3)
    figures["parent_cpu"] = round(end_cpu - started - cpu["wait"], 3)
    figures["tail_wall"] = round(end_wall - marks["last_wall"], 3)
    figures["tail_cpu"] = round(end_cpu - marks["last_cpu"], 3)
    figures["files"] = report.files
    figures["nodes"] = sum(report.nodes.values())
    figures["edges"] = sum(report.edges.values())
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree", nargs="?", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.tree.resolve())))
        return 0
    with tempfile.TemporaryDirectory(prefix="remora-phases-") as temp:
        tree = args.tree
        if tree is None:
            from stdlib_tree import copy_stdlib

            tree = Path(temp) / "stdlib"
            files, size = copy_stdlib(tree)
            print(f"tree: {files} files, {size / 1e6:.1f} MB")
        runs = [_run(tree) for _ in range(args.runs)]
    keys = list(runs[0])
    median: Callable[[str], float] = lambda key: statistics.median(float(run[key]) for run in runs)
    for key in keys:
        print(f"{key:<28} {median(key):9.3f}   ({', '.join(f'{float(run[key]):.3f}' for run in runs)})")
    parent, tail = median("parent_cpu"), median("tail_wall")
    print(
        f"parent CPU outside the wait: {parent:.2f} s (limit {PARENT_CPU_LIMIT_S:.1f}) "
        f"{'OK' if parent <= PARENT_CPU_LIMIT_S else 'OVER'}; serial tail: {tail:.2f} s wall "
        f"(limit {TAIL_LIMIT_S:.1f}) {'OK' if tail <= TAIL_LIMIT_S else 'OVER'}"
    )
    return 0


def _run(tree: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(tree)], check=True, capture_output=True, text=True
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


if __name__ == "__main__":
    sys.exit(main())
