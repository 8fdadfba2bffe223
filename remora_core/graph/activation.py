"""Activation edges within a correlation (who activated whom) and the cycle check on them.

``would_create_cycle(corr, a, b)`` answers: with the activations already recorded for
``corr``, would ``a -> b`` close a loop (``b`` already reaches ``a``, or ``a == b``)?
``record`` makes the check and the insert one write transaction, so two processes
racing to add edges of the same correlation cannot build a cycle between them.
"""

from __future__ import annotations

import sqlite3
import time

import rustworkx as rx

from remora_core.errors import RemoraError
from remora_core.store.db import write_transaction


class ActivationCycleError(RemoraError):
    """Adding an activation edge would create a cycle within its correlation."""


def activation_edges(connection: sqlite3.Connection, correlation_id: str) -> list[tuple[str, str]]:
    rows = connection.execute(
        "SELECT from_id, to_id FROM activation_edges WHERE correlation_id = ? ORDER BY timestamp, from_id, to_id",
        (correlation_id,),
    )
    return [(row[0], row[1]) for row in rows]


def _graph(edges: list[tuple[str, str]]) -> tuple[rx.PyDiGraph, dict[str, int]]:
    graph = rx.PyDiGraph()
    index: dict[str, int] = {}
    for source, target in edges:
        for node in (source, target):
            if node not in index:
                index[node] = graph.add_node(node)
        graph.add_edge(index[source], index[target], None)
    return graph, index


def closes_cycle(edges: list[tuple[str, str]], source: str, target: str) -> bool:
    """True when adding ``source -> target`` to ``edges`` makes a directed cycle."""
    if source == target:
        return True
    graph, index = _graph(edges)
    if source not in index or target not in index:
        return False
    return bool(rx.digraph_has_path(graph, index[target], index[source]))


def would_create_cycle(connection: sqlite3.Connection, correlation_id: str, source: str, target: str) -> bool:
    return closes_cycle(activation_edges(connection, correlation_id), source, target)


def record_activation(connection: sqlite3.Connection, correlation_id: str, source: str, target: str) -> None:
    """Store ``source -> target`` for ``correlation_id``; ``ActivationCycleError`` if it closes a cycle."""
    with write_transaction(connection):
        if would_create_cycle(connection, correlation_id, source, target):
            raise ActivationCycleError(
                f"activating {target!r} from {source!r} would create a cycle in correlation {correlation_id!r}"
            )
        connection.execute(
            "INSERT OR IGNORE INTO activation_edges (correlation_id, from_id, to_id, timestamp) VALUES (?, ?, ?, ?)",
            (correlation_id, source, target, time.time()),
        )


def clear_activations(connection: sqlite3.Connection, correlation_id: str) -> int:
    cursor = connection.execute("DELETE FROM activation_edges WHERE correlation_id = ?", (correlation_id,))
    return cursor.rowcount
