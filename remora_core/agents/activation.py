"""The activation path of a correlation: which agents are active, caller first.

``message_node`` from the last agent of ``path`` to ``target`` is refused when ``target`` is
already on the path ("would create a cycle: rm_a -> rm_b -> rm_a") or when the path is
already ``max_depth`` agents long. A reply travels back as the caller's tool result, so the
target leaves the path when its turn ends: A -> B, B answers, A -> B again is fine.

The path lives in memory with the turn (nested turns run inside their caller's task) and is
mirrored in ``activation_chain`` rows (one per active agent and correlation, primary key
``(correlation_id, agent_id)``), which makes the check atomic across processes: an agent
active in one branch of a correlation (a subscription turn elsewhere) is refused in another.
Who activated whom is kept in ``activation_edges`` (the history of a correlation; it does not
decide anything). This is the only module that writes either table.

This module is the activation *store* (the project's one activation module): its SQL stays
here beside the rule it makes atomic, as ``agents/triggers.py`` does for the trigger queue.
The rule reads the correlation's path, never the topology graph (a call edge says nothing
about who is waiting for whom); the engine checks the graph first (the target must be an
active node of the process's graph, see ``agents/core_tools.message_node``).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

from remora_core.agents.errors import AgentError
from remora_core.store.db import write_transaction


class ActivationRefusedError(AgentError):
    """Activating an agent would create a cycle or go past the maximum depth."""


def describe_path(path: Sequence[str]) -> str:
    return " -> ".join(path)


def check(path: Sequence[str], target: str, max_depth: int) -> None:
    """Raise ``ActivationRefusedError`` when ``path`` may not activate ``target``."""
    if target in path:
        raise ActivationRefusedError(f"would create a cycle: {describe_path([*path, target])}")
    if len(path) >= max_depth:
        raise ActivationRefusedError(
            f"max activation depth {max_depth} reached: {describe_path(path)} cannot message {target!r}"
        )


def enter(
    connection: sqlite3.Connection,
    correlation_id: str,
    path: Sequence[str],
    target: str,
    max_depth: int,
) -> tuple[str, ...]:
    """Check and record ``target`` joining ``path``; returns the new path."""
    check(path, target, max_depth)
    now = time.time()
    with write_transaction(connection):
        active = connection.execute(
            "SELECT 1 FROM activation_chain WHERE correlation_id = ? AND agent_id = ?",
            (correlation_id, target),
        ).fetchone()
        if active:
            raise ActivationRefusedError(
                f"would create a cycle: {target!r} is already active in correlation {correlation_id!r}"
            )
        connection.execute(
            "INSERT INTO activation_chain (correlation_id, agent_id, depth, timestamp) VALUES (?, ?, ?, ?)",
            (correlation_id, target, len(path), now),
        )
        if path:
            connection.execute(
                "INSERT OR IGNORE INTO activation_edges (correlation_id, from_id, to_id, timestamp) "
                "VALUES (?, ?, ?, ?)",
                (correlation_id, path[-1], target, now),
            )
    return (*path, target)


def leave(connection: sqlite3.Connection, correlation_id: str, agent_id: str) -> None:
    with write_transaction(connection):
        connection.execute(
            "DELETE FROM activation_chain WHERE correlation_id = ? AND agent_id = ?",
            (correlation_id, agent_id),
        )


def active_path(connection: sqlite3.Connection, correlation_id: str) -> list[str]:
    """The agents active in ``correlation_id``, shallowest first."""
    rows = connection.execute(
        "SELECT agent_id FROM activation_chain WHERE correlation_id = ? ORDER BY depth, timestamp",
        (correlation_id,),
    )
    return [row[0] for row in rows]


def clear(connection: sqlite3.Connection, correlation_id: str) -> int:
    with write_transaction(connection):
        return connection.execute(
            "DELETE FROM activation_chain WHERE correlation_id = ?", (correlation_id,)
        ).rowcount


def activation_edges(connection: sqlite3.Connection, correlation_id: str) -> list[tuple[str, str]]:
    """Who activated whom in ``correlation_id`` (caller, target), in the order it happened."""
    rows = connection.execute(
        "SELECT from_id, to_id FROM activation_edges WHERE correlation_id = ? ORDER BY timestamp, from_id, to_id",
        (correlation_id,),
    )
    return [(row[0], row[1]) for row in rows]
