"""What a cold index cannot go below: the CPU of the parts no Python extraction removes.

    python bench/cold_budget.py [--tree DIR]

On a copy of the standard library (or ``--tree``), in this one process, CPU seconds of:
  * the bare tree-sitter parse of every ``.py`` (what the parse floor does, minus the pool),
  * the same parse plus the one extraction query Remora runs on each tree (captures only,
    no Python per capture),
  * SQLite writing the final tables of that tree (taken from a cold ``remora index`` of it) into
    a fresh database the way the cold build does (``store.db.bulk_load``'s settings, secondary
    indexes dropped, rows inserted in key order, indexes built, one commit),
then the sum, which is CPU no rewrite of the Python parts can remove, and the wall time that
sum takes on this machine's cores at best (perfectly parallel), next to the parse floor's wall
time (``bench/parse_floor.py``, a whole process with ``Pool(2)``, as in ``index_bench.py``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from stdlib_tree import copy_stdlib
from tree_sitter import QueryCursor

from remora_core.index.cold import COLD_CACHE_KIB
from remora_core.parsing import python_source
from remora_core.store import db

FLOOR = str(Path(__file__).resolve().parent / "parse_floor.py")
TABLES = ("nodes", "files", "edges")


def _sources(tree: Path) -> list[bytes]:
    paths = sorted(Path(d) / n for d, _, names in os.walk(tree) for n in names if n.endswith(".py"))
    return [path.read_bytes() for path in paths]


def _cpu(work: object) -> float:
    started = time.process_time()
    work()  # type: ignore[operator]
    return time.process_time() - started


def parse_cpu(sources: list[bytes]) -> float:
    parser = python_source.python_parser()
    return _cpu(lambda: [parser.parse(data) for data in sources])


def parse_query_cpu(sources: list[bytes]) -> float:
    parser = python_source.python_parser()
    query = python_source._tools()[1]

    def work() -> None:
        for data in sources:
            QueryCursor(query).captures(parser.parse(data).root_node)

    return _cpu(work)


def sqlite_cpu(built: Path, target: Path) -> tuple[float, dict[str, int]]:
    source = sqlite3.connect(built)
    rows = {table: source.execute(f"SELECT * FROM {table}").fetchall() for table in TABLES}
    source.close()
    connection = db.connect(target)
    connection.execute("PRAGMA foreign_keys = OFF")
    indexes = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('nodes', 'edges')"
    ).fetchall()
    ordered = {table: sorted(values) for table, values in rows.items()}

    def work() -> None:
        with db.bulk_load(connection, COLD_CACHE_KIB):
            load()

    def load() -> None:
        connection.execute("BEGIN")
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        for table, values in ordered.items():
            marks = ", ".join("?" * len(values[0]))
            connection.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
        for _, sql in indexes:
            connection.execute(sql)
        connection.execute("COMMIT")

    started = time.perf_counter()
    cpu = _cpu(work)
    wall = time.perf_counter() - started
    connection.close()
    return max(cpu, wall), {table: len(values) for table, values in rows.items()}  # I/O waits count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, help="a tree of .py files (default: a copy of the stdlib)")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cores: {cores}")
    with tempfile.TemporaryDirectory(prefix="remora-budget-") as temp:
        tree = args.tree
        if tree is None:
            tree = Path(temp) / "stdlib"
            copy_stdlib(tree)
        work = Path(temp) / "work"
        shutil.copytree(tree, work, ignore=shutil.ignore_patterns(".remora"))
        sources = _sources(work)
        print(f"tree: {len(sources)} files, {sum(map(len, sources)) / 1e6:.1f} MB")
        started = time.perf_counter()
        subprocess.run([sys.executable, FLOOR, str(work)], check=True, capture_output=True)
        floor_wall = time.perf_counter() - started
        subprocess.run(
            [sys.executable, "-m", "remora_core.cli", "index", "--no-inject", "--json", str(work)],
            check=True,
            capture_output=True,
        )
        parse = parse_cpu(sources)
        query = parse_query_cpu(sources) - parse
        write, counts = sqlite_cpu(db.database_path(work), Path(temp) / "fresh.db")
        total = parse + query + write
        best_wall = total / cores
        print(f"rows: {counts}")
        print(f"bare parse                     {parse:6.2f} s CPU")
        print(f"+ the extraction query         {query:6.2f} s CPU (captures only)")
        print(f"+ SQLite writes of the tables  {write:6.2f} s CPU (or wall, if more)")
        print(f"= irreducible                  {total:6.2f} s CPU -> {best_wall:.2f} s wall at best on {cores} cores")
        print(f"parse floor (Pool(2), whole process): {floor_wall:.2f} s wall")
        print(f"irreducible / floor: {best_wall / floor_wall:.2f}x (before any Python per node, start-up or resolution)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
