"""One index pass of the hub and the ``TopologyChangedEvent``s it emits (one per changed file)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from remora_core.config import IndexConfig
from remora_core.events.models import TopologyChangedEvent
from remora_core.events.store import EventLog
from remora_core.index.discovery import discover
from remora_core.index.indexer import Indexer, IndexReport
from remora_core.store.store import Store

Snapshot = dict[str, dict[str, str]]  # path -> {node id: source hash} of active nodes


@dataclass(slots=True)
class PassResult:
    report: IndexReport
    events: list[TopologyChangedEvent] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)  # the paths looked at (None = full pass)


def _file_hashes(connection: sqlite3.Connection, paths: list[str] | None) -> dict[str, str]:
    if paths is None:
        return dict(connection.execute("SELECT path, content_hash FROM files").fetchall())
    found: dict[str, str] = {}
    for path in paths:
        row = connection.execute("SELECT content_hash FROM files WHERE path = ?", (path,)).fetchone()
        if row is not None:
            found[path] = row[0]
    return found


def _node_hashes(connection: sqlite3.Connection, paths: Iterable[str]) -> Snapshot:
    snapshot: Snapshot = {}
    for path in paths:
        rows = connection.execute(
            "SELECT id, source_hash FROM nodes WHERE file_path = ? AND status = 'active'", (path,)
        )
        snapshot[path] = dict(rows.fetchall())
    return snapshot


class HubIndexer:
    """Owns the long-lived ``Indexer`` (it caches the symbol table) and the event log writer."""

    def __init__(self, root: Path, store: Store, config: IndexConfig) -> None:
        self.root = root
        self.store = store
        self.config = config
        self.indexer = Indexer(root, store, config)
        self.log = EventLog(store.connection)

    def warm_up(self) -> bool:
        """Load the indexer's symbol table now (seconds on a big tree) rather than on the first
        edit after start. True when it was loaded here."""
        indexer = self.indexer
        if indexer.symbols is not None:
            return False
        if self.store.connection.execute("SELECT count(*) FROM files").fetchone()[0] == 0:
            return False
        indexer.load_symbols()
        return True

    def expand(self, raw_paths: Iterable[str]) -> list[str]:
        """Turn watched paths into file paths: a directory means every ``.py`` under it, now
        on disk or known to the index (a deleted or moved-away directory)."""
        result: set[str] = set()
        for rel in raw_paths:
            if rel.endswith(".py"):
                result.add(rel)
                continue
            full = self.root / rel
            if os.path.isdir(full):
                result.update(f"{rel}/{item.path}" for item in discover(full, ()))
            rows = self.store.connection.execute(
                "SELECT path FROM files WHERE substr(path, 1, ?) = ?", (len(rel) + 1, rel + "/")
            )
            result.update(row[0] for row in rows)
        return sorted(result)

    def run(self, paths: list[str] | None) -> PassResult:
        """Index ``paths`` (or the whole tree) and append one event per changed file."""
        return self._run(paths)  # Indexer.index holds the project's index lock

    def _run(self, paths: list[str] | None) -> PassResult:
        connection = self.store.connection
        before_files = _file_hashes(connection, paths)
        # Node hashes of files that may change: cheap for a watched batch; for a full pass
        # only files whose stat changed are re-read, so snapshot lazily below.
        before_nodes = _node_hashes(connection, paths) if paths is not None else None
        if before_nodes is None:
            before_nodes = self._stat_changed_snapshot(before_files)
        report = self.indexer.index(paths=paths, totals=paths is None)  # a full pass reports totals
        after_files = _file_hashes(connection, paths if paths is not None else None)
        by_path = {change.path: change for change in report.changes}
        content_changed = sorted(
            path for path, digest in after_files.items() if before_files.get(path) != digest
        )
        touched = sorted(set(by_path) | set(content_changed))
        after_nodes = _node_hashes(connection, touched)
        events: list[TopologyChangedEvent] = []
        for path in touched:
            change = by_path.get(path)
            old = before_nodes.get(path, {})
            new = after_nodes.get(path, {})
            events.append(
                TopologyChangedEvent(
                    file_path=path,
                    added_nodes=list(change.added) if change else [],
                    removed_nodes=list(change.removed) if change else [],
                    orphaned_nodes=list(change.orphaned) if change else [],
                    changed_nodes=sorted(
                        node for node, digest in new.items() if node in old and old[node] != digest
                    ),
                    deleted=bool(change and change.deleted),
                )
            )
        self.log.append_many(events)
        return PassResult(report, events, paths or [])

    def _stat_changed_snapshot(self, known: dict[str, str]) -> Snapshot:
        """Node hashes of the indexed files whose mtime or size no longer match (full pass)."""
        candidates: list[str] = []
        for path, mtime_ns, size in self.store.connection.execute("SELECT path, mtime_ns, size FROM files"):
            try:
                stat = os.stat(self.root / path)
            except OSError:
                candidates.append(path)
                continue
            if stat.st_mtime_ns != mtime_ns or stat.st_size != size:
                candidates.append(path)
        return _node_hashes(self.store.connection, candidates)
