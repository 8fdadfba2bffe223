"""The project database: settings, migrations, and refusing bad files without losing data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from remora_core.errors import StoreError
from remora_core.store import db
from remora_core.store.schema import APPLICATION_ID, SCHEMA_VERSION
from remora_core.store.store import Store
from tests.conftest import index_project, run_cli


def test_fresh_database_is_wal_with_foreign_keys_and_current_schema(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    try:
        connection = store.connection
        assert store.path == tmp_path / ".remora" / "remora.db"
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert connection.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert connection.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"nodes", "edges", "events", "activation_chain", "subscriptions", "proposals", "files"} <= tables
    finally:
        store.close()


def test_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    store = Store.open(tmp_path)
    assert store.connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    store.close()


def test_garbage_file_is_refused_and_kept(tmp_path: Path) -> None:
    path = db.database_path(tmp_path)
    path.parent.mkdir()
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match=r"remora\.db.*not a SQLite database"):
        Store.open(tmp_path)
    assert path.read_bytes().startswith(b"this is not")


def test_truncated_database_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    index_project_dir = tmp_path / "p"
    index_project_dir.mkdir()
    (index_project_dir / "a.py").write_text("def f():\n    pass\n")
    index_project(index_project_dir)
    path = db.database_path(index_project_dir)
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\xff" * 3000 + data[3100:])
    size = path.stat().st_size
    with pytest.raises(StoreError, match=r"remora\.db.*corrupt"):
        Store.open(index_project_dir)
    assert path.stat().st_size == size


def test_foreign_sqlite_database_is_not_touched(tmp_path: Path) -> None:
    path = db.database_path(tmp_path)
    path.parent.mkdir()
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE customers (id INTEGER)")
    connection.commit()
    connection.close()
    with pytest.raises(StoreError, match="did not create"):
        Store.open(tmp_path)
    connection = sqlite3.connect(path)
    assert connection.execute("SELECT name FROM sqlite_master").fetchall() == [("customers",)]
    connection.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    connection = sqlite3.connect(db.database_path(tmp_path))
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    connection.close()
    with pytest.raises(StoreError, match="newer"):
        Store.open(tmp_path)


def test_cli_reports_a_corrupt_database_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def f():\n    pass\n")
    path = db.database_path(tmp_path)
    path.parent.mkdir()
    path.write_bytes(b"garbage" * 50)
    done = run_cli("index", str(tmp_path))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and "remora.db" in done.stderr
    assert path.read_bytes() == b"garbage" * 50


def test_failed_transaction_leaves_nothing_behind(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    try:
        with pytest.raises(RuntimeError), store.transaction():
            store.connection.execute(
                "INSERT INTO meta (key, value) VALUES ('k', 'v')",
            )
            raise RuntimeError("boom")
        assert store.connection.execute("SELECT count(*) FROM meta").fetchone()[0] == 0
    finally:
        store.close()


def test_a_cold_index_rebuilds_every_secondary_index(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def f():\n    return g()\n\ndef g():\n    pass\n")
    fresh = Store.open(tmp_path)
    expected = fresh.connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'").fetchall()
    fresh.close()
    index_project(tmp_path)
    store = Store.open(tmp_path)
    try:
        after = store.connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'").fetchall()
        assert sorted(after) == sorted(expected)
        plan = store.connection.execute("EXPLAIN QUERY PLAN SELECT * FROM edges WHERE to_id = 'x'").fetchall()
        assert "edges_by_target" in str(plan)
    finally:
        store.close()


def test_opening_a_second_store_in_one_process_keeps_the_first_ones_writes_visible(tmp_path: Path) -> None:
    """Opening/closing the database file outside SQLite drops this process's POSIX locks: another
    process may then delete the WAL under the first connection and its later writes are lost."""
    import subprocess
    import sys

    first = Store.open(tmp_path)
    first.connection.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
    Store.open(tmp_path).close()  # a second store in the same process, opened and closed
    other = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT 1 FROM meta').fetchall(); c.close()"
    subprocess.run([sys.executable, "-c", other, str(first.path)], check=True, timeout=30)
    first.connection.execute("INSERT INTO meta (key, value) VALUES ('b', '2')")
    reader = "import sqlite3, sys; print(sorted(r[0] for r in sqlite3.connect(sys.argv[1]).execute('SELECT key FROM meta')))"
    done = subprocess.run([sys.executable, "-c", reader, str(first.path)], capture_output=True, text=True, timeout=30, check=False)
    first.close()
    assert done.stdout.strip() == "['a', 'b']", done.stderr


def test_bulk_load_lifts_the_check_constraints_only_inside_the_block(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    connection = store.connection
    bogus = "INSERT INTO edges (from_id, to_id, edge_type, file_path) VALUES ('a', 'b', 'bogus', 'f.py')"
    try:
        connection.execute("PRAGMA foreign_keys = OFF")
        with db.bulk_load(connection, 2048):
            assert connection.execute("PRAGMA cache_size").fetchone()[0] == -2048
            assert connection.execute("PRAGMA temp_store").fetchone()[0] == 1  # sorts spill to files
            with store.transaction():
                connection.execute(bogus)  # the caller checks what the constraints would
                connection.execute("DELETE FROM edges")
        assert connection.execute("PRAGMA cache_size").fetchone()[0] == -65536
        assert connection.execute("PRAGMA temp_store").fetchone()[0] == 2  # MEMORY again
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"), store.transaction():
            connection.execute(bogus)
    finally:
        store.close()
