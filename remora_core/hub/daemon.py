"""The hub process: lock, catch-up pass, then watch and re-index what changed until stopped.

All database work happens on one worker thread; the asyncio loop only watches files and
handles signals, so SIGTERM/SIGINT stop the hub at once. A pass still running at shutdown
is abandoned after ``SHUTDOWN_GRACE_S``: its transaction is rolled back by SQLite, and the
next start's full pass redoes it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from watchfiles import Change

from remora_core.config import load_config
from remora_core.events.models import HubStartedEvent, HubStoppedEvent
from remora_core.events.retention import RetentionPolicy, prune_events
from remora_core.events.store import EventLog
from remora_core.graph.live import LiveGraph
from remora_core.hub.indexing import HubIndexer, PassResult
from remora_core.hub.lock import HubLock
from remora_core.hub.state.process import StateProcess
from remora_core.hub.watch_filter import GITIGNORE, HubWatchFilter
from remora_core.hub.watcher import watch_in_thread
from remora_core.hub.worker import DbWorker
from remora_core.store.db import set_cache_size
from remora_core.store.store import Store

# A save reaches the hub 1-2 steps after it happened, and every step wakes the watch thread,
# which is nearly all of an idle hub's CPU. On the 2-core reference machine: 8 ms gives
# 0.90-0.97 % idle CPU, 9 ms 0.83 %, 10 ms 0.73 % (the limit is 1 %).
WATCH_STEP_MS = 9
WATCH_DEBOUNCE_MS = 400
RUST_TIMEOUT_MS = 5000  # the stop event is checked every step; this only bounds one Rust call
SHUTDOWN_GRACE_S = 0.6
STATE_STOP_S = 1.5  # the node-state child kills its running tests, then exits
PRUNE_EVERY_S = 3600.0
HUB_CACHE_KIB = 8192


def log(message: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} remora-hub[{os.getpid()}]: {message}", file=sys.stderr, flush=True)


@dataclass(slots=True)
class HubOptions:
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    on_pass: Callable[[PassResult], None] | None = None
    node_state: bool | None = None  # None: as [hub] state says


class _Session:
    """Objects that live on the worker thread."""

    def __init__(self, root: Path) -> None:
        self.store = Store.open(root)
        # Incremental passes touch few pages: a small page cache keeps the resident hub lean
        # (the cold pass runs in a child process with the default, larger cache).
        set_cache_size(self.store.connection, HUB_CACHE_KIB)
        self.indexer = HubIndexer(root, self.store, load_config(root).index)

    def close(self) -> None:
        self.store.close()


class HubDaemon:
    def __init__(self, root: Path, options: HubOptions | None = None) -> None:
        self.root = root.resolve()
        self.options = options or HubOptions()
        self.lock = HubLock(self.root, "watch")
        self.worker = DbWorker()
        self.session: _Session | None = None
        self.stop = asyncio.Event()
        self.watch_stop = threading.Event()
        self.pending: set[str] = set()
        self.full_pass_needed = False
        self.wake = asyncio.Event()
        self.filter: HubWatchFilter | None = None
        self.reason = "stopped"
        self.child: asyncio.subprocess.Process | None = None
        # The topology, in step with every pass of this hub (caught up after each; its queries
        # catch up first, which covers other writers). Not a follower task: no poll when idle.
        self.graph: LiveGraph | None = None
        self.state_hub: StateProcess | None = None  # the node-state child ([hub] state)

    # -- worker-side jobs --------------------------------------------------------------
    def _open(self) -> None:
        self.session = _Session(self.root)
        self.filter = HubWatchFilter(self.root, self.session.indexer.config.exclude)
        self.session.indexer.log.append(HubStartedEvent(pid=os.getpid(), root=str(self.root), mode="watch"))

    def _pass(self, raw: list[str] | None) -> PassResult | None:
        assert self.session is not None
        paths = None if raw is None else self.session.indexer.expand(raw)
        if paths == []:
            return None  # only directories or non-Python names without indexed files
        return self.session.indexer.run(paths)

    def _warm_up(self) -> bool:
        assert self.session is not None
        return self.session.indexer.warm_up()

    def _last_seq(self) -> int:
        assert self.session is not None
        return EventLog(self.session.store.connection).last_seq()

    def _prune(self) -> int:
        assert self.session is not None
        return prune_events(self.session.store.connection, self.options.retention)

    def _close(self) -> None:
        if self.session is None:
            return
        try:
            self.session.indexer.log.append(HubStoppedEvent(pid=os.getpid(), reason=self.reason))
        finally:
            self.session.close()
            self.session = None

    # -- loop --------------------------------------------------------------------------
    def request_stop(self, reason: str) -> None:
        self.reason = reason
        self.stop.set()
        self.watch_stop.set()
        self.wake.set()

    async def _watch(self) -> None:
        assert self.filter is not None
        await watch_in_thread(
            self.root,
            self.filter,
            self._changed,
            self.watch_stop,
            step_ms=WATCH_STEP_MS,
            debounce_ms=WATCH_DEBOUNCE_MS,
            rust_timeout_ms=RUST_TIMEOUT_MS,
        )

    def _changed(self, changes: set[tuple[Change, str]]) -> None:
        """A batch from the watch thread (on the loop): queue its files for the next pass."""
        assert self.filter is not None
        for _, path in changes:
            rel = self.filter.relative(path)
            if rel is None:
                continue
            if rel.rsplit("/", 1)[-1] == GITIGNORE:
                self.filter.reset()
                self.full_pass_needed = True
            else:
                self.pending.add(rel)
        self.wake.set()

    async def _process(self) -> None:
        next_prune = time.monotonic() + PRUNE_EVERY_S
        while not self.stop.is_set():
            await self.wake.wait()
            self.wake.clear()
            if self.stop.is_set():
                return
            if self.full_pass_needed:
                self.full_pass_needed = False
                self.pending.clear()
                await self._run_pass(None)
            if self.pending:
                batch = sorted(self.pending)
                self.pending.clear()
                await self._run_pass(batch)
            if time.monotonic() >= next_prune:
                next_prune = time.monotonic() + PRUNE_EVERY_S
                await self.worker.run(self._prune)

    async def _run_pass(self, batch: list[str] | None) -> None:
        started = time.perf_counter()
        result: PassResult | None = None
        if self.state_hub is not None:
            self.state_hub.begin()  # the node-state child starts no update during the pass
        try:
            result = await self.worker.run(self._pass, batch)
        except Exception as error:  # noqa: BLE001 - a bad pass must not kill the hub
            log(f"index pass failed: {type(error).__name__}: {error}")
            return
        finally:
            if self.state_hub is not None:  # node state follows in its own process, off this path
                self.state_hub.end(bool(result is not None and result.events))
        if result is None:
            return
        if result.events and self.graph is not None:
            self.graph.catch_up()
        if result.events or batch is None:
            what = "full pass" if batch is None else f"{len(batch)} changed path(s)"
            log(f"{what}: {len(result.events)} file(s) changed in {time.perf_counter() - started:.3f}s")
        for problem in result.report.errors[:20]:
            log(f"{problem['path']}: {problem['message']}")
        if self.options.on_pass is not None:
            self.options.on_pass(result)

    async def _catch_up(self) -> None:
        """The full pass at start, in a child ``remora-hub --once`` process: a cold index of a
        big tree peaks at hundreds of MB, which the child returns to the OS when it exits.
        Killing the child at shutdown is safe (its transaction is rolled back)."""
        started = time.perf_counter()
        self.child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "remora_core.cli.hub",
            "--once",
            str(self.root),
            "--parent-pid",
            str(os.getpid()),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=None,
        )
        output, _ = await self.child.communicate()
        code = self.child.returncode
        self.child = None
        if code != 0:
            log(f"catch-up pass exited with code {code}; falling back to an in-process pass")
            await self._run_pass(None)
            return
        try:
            report = json.loads(output.decode("utf-8", errors="replace").strip().splitlines()[-1])
        except (ValueError, IndexError):
            report = {}
        log(
            f"catch-up pass: {report.get('changed_files', '?')} file(s) changed, {report.get('files', '?')} indexed, "
            f"in {time.perf_counter() - started:.2f}s"
        )
        started = time.perf_counter()
        if await self.worker.run(self._warm_up):
            log(f"symbol table loaded in {time.perf_counter() - started:.2f}s")

    async def _start_state_hub(self) -> None:
        """Node state + markdown in a child process (``[hub] state``), following the event log
        from its current end (the catch-up pass's changes are covered by its first build)."""
        config = load_config(self.root).hub
        enabled = config.state if self.options.node_state is None else self.options.node_state
        if enabled:
            after = await self.worker.run(self._last_seq)
            self.state_hub = StateProcess(self.root, after)
            log(f"node state: child process {self.state_hub.pid}")

    def _kill_child(self) -> None:
        if self.child is not None and self.child.returncode is None:
            try:
                self.child.kill()
            except ProcessLookupError:
                pass

    async def run(self) -> int:
        """Run until stopped. Returns the process exit code."""
        if not self.lock.acquire():
            return -1
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.request_stop, signal.Signals(signum).name)
        if self.lock.previous is not None:
            log(f"took over the lock from dead hub pid {self.lock.previous.pid}")
        log(f"watching {str(self.root)!r}")
        exit_code = 0
        try:
            await self.worker.run(self._open)
            self.graph = LiveGraph(self.root)
            watcher = asyncio.create_task(self._watch())
            self.lock.set_state("indexing")
            await self.worker.run(self._prune)
            catch_up = asyncio.create_task(self._catch_up())
            await asyncio.wait(
                [catch_up, asyncio.create_task(self.stop.wait())], return_when=asyncio.FIRST_COMPLETED
            )
            if catch_up.done() and not catch_up.cancelled() and catch_up.exception() is not None:
                log(f"catch-up pass failed: {catch_up.exception()!r}")
            if not self.stop.is_set():
                await self._start_state_hub()
                self.lock.set_state("watching")
                self.wake.set()  # changes seen during the catch-up pass
                processor = asyncio.create_task(self._process())
                stopper = asyncio.create_task(self.stop.wait())
                await asyncio.wait([processor, stopper, watcher], return_when=asyncio.FIRST_COMPLETED)
                for task, what in ((processor, "index loop"), (watcher, "file watcher")):
                    if task.done() and not self.stop.is_set():
                        error = task.exception() if not task.cancelled() else None
                        log(f"{what} ended unexpectedly: {error!r}")
                        self.reason = f"{what} failed"
                        exit_code = 1
                processor.cancel()
                stopper.cancel()
            self.lock.set_state("stopping")
            self._kill_child()
            if self.graph is not None:
                self.graph.close()
            watcher.cancel()
            try:
                await asyncio.wait_for(watcher, SHUTDOWN_GRACE_S)
            except (asyncio.CancelledError, TimeoutError):
                pass
        finally:
            self._kill_child()
            if self.state_hub is not None:
                self.state_hub.stop(STATE_STOP_S)
            done = await self._shutdown_worker()
            self.lock.release()
            log(f"stopped ({self.reason})")
        if not done:
            # A pass is still running: leave without waiting; SQLite rolls its transaction back.
            sys.stderr.flush()
            os._exit(exit_code)
        return exit_code

    async def _shutdown_worker(self) -> bool:
        close = self.worker.submit(self._close)
        try:
            await asyncio.wait_for(asyncio.wrap_future(close), SHUTDOWN_GRACE_S)
        except (TimeoutError, asyncio.CancelledError):
            return False
        except Exception as error:  # noqa: BLE001
            log(f"closing the database failed: {error}")
        return self.worker.close(0.1)
