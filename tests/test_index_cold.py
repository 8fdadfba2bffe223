"""The streamed first index (``index.cold``) against the general path, and the worker hop's
compact records: same tables for the same tree, ids aside (fresh ids are random)."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from remora_core.config import IndexConfig
from remora_core.errors import StoreError
from remora_core.index import parse_pool
from remora_core.index.indexer import Indexer
from remora_core.index.parse_pool import pack_result, parse_one, unpack_result
from remora_core.parsing.ids import new_node_ids
from remora_core.store.store import Store

FIXTURE = Path(__file__).parent / "fixtures" / "graph_project"
# Other languages in the same tree: Go methods whose receiver type is in another file get their
# parent at resolution time, after the streamed rows are written.
OTHER_LANGUAGES = {"gomod": Path(__file__).parent / "fixtures" / "lang_go", "web": Path(__file__).parent / "fixtures" / "lang_js"}
ID_RE = re.compile(r"rm_[a-z0-9]{8}")

# Anchored files: a kept anchor, an anchor copied into another file (the first file by path
# keeps it), a file anchor, and a file that only tree-sitter parses (a syntax error).
EXTRA = {
    "anchored/a.py": "# remora-file: rm_filea001\ndef first():  # rm_dupe0001\n    return second()\n\n\ndef second():  # rm_keep0001\n    return 1\n",
    "anchored/b.py": "from anchored.a import first\n\n\ndef copied():  # rm_dupe0001\n    return first()\n",
    "anchored/__init__.py": "",
    "broken.py": "def ok():\n    return 1\n\n\ndef bad(:\n    pass\n",
    "plain/deep.py": "class Base:\n    def run(self, x):\n        return self.step(x)\n\n    def step(self, x):\n        return x\n",
}


def make_tree(root: Path) -> Path:
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("__pycache__", ".remora"))
    for name, fixture in OTHER_LANGUAGES.items():
        shutil.copytree(fixture, root / name, ignore=shutil.ignore_patterns(".remora", "node_modules"))
    for path, text in EXTRA.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, "utf-8")
    return root


def index_tree(root: Path, *, stream: bool, inject: bool, workers: int = 1) -> dict[str, object]:
    store = Store.open(root)
    try:
        indexer = Indexer(root, store, IndexConfig(inject=inject, workers=workers))
        indexer.stream_cold = stream
        report = indexer.index()
    finally:
        store.close()
    changes = [(c.path, len(c.added), c.changed, c.removed, c.orphaned, c.deleted) for c in report.changes]
    return {"report": (report.files, report.nodes, report.edges, report.anchors_added, report.errors), "changes": changes}


def tables(root: Path) -> dict[str, object]:
    """The index tables with every id replaced by a label of its node (path, qualname, type, line)."""
    connection = sqlite3.connect(root / ".remora" / "remora.db")
    try:
        nodes = connection.execute(
            "SELECT id, node_type, name, qualname, file_path, start_line, def_line, end_line, parent_id, "
            "source_hash, status, superseded_anchor FROM nodes"
        ).fetchall()
        label = {row[0]: f"{row[4]}:{row[3]}:{row[1]}:{row[5]}" for row in nodes}
        assert len(set(label.values())) == len(label)

        def named(text: str | None) -> str | None:
            return None if text is None else ID_RE.sub(lambda match: label.get(match.group(0), match.group(0)), text)

        return {
            "nodes": sorted((label[row[0]], *row[1:8], named(row[8]), *row[9:]) for row in nodes),
            "edges": sorted(
                (label[a], label[b], kind, path)
                for a, b, kind, path in connection.execute("SELECT from_id, to_id, edge_type, file_path FROM edges")
            ),
            "files": sorted(  # content hashes: see ``sources`` (injected anchors are random ids)
                (path, label[file_id], named(refs), problems)
                for path, file_id, refs, problems in connection.execute("SELECT path, file_id, refs, problems FROM files")
            ),
        }
    finally:
        connection.close()


def content_hashes(root: Path) -> list[tuple[str, str]]:
    connection = sqlite3.connect(root / ".remora" / "remora.db")
    try:
        return sorted(connection.execute("SELECT path, content_hash FROM files").fetchall())
    finally:
        connection.close()


def sources(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): ID_RE.sub("rm_ID", path.read_text("utf-8"))
        for pattern in ("*.py", "*.go", "*.ts", "*.tsx", "*.js")
        for path in sorted(root.rglob(pattern))
        if ".remora" not in path.parts
    }


@pytest.mark.parametrize("inject", [False, True])
def test_streamed_first_index_equals_the_general_path(tmp_path: Path, inject: bool) -> None:
    streamed = make_tree(tmp_path / "streamed")
    general = make_tree(tmp_path / "general")
    assert index_tree(streamed, stream=True, inject=inject) == index_tree(general, stream=False, inject=inject)
    assert tables(streamed) == tables(general)
    assert sources(streamed) == sources(general)
    if not inject:
        assert content_hashes(streamed) == content_hashes(general)


def test_streamed_first_index_keeps_the_first_copy_of_an_anchor(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "tree")
    index_tree(root, stream=True, inject=False)
    connection = sqlite3.connect(root / ".remora" / "remora.db")
    try:
        owner = connection.execute("SELECT file_path, qualname FROM nodes WHERE id = 'rm_dupe0001'").fetchall()
        kept = connection.execute("SELECT qualname FROM nodes WHERE id IN ('rm_keep0001', 'rm_filea001')").fetchall()
    finally:
        connection.close()
    assert owner == [("anchored/a.py", "first")]
    assert sorted(kept) == [("anchored/a.py",), ("second",)]


def test_streamed_first_index_through_worker_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse_pool, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parse_pool, "BATCH_BYTES", 500)  # many small batches: several in flight
    pooled = make_tree(tmp_path / "pooled")
    local = make_tree(tmp_path / "local")
    assert index_tree(pooled, stream=True, inject=False, workers=2) == index_tree(local, stream=False, inject=False)
    assert tables(pooled) == tables(local)


def test_packed_results_round_trip(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "tree")
    (root / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\ndef caf\xe9():\n    return 1\n")
    paths = sorted(str(path.relative_to(root)) for path in root.rglob("*.py"))
    for check in (False, True):
        for path in [*paths, "missing.py"]:
            result = parse_one(str(root), path, None, check)
            assert unpack_result(pack_result(result)) == result
    assert json.loads("{" + parse_one(str(root), "anchored/a.py").refs_body + "}")["calls"] == [[0, "second", 3]]


class TakenAtFirst:
    """Claims the first ``count`` ids it is asked about are taken (collisions, deterministically)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.asked: list[str] = []

    def __contains__(self, node_id: object) -> bool:
        self.asked.append(str(node_id))
        return len(self.asked) <= self.count


