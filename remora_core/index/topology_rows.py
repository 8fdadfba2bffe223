"""``TopologyChanged`` events written as rows, without the pydantic models: what ``remora index``
passes as the indexer's ``on_changes`` (pydantic and the event models are ~10 MB of a process
that only writes these; this module is outside ``remora_core.events``, whose package imports
the models). Each row is the one ``EventLog.append_in_transaction`` writes for a
``TopologyChangedEvent`` of the same change, payload byte for byte (tests/test_topology_rows.py
compares them); nothing is matched against subscriptions (the emitter ignores the matches)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from uuid import uuid4

from remora_core.index.changes import FileChange

EVENT_TYPE = "TopologyChanged"
KIND = "topology"
# Rows built and inserted at a time (a big first index has one event per file).
CHUNK = 512
_INSERT = (
    "INSERT INTO events (event_id, event_type, kind, timestamp, correlation_id, agent_id, file_path, payload) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
# pydantic's JSON: compact, UTF-8 as is.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def topology_payload(change: FileChange, event_id: str, timestamp: float) -> str:
    """``TopologyChangedEvent(...).to_json()`` of ``change``."""
    return _ENCODE(
        {
            "event_id": event_id,
            "timestamp": timestamp,
            "correlation_id": None,
            "file_path": change.path,
            "added_nodes": change.added,
            "removed_nodes": change.removed,
            "orphaned_nodes": change.orphaned,
            "changed_nodes": change.changed,
            "deleted": change.deleted,
        }
    )


def topology_row(change: FileChange) -> tuple[str, str, str, float, None, None, str, str]:
    """The ``events`` row (without ``seq``) of a new event about ``change``."""
    event_id, timestamp = uuid4().hex[:12], time.time()
    return (event_id, EVENT_TYPE, KIND, timestamp, None, None, change.path, topology_payload(change, event_id, timestamp))


class TopologyRowWriter:
    """An ``Indexer.index(on_changes=...)`` callback appending one event per changed file inside
    the index transaction (as ``events.topology.TopologyEmitter``, without keeping the events)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __call__(self, changes: Sequence[FileChange]) -> None:
        for start in range(0, len(changes), CHUNK):
            self.connection.executemany(_INSERT, [topology_row(change) for change in changes[start : start + CHUNK]])
