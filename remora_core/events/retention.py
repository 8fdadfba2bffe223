"""Retention: keep the last N days and/or the last N events, never an event an open proposal needs."""

from __future__ import annotations

import sqlite3
import time

from pydantic import BaseModel, ConfigDict, Field

from remora_core.store.db import write_transaction

_PROTECTED = "SELECT event_seq FROM proposals WHERE status = 'pending' AND event_seq IS NOT NULL"


class RetentionPolicy(BaseModel):
    """``None`` disables a limit; both limits apply when both are set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_age_days: float | None = Field(30.0, gt=0)
    max_events: int | None = Field(200_000, ge=1)


def prune_events(connection: sqlite3.Connection, policy: RetentionPolicy, *, now: float | None = None) -> int:
    """Delete events outside ``policy`` in one transaction; returns how many were deleted.

    Events referenced by a pending proposal (``proposals.event_seq``) are always kept. The
    ``seq`` counter never goes back (AUTOINCREMENT), so tailers stay valid."""
    now = time.time() if now is None else now
    deleted = 0
    with write_transaction(connection):
        if policy.max_age_days is not None:
            cutoff = now - policy.max_age_days * 86400.0
            cursor = connection.execute(
                f"DELETE FROM events WHERE timestamp < ? AND seq NOT IN ({_PROTECTED})", (cutoff,)
            )
            deleted += cursor.rowcount
        if policy.max_events is not None:
            row = connection.execute(
                "SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?", (policy.max_events,)
            ).fetchone()
            if row is not None:
                cursor = connection.execute(
                    f"DELETE FROM events WHERE seq <= ? AND seq NOT IN ({_PROTECTED})", (row[0],)
                )
                deleted += cursor.rowcount
    return deleted
