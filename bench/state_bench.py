"""Node-state benchmark: save-to-state latency in a running hub, and the first full state build.

    python bench/state_bench.py [--edits 60] [--skip-build] [--skip-stdlib]

1. Save to state: a project with one 1,000-line file (100 functions, as ``hub_bench.py``) and
   ``remora-hub --watch`` in its own process (node state on, triage off, ``run_single_test``
   removed from the rules: deterministic tools only). Once the first build is done, this process
   edits one function's body (plain ``write``), then waits with an ``EventTailer`` for that
   node's ``NodeStateUpdated`` event, which the hub appends after the node's state row and its
   markdown are written. One sample = write to event read here; the markdown is checked to hold
   the new source version. Edits are spaced 0.4-0.7 s apart (each save is its own update; the
   ``[hub] settle_ms`` quiet time, 150 ms by default, is part of every sample).
   Target: p95 <= 500 ms.
2. First full state build (baseline state of every node + markdown; no rules, no tests run),
   in-process, of a copy of this repository's tree and of the stdlib copy (``stdlib_tree.py``),
   both indexed first with ``--no-inject``: nodes, seconds, markdown files written.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from hub_bench import FUNCTIONS, big_file, percentile, start_hub
from stdlib_tree import copy_stdlib

from remora_core.config import IndexConfig, load_config
from remora_core.events import EventTailer
from remora_core.events.models import NodeStateUpdatedEvent, TopologyChangedEvent
from remora_core.hub.state.service import BUILD_CHUNK
from remora_core.hub.state.updater import StateUpdater
from remora_core.index.indexer import Indexer
from remora_core.store.store import Store

REPO = Path(__file__).resolve().parent.parent
CONFIG = """\
[hub]
state = true

