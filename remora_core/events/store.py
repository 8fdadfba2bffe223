"""The append-only event log: ``events`` rows keyed by the integer ``seq`` (the resumption point)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from remora_core.events.models import BaseEvent, event_from_json
from remora_core.events.subscriptions import SubscriptionMatcher
from remora_core.store.db import write_transaction

_COLUMNS = "seq, event_type, payload"


@dataclass(slots=True)
class Appended:
    """One stored event: its ``seq`` and the agents whose subscriptions it matched."""

    seq: int
    event: BaseEvent
    triggers: list[str] = field(default_factory=list)


def insert_event(connection: sqlite3.Connection, event: BaseEvent) -> int:
    """Insert one event inside the caller's transaction; sets and returns ``event.seq``."""
    cursor = connection.execute(
        "INSERT INTO events (event_id, event_type, kind, timestamp, correlation_id, agent_id, file_path, payload) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            event.event_id,
            event.event_type,
            event.kind,
            event.timestamp,
            event.correlation_id,
            event.agent_ref(),
            event.file_ref(),
            event.to_json(),
        ),
    )
    seq = cursor.lastrowid
    assert seq is not None
    event.seq = seq
    return seq


def _rows(rows: Iterable[tuple[int, str, str]]) -> list[BaseEvent]:
    return [event_from_json(event_type, payload, seq) for seq, event_type, payload in rows]


