"""Durable agent triggers: rows of the ``triggers`` table that runners claim atomically.

A trigger is one request to run one agent turn: a human chat, a human's feedback after a
rejection, an agent message (a nested turn, run inline by the caller's runner) or a
subscription match. Claiming is ``UPDATE ... WHERE status = 'queued'`` inside
``BEGIN IMMEDIATE``, so two runner processes never run the same trigger. A claim carries a
lease that the runner renews while the turn runs; a crashed runner's expired claim is put
back in the queue once (``MAX_ATTEMPTS`` = 2 runs in all), then marked failed.
"""

from __future__ import annotations

import builtins
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Literal
from uuid import uuid4

from remora_core.events.models import AgentErrorEvent, BaseEvent
from remora_core.events.store import EventLog
from remora_core.store.db import write_transaction

TriggerKind = Literal["human_chat", "agent_message", "subscription", "feedback"]
TriggerStatus = Literal["queued", "running", "done", "failed", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"done", "failed", "cancelled"})
MAX_ATTEMPTS = 2  # the first run + one retry after a lost lease


def new_correlation_id() -> str:
    return "c_" + uuid4().hex[:12]


def new_trigger_id() -> str:
    return "t_" + uuid4().hex[:12]


@dataclass(slots=True)
class Trigger:
    id: str
    agent_id: str
    kind: str
    message: str
    correlation_id: str
    parent_id: str | None
    source_agent: str | None
    trigger_event_id: str | None
    depth: int
    status: str
    attempts: int
    claimed_by: str | None
    lease_until: float | None
    cancel_requested: int
    reply: str | None
    error: str | None
    created_at: float
    finished_at: float | None

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    def as_dict(self) -> dict[str, object]:
        return {field.name: getattr(self, field.name) for field in fields(self)}


_COLUMNS = ", ".join(field.name for field in fields(Trigger))


