"""The SQL side of the lazy graph: node rows and the edges touching a batch of nodes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

CHUNK = 500


@dataclass(frozen=True, slots=True)
class GraphNode:
    """What the graph knows of a node (a slim copy of its ``nodes`` row)."""

    id: str
    node_type: str
    name: str
    qualname: str
    file_path: str
    start_line: int
    end_line: int
    parent_id: str | None
    status: str


_NODE_COLUMNS = "id, node_type, name, qualname, file_path, start_line, end_line, parent_id, status"


def _chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    items = list(ids)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def load_nodes(connection: sqlite3.Connection, ids: Iterable[str]) -> list[GraphNode]:
    found: list[GraphNode] = []
    for chunk in _chunks(ids):
        marks = ", ".join("?" * len(chunk))
        rows = connection.execute(f"SELECT {_NODE_COLUMNS} FROM nodes WHERE id IN ({marks})", chunk)
        found.extend(GraphNode(*row) for row in rows)
    return found


def load_edges(
    connection: sqlite3.Connection, ids: Iterable[str], edge_types: Sequence[str]
) -> set[tuple[str, str, str]]:
    """Every (from_id, to_id, edge_type) of ``edge_types`` with an end in ``ids``."""
    edges: set[tuple[str, str, str]] = set()
    types = list(edge_types)
    type_marks = ", ".join("?" * len(types))
    for chunk in _chunks(ids):
        marks = ", ".join("?" * len(chunk))
        for column in ("from_id", "to_id"):
            edges.update(
                connection.execute(
                    f"SELECT from_id, to_id, edge_type FROM edges WHERE {column} IN ({marks}) "
                    f"AND edge_type IN ({type_marks})",
                    [*chunk, *types],
                )
            )
    return edges


def file_node_id(connection: sqlite3.Connection, path: str) -> str | None:
    row = connection.execute("SELECT file_id FROM files WHERE path = ?", (path,)).fetchone()
    return row[0] if row else None


def node_ids_in_files(connection: sqlite3.Connection, paths: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(paths):
        marks = ", ".join("?" * len(chunk))
        found.update(
            row[0] for row in connection.execute(f"SELECT id FROM nodes WHERE file_path IN ({marks})", chunk)
        )
    return found


def importer_paths(connection: sqlite3.Connection, file_id: str) -> set[str]:
    """Paths of the files with an ``imports`` edge into the file node ``file_id``."""
    rows = connection.execute(
        "SELECT file_path FROM edges WHERE to_id = ? AND edge_type = 'imports'", (file_id,)
    )
    return {row[0] for row in rows}


def edge_ends_from_file(connection: sqlite3.Connection, path: str) -> set[str]:
    """Both ends of every edge that the code of ``path`` produces."""
    ends: set[str] = set()
    for from_id, to_id in connection.execute("SELECT from_id, to_id FROM edges WHERE file_path = ?", (path,)):
        ends.add(from_id)
        ends.add(to_id)
    return ends
