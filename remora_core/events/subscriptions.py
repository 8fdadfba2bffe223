"""Subscriptions: an agent asks to be triggered by events that match a JSON pattern.

A pattern has up to three lists; an empty or missing list matches anything, and every
non-empty list must match (AND). ``event_types`` are event type names (``TopologyChanged``
or ``TopologyChangedEvent``), ``from_agents`` are the agents that caused the event, and
``file_paths`` are fnmatch patterns over the event's file path (``src/*.py``).

This module is the subscription *store* (the ``subscriptions`` table: add, remove, list, and
a matcher cached on the table's state), so its SQL stays here with the matching it serves.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from fnmatch import fnmatchcase

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from remora_core.errors import RemoraError
from remora_core.events.models import BaseEvent, event_class


class SubscriptionError(RemoraError):
    """A subscription pattern is invalid."""


class SubscriptionPattern(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_types: tuple[str, ...] = Field(default_factory=tuple)
    from_agents: tuple[str, ...] = Field(default_factory=tuple)
    file_paths: tuple[str, ...] = Field(default_factory=tuple)

    def canonical(self) -> str:
        """Stable JSON text (sorted, de-duplicated) used as the stored key."""
        data = {
            "event_types": sorted({name.removesuffix("Event") for name in self.event_types}),
            "from_agents": sorted(set(self.from_agents)),
            "file_paths": sorted(set(self.file_paths)),
        }
        return json.dumps(
            {key: value for key, value in data.items() if value}, sort_keys=True, separators=(",", ":")
        )

    def matches(self, event: BaseEvent) -> bool:
        if self.event_types and event.event_type not in {
            name.removesuffix("Event") for name in self.event_types
        }:
            return False
        if self.from_agents and event.source_agent() not in self.from_agents:
            return False
        if self.file_paths:
            path = event.file_ref()
            if path is None or not any(fnmatchcase(path, pattern) for pattern in self.file_paths):
                return False
        return True


def parse_pattern(text: str) -> SubscriptionPattern:
    try:
        pattern = SubscriptionPattern.model_validate_json(text)
    except ValidationError as error:
        raise SubscriptionError(
            f"invalid subscription pattern {text!r}: {error.errors()[0]['msg']}"
        ) from None
    for name in pattern.event_types:
        try:
            event_class(name)
        except RemoraError:
            raise SubscriptionError(
                f"subscription pattern {text!r} names unknown event type {name!r}"
            ) from None
    return pattern


@dataclass(frozen=True, slots=True)
class Subscription:
    agent_id: str
    pattern: SubscriptionPattern


def subscribe(
    connection: sqlite3.Connection, agent_id: str, pattern: SubscriptionPattern | str
) -> Subscription:
    """Store a subscription (idempotent). Call inside or outside a transaction."""
    if isinstance(pattern, str):
        pattern = parse_pattern(pattern)
    for name in pattern.event_types:
        try:
            event_class(name)
        except RemoraError:
            raise SubscriptionError(
                f"subscription for {agent_id!r} names unknown event type {name!r}"
            ) from None
    connection.execute(
        "INSERT OR IGNORE INTO subscriptions (agent_id, event_pattern, created_at) VALUES (?, ?, ?)",
        (agent_id, pattern.canonical(), time.time()),
    )
    return Subscription(agent_id, pattern)


def unsubscribe(
    connection: sqlite3.Connection, agent_id: str, pattern: SubscriptionPattern | None = None
) -> int:
    """Remove one subscription, or all of ``agent_id``'s; returns how many were removed."""
    if pattern is None:
        cursor = connection.execute("DELETE FROM subscriptions WHERE agent_id = ?", (agent_id,))
    else:
        cursor = connection.execute(
            "DELETE FROM subscriptions WHERE agent_id = ? AND event_pattern = ?",
            (agent_id, pattern.canonical()),
        )
    return cursor.rowcount


def subscriptions(connection: sqlite3.Connection, agent_id: str | None = None) -> list[Subscription]:
    query = "SELECT agent_id, event_pattern FROM subscriptions"
    rows = (
        connection.execute(query + " WHERE agent_id = ?", (agent_id,))
        if agent_id
        else connection.execute(query)
    )
    return [Subscription(agent, parse_pattern(text)) for agent, text in rows]


def has_subscriptions(connection: sqlite3.Connection) -> bool:
    return connection.execute("SELECT 1 FROM subscriptions LIMIT 1").fetchone() is not None


class SubscriptionMatcher:
    """Matches events against the stored subscriptions; reloads them only when the table changed."""

    def __init__(self) -> None:
        self._key: tuple[int, float] | None = None
        self._subscriptions: list[Subscription] = []

    def match(self, connection: sqlite3.Connection, event: BaseEvent) -> list[str]:
        """Ids of the agents whose subscriptions match ``event`` (sorted, each once)."""
        key = connection.execute(
            "SELECT count(*), coalesce(max(created_at), 0) FROM subscriptions"
        ).fetchone()
        if key != self._key:
            self._subscriptions = subscriptions(connection)
            self._key = key
        return sorted({sub.agent_id for sub in self._subscriptions if sub.pattern.matches(event)})