class TriggerQueue:
    """The ``triggers`` table of one project, through one connection (autocommit mode)."""

    def __init__(self, connection: sqlite3.Connection, log: EventLog) -> None:
        self.connection = connection
        self.log = log

    # -- reading -----------------------------------------------------------------------
    def get(self, trigger_id: str) -> Trigger | None:
        row = self.connection.execute(
            f"SELECT {_COLUMNS} FROM triggers WHERE id = ?", (trigger_id,)
        ).fetchone()
        return Trigger(*row) if row else None

    def by_correlation(self, correlation_id: str) -> list[Trigger]:
        rows = self.connection.execute(
            f"SELECT {_COLUMNS} FROM triggers WHERE correlation_id = ? ORDER BY created_at, rowid",
            (correlation_id,),
        )
        return [Trigger(*row) for row in rows]

    def list(self, *, status: TriggerStatus | None = None, limit: int = 100) -> list[Trigger]:
        query = f"SELECT {_COLUMNS} FROM triggers"
        args: list[object] = []
        if status is not None:
            query += " WHERE status = ?"
            args.append(status)
        query += " ORDER BY created_at DESC, rowid DESC LIMIT ?"
        args.append(limit)
        return [Trigger(*row) for row in reversed(self.connection.execute(query, args).fetchall())]

    def latest_root(self, agent_id: str) -> Trigger | None:
        """The newest top-level trigger (a human's chat or feedback, not a nested message) of ``agent_id``."""
        row = self.connection.execute(
            f"SELECT {_COLUMNS} FROM triggers WHERE agent_id = ? AND parent_id IS NULL"
            " ORDER BY created_at DESC, rowid DESC LIMIT 1",
            (agent_id,),
        ).fetchone()
        return Trigger(*row) if row else None

    def active_correlations(self, agent_id: str) -> builtins.list[str]:
        """The correlations in which ``agent_id`` has a queued or running trigger."""
        rows = self.connection.execute(
            "SELECT DISTINCT correlation_id FROM triggers WHERE agent_id = ? AND status IN ('queued', 'running')"
            " ORDER BY correlation_id",
            (agent_id,),
        )
        return [row[0] for row in rows]

    def knows_correlation(self, correlation_id: str) -> bool:
        """True when a trigger, an event or a proposal carries ``correlation_id``."""
        return (
            self.connection.execute(
                "SELECT 1 FROM triggers WHERE correlation_id = ?1 UNION ALL "
                "SELECT 1 FROM events WHERE correlation_id = ?1 UNION ALL "
                "SELECT 1 FROM proposals WHERE correlation_id = ?1 LIMIT 1",
                (correlation_id,),
            ).fetchone()
            is not None
        )

    def next_depth(self, correlation_id: str) -> int:
        """The depth a new trigger of ``correlation_id`` gets: one below its deepest (0: the first)."""
        return int(
            self.connection.execute(
                "SELECT coalesce(max(depth) + 1, 0) FROM triggers WHERE correlation_id = ?", (correlation_id,)
            ).fetchone()[0]
        )

    def queued_count(self) -> int:
        return int(
            self.connection.execute("SELECT count(*) FROM triggers WHERE status = 'queued'").fetchone()[0]
        )

    # -- writing -----------------------------------------------------------------------
    def insert(
        self,
        connection: sqlite3.Connection,
        agent_id: str,
        kind: TriggerKind,
        message: str,
        correlation_id: str,
        *,
        parent_id: str | None = None,
        source_agent: str | None = None,
        trigger_event_id: str | None = None,
        depth: int = 0,
        claimed_by: str | None = None,
        lease_seconds: float = 0.0,
    ) -> str:
        """Insert inside the caller's transaction. With ``claimed_by`` the row starts running."""
        trigger_id = new_trigger_id()
        now = time.time()
        status = "running" if claimed_by else "queued"
        connection.execute(
            "INSERT INTO triggers (id, agent_id, kind, message, correlation_id, parent_id, source_agent, "
            "trigger_event_id, depth, status, attempts, claimed_by, lease_until, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                trigger_id,
                agent_id,
                kind,
                message,
                correlation_id,
                parent_id,
                source_agent,
                trigger_event_id,
                depth,
                status,
                1 if claimed_by else 0,
                claimed_by,
                now + lease_seconds if claimed_by else None,
                now,
            ),
        )
        return trigger_id

    def enqueue(
        self,
        agent_id: str,
        kind: TriggerKind,
        message: str,
        correlation_id: str,
        *,
        events: Sequence[BaseEvent] = (),
        **options: object,
    ) -> Trigger:
        """Insert one trigger and its events (e.g. the HumanChat) in one transaction."""
        with write_transaction(self.connection) as connection:
            self.log.append_in_transaction(events)
            trigger_id = self.insert(connection, agent_id, kind, message, correlation_id, **options)  # type: ignore[arg-type]
        trigger = self.get(trigger_id)
        assert trigger is not None
        return trigger

    def _recover_expired(self, connection: sqlite3.Connection, now: float) -> None:
        """Put back (once) or fail the claims whose lease ran out (their runner died)."""
        rows = connection.execute(
            f"SELECT {_COLUMNS} FROM triggers WHERE status = 'running' AND lease_until < ?", (now,)
        ).fetchall()
        for trigger in (Trigger(*row) for row in rows):
            connection.execute(
                "DELETE FROM activation_chain WHERE correlation_id = ? AND agent_id = ?",
                (trigger.correlation_id, trigger.agent_id),
            )
            if trigger.parent_id is None and trigger.attempts < MAX_ATTEMPTS and not trigger.cancel_requested:
                connection.execute(
                    "UPDATE triggers SET status = 'queued', claimed_by = NULL, lease_until = NULL WHERE id = ?",
                    (trigger.id,),
                )
                continue
            error = f"runner {trigger.claimed_by!r} stopped during the turn; " + (
                "its caller is gone" if trigger.parent_id else f"gave up after {trigger.attempts} attempts"
            )
            connection.execute(
                "UPDATE triggers SET status = 'failed', error = ?, finished_at = ? WHERE id = ?",
                (error, now, trigger.id),
            )
            self.log.append_in_transaction(
                [
                    AgentErrorEvent(
                        agent_id=trigger.agent_id, error=error, correlation_id=trigger.correlation_id
                    )
                ]
            )

    def claim(self, runner_id: str, *, limit: int, lease_seconds: float) -> builtins.list[Trigger]:  # (a method is named list)
        """Claim up to ``limit`` queued triggers, oldest first, for ``runner_id``."""
        if limit <= 0:
            return []
        now = time.time()
        with write_transaction(self.connection) as connection:
            self._recover_expired(connection, now)
            ids = [
                row[0]
                for row in connection.execute(
                    "SELECT id FROM triggers WHERE status = 'queued' ORDER BY created_at, rowid LIMIT ?",
                    (limit,),
                )
            ]
            claimed = [
                trigger_id
                for trigger_id in ids
                if connection.execute(
                    "UPDATE triggers SET status = 'running', claimed_by = ?, lease_until = ?, "
                    "attempts = attempts + 1 WHERE id = ? AND status = 'queued'",
                    (runner_id, now + lease_seconds, trigger_id),
                ).rowcount
                == 1
            ]
        return [
            trigger for trigger in (self.get(trigger_id) for trigger_id in claimed) if trigger is not None
        ]

    def claim_id(self, trigger_id: str, runner_id: str, *, lease_seconds: float) -> Trigger | None:
        """Claim one given trigger; None when it is not queued (another runner has it, or it is over)."""
        now = time.time()
        with write_transaction(self.connection) as connection:
            self._recover_expired(connection, now)
            changed = connection.execute(
                "UPDATE triggers SET status = 'running', claimed_by = ?, lease_until = ?, "
                "attempts = attempts + 1 WHERE id = ? AND status = 'queued'",
                (runner_id, now + lease_seconds, trigger_id),
            ).rowcount
        return self.get(trigger_id) if changed == 1 else None

    def renew(self, runner_id: str, trigger_ids: Sequence[str], *, lease_seconds: float) -> builtins.list[str]:
        """Extend the leases of ``runner_id``'s running triggers; returns those asked to cancel."""
        if not trigger_ids:
            return []
        marks = ", ".join("?" * len(trigger_ids))
        with write_transaction(self.connection) as connection:
            connection.execute(
                f"UPDATE triggers SET lease_until = ? WHERE claimed_by = ? AND status = 'running' AND id IN ({marks})",
                (time.time() + lease_seconds, runner_id, *trigger_ids),
            )
            rows = connection.execute(
                f"SELECT id FROM triggers WHERE cancel_requested = 1 AND status = 'running' AND id IN ({marks})",
                tuple(trigger_ids),
            ).fetchall()
        return [row[0] for row in rows]

    def finish(
        self,
        trigger_id: str,
        status: TriggerStatus,
        *,
        reply: str | None = None,
        error: str | None = None,
        events: Sequence[BaseEvent] = (),
    ) -> bool:
        """Record the outcome and its events in one transaction (only an unfinished row changes)."""
        with write_transaction(self.connection) as connection:
            changed = connection.execute(
                "UPDATE triggers SET status = ?, reply = ?, error = ?, finished_at = ?, lease_until = NULL "
                "WHERE id = ? AND status IN ('running', 'queued')",
                (status, reply, error, time.time(), trigger_id),
            ).rowcount
            if changed:
                self.log.append_in_transaction(events)
        return changed == 1

    def request_cancel(self, correlation_id: str) -> tuple[int, int]:
        """Cancel the queued triggers of a correlation and flag its running ones (their runner,
        in whichever process, sees the flag at its next heartbeat). Returns (queued, running)."""
        now = time.time()
        with write_transaction(self.connection) as connection:
            queued = connection.execute(
                "UPDATE triggers SET status = 'cancelled', error = 'cancelled before it ran', finished_at = ? "
                "WHERE correlation_id = ? AND status = 'queued'",
                (now, correlation_id),
            ).rowcount
            running = connection.execute(
                "UPDATE triggers SET cancel_requested = 1 WHERE correlation_id = ? AND status = 'running'",
                (correlation_id,),
            ).rowcount
        return queued, running
