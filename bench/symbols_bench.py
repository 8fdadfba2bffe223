"""The Python symbol table alone: its memory and the time to fill and resolve it, on a tree.

    python bench/symbols_bench.py [--rounds 3] [--save EDGES] [--check EDGES] [TREE]

Without ``TREE`` the stdlib is copied to a temporary tree (``bench/stdlib_tree.py``). The tree is
indexed once (cold, ``--no-inject``: its ``.remora`` is created when missing) so that every node
has its stored id, then parsed once more in 2 worker processes; the packed results are kept, and
each round, in this process:
  * ``fill``: each packed result is unpacked and put in a fresh ``ProjectSymbols`` exactly as a
    cold index does (``cold.add_file_symbols``), the result dropped at once (CPU seconds; the
    cyclic GC off, as during a cold index, for ``fill`` and ``resolve``);
  * ``table MB``: what the filled table holds, traced by ``tracemalloc`` (a separate fill: the
    allocations still alive after it, the parse results dropped);
  * ``resolve``: ``resolve_file`` of every file in path order, as the cold tail does (CPU s);
  * ``hub load``: ``Indexer._load_symbols`` (every file's symbols read back from the database,
    as the hub and a re-index do; CPU s) and ``build_indexes`` (the hub's inverted indexes);
    ``hub load MB`` / ``hub load peak MB``: what the loaded table holds and the load's peak
    (``tracemalloc``, a separate load).
The edges of the resolution are hashed: ``--save`` writes them to a file, ``--check`` compares
with one (results identical before and after a change). Medians of CPU seconds are printed.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import pickle
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _packed(root: Path, paths: list[str]) -> list[bytes]:
    """Every file's packed parse result, pickled as it crossed from its worker (each fill
    unpickles them: the strings it keeps are the table's, as in a cold index)."""
    from remora_core.index.parse_pool import _batches, _parse_batch

    sizes = [(root / path).stat().st_size for path in paths]
    batches = _batches(paths, sizes, 16)
    with ProcessPoolExecutor(2) as pool:
        results = pool.map(_parse_batch, [str(root)] * len(batches), batches, [False] * len(batches))
        return [pickle.dumps(item) for batch in results for item in batch]


def _fill(indexer: Any, packed: list[bytes], ids: dict[str, tuple[str, list[str]]]) -> None:
    from remora_core.index.cold import add_file_symbols
    from remora_core.index.parse_pool import unpack_result
    from remora_core.languages import ProjectSymbols

    indexer.symbols = ProjectSymbols(indexer.root)
    indexer._param_sets.clear()
    getattr(indexer, "_names", {}).clear()  # (absent before the names were shared)
    for item in packed:
        result = unpack_result(pickle.loads(item))
        parsed = result.parsed
        if parsed is None or result.path not in ids:
            continue
        file_id, def_ids = ids[result.path]
        parents = [file_id if d.parent < 0 else def_ids[d.parent] for d in parsed.defs]
        add_file_symbols(indexer, result.path, parsed, file_id, def_ids, parents)
        del result, parsed


def _resolve(symbols: Any) -> str:
    digest = hashlib.sha256()
    for path in sorted(symbols.files):
        calls, imports = symbols.resolve_file(path)
        digest.update(repr((path, calls, imports)).encode())
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tree", nargs="?", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--save", type=Path, help="write the edges' hash to this file")
    parser.add_argument("--check", type=Path, help="compare the edges' hash with this file's")
    args = parser.parse_args()

    import json

    from remora_core.config import load_config
    from remora_core.index.indexer import Indexer
    from remora_core.store.store import Store

    temp = None
    root = args.tree
    if root is None:
        from stdlib_tree import copy_stdlib

        temp = Path(tempfile.mkdtemp(prefix="remora-symbols-"))
        root = temp / "stdlib"
        copy_stdlib(root)
    root = root.resolve()
    try:
        created = not (root / ".remora").exists()
        store = Store.open(root, create=True)
        indexer = Indexer(root, store, load_config(root).index)
        if created:
            indexer.index(inject=False)
        ids = {path: (file_id, json.loads(refs).get("ids", [])) for path, file_id, refs in store.file_refs()}
        packed = _packed(root, sorted(ids))
        gc.collect()
        figures: dict[str, list[float]] = {
            "fill": [],
            "table MB": [],
            "resolve": [],
            "hub load": [],
            "hub load MB": [],
            "hub load peak MB": [],
            "build_indexes": [],
        }
        digest = ""
        for _ in range(args.rounds):
            indexer.symbols = None
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            _fill(indexer, packed, ids)
            gc.collect()
            figures["table MB"].append((tracemalloc.get_traced_memory()[0] - before) / 1e6)
            tracemalloc.stop()
            indexer.symbols = None
            gc.collect()
            gc.disable()  # as in a cold index (``index/gcpause.py``): the collector is off for the pass
            started = time.process_time()
            _fill(indexer, packed, ids)
            figures["fill"].append(time.process_time() - started)
            started = time.process_time()
            digest = _resolve(indexer.symbols)
            figures["resolve"].append(time.process_time() - started)
            gc.enable()
            indexer.symbols = None
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            traced = indexer._load_symbols(set())
            live, peak = tracemalloc.get_traced_memory()
            figures["hub load MB"].append((live - before) / 1e6)
            figures["hub load peak MB"].append((peak - before) / 1e6)
            tracemalloc.stop()
            del traced
            gc.collect()
            started = time.process_time()
            loaded = indexer._load_symbols(set())
            figures["hub load"].append(time.process_time() - started)
            started = time.process_time()
            loaded.build_indexes()
            figures["build_indexes"].append(time.process_time() - started)
            if _resolve(loaded) != digest:
                raise SystemExit("the table loaded from the database resolves differently from the cold one")
            del loaded
        files = len(ids)
        print(f"{files} files, {args.rounds} rounds (medians; CPU seconds, tracemalloc MB)")
        for name, values in figures.items():
            print(
                f"  {name:16} {statistics.median(values):8.3f}   rounds {', '.join(f'{v:.3f}' for v in values)}"
            )
        print(f"  edges sha256   {digest}")
        if args.save is not None:
            args.save.write_text(digest + "\n")
        if args.check is not None:
            expected = args.check.read_text().strip()
            print("  edges identical to", args.check, "" if expected == digest else "-- NO, THEY DIFFER")
            if expected != digest:
                raise SystemExit(1)
        store.close()
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    main()
