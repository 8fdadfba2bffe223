"""Node identity across edits: stable, moved, copied, renamed, deleted (the failures of earlier attempts)."""

from __future__ import annotations

import re
from pathlib import Path

from remora_core.store.store import Store
from tests.conftest import ids_by_qualname, index_project, nodes_of

MODULE = """
class Loader:
    def load(self):
        return 1

    def save(self):
        return 2

def helper():
    return Loader().load()
"""


def anchors_in(path: Path) -> list[str]:
    return re.findall(r"# (rm_[a-z0-9]{8})", path.read_text())


def status_of(root: Path, node_id: str) -> str | None:
    store = Store.open(root)
    try:
        row = store.node(node_id)
        return row.status if row else None
    finally:
        store.close()


def test_ids_do_not_churn_on_reindex_or_reopen(project) -> None:  # type: ignore[no-untyped-def]
    root = project({"mod.py": MODULE})
    index_project(root)
    first = ids_by_qualname(root, "mod.py")
    text = (root / "mod.py").read_text()
    for _ in range(3):
        report = index_project(root)
        assert (report.anchors_added, report.orphaned, report.changed_files) == (0, 0, 0)
    assert ids_by_qualname(root, "mod.py") == first
    assert (root / "mod.py").read_text() == text
    # a touch (same bytes, new mtime) changes nothing either
    (root / "mod.py").write_text(text)
    assert index_project(root).changed_files == 0
    assert ids_by_qualname(root, "mod.py") == first


def test_ids_are_stable_without_injection_too(project) -> None:  # type: ignore[no-untyped-def]
    root = project({"mod.py": MODULE})
    index_project(root, inject=False)
    first = ids_by_qualname(root, "mod.py")
    assert "rm_" not in (root / "mod.py").read_text()
    # an edit elsewhere in the file: the fallback (qualname, type) keeps every id
    (root / "mod.py").write_text("import os\n\n" + (root / "mod.py").read_text())
    index_project(root, inject=False)
    assert ids_by_qualname(root, "mod.py") == first


def test_editing_a_body_keeps_the_id(project) -> None:  # type: ignore[no-untyped-def]
    root = project({"mod.py": MODULE})
    index_project(root)
    before = ids_by_qualname(root, "mod.py")
    path = root / "mod.py"
    path.write_text(path.read_text().replace("return 1", "x = 41\n        return x + 1"))
    report = index_project(root)
    assert report.orphaned == 0
    assert ids_by_qualname(root, "mod.py") == before


def test_moved_function_keeps_its_id_across_files(project) -> None:  # type: ignore[no-untyped-def]
    root = project({"a.py": MODULE, "b.py": "X = 1\n"})
    index_project(root)
    helper_id = ids_by_qualname(root, "a.py")["helper"]
    a = (root / "a.py").read_text()
    start = a.index("def helper")
    moved = a[start:]
    (root / "a.py").write_text(a[:start])
    (root / "b.py").write_text((root / "b.py").read_text() + "\n\n" + moved)
    report = index_project(root)
    assert ids_by_qualname(root, "b.py")["helper"] == helper_id
    assert "helper" not in ids_by_qualname(root, "a.py")
    assert status_of(root, helper_id) == "active"
    assert report.orphaned == 0
    assert anchors_in(root / "b.py").count(helper_id) == 1


def test_move_seen_in_two_passes_still_keeps_the_id(project) -> None:  # type: ignore[no-untyped-def]
    """The hub may see the cut (a.py) before the paste (b.py): the id comes back, active."""
    root = project({"a.py": MODULE, "b.py": "X = 1\n"})
    index_project(root)
    helper_id = ids_by_qualname(root, "a.py")["helper"]
    a = (root / "a.py").read_text()
    start = a.index("def helper")
    (root / "a.py").write_text(a[:start])
    index_project(root)
    assert status_of(root, helper_id) == "orphaned"
    (root / "b.py").write_text("X = 1\n\n" + a[start:])
    index_project(root)
    assert ids_by_qualname(root, "b.py")["helper"] == helper_id
    assert status_of(root, helper_id) == "active"


def test_copied_function_gets_a_fresh_id_in_another_file(project) -> None:  # type: ignore[no-untyped-def]
    root = project({"a.py": MODULE, "b.py": "X = 1\n"})
    index_project(root)
    original = ids_by_qualname(root, "a.py")
    a = (root / "a.py").read_text()
    (root / "b.py").write_text("X = 1\n\n" + a[a.index("def helper") :])
    report = index_project(root)
    assert ids_by_qualname(root, "a.py") == original
    copy_id = ids_by_qualname(root, "b.py")["helper"]
    assert copy_id != original["helper"]
    assert anchors_in(root / "b.py").count(copy_id) == 1  # the copied anchor was replaced in place
    assert original["helper"] not in (root / "b.py").read_text()
    assert report.orphaned == 0


