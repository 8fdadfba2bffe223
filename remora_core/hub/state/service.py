"""``StateHub``: the node-state worker. One thread with its own database connection follows the
event log (``TopologyChanged`` from the index passes, ``HubUpdateHint`` from agents), coalesces
changes per file (a file that keeps changing is updated once it and the hub settle) and runs the
updates off the indexing path; it holds still while an index pass runs (``pause`` .. ``wake``).
When idle it builds the missing states in chunks. The hub runs it in a child process
(``hub/state/child.py``); tests and ``remora update`` may run it in-process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from remora_core.config import HubConfig
from remora_core.events.models import HubUpdateHintEvent, TopologyChangedEvent
from remora_core.events.store import EventLog
from remora_core.hub.state.testing import kill_running_tests
from remora_core.hub.state.updater import NodeUpdate, StateUpdater
from remora_core.store.store import Store

BUILD_CHUNK = 100  # nodes per build step (one short write transaction each)
T = TypeVar("T")
POLL_S = 2.0  # hints from other processes; changes of this hub wake the thread at once
# A pause (an index pass running) never holds the updates longer than this, in case the hub's
# "pass done" signal is lost; a pass that takes longer just shares the CPU from then on.
MAX_PAUSE_S = 30.0


@dataclass(slots=True)
class _Pending:
    first: float
    last: float
    changed: dict[str, None] = field(default_factory=dict)  # ordered set of node ids
    gone: dict[str, None] = field(default_factory=dict)
    events: int = 0


@dataclass(slots=True)
class StateStats:
    batches: int = 0  # coalesced file batches processed
    events: int = 0  # TopologyChanged events read
    node_updates: int = 0
    failures: int = 0
    built: int = 0
    build_seconds: float = 0.0
    build_done: bool = False
    last_updates: list[NodeUpdate] = field(default_factory=list)


class StateHub:
    def __init__(
        self,
        root: Path,
        config: HubConfig,
        *,
        log: Callable[[str], None] = lambda message: None,
        build: bool = True,
        poll_s: float | None = POLL_S,
        after: int | None = None,
        on_update: Callable[[NodeUpdate], None] | None = None,
    ) -> None:
        self.root = root
        self.config = config
        self.log = log
        self.build_enabled = build
        self.poll_s = poll_s
        self.on_update = on_update
        self.stats = StateStats()
        self.pending: dict[str, _Pending] = {}
        self.hints: list[HubUpdateHintEvent] = []
        self.rebuild = False
        self.last_wake = 0.0  # the last index pass that changed something
        self.start_after = after  # the event seq to follow from (None: the log's end at start)
        self._paused = False  # an index pass is running: no update starts
        self._resumed = threading.Event()
        self._resumed.set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="remora-hub-state", daemon=True)

    # -- control (any thread) ----------------------------------------------------------
    def start(self) -> StateHub:
        self._thread.start()
        self._ready.wait(10)
        return self

    def pause(self) -> None:
        """An index pass starts: no update starts until ``wake`` / ``resume`` (the updates that
        run hold still between nodes and tools)."""
        self._paused = True
        self._resumed.clear()
        self._idle.clear()

    def resume(self) -> None:
        """The index pass ended without changes."""
        self._paused = False
        self._resumed.set()
        self._wake.set()

    def wake(self) -> None:
        """New events may be in the log (called after every index pass): the pending updates wait
        until the hub has been quiet for ``settle_ms`` (a burst of saves is indexed first)."""
        self.last_wake = time.monotonic()
        self._idle.clear()
        self.resume()

    def poke(self) -> None:
        """Someone committed to the database (maybe a hint): read the log, nothing else."""
        self._wake.set()

    def hold(self) -> None:
        """Between two steps of an update: wait while an index pass runs (at most MAX_PAUSE_S)."""
        if self._paused and not self._stop.is_set():
            self._resumed.wait(MAX_PAUSE_S)

    def stop(self, timeout: float = 1.0) -> bool:
        self._stop.set()
        self._wake.set()
        kill_running_tests()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def wait_idle(self, timeout: float) -> bool:
        """Block until every queued change and the build are done (tests, benchmarks)."""
        self.wake()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._idle.wait(0.05) and not self._wake.is_set():
                return True
        return False

    # -- worker thread -----------------------------------------------------------------
    def _main(self) -> None:
        store = Store.open(self.root)
        try:
            self.updater = StateUpdater(self.root, store, self.config)
            self.updater.hold = self.hold
            events = EventLog(store.connection)
            # only changes from now on go through the rules
            self.cursor = events.last_seq() if self.start_after is None else self.start_after
            backlog = self.updater.stale_nodes() if self.build_enabled else []
            build_started = time.perf_counter()
            self._ready.set()
            while not self._stop.is_set():
                self._wake.clear()
                self._read(events)
                if self.rebuild:
                    self.rebuild = False
                    backlog = self.updater.stale_nodes()
                    build_started = time.perf_counter()
                    self.stats.build_done = False
                if self._run_due() or self._run_hints():
                    continue
                if backlog:
                    self.hold()
                    chunk, backlog = backlog[:BUILD_CHUNK], backlog[BUILD_CHUNK:]
                    self.stats.built += self._guard(self.updater.build, 0, chunk)
                    if not backlog:
                        self.stats.build_seconds = time.perf_counter() - build_started
                        self.stats.build_done = True
                        self.log(f"node state: {self.stats.built} node(s) built in {self.stats.build_seconds:.2f}s")
                    continue
                self.stats.build_done = True
                wait = self._next_due()
                if wait is None:
                    self._idle.set()
                    if self.poll_s is None:
                        self._wake.wait()  # idle: blocked until a pass, a commit or stop
                        continue
                    wait = self.poll_s
                self._wake.wait(max(0.005, wait))
        finally:
            self._ready.set()
            store.close()

    def _guard(self, job: Callable[..., T], default: T, *args: Any) -> T:
        try:
            return job(*args)
        except Exception as error:  # noqa: BLE001 - a failing update must not stop the worker
            self.stats.failures += 1
            self.log(f"node state update failed: {type(error).__name__}: {error}")
            return default

    def _read(self, events: EventLog) -> None:
        while True:
            batch = events.after(self.cursor, limit=500, event_types=("TopologyChanged", "HubUpdateHint"))
            if not batch:
                return
            for event in batch:
                assert event.seq is not None
                self.cursor = event.seq
                if isinstance(event, TopologyChangedEvent):
                    self.stats.events += 1
                    self.enqueue(event)
                elif isinstance(event, HubUpdateHintEvent) and len(self.hints) < self.config.queue_limit:
                    self.hints.append(event)  # bounded: hints beyond the limit are dropped

    def enqueue(self, event: TopologyChangedEvent) -> None:
        now = time.monotonic()
        item = self.pending.get(event.file_path)
        if item is None:
            if len(self.pending) >= self.config.queue_limit:
                self.pending.clear()
                self.rebuild = True  # too much at once: one full reconcile instead
                self.log(f"node state: more than {self.config.queue_limit} files queued; scheduling a rebuild")
                return
            item = self.pending[event.file_path] = _Pending(first=now, last=now)
        item.last = now
        item.events += 1
        for node_id in (*event.added_nodes, *event.changed_nodes):
            item.gone.pop(node_id, None)
            item.changed[node_id] = None
        for node_id in (*event.removed_nodes, *event.orphaned_nodes):
            item.changed.pop(node_id, None)
            item.gone[node_id] = None

    def _due(self, item: _Pending, now: float) -> float:
        """Seconds until ``item`` is due (<= 0: due now): ``settle_ms`` after the file's last change
        and the hub's last index pass, at most ``max_wait_ms`` after its first change; never while
        an index pass runs (its end wakes the thread)."""
        if self._paused:
            return self.config.settle_ms / 1000 or 0.005
        settle = max(item.last, self.last_wake) + self.config.settle_ms / 1000 - now
        cap = item.first + self.config.max_wait_ms / 1000 - now
        return min(settle, cap)

    def _next_due(self) -> float | None:
        now = time.monotonic()
        waits = [self._due(item, now) for item in self.pending.values()]
        return min(waits) if waits else None

    def _run_due(self) -> bool:
        now = time.monotonic()
        due = [path for path, item in self.pending.items() if self._due(item, now) <= 0]
        for path in due:
            item = self.pending.pop(path)
            self.stats.batches += 1
            self.updater.test_budget = self.config.max_test_runs
            if item.gone:
                self._guard(self.updater.orphan, list[str](), list(item.gone))
            updates = [self._update(node_id) for node_id in item.changed]
            self._guard(self.updater.refresh_file, 0, path)
            for update in updates:  # every state and markdown first, the test runs last
                if update is not None and update.pending_tests is not None:
                    self._guard(update.run_pending_tests, None)
        return bool(due)

    def _run_hints(self) -> bool:
        if not self.hints:
            return False
        hints, self.hints = self.hints, []
        for hint in hints:
            update = self._update(hint.node_id, hint=hint.note or "agent hint", hinted=hint.updates)
            if update is not None and update.pending_tests is not None:
                self._guard(update.run_pending_tests, None)
        return True

    def _update(self, node_id: str, *, hint: str | None = None, hinted: list[str] | None = None) -> NodeUpdate | None:
        try:
            update = self.updater.update_node(node_id, hint=hint, hinted=hinted or (), defer_tests=True)
        except Exception as error:  # noqa: BLE001
            self.stats.failures += 1
            self.log(f"node state update of {node_id!r} failed: {type(error).__name__}: {error}")
            return None
        if update is None:
            return None
        self.stats.node_updates += 1
        self.stats.last_updates = [*self.stats.last_updates[-19:], update]
        if update.failed:
            self.log(f"node state {node_id!r}: failed updates {update.failed}")
        if self.on_update is not None:
            self.on_update(update)
        return update


@dataclass(slots=True)
class OnceResult:
    changed_files: list[str]
    updates: list[NodeUpdate]
    orphaned: list[str]
    built: int


def update_once(root: Path, config: HubConfig, index_config: object, paths: list[str] | None = None) -> OnceResult:
    """What the hub does on a save, inline: index ``paths`` (or the tree), run the node-state
    updates of every changed node, then build the states still missing (``remora update``)."""
    from remora_core.config import IndexConfig
    from remora_core.hub.indexing import HubIndexer

    assert isinstance(index_config, IndexConfig)
    store = Store.open(root)
    try:
        updater = StateUpdater(root, store, config)
        first = updater.states.is_empty()  # the first build is a baseline: no rules, no tests run
        result = HubIndexer(root, store, index_config).run(paths)
        updates: list[NodeUpdate] = []
        orphaned: list[str] = []
        for event in [] if first else result.events:
            updater.test_budget = config.max_test_runs
            gone = [*event.removed_nodes, *event.orphaned_nodes]
            if gone:
                orphaned.extend(updater.orphan(gone))
            for node_id in (*event.added_nodes, *event.changed_nodes):
                update = updater.update_node(node_id)
                if update is not None:
                    updates.append(update)
            updater.refresh_file(event.file_path)
        built = updater.build(updater.stale_nodes())
        return OnceResult([event.file_path for event in result.events], updates, orphaned, built)
    finally:
        store.close()
