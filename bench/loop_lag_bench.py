"""Event-loop lag while the hub cold-indexes the standard library into the same database.

    python bench/loop_lag_bench.py [--tree DIR] [--chats 20] [--idle 5]

The project is a copy of the standard library plus one small module whose functions are the
agents. Only that module is indexed first; then, on one asyncio loop (what the Neovim host
runs; no Neovim needed), this process runs:

* the editor service as the host uses it: ``node_info`` / ``linemap`` requests every 20 ms
  (the panel and CursorMoved), ``new_events`` woken by commits (the host's event follower),
  and the project's ``LiveGraph`` followed on the loop;
* the agent runner (``AgentService.run_forever``, as the host starts it) against a fake
  OpenAI-compatible server: each chat makes the agent call ``rewrite_self`` (a proposal) and
  answer; chats arrive through ``AgentService.achat`` (the host's chat request);
* the host's write requests (reject, stop) through the engine's async face while the hub
  holds the write lock;
* a lag probe: ``asyncio.sleep(0.001)`` in a loop, the lag being how late each wake-up is.

A second process runs the same probe on an empty loop at the same time: its figures are what
the machine's CPU load alone costs (the hub's pass keeps a core busy), the baseline to
compare with.

Phase 1 (idle): nobody else writes. Phase 2 (cold index): ``remora-hub --once`` indexes the
whole tree in another process, one write transaction holding the lock for the whole pass.
Target: lag p99 <= 5 ms in both phases.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from stdlib_tree import copy_stdlib

import remora_core.agents.llm  # noqa: F401 -- openai imports in ~1 s; the host does it in a thread
from remora_core.agents.service import AgentService
from remora_core.config import AgentsConfig, IndexConfig, LLMConfig, RemoraConfig
from remora_core.editor.service import EditorService
from remora_core.events.follow import RootsFollower
from remora_core.events.models import BaseEvent
from remora_core.index.indexer import Indexer
from remora_core.store.db import database_path
from remora_core.store.store import Store
from tests.fake_llm import FakeLLM

LIMIT_P99_MS = 5.0
PROBE_S = 0.001
AGENT_MODULE = "remora_bench_agents.py"
AGENTS = "".join(f"def agent_{n}(x):\n    return x + {n}\n\n\n" for n in range(8))


class SlowCallbacks:
    """``--profile``: which loop callbacks ran longer than ``threshold_ms`` (the lag's causes)."""

    def __init__(self, threshold_ms: float) -> None:
        self.threshold = threshold_ms / 1000
        self.slow: dict[str, list[float]] = {}
        original = asyncio.events.Handle._run
        watch = self

        def timed_run(handle: asyncio.events.Handle) -> None:
            started = time.perf_counter()
            original(handle)
            took = time.perf_counter() - started
            if took >= watch.threshold:
                watch.slow.setdefault(watch.name(handle), []).append(took * 1000)

        asyncio.events.Handle._run = timed_run  # type: ignore[method-assign]

    @staticmethod
    def name(handle: asyncio.events.Handle) -> str:
        callback = getattr(handle, "_callback", None)
        owner = getattr(callback, "__self__", None)
        if isinstance(owner, asyncio.Task):
            coro = owner.get_coro()
            frame = getattr(coro, "cr_frame", None)
            where = f" at line {frame.f_lineno}" if frame is not None else ""
            return f"task {getattr(coro, '__qualname__', coro)!s}{where}"
        return repr(callback)[:120]

    def report(self) -> None:
        print(f"callbacks over {self.threshold * 1000:g} ms (count, max ms, total ms):")
        ranked = sorted(self.slow.items(), key=lambda item: -sum(item[1]))
        for name, took in ranked[:20]:
            print(f"  {len(took):5d} {max(took):7.1f} {sum(took):8.0f}  {name}")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


Lags = list[tuple[float, float]]  # (monotonic time of the wake-up, lag in ms)


class Probe:
    """How late the loop wakes a 1 ms sleeper."""

    def __init__(self) -> None:
        self.lags: Lags = []

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            started = time.perf_counter()
            await asyncio.sleep(PROBE_S)
            now = time.perf_counter()
            self.lags.append((now, max(0.0, (now - started - PROBE_S) * 1000)))

    def take(self) -> Lags:
        lags, self.lags = self.lags, []
        return lags


class LockWatch:
    """A thread that notes when another process holds the write lock (a zero-timeout
    ``BEGIN IMMEDIATE`` every 20 ms on a connection of its own)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.spans: list[tuple[float, float]] = []
        self.since: float | None = None  # when the current span began (the lock is held now)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        connection = sqlite3.connect(str(self.path), timeout=0, isolation_level=None)
        while not self.stop.wait(0.02):
            try:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("ROLLBACK")
                if self.since is not None:
                    self.spans.append((self.since, time.perf_counter()))
                    self.since = None
            except sqlite3.OperationalError:
                if self.since is None:
                    self.since = time.perf_counter()
        if self.since is not None:
            self.spans.append((self.since, time.perf_counter()))
        connection.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()

    def during(self, lags: Lags) -> list[float]:
        return [lag for at, lag in lags if any(start <= at <= end for start, end in self.spans)]


async def editor_requests(editor: EditorService, root: Path, node_id: str, stop: asyncio.Event) -> int:
    """The panel and CursorMoved: node_info + linemap every 20 ms."""
    lines = (root / AGENT_MODULE).read_text().splitlines()
    count = 0
    while not stop.is_set():
        editor.call("node_info", {"root": str(root), "id": node_id, "limit": 20})
        editor.call("linemap", {"root": str(root), "path": str(root / AGENT_MODULE), "lines": lines})
        count += 1
        await asyncio.sleep(0.02)
    return count


async def follow_events(root: Path, stop: asyncio.Event) -> int:
    """The host's follower (``events.follow.RootsFollower``): woken by commits, counts what
    the log gained (the host pushes it to Lua)."""
    seen = 0

    def on_events(_root: Path, events: list[BaseEvent]) -> None:
        nonlocal seen
        seen += len(events)

    def on_error(_root: Path, error: Exception) -> None:
        raise error

    follower = RootsFollower(on_events, on_error)
    follower.follow(root)
    try:
        await follower.run(stop)
    finally:
        follower.close()
    return seen


async def host_writes(service: AgentService, ids: list[str], locks: LockWatch) -> tuple[int, int]:
    """The host's reject and stop requests (the async face: writes on the db thread), made
    once the hub holds the write lock: each phase-1 proposal rejected, then a chat stopped."""
    deadline = time.monotonic() + 300
    while locks.since is None and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    rejected = 0
    for proposal in service.proposals("pending"):
        await service.areject(proposal.id, "")
        rejected += 1
    await service.achat(ids[0], "queued, then stopped")
    stopped = len(await service.astop(ids[0]))
    return rejected, stopped


BASELINE = """
import asyncio, sys, time
lags = []
async def main():
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = asyncio.ensure_future(reader.readline())
        while not line.done():
            started = time.perf_counter()
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            lags.append(f"{now:.4f}:{max(0.0, (now - started - 0.001) * 1000):.3f}")
        if not line.result().strip():
            return
        print(" ".join(lags), flush=True)
        lags.clear()
asyncio.run(main())
"""


class Baseline:
    """The same probe on an empty loop in another process (the machine's own lag)."""

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            BASELINE,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 26,  # one line of every probe's lag: megabytes after a long phase
        )

    async def take(self) -> Lags:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(b"take\n")
        await self.process.stdin.drain()
        pairs = (value.split(b":") for value in (await self.process.stdout.readline()).split())
        return [(float(at), float(lag)) for at, lag in pairs]

    async def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        await self.process.wait()


def summary(lags: list[float]) -> str:
    return (
        f"lag p50 {statistics.median(lags):.2f} ms, p99 {percentile(lags, 0.99):.2f} ms, "
        f"max {max(lags):.1f} ms, {sum(lag > 5 for lag in lags)} of {len(lags)} over 5 ms"
    )


def report(phase: str, timed: Lags, timed_baseline: Lags) -> None:
    lags = [lag for _, lag in timed]
    baseline = [lag for _, lag in timed_baseline]
    p99 = percentile(lags, 0.99)
    print(f"{phase}:")
    print(
        f"  this loop:  {summary(lags)}  (limit p99 {LIMIT_P99_MS:g} ms)  {'OK' if p99 <= LIMIT_P99_MS else 'OVER'}"
    )
    print(f"  empty loop: {summary(baseline)}  (another process, same time: the machine's share)")


async def measure(root: Path, chats: int, idle: float, fake: FakeLLM) -> None:
    fake.default_text = "ok"
    editor = EditorService()
    graph = editor.graph(root)  # followed on this loop
    assert graph is not None
    store = editor.store(root)
    assert store is not None
    config = RemoraConfig(
        llm=LLMConfig(base_url=fake.base_url, model="fake-model", max_retries=0, timeout=30.0),
        agents=AgentsConfig(),
    )
    service = AgentService(root, config=config, store=store, graph=graph)
    ids = [row.id for row in store.nodes_in_file(AGENT_MODULE) if row.node_type == "function"]
    stop = asyncio.Event()
    probe = Probe()
    baseline = Baseline()
    await baseline.start()
    tasks = [
        asyncio.create_task(probe.run(stop)),
        asyncio.create_task(editor_requests(editor, root, ids[0], stop)),
        asyncio.create_task(follow_events(root, stop)),
        asyncio.create_task(service.run_forever(stop, poll_interval=0.5)),
    ]

    async def chat_now(count: int) -> list[str]:
        correlations = []
        for n in range(count):
            node = ids[n % len(ids)]
            fake.add_tool_calls(
                ("rewrite_self", {"new_source": f"def agent_{n % len(ids)}(x: int) -> int:\n    return x\n"})
            )
            fake.add_text("done")
            correlations.append(await service.achat(node, "add type hints"))
            await asyncio.sleep(0.05)
        return correlations

    # warm-up: the first turn creates the model client
    await service.wait(await service.achat(ids[-1], "hello"))
    probe.take()
    await baseline.take()
    # phase 1: idle database
    started = time.perf_counter()
    await chat_now(chats // 2)
    await asyncio.sleep(max(0.0, idle - (time.perf_counter() - started)))
    report("idle database (runner turns + editor requests + graph)", probe.take(), await baseline.take())
    # phase 2: the hub cold-indexes the tree in another process
    locks = LockWatch(database_path(root))
    hub = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "remora_core.cli.hub",
        "--once",
        str(root),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    started = time.perf_counter()
    await asyncio.sleep(1.0)  # let it take the write lock
    chatting = asyncio.create_task(chat_now(chats - chats // 2))
    writing = asyncio.create_task(host_writes(service, ids, locks))
    code = await hub.wait()
    seconds = time.perf_counter() - started
    await chatting
    rejected, stopped = await writing
    lags = probe.take()
    base = await baseline.take()
    locks.close()
    held = sum(end - start for start, end in locks.spans)
    print(
        f"cold index by remora-hub --once in another process: exit {code}, {seconds:.1f} s, "
        f"the write lock held {held:.1f} s of it ({len(locks.spans)} span(s))"
    )
    print(
        f"host writes during it (async face): {rejected} proposals rejected, {stopped} correlation(s) stopped"
    )
    report("during the whole cold index (same work on the loop)", lags, base)
    locked = [(0.0, lag) for lag in locks.during(lags)]
    if locked:
        report("while the hub held the write lock", locked, [(0.0, lag) for lag in locks.during(base)])
    await baseline.stop()
    deadline = time.monotonic() + 60
    while fake.pending and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    stop.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    done = sum(1 for trigger in service.queue.list(limit=1000) if trigger.status == "done")
    print(
        f"turns done: {done} of {chats + 1}; editor request rounds: {results[1]}; events followed: {results[2]}; "
        f"TopologyChanged applied by the live graph: {graph.applied}"
    )
    await service.runner.aclose()
    editor.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tree", type=Path, help="an empty directory to use (default: a temp dir)")
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--idle", type=float, default=5.0)
    parser.add_argument("--profile", type=float, metavar="MS", help="list loop callbacks slower than MS")
    args = parser.parse_args()
    slow = SlowCallbacks(args.profile) if args.profile else None
    with tempfile.TemporaryDirectory(prefix="remora-lag-bench-") as temp:
        root = (args.tree or Path(temp)).resolve()
        root.mkdir(parents=True, exist_ok=True)
        files, size = copy_stdlib(root)
        (root / AGENT_MODULE).write_text(AGENTS)
        print(f"tree: {files} stdlib files ({size / 1e6:.1f} MB) + {AGENT_MODULE}")
        store = Store.open(root)
        Indexer(root, store, IndexConfig(inject=True)).index(paths=[AGENT_MODULE])
        store.close()
        fake = FakeLLM()
        try:
            asyncio.run(measure(root, args.chats, args.idle, fake))
        finally:
            fake.close()
    if slow is not None:
        slow.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
