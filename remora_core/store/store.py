"""Typed queries over the project database. Knows rows, not agents."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import NamedTuple

from remora_core.store import db

EDGE_TYPES = ("parent_of", "calls", "imports")


@dataclass(slots=True)
class NodeRow:
    id: str
    node_type: str
    name: str
    qualname: str
    file_path: str
    start_line: int
    def_line: int
    end_line: int
    parent_id: str | None
    source_hash: str
    status: str
    superseded_anchor: str | None
    created_at: float
    updated_at: float

    def as_dict(self) -> dict[str, object]:
        return {field.name: getattr(self, field.name) for field in fields(self)}

    def values(self) -> tuple[object, ...]:
        """The row in column order (``_NODE_COLUMNS``)."""
        return (
            self.id,
            self.node_type,
            self.name,
            self.qualname,
            self.file_path,
            self.start_line,
            self.def_line,
            self.end_line,
            self.parent_id,
            self.source_hash,
            self.status,
            self.superseded_anchor,
            self.created_at,
            self.updated_at,
        )


@dataclass(slots=True)
class FileRow:
    path: str
    file_id: str
    mtime_ns: int
    size: int
    content_hash: str
    refs: str
    problems: str
    indexed_at: float


class FileStat(NamedTuple):
    """What a no-change pass compares of a file row (no refs: those are the bulk of a row)."""

    mtime_ns: int
    size: int
    content_hash: str
    indexed_at: float


_NODE_COLUMNS = ", ".join(field.name for field in fields(NodeRow))
_FILE_COLUMNS = ", ".join(field.name for field in fields(FileRow))
_NODE_INSERT = f"INSERT INTO nodes ({_NODE_COLUMNS}) VALUES ({', '.join('?' * len(fields(NodeRow)))})"
# Upserts update a stored row in place: unlike INSERT OR REPLACE (a delete, then an insert)
# that re-checks every foreign key pointing at the row and rewrites every index entry.
_NODE_UPSERT = (
    f"INSERT INTO nodes ({_NODE_COLUMNS}) VALUES ({', '.join('?' * len(fields(NodeRow)))}) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{field.name} = excluded.{field.name}" for field in fields(NodeRow)[1:])
)


class Store:
    """One project's database: ``.remora/remora.db`` under the root."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.connection = connection
        self.path = path

    @classmethod
    def open(cls, root: Path, *, create: bool = True) -> Store:
        path = db.database_path(root)
        return cls(db.connect(path, create=create), path)

    def close(self) -> None:
        self.connection.close()

    def transaction(self, *, check_foreign_keys: bool = True) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction. A bulk load whose rows are consistent by construction may skip
        the per-row foreign-key checks (they cost a third of a cold index)."""
        return db.write_transaction(self.connection, check_foreign_keys=check_foreign_keys)

    def drop_secondary_indexes(self, tables: Sequence[str]) -> list[str]:
        """Drop the secondary indexes of ``tables`` inside the caller's transaction and return
        their SQL: a bulk load into empty tables then builds each index once, sorted, instead
        of updating it row by row. Pass the result to ``create_indexes`` before committing."""
        marks = ", ".join("?" * len(tables))
        rows = self.connection.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})",
            tuple(tables),
        ).fetchall()
        for name, _ in rows:
            self.connection.execute(f'DROP INDEX "{name}"')
        return [sql for _, sql in rows]

    def create_indexes(self, statements: Sequence[str]) -> None:
        for statement in statements:
            self.connection.execute(statement)

    # -- files -------------------------------------------------------------------------
    def file_rows(self, paths: Sequence[str] | None = None) -> dict[str, FileRow]:
        """Every file row, or those of ``paths``."""
        if paths is None:
            rows = self.connection.execute(f"SELECT {_FILE_COLUMNS} FROM files")
            return {row[0]: FileRow(*row) for row in rows}
        found: dict[str, FileRow] = {}
        for start in range(0, len(paths), 500):
            chunk = list(paths[start : start + 500])
            marks = ", ".join("?" * len(chunk))
            for row in self.connection.execute(f"SELECT {_FILE_COLUMNS} FROM files WHERE path IN ({marks})", chunk):
                found[row[0]] = FileRow(*row)
        return found

    def file_stats(self) -> dict[str, FileStat]:
        """path -> (mtime_ns, size, content_hash, indexed_at) of every indexed file."""
        rows = self.connection.execute("SELECT path, mtime_ns, size, content_hash, indexed_at FROM files")
        return {row[0]: FileStat(row[1], row[2], row[3], row[4]) for row in rows}

    def set_indexed_at(self, paths: Iterable[str], when: float) -> None:
        """Record that these files' bytes were found unchanged at ``when``."""
        self.connection.executemany("UPDATE files SET indexed_at = ? WHERE path = ?", ((when, path) for path in paths))

    def file_row(self, path: str) -> FileRow | None:
        row = self.connection.execute(f"SELECT {_FILE_COLUMNS} FROM files WHERE path = ?", (path,)).fetchone()
        return FileRow(*row) if row else None

    def put_files(self, rows: Iterable[FileRow]) -> None:
        self.connection.executemany(
            f"INSERT OR REPLACE INTO files ({_FILE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (row.path, row.file_id, row.mtime_ns, row.size, row.content_hash, row.refs, row.problems, row.indexed_at)
                for row in rows
            ),
        )

    def insert_file_values(self, rows: Iterable[tuple[object, ...]]) -> None:
        """Insert new file rows given as tuples in column order (the fields of ``FileRow``)."""
        self.connection.executemany(f"INSERT INTO files ({_FILE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def touch_file(self, path: str, mtime_ns: int, size: int) -> None:
        self.connection.execute("UPDATE files SET mtime_ns = ?, size = ? WHERE path = ?", (mtime_ns, size, path))

    def delete_files(self, paths: Sequence[str]) -> None:
        self.connection.executemany("DELETE FROM files WHERE path = ?", ((path,) for path in paths))

    # -- nodes -------------------------------------------------------------------------
    def node(self, node_id: str) -> NodeRow | None:
        row = self.connection.execute(f"SELECT {_NODE_COLUMNS} FROM nodes WHERE id = ?", (node_id,)).fetchone()
        return NodeRow(*row) if row else None

    def nodes(self, node_ids: Iterable[str]) -> dict[str, NodeRow]:
        found: dict[str, NodeRow] = {}
        ids = list(node_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for row in self.connection.execute(f"SELECT {_NODE_COLUMNS} FROM nodes WHERE id IN ({marks})", chunk):
                found[row[0]] = NodeRow(*row)
        return found

    def nodes_in_file(self, path: str, *, active_only: bool = False) -> list[NodeRow]:
        query = f"SELECT {_NODE_COLUMNS} FROM nodes WHERE file_path = ?"
        if active_only:
            query += " AND status = 'active'"
        query += " ORDER BY start_line, def_line"
        return [NodeRow(*row) for row in self.connection.execute(query, (path,))]

    def active_nodes(self) -> list[tuple[str, str, str, str, str | None]]:
        """(id, node_type, name, file_path, parent_id) of every active node."""
        return self.connection.execute(
            "SELECT id, node_type, name, file_path, parent_id FROM nodes WHERE status = 'active'"
        ).fetchall()

    def put_nodes(self, rows: Iterable[NodeRow]) -> None:
        self.connection.executemany(_NODE_UPSERT, (row.values() for row in rows))

    def insert_node_values(self, rows: Iterable[tuple[object, ...]]) -> None:
        """Insert new nodes given as tuples in column order (``NodeRow.values()``): a bulk load
        of ids the table does not hold yet (no upsert)."""
        self.connection.executemany(_NODE_INSERT, rows)

    def set_parents(self, parents: dict[str, str]) -> None:
        """Node id -> parent id decided after the rows were written (Go methods whose receiver
        type lives in another file of the package)."""
        self.connection.executemany(
            "UPDATE nodes SET parent_id = ? WHERE id = ?", ((parent, node) for node, parent in parents.items())
        )

    def orphan(self, node_ids: Iterable[str], now: float) -> None:
        self.connection.executemany(
            "UPDATE nodes SET status = 'orphaned', updated_at = ? WHERE id = ?",
            ((now, node_id) for node_id in node_ids),
        )

    def find_nodes(self, text: str) -> list[NodeRow]:
        """Active nodes whose id, name or qualname equals ``text``."""
        query = f"SELECT {_NODE_COLUMNS} FROM nodes WHERE status = 'active' AND (id = ? OR name = ? OR qualname = ?)"
        return [NodeRow(*row) for row in self.connection.execute(query, (text, text, text))]

    # -- edges -------------------------------------------------------------------------
    def delete_edges(self, file_paths: Iterable[str], edge_types: Sequence[str]) -> None:
        marks = ", ".join("?" * len(edge_types))
        self.connection.executemany(
            f"DELETE FROM edges WHERE file_path = ? AND edge_type IN ({marks})",
            ((path, *edge_types) for path in file_paths),
        )

    def edges_of_files(self, owned: dict[str, tuple[str, ...]]) -> dict[tuple[str, str, str], str]:
        """(from_id, to_id, edge_type) -> producing file, for the edges of the given types that
        each file produced."""
        found: dict[tuple[str, str, str], str] = {}
        for path, edge_types in owned.items():
            marks = ", ".join("?" * len(edge_types))
            rows = self.connection.execute(
                f"SELECT from_id, to_id, edge_type FROM edges WHERE file_path = ? AND edge_type IN ({marks})",
                (path, *edge_types),
            )
            for row in rows:
                found[row] = path
        return found

    def delete_edge_rows(self, keys: Iterable[tuple[str, str, str]]) -> None:
        self.connection.executemany("DELETE FROM edges WHERE from_id = ? AND to_id = ? AND edge_type = ?", keys)

    def put_edges(self, edges: Iterable[tuple[str, str, str, str]]) -> None:
        """(from_id, to_id, edge_type, file_path) rows; duplicates are ignored."""
        self.connection.executemany(
            "INSERT OR IGNORE INTO edges (from_id, to_id, edge_type, file_path) VALUES (?, ?, ?, ?)", edges
        )

    def insert_edges_json(self, rows: str) -> None:
        """(from_id, to_id, edge_type, file_path) rows given as one JSON array of arrays, put in
        in key order; duplicates are ignored. One statement: SQLite runs it without Python's
        lock (a helper thread writes a cold build's edges while the caller resolves more)."""
        self.connection.execute(
            "INSERT OR IGNORE INTO edges (from_id, to_id, edge_type, file_path) "
            "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), "
            "json_extract(value, '$[3]') FROM json_each(?) ORDER BY 1, 2, 3",  # not ->>: SQLite < 3.38
            (rows,),
        )

    def insert_parent_edges(self) -> None:
        """The ``parent_of`` edge of every active node with a parent, from the nodes table
        (a first index, whose nodes are all new), in key order. One statement: SQLite runs it
        without Python's lock (a helper thread's bulk insert)."""
        self.connection.execute(
            "INSERT OR IGNORE INTO edges (from_id, to_id, edge_type, file_path) "
            "SELECT parent_id, id, 'parent_of', file_path FROM nodes "
            "WHERE parent_id IS NOT NULL AND status = 'active' ORDER BY parent_id, id"
        )

    def edge_targets(self, node_id: str, edge_type: str) -> list[str]:
        rows = self.connection.execute(
            "SELECT to_id FROM edges WHERE from_id = ? AND edge_type = ? ORDER BY to_id", (node_id, edge_type)
        )
        return [row[0] for row in rows]

    def edge_sources(self, node_id: str, edge_type: str) -> list[str]:
        rows = self.connection.execute(
            "SELECT from_id FROM edges WHERE to_id = ? AND edge_type = ? ORDER BY from_id", (node_id, edge_type)
        )
        return [row[0] for row in rows]

    def importer_files(self, file_ids: Sequence[str]) -> set[str]:
        """Paths of files with an ``imports`` edge into one of ``file_ids``."""
        found: set[str] = set()
        for node_id in file_ids:
            rows = self.connection.execute(
                "SELECT file_path FROM edges WHERE to_id = ? AND edge_type = 'imports'", (node_id,)
            )
            found.update(row[0] for row in rows)
        return found

    def caller_files(self, node_ids: Iterable[str]) -> set[str]:
        """Paths of files with a ``calls`` edge into one of ``node_ids``."""
        found: set[str] = set()
        ids = list(node_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            rows = self.connection.execute(
                f"SELECT DISTINCT file_path FROM edges WHERE edge_type = 'calls' AND to_id IN ({marks})", chunk
            )
            found.update(row[0] for row in rows)
        return found

    # -- meta ----------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        """A value of the ``meta`` table (shared positions and flags), None when unset."""
        row = self.connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Set a ``meta`` value (inside the caller's transaction when one is open)."""
        self.connection.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- summary -----------------------------------------------------------------------
    def file_paths_under(self, directory: str) -> list[str]:
        """The indexed paths inside ``directory`` (relative to the root, no trailing slash)."""
        rows = self.connection.execute(
            "SELECT path FROM files WHERE substr(path, 1, ?) = ?", (len(directory) + 1, directory + "/")
        )
        return [row[0] for row in rows]

    def has_files(self) -> bool:
        return self.connection.execute("SELECT 1 FROM files LIMIT 1").fetchone() is not None

    def has_nodes(self) -> bool:
        return self.connection.execute("SELECT 1 FROM nodes LIMIT 1").fetchone() is not None

    def file_count(self) -> int:
        return int(self.connection.execute("SELECT count(*) FROM files").fetchone()[0])

    def file_refs(self) -> list[tuple[str, str, str]]:
        """(path, file id, refs column) of every indexed file."""
        return self.connection.execute("SELECT path, file_id, refs FROM files").fetchall()

    def counts(self) -> tuple[dict[str, int], dict[str, int], int]:
        """(active nodes by type, edges by type, orphaned node count)."""
        nodes = {name: 0 for name in ("file", "class", "function", "method")}
        for node_type, count in self.connection.execute(
            "SELECT node_type, count(*) FROM nodes WHERE status = 'active' GROUP BY node_type"
        ):
            nodes[node_type] = count
        edges = {name: 0 for name in EDGE_TYPES}
        for edge_type, count in self.connection.execute("SELECT edge_type, count(*) FROM edges GROUP BY edge_type"):
            edges[edge_type] = count
        orphaned = self.connection.execute("SELECT count(*) FROM nodes WHERE status = 'orphaned'").fetchone()[0]
        return nodes, edges, orphaned
