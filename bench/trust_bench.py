"""What CPython's verdict costs: CPU time of Remora's parse (tree-sitter + extraction) and of
``compile()`` over the standard library's files, in this process.

    python bench/trust_bench.py [--every N] [--runs 3]

A cold index with anchor injection compiles every file that needs anchors (in the parser
processes); ``--no-inject`` and re-indexes of anchored files do not. The ``ast`` fallback runs
only for files tree-sitter cannot parse (one in the 3.11 standard library). Each figure is the
best of ``--runs`` runs of CPU time (``time.process_time``), so machine load matters less.
"""

from __future__ import annotations

import argparse
import os
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path

from remora_core.parsing.cpython import cpython_problem
from remora_core.parsing.python_source import parse_python


def stdlib_sources(every: int) -> list[bytes]:
    root = Path(sysconfig.get_paths()["stdlib"])
    paths: list[Path] = []
    for directory, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in ("site-packages", "dist-packages", "__pycache__")]
        paths.extend(Path(directory) / name for name in names if name.endswith(".py"))
    return [path.read_bytes() for path in sorted(paths)[::every]]


def cpu(work: Callable[[bytes], object], sources: list[bytes], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        for data in sources:
            work(data)
        best = min(best, time.process_time() - started)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=1, help="take every Nth stdlib file")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sources = stdlib_sources(args.every)
    print(f"{len(sources)} files, {sum(map(len, sources)) / 1e6:.1f} MB")
    parse_s = cpu(parse_python, sources, args.runs)
    compile_s = cpu(cpython_problem, sources, args.runs)
    print(f"remora parse (tree-sitter + extraction): {parse_s:.2f} s CPU")
    print(f"CPython compile() verdict:               {compile_s:.2f} s CPU ({compile_s / parse_s:.0%} of the parse)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