def test_copied_function_in_the_same_file_gets_a_fresh_id(project) -> None:  # type: ignore[no-untyped-def]
    root = project({"a.py": MODULE})
    index_project(root)
    original = ids_by_qualname(root, "a.py")["helper"]
    a = (root / "a.py").read_text()
    copy = a[a.index("def helper") :].replace("def helper", "def helper_copy")
    (root / "a.py").write_text(a + "\n\n" + copy)
    index_project(root)
    ids = ids_by_qualname(root, "a.py")
    assert ids["helper"] == original
    assert ids["helper_copy"] != original
    assert len(set(anchors_in(root / "a.py"))) == len(anchors_in(root / "a.py"))


def test_duplicate_pasted_twice_under_the_same_name(project) -> None:  # type: ignore[no-untyped-def]
    root = project({"a.py": MODULE})
    index_project(root)
    original = ids_by_qualname(root, "a.py")["helper"]
    a = (root / "a.py").read_text()
    (root / "a.py").write_text(a + "\n\n" + a[a.index("def helper") :])
    index_project(root)
    rows = [row for row in nodes_of(root, "a.py") if row.name == "helper"]
    assert len(rows) == 2
    assert rows[0].id == original and rows[1].id != original


def test_renamed_function_is_a_new_node_and_the_old_one_is_orphaned(project) -> None:  # type: ignore[no-untyped-def]
    root = project({"a.py": MODULE})
    index_project(root)
    before = ids_by_qualname(root, "a.py")
    path = root / "a.py"
    path.write_text(path.read_text().replace("def helper(", "def run_helper("))
    report = index_project(root)
    after = ids_by_qualname(root, "a.py")
    assert "helper" not in after
    assert after["run_helper"] != before["helper"]
    assert status_of(root, before["helper"]) == "orphaned"  # kept, not deleted
    assert report.orphaned == 1
    assert before["helper"] not in path.read_text()  # the stale anchor was replaced in place
    assert {k: v for k, v in after.items() if k != "run_helper"} == {
        k: v for k, v in before.items() if k != "helper"
    }


def test_rename_without_injection_stays_stable_on_reindex(project) -> None:  # type: ignore[no-untyped-def]
    root = project({"a.py": MODULE})
    index_project(root)
    path = root / "a.py"
    path.write_text(path.read_text().replace("def helper(", "def run_helper("))
    index_project(root, inject=False)
    renamed = ids_by_qualname(root, "a.py")["run_helper"]
    index_project(root, inject=False)
    (root / "a.py").write_text(path.read_text() + "\n")
    index_project(root, inject=False)
    assert ids_by_qualname(root, "a.py")["run_helper"] == renamed


def test_deleted_file_orphans_its_nodes(project) -> None:  # type: ignore[no-untyped-def]
    root = project({"a.py": MODULE, "b.py": "def keep():\n    pass\n"})
    index_project(root)
    ids = ids_by_qualname(root, "a.py")
    (root / "a.py").unlink()
    report = index_project(root)
    assert report.orphaned == len(ids)
    assert all(status_of(root, node_id) == "orphaned" for node_id in ids.values())
    assert nodes_of(root, "a.py") == []
    assert [row.name for row in nodes_of(root, "a.py", active_only=False) if row.node_type == "function"] == ["helper"]


def test_decorated_function_is_found_once(project) -> None:  # type: ignore[no-untyped-def]
    root = project(
        {
            "a.py": """
            import functools

            @functools.wraps(print)
            @functools.lru_cache
            def cached():
                return 1
            """
        }
    )
    index_project(root)
    rows = [row for row in nodes_of(root, "a.py") if row.node_type == "function"]
    assert [(row.name, row.start_line, row.def_line) for row in rows] == [("cached", 4, 6)]
    assert len(anchors_in(root / "a.py")) == 1  # one node anchor, on the def line
    assert (root / "a.py").read_text().splitlines()[5].endswith("# " + rows[0].id)


def test_overloads_keep_distinct_stable_ids(project) -> None:  # type: ignore[no-untyped-def]
    source = """
    from typing import overload

    @overload
    def get(x: int) -> int: ...
    @overload
    def get(x: str) -> str: ...
    def get(x):
        return x
    """
    root = project({"a.py": source})
    index_project(root, inject=False)
    first = [row.id for row in nodes_of(root, "a.py") if row.name == "get"]
    assert len(set(first)) == 3
    index_project(root, inject=False)
    (root / "a.py").write_text((root / "a.py").read_text() + "\n# touched\n")
    index_project(root, inject=False)
    assert [row.id for row in nodes_of(root, "a.py") if row.name == "get"] == first


def test_hand_written_anchor_is_adopted(project) -> None:  # type: ignore[no-untyped-def]
    root = project({"a.py": "def f():  # rm_handmade\n    pass\n"})
    index_project(root)
    assert ids_by_qualname(root, "a.py")["f"] == "rm_handmade"


def test_renamed_file_keeps_its_file_id_and_node_ids(project) -> None:  # type: ignore[no-untyped-def]
    root = project({"a.py": MODULE})
    index_project(root)
    before = ids_by_qualname(root, "a.py")
    (root / "a.py").rename(root / "b.py")
    report = index_project(root)
    after = ids_by_qualname(root, "b.py")
    assert after == {("b.py" if name == "a.py" else name): node_id for name, node_id in before.items()}
    assert report.orphaned == 0