class EventLog:
    """Append to and read from one project's event log through ``connection`` (autocommit)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.matcher = SubscriptionMatcher()

    # -- write ---------------------------------------------------------------------------
    def append(self, event: BaseEvent) -> Appended:
        """Store ``event`` in its own transaction and match it against the subscriptions."""
        return self.append_many([event])[0]

    def append_many(self, events: Sequence[BaseEvent]) -> list[Appended]:
        """Store ``events`` atomically (all or none), in order."""
        if not events:
            return []
        with write_transaction(self.connection):
            return self.append_in_transaction(events)

    def append_in_transaction(self, events: Sequence[BaseEvent]) -> list[Appended]:
        """Like :meth:`append_many`, inside a transaction the caller already opened."""
        appended = []
        for event in events:
            seq = insert_event(self.connection, event)
            appended.append(Appended(seq, event, self.matcher.match(self.connection, event)))
        return appended

    # -- read ----------------------------------------------------------------------------
    def last_seq(self) -> int:
        return last_seq(self.connection)

    def get(self, seq: int) -> BaseEvent | None:
        row = self.connection.execute(f"SELECT {_COLUMNS} FROM events WHERE seq = ?", (seq,)).fetchone()
        return _rows([row])[0] if row else None

    def by_event_id(self, event_id: str) -> BaseEvent | None:
        row = self.connection.execute(
            f"SELECT {_COLUMNS} FROM events WHERE event_id = ?", (event_id,)
        ).fetchone()
        return _rows([row])[0] if row else None

    def after(
        self, seq: int, *, limit: int = 1000, event_types: Sequence[str] | None = None
    ) -> list[BaseEvent]:
        """Events with a ``seq`` greater than ``seq``, oldest first."""
        return _rows(read_after(self.connection, seq, limit=limit, event_types=event_types))

    def by_correlation(self, correlation_id: str) -> list[BaseEvent]:
        rows = self.connection.execute(
            f"SELECT {_COLUMNS} FROM events WHERE correlation_id = ? ORDER BY seq", (correlation_id,)
        )
        return _rows(rows)

    def by_agent(self, agent_id: str, *, limit: int = 100) -> list[BaseEvent]:
        """The latest ``limit`` events about ``agent_id``, oldest first."""
        rows = self.connection.execute(
            f"SELECT {_COLUMNS} FROM events WHERE agent_id = ? ORDER BY seq DESC LIMIT ?", (agent_id, limit)
        ).fetchall()
        return _rows(reversed(rows))

    def by_agent_types(
        self, agent_id: str, event_types: Sequence[str], *, limit: int = 100
    ) -> list[BaseEvent]:
        """The latest ``limit`` events of ``agent_id`` whose type is one of ``event_types``, oldest first."""
        names = [name.removesuffix("Event") for name in event_types]
        marks = ", ".join("?" * len(names))
        rows = self.connection.execute(
            f"SELECT {_COLUMNS} FROM events WHERE agent_id = ? AND event_type IN ({marks}) ORDER BY seq DESC LIMIT ?",
            (agent_id, *names, limit),
        ).fetchall()
        return _rows(reversed(rows))

    def by_file(self, file_path: str, event_type: str, *, limit: int = 100) -> list[BaseEvent]:
        """The latest ``limit`` events of type ``event_type`` about ``file_path``, oldest first."""
        rows = self.connection.execute(
            f"SELECT {_COLUMNS} FROM events WHERE file_path = ? AND event_type = ? ORDER BY seq DESC LIMIT ?",
            (file_path, event_type.removesuffix("Event"), limit),
        ).fetchall()
        return _rows(reversed(rows))

    def query(
        self,
        after_seq: int = 0,
        *,
        node_id: str | None = None,
        correlation_id: str | None = None,
        limit: int = 1000,
    ) -> list[BaseEvent]:
        """Events with ``seq > after_seq``, oldest first, about ``node_id`` (as agent, target or
        sender) and/or in ``correlation_id``."""
        query = f"SELECT {_COLUMNS} FROM events WHERE seq > ?"
        args: list[object] = [after_seq]
        if node_id is not None:
            query += (
                " AND (agent_id = ? OR (event_type = 'AgentMessage'"
                " AND json_extract(payload, '$.from_agent') = ?))"
            )
            args.extend([node_id, node_id])
        if correlation_id is not None:
            query += " AND correlation_id = ?"
            args.append(correlation_id)
        query += " ORDER BY seq LIMIT ?"
        args.append(limit)
        return _rows(self.connection.execute(query, args))

    def prune(self, *, older_than: float | None, keep_last: int | None) -> int:
        """Delete events older than ``older_than`` (a timestamp) and all but the newest
        ``keep_last``, in one transaction, never one a pending proposal refers to
        (``proposals.event_seq``); how many were deleted (see ``events.retention``)."""
        deleted = 0
        with write_transaction(self.connection):
            if older_than is not None:
                cursor = self.connection.execute(
                    f"DELETE FROM events WHERE timestamp < ? AND seq NOT IN ({_PROTECTED})", (older_than,)
                )
                deleted += cursor.rowcount
            if keep_last is not None:
                row = self.connection.execute(
                    "SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?", (keep_last,)
                ).fetchone()
                if row is not None:
                    cursor = self.connection.execute(
                        f"DELETE FROM events WHERE seq <= ? AND seq NOT IN ({_PROTECTED})", (row[0],)
                    )
                    deleted += cursor.rowcount
        return deleted

    def by_type(self, event_type: str, *, limit: int = 100) -> list[BaseEvent]:
        rows = self.connection.execute(
            f"SELECT {_COLUMNS} FROM events WHERE event_type = ? ORDER BY seq DESC LIMIT ?",
            (event_type.removesuffix("Event"), limit),
        ).fetchall()
        return _rows(reversed(rows))


_PROTECTED = "SELECT event_seq FROM proposals WHERE status = 'pending' AND event_seq IS NOT NULL"


def last_seq(connection: sqlite3.Connection) -> int:
    """The newest event's ``seq`` (0 for an empty log)."""
    return int(connection.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0])


def read_after(
    connection: sqlite3.Connection,
    seq: int,
    *,
    limit: int = 1000,
    event_types: Sequence[str] | None = None,
    upto: int | None = None,
) -> list[tuple[int, str, str]]:
    """Raw (seq, event_type, payload) rows with ``seq < seq' <= upto``, oldest first."""
    where = "seq > ?"
    params: list[object] = [seq]
    if upto is not None:
        where += " AND seq <= ?"
        params.append(upto)
    if event_types:
        names = [name.removesuffix("Event") for name in event_types]
        where += f" AND event_type IN ({', '.join('?' * len(names))})"
        params.extend(names)
    params.append(limit)
    return connection.execute(
        f"SELECT {_COLUMNS} FROM events WHERE {where} ORDER BY seq LIMIT ?", params
    ).fetchall()
