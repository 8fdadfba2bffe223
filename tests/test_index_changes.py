"""What an index pass reports as changed, and that its report commits with the index."""

from __future__ import annotations

import pytest

from remora_core.config import IndexConfig
from remora_core.index.indexer import FileChange, Indexer
from remora_core.store.store import Store
from tests.conftest import ids_by_qualname


def test_body_edit_reports_the_changed_node_and_nothing_else(project) -> None:  # type: ignore[no-untyped-def]
    root = project({"a.py": "def f():\n    return 1\n\ndef g():\n    return 2\n"})
    store = Store.open(root)
    indexer = Indexer(root, store, IndexConfig())
    indexer.index()
    ids = ids_by_qualname(root, "a.py")
    path = root / "a.py"
    path.write_text(path.read_text().replace("return 1", "return 10"))
    seen: list[list[FileChange]] = []
    report = indexer.index(paths=["a.py"], totals=False, on_changes=seen.append)
    changed = sorted([ids["f"], ids["a.py"]])  # the function and its file; g is untouched
    assert [(c.path, c.changed, c.added, c.orphaned) for c in report.changes] == [("a.py", changed, [], [])]
    assert seen == [report.changes]
    store.close()


def test_a_failing_change_hook_rolls_the_pass_back_and_the_next_pass_redoes_it(project) -> None:  # type: ignore[no-untyped-def]
    root = project({"a.py": "def f():\n    return 1\n"})
    store = Store.open(root)
    indexer = Indexer(root, store, IndexConfig(inject=False))
    indexer.index()
    path = root / "a.py"
    path.write_text("def f():\n    return 1\n\ndef new():\n    pass\n")

    def crash(changes: list[FileChange]) -> None:
        raise RuntimeError("killed between the index and its events")

    with pytest.raises(RuntimeError):
        indexer.index(paths=["a.py"], on_changes=crash)
    assert "new" not in ids_by_qualname(root, "a.py")  # nothing half-written
    again: list[FileChange] = []
    Indexer(root, store, IndexConfig(inject=False)).index(paths=["a.py"], on_changes=again.extend)
    assert [change.path for change in again] == ["a.py"] and len(again[0].added) == 1
    assert "new" in ids_by_qualname(root, "a.py")
    store.close()
