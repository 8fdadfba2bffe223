"""The FTS index of node sources: one row per node at its anchor's rowid, rows of older
databases moved there once, saves and forgets by rowid."""

from __future__ import annotations

from pathlib import Path

from remora_core.hub.state.store import NodeStateStore, fts_rowid
from remora_core.store.store import Store


def _fts(store: Store) -> list[tuple[int, str]]:
    return store.connection.execute("SELECT rowid, node_id FROM node_fts ORDER BY node_id").fetchall()


def test_fts_rows_sit_at_the_anchor_number_and_older_rows_are_moved(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    try:
        assert fts_rowid("rm_0000000z") == 35 and fts_rowid("rm_abcdefgh") == int("abcdefgh", 36)
        assert fts_rowid("not-an-anchor") >= 36**8
        # a database written before: rowids in insertion order
        store.connection.executemany(
            "INSERT INTO node_fts (node_id, name, body) VALUES (?, ?, ?)",
            [("rm_aaaaaaaa", "alpha", "old alpha body"), ("rm_bbbbbbbb", "beta", "beta body")],
        )
        states = NodeStateStore(store.connection)
        states.save_sources([("rm_aaaaaaaa", "h1", "def alpha(): return gamma", "alpha")])
        assert _fts(store) == [(fts_rowid("rm_aaaaaaaa"), "rm_aaaaaaaa"), (fts_rowid("rm_bbbbbbbb"), "rm_bbbbbbbb")]
        assert [hit for hit, _ in states.search(["gamma"])] == ["rm_aaaaaaaa"]
        assert states.search(["old"]) == []  # the replaced row is gone, not duplicated
        assert [hit for hit, _ in states.search(["beta"])] == ["rm_bbbbbbbb"]  # moved with its words
        states.forget_sources(["rm_bbbbbbbb"])
        assert _fts(store) == [(fts_rowid("rm_aaaaaaaa"), "rm_aaaaaaaa")]
    finally:
        store.close()
