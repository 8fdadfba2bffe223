"""The cost of per-file extraction on top of tree-sitter's parse (issue #15, the worker side).

    python bench/extract_bench.py [--rounds N] [--profile]

Copies the standard library (``bench/stdlib_tree.py``) and measures, in this one process with
the cyclic GC off (as in the parse workers), CPU time (``time.process_time``: the machine is
shared, wall time is not meaningful):

- bare ``Parser.parse`` of every file (reading included);
- ``parse_pool._parse_batch`` (``pack_result(parse_one(...))`` per file) over batches of
  ~0.5 MB and the pickling of each batch's results: what a parse worker does;
- unpickling each batch and ``unpack_result`` of every file: what the parent does;
- the extraction overhead: parse_one+pack minus the bare parse.

Rounds alternate the two (best of N each). ``--anchored`` first writes an anchor on every
definition (and a file anchor) of the copy, as in a project Remora has indexed. ``--profile``
prints a cProfile of one parse_one+pack pass instead.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pickle
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stdlib_tree import copy_stdlib

from remora_core.index.parse_pool import _parse_batch, unpack_result
from remora_core.parsing.anchors import AnchorEdit, apply_anchor_edits
from remora_core.parsing.python_source import extract, parse_tree, python_parser, utf8_source


def _paths(root: str) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(d, n), root) for d, _, names in os.walk(root) for n in names if n.endswith(".py")
    )


def write_anchors(root: str, paths: list[str]) -> None:
    """An anchor on every definition that takes one, and a file anchor, in every file."""
    for number, path in enumerate(paths):
        full = os.path.join(root, path)
        with open(full, "rb") as handle:
            view, problems = utf8_source(handle.read())
        if problems:
            continue  # recoded: offsets are not the file's own
        parsed = extract(view, parse_tree(view)).parsed
        edits = [AnchorEdit(parsed.file_anchor_insert_line, f"rm_f{number:07d}", is_file_anchor=True)]
        edits += [
            AnchorEdit(d.inject_line, f"rm_{number:04d}{index:04d}")
            for index, d in enumerate(parsed.defs)
            if d.inject_line is not None
        ]
        with open(full, "wb") as handle:
            handle.write(apply_anchor_edits(view, edits))


def bare_parse(root: str, paths: list[str]) -> float:
    parser = python_parser()
    start = time.process_time()
    for path in paths:
        with open(os.path.join(root, path), "rb") as handle:
            parser.parse(handle.read())
    return time.process_time() - start


def extract_pass(root: str, paths: list[str]) -> tuple[float, bytes]:
    """What the workers do: ``parse_pool._parse_batch`` (parse_one + pack_result per file, and
    what the worker does for its memory) and the pickling of each batch's packed results on
    their way to the parent (``ProcessPoolExecutor`` pickles what the batch returns)."""
    start = time.process_time()
    batches = [pickle.dumps(_parse_batch(root, batch, False)) for batch in _batches(paths)]
    return time.process_time() - start, pickle.dumps(batches)


def unpack_pass(pickled: bytes) -> float:
    """What the parent does: unpickle each batch and ``unpack_result`` every file."""
    batches = pickle.loads(pickled)
    start = time.process_time()
    for batch in batches:
        for item in pickle.loads(batch):
            unpack_result(item)
    return time.process_time() - start


def _batches(paths: list[str]) -> list[list[str]]:
    step = 28  # ~0.5 MB of the stdlib per batch, as parse_pool.BATCH_BYTES
    return [paths[at : at + step] for at in range(0, len(paths), step)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--anchored", action="store_true", help="write anchors into the copy first")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="remora-extract-bench-") as tmp:
        root = os.path.join(tmp, "stdlib")
        files, size = copy_stdlib(Path(root))
        paths = _paths(root)
        if args.anchored:
            write_anchors(root, paths)
        anchored = ", anchored" if args.anchored else ""
        print(f"stdlib copy{anchored}: {files} files, {size / 1e6:.1f} MB; gc disabled; CPU seconds (process_time)")
        python_parser()
        gc.disable()  # as in the workers (``parse_pool._worker_start``): off, what exists frozen
        gc.freeze()
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            extract_pass(root, paths)
            profile.disable()
            pstats.Stats(profile).sort_stats("tottime").print_stats(30)
            return 0
        parse_times: list[float] = []
        extract_times: list[float] = []
        unpack_times: list[float] = []
        for number in range(args.rounds):
            parse_times.append(bare_parse(root, paths))
            seconds, packed = extract_pass(root, paths)
            extract_times.append(seconds)
            unpack_times.append(unpack_pass(packed))
            del packed
            print(
                f"round {number + 1}: parse {parse_times[-1]:.2f}  parse_one+pack {extract_times[-1]:.2f}"
                f"  unpack {unpack_times[-1]:.2f}"
            )
        bare, full, unpack = min(parse_times), min(extract_times), min(unpack_times)
        print(f"bare parse CPU:            {bare:6.2f} s")
        print(f"parse_one + pack CPU:      {full:6.2f} s")
        print(f"unpack (parent) CPU:       {unpack:6.2f} s")
        print(f"extraction overhead CPU:   {full - bare:6.2f} s  (parse_one+pack minus bare parse, best of {args.rounds})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
