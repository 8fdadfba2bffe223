"""Graph benchmark: cold-node queries on the standard library index.

    python bench/graph_bench.py [--queries 500] [--tree DIR]

Indexes a copy of ``sysconfig.get_paths()["stdlib"]`` (``*.py``, no site-packages; or
reuses ``--tree`` when it already holds an index), then for ``--queries`` random nodes
that the graph has not loaded yet ("cold"), times: callers + callees at depth 2 (the
depth-2 neighbourhood over ``calls`` edges) + parent. Target: p95 <= 5 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from stdlib_tree import copy_stdlib

from remora_core.config import IndexConfig
from remora_core.graph import TopologyGraph
from remora_core.index.indexer import Indexer
from remora_core.store.db import database_path
from remora_core.store.store import Store

LIMIT_P95_MS = 5.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run(tree: Path, queries: int, seed: int) -> None:
    if not database_path(tree).exists():
        files = copy_stdlib(tree)[0] if not any(tree.iterdir()) else None
        store = Store.open(tree)
        started = time.perf_counter()
        Indexer(tree, store, IndexConfig(inject=False)).index()
        print(f"indexed {files or 'existing'} files in {time.perf_counter() - started:.1f} s")
        store.close()
    store = Store.open(tree)
    nodes, edges, _ = store.counts()
    print(f"index: {sum(nodes.values())} active nodes {nodes}, edges {edges}")
    ids = [
        row[0]
        for row in store.connection.execute(
            "SELECT id FROM nodes WHERE status = 'active' AND node_type != 'file'"
        )
    ]
    random.Random(seed).shuffle(ids)
    graph = TopologyGraph(store.connection)
    samples: list[float] = []
    sizes: list[int] = []
    for node_id in ids:
        if len(samples) == queries:
            break
        if node_id in graph._index:
            continue
        started = time.perf_counter()
        hood = graph.neighbourhood(node_id, 2, edge_types=("calls",))
        graph.parent(node_id)
        samples.append((time.perf_counter() - started) * 1000)
        sizes.append(len(hood.nodes))
    p50 = statistics.median(samples)
    p95 = percentile(samples, 0.95)
    print(f"cold-node query (callers + callees depth 2 + parent) over {len(samples)} nodes:")
    print(
        f"  p50 {p50:.2f} ms, p95 {p95:.2f} ms (limit {LIMIT_P95_MS:.0f})  {'OK' if p95 <= LIMIT_P95_MS else 'OVER'}"
    )
    print(
        f"  max {max(samples):.2f} ms; neighbourhood size median {statistics.median(sizes)}, max {max(sizes)}"
    )
    print(f"  graph holds {graph.loaded_nodes} nodes / {graph.loaded_edges} edges after the run")
    store.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--tree", type=Path, help="a directory to index (or reuse); default: a temp stdlib copy"
    )
    args = parser.parse_args()
    if args.tree is not None:
        args.tree.mkdir(parents=True, exist_ok=True)
        run(args.tree.resolve(), args.queries, args.seed)
        return 0
    with tempfile.TemporaryDirectory(prefix="remora-graph-bench-") as temp:
        run(Path(temp), args.queries, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
