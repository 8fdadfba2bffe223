"""The cold build's tail: calls and imports written a chunk at a time by the writer thread
(``index.background.SerialWriter``, ``Store.insert_edges_json``) give the general path's
tables, and a failed chunk rolls the whole first index back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from remora_core.errors import StoreError
from remora_core.index import cold
from remora_core.index.background import SerialWriter
from remora_core.store.store import Store
from tests.test_index_cold import index_tree, make_tree, tables


@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_edges_in_chunks_equal_the_general_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr(cold, "EDGE_CHUNK", chunk)
    streamed = make_tree(tmp_path / "streamed")
    general = make_tree(tmp_path / "general")
    assert index_tree(streamed, stream=True, inject=False) == index_tree(general, stream=False, inject=False)
    assert tables(streamed) == tables(general)


def test_a_failed_edge_chunk_rolls_the_whole_first_index_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cold, "EDGE_CHUNK", 5)
    written: list[str] = []
    insert = Store.insert_edges_json

    def fail_second(store: Store, rows: str) -> None:
        written.append(rows)
        if len(written) == 2:
            raise StoreError(f"disk full while writing {str(store.path)!r}")
        insert(store, rows)

    monkeypatch.setattr(Store, "insert_edges_json", fail_second)
    root = make_tree(tmp_path / "tree")
    with pytest.raises(StoreError, match="disk full"):
        index_tree(root, stream=True, inject=False)
    connection = sqlite3.connect(root / ".remora" / "remora.db")
    try:
        assert connection.execute("SELECT count(*) FROM nodes").fetchone()[0] == 0
        assert connection.execute("SELECT count(*) FROM edges").fetchone()[0] == 0
    finally:
        connection.close()


def test_insert_edges_json_is_put_edges(tmp_path: Path) -> None:
    import json

    rows = [("rm_b0000001", "rm_a0000001", "calls", "p/é.py"), ("rm_a0000001", "rm_b0000001", "imports", 'q/"x".py')]
    found = []
    for name in ("json", "many"):
        (tmp_path / name).mkdir()
        store = Store.open(tmp_path / name)
        try:
            with store.transaction(check_foreign_keys=False):
                if name == "json":
                    store.insert_edges_json(json.dumps(rows, ensure_ascii=False))
                else:
                    store.put_edges(rows)
            found.append(
                store.connection.execute(
                    "SELECT from_id, to_id, edge_type, file_path, typeof(file_path) FROM edges ORDER BY 1, 2"
                ).fetchall()
            )
        finally:
            store.close()
    assert found[0] == found[1] and len(found[0]) == 2


def test_serial_writer_runs_in_order_and_raises_the_first_failure() -> None:
    done: list[int] = []
    writer = SerialWriter(depth=1)
    for number in range(5):
        writer.submit(done.append, number)
    writer.finish()
    assert done == [0, 1, 2, 3, 4]

    def boom(number: int) -> None:
        raise ValueError(f"job {number!r} failed")

    writer = SerialWriter(depth=1)
    writer.submit(boom, 1)
    for number in range(10):  # never blocks on a writer that stopped working
        writer.submit(done.append, number)
    with pytest.raises(ValueError, match="job 1 failed"):
        writer.finish()
    assert done == [0, 1, 2, 3, 4]
