"""``NodeStateStore``: get / set / partial update of ``node:{id}:state`` rows, the last source
of each node (so the first diff after a restart is right) and the FTS5 index of node sources."""

from __future__ import annotations

import contextlib
import hashlib
import re
import sqlite3
import time
from collections.abc import Iterable, Mapping
from typing import Any

from remora_core.errors import NodeNotFoundError
from remora_core.hub.state.model import NodeState, state_key
from remora_core.store.db import write_transaction

_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HUMP_RE = re.compile(r"[a-z0-9][A-Z]")
_SPLIT_RE = re.compile(r"_|(?<=[a-z0-9])(?=[A-Z])")
_ANCHOR_ID_RE = re.compile(r"rm_[a-z0-9]{8}")
_OTHER_IDS = 36**8  # rowids of ids that are not anchors start here


def fts_rowid(node_id: str) -> int:
    """The FTS row of a node: its anchor's base-36 number (an FTS5 ``UNINDEXED`` column cannot be
    looked up without a scan; a rowid can)."""
    if _ANCHOR_ID_RE.fullmatch(node_id):
        return int(node_id[3:], 36)
    return _OTHER_IDS + int.from_bytes(hashlib.blake2b(node_id.encode("utf-8"), digest_size=6).digest(), "big")


class NodeStateStore:
    """Node state in the project database. Autocommit connection: every write is one transaction
    unless the caller holds one (``batch``)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self._fts_keyed = False  # FTS rows checked to sit at their fts_rowid

    def _key_fts_rows(self) -> None:
        """Once per connection: move FTS rows written before rows were keyed by ``fts_rowid``."""
        if self._fts_keyed:
            return
        moved = [
            (fts_rowid(node_id), rowid)
            for rowid, node_id in self.connection.execute("SELECT rowid, node_id FROM node_fts").fetchall()
            if rowid != fts_rowid(node_id)
        ]
        if moved:
            with contextlib.nullcontext() if self.connection.in_transaction else write_transaction(self.connection):
                self.connection.executemany("DELETE FROM node_fts WHERE rowid = ?", ((new,) for new, _ in moved))
                self.connection.executemany(
                    "INSERT INTO node_fts (rowid, node_id, name, body) SELECT ?, node_id, name, body FROM node_fts "
                    "WHERE rowid = ?",
                    moved,
                )
                self.connection.executemany("DELETE FROM node_fts WHERE rowid = ?", ((old,) for _, old in moved))
        self._fts_keyed = True

    # -- state -------------------------------------------------------------------------
    def get(self, node_id: str) -> NodeState | None:
        row = self.connection.execute("SELECT state FROM node_state WHERE key = ?", (state_key(node_id),)).fetchone()
        return NodeState.model_validate_json(row[0]) if row else None

    def get_many(self, node_ids: Iterable[str]) -> dict[str, NodeState]:
        found: dict[str, NodeState] = {}
        ids = list(node_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for node_id, state in self.connection.execute(
                f"SELECT node_id, state FROM node_state WHERE node_id IN ({marks})", chunk
            ):
                found[node_id] = NodeState.model_validate_json(state)
        return found

    def is_empty(self) -> bool:
        return self.connection.execute("SELECT 1 FROM node_state LIMIT 1").fetchone() is None

    def versions(self) -> dict[str, str]:
        """node id -> source_version of every stored state."""
        return dict(self.connection.execute("SELECT node_id, source_version FROM node_state").fetchall())

    def set(self, state: NodeState) -> None:
        self.set_many([state])

    def set_many(self, states: Iterable[NodeState]) -> None:
        self.put_state_rows(state_rows(states))

    def put_state_rows(self, rows: list[StateRow]) -> None:
        """Store rows made by ``state_rows`` (made before a transaction, to keep it short)."""
        if not rows:
            return
        sql = (
            "INSERT INTO node_state (key, node_id, source_version, state, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET source_version = excluded.source_version, "
            "state = excluded.state, updated_at = excluded.updated_at"
        )
        if self.connection.in_transaction:
            self.connection.executemany(sql, rows)
        else:
            with write_transaction(self.connection):
                self.connection.executemany(sql, rows)

    def update(self, node_id: str, partial: Mapping[str, Any]) -> NodeState:
        """Merge ``partial`` (field -> value) into the stored state and store it again."""
        state = self.get(node_id)
        if state is None:
            raise NodeNotFoundError(f"no hub state for node {node_id!r} ({state_key(node_id)!r})")
        merged = NodeState.model_validate({**state.model_dump(), **partial, "last_updated": time.time()})
        self.set(merged)
        return merged

    def delete(self, node_id: str) -> None:
        self.connection.execute("DELETE FROM node_state WHERE key = ?", (state_key(node_id),))

    # -- last sources ------------------------------------------------------------------
    def last_source(self, node_id: str) -> tuple[str, str] | None:
        """(source_hash, source) stored for ``node_id`` at its last update."""
        row = self.connection.execute(
            "SELECT source_hash, source FROM node_sources WHERE node_id = ?", (node_id,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def save_sources(self, items: Iterable[tuple[str, str, str, str]]) -> None:
        """(node_id, source_hash, source, searchable name) rows: the last source and its FTS entry."""
        self.put_source_rows(source_rows(items))

    def put_source_rows(self, rows: list[SourceRow]) -> None:
        """Store rows made by ``source_rows`` (made before a transaction, to keep it short)."""
        if not rows:
            return
        self._key_fts_rows()
        self.connection.executemany(
            "INSERT INTO node_sources (node_id, source_hash, source, saved_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (node_id) DO UPDATE SET source_hash = excluded.source_hash, source = excluded.source, "
            "saved_at = excluded.saved_at",
            (row[:4] for row in rows),
        )
        self.connection.executemany("DELETE FROM node_fts WHERE rowid = ?", ((row[4],) for row in rows))
        self.connection.executemany(
            "INSERT INTO node_fts (rowid, node_id, name, body) VALUES (?, ?, ?, ?)",
            ((row[4], row[0], row[5], row[6]) for row in rows),
        )

    def forget_sources(self, node_ids: Iterable[str]) -> None:
        self._key_fts_rows()
        ids = [(fts_rowid(node_id),) for node_id in node_ids]
        self.connection.executemany("DELETE FROM node_fts WHERE rowid = ?", ids)

    # -- search ------------------------------------------------------------------------
    def search(self, words: Iterable[str], *, limit: int = 10, exclude: str | None = None) -> list[tuple[str, float]]:
        """(node id, bm25 score, lower is better) of the nodes matching any of ``words``."""
        terms = sorted({word.lower() for word in words if len(word) > 1})[:64]
        if not terms:
            return []
        query = " OR ".join(f'"{term}"' for term in terms)
        rows = self.connection.execute(
            "SELECT node_id, bm25(node_fts, 5.0, 1.0) AS score FROM node_fts WHERE node_fts MATCH ? "
            "ORDER BY score LIMIT ?",
            (query, limit + 1),
        ).fetchall()
        return [(node_id, float(score)) for node_id, score in rows if node_id != exclude][:limit]


StateRow = tuple[str, str, str, str, float]  # key, node id, source version, JSON, updated at
# node id, source hash, source, saved at, FTS rowid, FTS name words, FTS body words
SourceRow = tuple[str, str, str, float, int, str, str]


def state_rows(states: Iterable[NodeState]) -> list[StateRow]:
    return [(s.key, s.id, s.source_version, s.model_dump_json(), s.last_updated) for s in states]


def source_rows(items: Iterable[tuple[str, str, str, str]]) -> list[SourceRow]:
    """Rows of (node_id, source_hash, source, searchable name) items, FTS words included."""
    now = time.time()
    return [
        (node_id, digest, source, now, fts_rowid(node_id), split_words(name), split_words(source))
        for node_id, digest, source, name in items
    ]


def split_words(text: str) -> str:
    """Each distinct identifier, plus its parts split at underscores and camelCase humps, joined
    by spaces (what the FTS index holds of a node)."""
    words = set(_WORD_RE.findall(text))
    parts: set[str] = set()
    for word in words:
        if "_" in word.strip("_") or _HUMP_RE.search(word):
            parts.update(part for part in _SPLIT_RE.split(word) if part)
    return " ".join(sorted(words | parts))