[hub.rules]
missing_test = ["find_tests", "generate_test_skeleton"]   # run_single_test excluded from the figure
"""


def _built(root: Path) -> bool:
    store = Store.open(root)
    try:
        nodes = store.connection.execute("SELECT count(*) FROM nodes WHERE status = 'active'").fetchone()[0]
        states = store.connection.execute("SELECT count(*) FROM node_state").fetchone()[0]
        return bool(nodes) and states >= nodes
    finally:
        store.close()


def _ids(root: Path) -> dict[str, str]:
    store = Store.open(root)
    try:
        return {row.name: row.id for row in store.nodes_in_file("big.py", active_only=True)}
    finally:
        store.close()


def save_to_state(temp: Path, edits: int) -> None:
    root = temp / "latency"
    (root / ".remora").mkdir(parents=True)
    (root / ".remora" / "config.toml").write_text(CONFIG)
    target = root / "big.py"
    target.write_text(big_file(0, -1))
    log = temp / "latency.log"
    proc = start_hub(root, log)
    try:
        deadline = time.monotonic() + 300
        while not _built(root):
            if time.monotonic() > deadline:
                sys.exit("bench: the first state build did not finish")
            time.sleep(0.1)
        ids = _ids(root)
        gaps = random.Random(13)
        samples: list[float] = []
        to_index: list[float] = []  # write -> TopologyChanged stamped (hub clock = this clock)
        to_state: list[float] = []  # TopologyChanged -> NodeStateUpdated stamped
        with EventTailer(root, after=None) as tailer:
            text = target.read_text()
            for number in range(1, edits + 1):
                index = (number * 7) % FUNCTIONS
                lines = text.split("\n")
                body = [i for i, line in enumerate(lines) if line.startswith("    total = argument + ")][index]
                lines[body] = f"    total = argument + {number}"
                text = "\n".join(lines)
                node = ids[f"function_{index}"]
                seen: list[float] = []

                def wanted(event: object, node: str = node, seen: list[float] = seen) -> bool:
                    if isinstance(event, TopologyChangedEvent) and event.file_path == "big.py":
                        seen.append(event.timestamp)
                    return isinstance(event, NodeStateUpdatedEvent) and event.agent_id == node

                wall = time.time()
                started = time.perf_counter()
                with open(target, "w") as handle:
                    handle.write(text)
                event = tailer.wait_for(wanted, timeout=10)
                elapsed = time.perf_counter() - started
                if event is None:
                    sys.exit(f"bench: no NodeStateUpdated for edit {number}; see {log}")
                assert isinstance(event, NodeStateUpdatedEvent)
                markdown = root / str(event.markdown_path)
                if event.source_version[:12] not in markdown.read_text():
                    sys.exit(f"bench: {markdown} does not show source {event.source_version[:12]}")
                samples.append(elapsed)
                if seen:
                    to_index.append(seen[0] - wall)
                    to_state.append(event.timestamp - seen[-1])
                time.sleep(gaps.uniform(0.4, 0.7))
    finally:
        proc.terminate()
        proc.wait(10)
    ms = [value * 1000 for value in samples]
    print(
        f"save -> node state + markdown ({len(ms)} edits of a 1,000-line file): "
        f"p50 {statistics.median(ms):.0f} ms, p95 {percentile(ms, 0.95):.0f} ms, max {max(ms):.0f} ms "
        f"(target p95 <= 500 ms)"
    )
    if to_index and to_state:
        print(
            f"  of which write -> index event p50 {statistics.median(to_index) * 1000:.0f} ms; "
            f"index event -> state event p50 {statistics.median(to_state) * 1000:.0f} ms "
            f"(settle_ms included), p95 {percentile([v * 1000 for v in to_state], 0.95):.0f} ms"
        )


def full_build(root: Path, label: str, limit: int | None = None) -> None:
    """Build in chunks of ``BUILD_CHUNK`` nodes, as the hub does; ``limit``: stop after that many
    nodes and extrapolate the whole build from the rate."""
    store = Store.open(root)
    try:
        started = time.perf_counter()
        report = Indexer(root, store, IndexConfig(inject=False)).index()
        indexed = time.perf_counter() - started
        updater = StateUpdater(root, store, load_config(root).hub)
        started = time.perf_counter()
        ids = updater.stale_nodes()
        todo = ids[:limit] if limit else ids
        built = 0
        for start in range(0, len(todo), BUILD_CHUNK):
            built += updater.build(todo[start : start + BUILD_CHUNK])
        seconds = time.perf_counter() - started
    finally:
        store.close()
    markdown = sum(1 for _ in (root / ".agentfs" / "nodes").rglob("*.md"))
    rate = built / seconds
    whole = "" if len(todo) == len(ids) else f"; the first {built} of {len(ids)} nodes: the whole build ~{len(ids) / rate / 60:.0f} min"
    print(
        f"first full state build of {label}: {built} nodes in {seconds:.1f} s "
        f"({rate:.0f} nodes/s; {markdown} markdown files; index took {indexed:.1f} s, {report.files} files{whole})"
    )


def copy_repo(target: Path) -> None:
    for folder in ("remora_core", "tests", "bench", "rplugin"):
        shutil.copytree(
            REPO / folder, target / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "fixtures")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=60)
    parser.add_argument("--skip-build", action="store_true", help="skip the full-build figures")
    parser.add_argument("--skip-stdlib", action="store_true", help="skip the stdlib full build")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--stdlib-limit", type=int, default=None, help="build only the first N stdlib nodes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="remora-state-bench-") as name:
        temp = Path(name)
        if not args.skip_latency:
            save_to_state(temp, args.edits)
        if not args.skip_build:
            repo = temp / "repo"
            copy_repo(repo)
            full_build(repo, "this repository")
            if not args.skip_stdlib:
                stdlib = temp / "stdlib"
                files, size = copy_stdlib(stdlib)
                full_build(stdlib, f"the stdlib copy ({files} files, {size / 1e6:.1f} MB)", args.stdlib_limit)


if __name__ == "__main__":
    main()
