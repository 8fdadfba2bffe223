"""Retention: keep the last N days and/or the last N events, never an event an open proposal needs."""

from __future__ import annotations

import sqlite3
import time

from pydantic import BaseModel, ConfigDict, Field

from remora_core.events.store import EventLog


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
    cutoff = None if policy.max_age_days is None else now - policy.max_age_days * 86400.0
    return EventLog(connection).prune(older_than=cutoff, keep_last=policy.max_events)
