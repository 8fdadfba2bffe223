"""The one ``TopologyChanged`` emitter: every index path (``remora index``, the re-index after an
approve, the editor host's index, the hub) passes :class:`TopologyEmitter` as the indexer's
``on_changes``, so each changed file gets one ``TopologyChangedEvent`` written in the same
transaction as the index rows (a kill loses both; the next pass redoes both)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from remora_core.events.models import TopologyChangedEvent
from remora_core.events.store import EventLog
from remora_core.index.indexer import FileChange, Indexer, IndexReport


def topology_events(changes: Iterable[FileChange]) -> list[TopologyChangedEvent]:
    """One event per changed file."""
    return [
        TopologyChangedEvent(
            file_path=change.path,
            added_nodes=list(change.added),
            removed_nodes=list(change.removed),
            orphaned_nodes=list(change.orphaned),
            changed_nodes=list(change.changed),
            deleted=change.deleted,
        )
        for change in changes
    ]


class TopologyEmitter:
    """An ``Indexer.index(on_changes=...)`` callback appending the pass's events to the log."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.log = EventLog(connection)
        self.events: list[TopologyChangedEvent] = []

    def __call__(self, changes: Sequence[FileChange]) -> None:
        # Runs inside the index transaction.
        events = topology_events(changes)
        self.log.append_in_transaction(events)
        self.events.extend(events)


def index_with_events(
    indexer: Indexer,
    *,
    inject: bool | None = None,
    paths: Iterable[str] | None = None,
    totals: bool = True,
) -> tuple[IndexReport, list[TopologyChangedEvent]]:
    """Run one index pass of ``indexer`` and emit its ``TopologyChanged`` events."""
    emitter = TopologyEmitter(indexer.store.connection)
    report = indexer.index(inject=inject, paths=paths, totals=totals, on_changes=emitter)
    return report, emitter.events