def test_fresh_ids_drawn_at_once_are_well_formed_distinct_and_never_taken() -> None:
    ids = new_node_ids(2000)
    assert len(set(ids)) == 2000 and all(ID_RE.fullmatch(node_id) for node_id in ids)
    taken = TakenAtFirst(3)
    again = new_node_ids(50, taken)
    assert len(set(again)) == 50 and all(ID_RE.fullmatch(node_id) for node_id in again)
    assert not set(taken.asked[:3]) & set(again)


def test_a_failed_helper_write_rolls_the_whole_first_index_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_tree(tmp_path / "tree")

    def fail(store: Store) -> None:
        raise StoreError(f"disk full while writing {str(store.path)!r}")

    monkeypatch.setattr(Store, "insert_parent_edges", fail)
    with pytest.raises(StoreError, match="disk full"):
        index_tree(root, stream=True, inject=False)
    connection = sqlite3.connect(root / ".remora" / "remora.db")
    try:
        assert connection.execute("SELECT count(*) FROM nodes").fetchone()[0] == 0
        indexes = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    finally:
        connection.close()
    assert {"nodes_by_file", "nodes_by_name", "edges_by_target", "edges_by_file"} <= indexes
    monkeypatch.undo()
    other = make_tree(tmp_path / "other")
    assert index_tree(root, stream=True, inject=False) == index_tree(other, stream=False, inject=False)
    assert tables(root) == tables(other)
