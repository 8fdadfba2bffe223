"""Opening the project database safely: WAL, busy timeout, foreign keys, migrations.

A file that is not a SQLite database, a corrupt one, or another program's database is
refused with a clear ``StoreError`` naming the path. Nothing is ever deleted to "repair" it.
The file is only ever touched through SQLite: opening and closing it with a plain file handle
would drop the POSIX locks of every other connection this process holds on it.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from remora_core.errors import StoreError
from remora_core.fileio import PRIVATE_FILE_MODE, STATE_DIR, private_file, state_dir
from remora_core.store.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION

DB_NAME = "remora.db"
BUSY_TIMEOUT_MS = 10_000


def database_path(root: Path) -> Path:
    return root / STATE_DIR / DB_NAME


def connect(path: Path, *, create: bool = True) -> sqlite3.Connection:
    """An open, migrated connection to the Remora database at ``path``."""
    if not create and not path.exists():
        raise StoreError(f"no Remora database at {str(path)!r}: run 'remora index' first")
    if path.parent.name == STATE_DIR:
        state_dir(path.parent.parent)  # 0700; a read-only tree is one clear error
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    for existing in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        private_file(existing)
    if not path.exists():
        # Created owner-only before SQLite sees it (it holds conversations and keys); SQLite
        # gives the -wal and -shm files the database file's mode.
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE_MODE))
        except FileExistsError:
            pass
        except OSError as error:
            raise StoreError(f"cannot create the database {str(path)!r}: {error.strerror}") from None
    try:
        # Usable from another thread while its owner waits (a cold index builds indexes in a
        # helper thread during resolution): callers never use one connection from two threads at once.
        connection = sqlite3.connect(
            str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as error:
        if _read_only(path, error):
            raise StoreError(f"cannot open the database {str(path)!r} ({error}): is the tree read-only?") from None
        raise StoreError(f"cannot open database {str(path)!r}: {error}") from None
    try:
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _migrate(connection, path)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA cache_size = -65536")  # 64 MiB: random-id inserts thrash a small cache
        connection.execute("PRAGMA temp_store = MEMORY")
    except sqlite3.DatabaseError as error:
        connection.close()
        if _read_only(path, error):
            raise StoreError(
                f"database {str(path)!r} is read-only ({error}): Remora writes its index there; "
                "is the tree or its file system read-only?"
            ) from None
        if "file is not a database" in str(error):
            raise StoreError(
                f"{str(path)!r} is not a SQLite database (corrupt or foreign file); "
                "move it away to let Remora create a fresh index"
            ) from None
        raise StoreError(f"database {str(path)!r} is corrupt or unreadable: {error}") from None
    except StoreError:
        connection.close()
        raise
    return connection


def _read_only(path: Path, error: sqlite3.Error) -> bool:
    message = str(error).lower()
    if "readonly" in message or "read-only" in message:
        return True
    return "unable to open" in message and not os.access(path.parent, os.W_OK)


def _migrate(connection: sqlite3.Connection, path: Path) -> None:
    application_id = connection.execute("PRAGMA application_id").fetchone()[0]
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    tables = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if application_id != APPLICATION_ID and (tables or version):
        raise StoreError(
            f"{str(path)!r} is a SQLite database that Remora did not create; refusing to touch it"
        )
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"database {str(path)!r} has schema version {version}, newer than this Remora "
            f"({SCHEMA_VERSION}); upgrade Remora"
        )
    if version == SCHEMA_VERSION:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        # Re-read inside the write lock: another process may have migrated meanwhile.
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        for number in range(version, SCHEMA_VERSION):
            for statement in _statements(MIGRATIONS[number]):
                connection.execute(statement)
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _statements(script: str) -> Iterator[str]:
    buffer = ""
    for line in script.splitlines(keepends=True):
        stripped = line.split("--", 1)[0] if "--" in line else line
        buffer += stripped
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                yield buffer.strip()
            buffer = ""
    if buffer.strip():
        yield buffer.strip()


@contextmanager
def write_transaction(
    connection: sqlite3.Connection, *, check_foreign_keys: bool = True
) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back on any exception (kill -9 safe by WAL)."""
    if not check_foreign_keys:
        connection.execute("PRAGMA foreign_keys = OFF")
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    else:
        connection.execute("COMMIT")
    finally:
        if not check_foreign_keys:
            connection.execute("PRAGMA foreign_keys = ON")


def read_schema_version(path: Path) -> int:
    """The schema version of the database at ``path``, read-only (never migrates, never
    creates it; ``sqlite3.Error`` when it cannot be read)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2.0)
    try:
        version: int = connection.execute("PRAGMA user_version").fetchone()[0]
        return version
    finally:
        connection.close()


def set_cache_size(connection: sqlite3.Connection, kib: int) -> None:
    """Limit ``connection``'s page cache to ``kib`` KiB."""
    connection.execute(f"PRAGMA cache_size = -{int(kib)}")


@contextmanager
def bulk_load(connection: sqlite3.Connection, cache_kib: int) -> Iterator[None]:
    """Settings for loading rows that are valid by construction into empty tables: a page cache
    of ``cache_kib`` KiB and no CHECK constraints (``x IN (...)`` checks cost SQLite an
    ephemeral table per inserted row: two thirds of a bulk insert), and temporary data in files:
    building an index sorts all its keys, which with ``temp_store = MEMORY`` sit in the process
    (+81 MB of peak RSS for a 4x stdlib index), while a file's pages stay in the OS cache. The
    caller checks what the constraints would have. The connection's previous settings after the
    block."""
    previous_kib = -int(connection.execute("PRAGMA cache_size").fetchone()[0])
    set_cache_size(connection, cache_kib)
    connection.execute("PRAGMA ignore_check_constraints = ON")
    connection.execute("PRAGMA temp_store = FILE")
    try:
        yield
    finally:
        connection.execute("PRAGMA temp_store = MEMORY")
        connection.execute("PRAGMA ignore_check_constraints = OFF")
        if previous_kib > 0:
            set_cache_size(connection, previous_kib)
