"""The no-change re-index: racy rows are settled once their bytes are checked, the report's
totals come from a cache that only a matching, unwritten index can use, and the stat walk
finds what it always found."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import remora_core.index.indexer as indexer_module
from remora_core.config import IndexConfig
from remora_core.index.discovery import discover
from remora_core.index.indexer import Indexer
from remora_core.index.totals import TOTALS_KEY, count_totals
from remora_core.store.store import Store
from tests.conftest import index_project, write_files


def _hashes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    original = indexer_module.bytes_hash

    def counting(data: bytes) -> str:
        calls.append(len(data))
        return original(data)

    monkeypatch.setattr(indexer_module, "bytes_hash", counting)
    return calls


def test_a_racy_row_is_hashed_once_then_trusted(project, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Files written just before (or by) their pass stay "racy" in their row: a later pass
    hashes them, finds them unchanged and records that, so the pass after trusts their stat."""
    root = project({"a.py": "def f():\n    return 1\n", "b.py": "def g():\n    return 2\n"})
    old = time.time() - 100
    for name in ("a.py", "b.py"):
        os.utime(root / name, (old, old))
    index_project(root, inject=False)
    store = Store.open(root)
    with store.transaction():  # as if indexed right after they were written
        store.connection.execute("UPDATE files SET indexed_at = mtime_ns / 1e9 + 0.5")
    store.close()
    hashes = _hashes(monkeypatch)
    assert index_project(root, inject=False).changed_files == 0
    assert len(hashes) == 2
    hashes.clear()
    assert index_project(root, inject=False).changed_files == 0
    assert hashes == []
    # A change is still seen (new size), and one that keeps size and mtime while the row is racy.
    (root / "a.py").write_text("def f():\n    return 10\n")
    assert index_project(root, inject=False).changed_files == 1


def test_a_recent_file_stays_racy(project, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A file modified within the racy window of the pass is not settled: a second write in
    the same timestamp tick could still hide behind its stat."""
    root = project({"a.py": "def f():\n    return 1\n"})
    index_project(root, inject=False)
    hashes = _hashes(monkeypatch)
    index_project(root, inject=False)
    index_project(root, inject=False)
    assert len(hashes) == 2  # hashed by each pass: its mtime is within 2 s of now


def test_cached_totals_match_a_count_and_follow_every_write(project) -> None:  # type: ignore[no-untyped-def]
    root = project(
        {"a.py": "import b\n\ndef f():\n    return b.g()\n", "b.py": "def g():\n    return 2\n"}
    )
    first = index_project(root, inject=False)
    again = index_project(root, inject=False)  # no change: counted and cached
    cached = index_project(root, inject=False)  # from the cache
    store = Store.open(root)
    assert store.meta(TOTALS_KEY)
    nodes, edges, files = count_totals(store)
    store.close()
    for report in (first, again, cached):
        assert (report.nodes, report.edges, report.files) == (nodes, edges, files)
    write_files(root, {"c.py": "from b import g\n\nclass C:\n    def m(self):\n        return g()\n"})
    changed = index_project(root, inject=False)
    after = index_project(root, inject=False)
    store = Store.open(root)
    nodes, edges, files = count_totals(store)
    store.close()
    assert (changed.nodes, changed.edges, changed.files) == (after.nodes, after.edges, after.files) == (nodes, edges, files)
    assert files == 3 and nodes["class"] == 1 and edges["calls"] == 2


def test_totals_cached_for_other_files_are_not_used(project) -> None:  # type: ignore[no-untyped-def]
    """A cache whose fingerprint is not the stored files' (another tool wrote the index) is
    not used: the totals are counted again."""
    root = project({"a.py": "def f():\n    return 1\n"})
    old = time.time() - 100
    os.utime(root / "a.py", (old, old))  # not racy: the stat is trusted, the file not read
    index_project(root, inject=False)
    assert index_project(root, inject=False).nodes["function"] == 1  # cached
    store = Store.open(root)
    with store.transaction():
        store.connection.execute("UPDATE files SET content_hash = 'other'")
        store.connection.execute("UPDATE nodes SET status = 'orphaned' WHERE node_type = 'function'")
    report = Indexer(root, store, IndexConfig(inject=False)).index()
    store.close()
    assert report.changed_files == 0
    assert report.nodes["function"] == 0  # what the table holds, not the cached 1


def test_discovery_skips_ignored_paths_only_below_their_gitignore(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "top.py": "",
            "pkg/keep.py": "",
            "pkg/gen/out.py": "",
            "pkg/.gitignore": "gen/\nskip_*.py\n",
            "pkg/skip_me.py": "",
            "other/skip_me.py": "",
            "other/deep/x.py": "",
            "venv/pyvenv.cfg": "",
            "venv/lib.py": "",
        },
    )
    assert [item.path for item in discover(tmp_path, ["other/deep/"])] == [
        "other/skip_me.py",
        "pkg/keep.py",
        "top.py",
    ]
