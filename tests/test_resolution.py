"""Call resolution corner cases found while testing the graph fixture."""

from __future__ import annotations

from pathlib import Path

from remora_core.store.store import Store
from tests.conftest import index_project


def call_edges(root: Path) -> set[tuple[str, str]]:
    store = Store.open(root)
    try:
        rows = store.connection.execute(
            "SELECT a.file_path || ':' || a.qualname, b.file_path || ':' || b.qualname, b.status "
            "FROM edges e JOIN nodes a ON a.id = e.from_id JOIN nodes b ON b.id = e.to_id "
            "WHERE e.edge_type = 'calls'"
        ).fetchall()
    finally:
        store.close()
    assert all(status == "active" for _, _, status in rows), rows
    return {(source, target) for source, target, _ in rows}


def test_a_parameter_shadows_an_imported_module(project) -> None:  # type: ignore[no-untyped-def]
    root = project(
        {
            "engine.py": "def run():\n    pass\n",
            "user.py": """
            import engine

            def direct():
                engine.run()

            def shadowed(engine, *args, key=None, **kwargs):
                engine.run()
                key()
            """,
        }
    )
    index_project(root, inject=False)
    assert call_edges(root) == {("user.py:direct", "engine.py:run")}


def test_two_argument_super_resolves_through_the_bases(project) -> None:  # type: ignore[no-untyped-def]
    root = project(
        {
            "m.py": """
            class Base:
                def save(self):
                    pass

            class Child(Base):
                def save(self):
                    super(Child, self).save()
            """
        }
    )
    index_project(root, inject=False)
    assert call_edges(root) == {("m.py:Child.save", "m.py:Base.save")}


def test_callers_in_unchanged_files_lose_edges_to_a_renamed_callee(project) -> None:  # type: ignore[no-untyped-def]
    root = project(
        {
            "pkg/__init__.py": "from . import sub\n",
            "pkg/sub.py": "def f():\n    pass\n",
            "user.py": "import pkg\n\ndef user():\n    pkg.sub.f()\n",
        }
    )
    index_project(root)
    assert call_edges(root) == {("user.py:user", "pkg/sub.py:f")}
    sub = root / "pkg/sub.py"
    sub.write_text(sub.read_text().replace("def f(", "def g("))
    index_project(root)
    assert call_edges(root) == set()
    sub.write_text(sub.read_text().replace("def g(", "def f("))
    index_project(root)
    assert call_edges(root) == {("user.py:user", "pkg/sub.py:f")}


def test_a_body_only_edit_resolves_no_other_file(project) -> None:  # type: ignore[no-untyped-def]
    from remora_core.config import IndexConfig
    from remora_core.index.indexer import Indexer

    root = project(
        {
            "lib.py": "def f():\n    return 1\n",
            "user.py": "from lib import f\n\ndef user():\n    return f()\n",
        }
    )
    store = Store.open(root)
    indexer = Indexer(root, store, IndexConfig())
    indexer.index()
    assert indexer.symbols is not None
    resolved: list[str] = []
    original = indexer.symbols.resolve_file

    def spy(path: str):  # type: ignore[no-untyped-def]
        resolved.append(path)
        return original(path)

    indexer.symbols.resolve_file = spy  # type: ignore[method-assign]
    lib = root / "lib.py"
    edges_before = store.connection.execute("SELECT from_id, to_id, edge_type, file_path FROM edges ORDER BY 1, 2, 3").fetchall()
    lib.write_text(lib.read_text().replace("return 1", "return 2"))
    indexer.index(paths=["lib.py"], totals=False)
    assert resolved == []  # same nodes, same references: its edges are the stored ones
    assert store.connection.execute("SELECT from_id, to_id, edge_type, file_path FROM edges ORDER BY 1, 2, 3").fetchall() == edges_before
    lib.write_text(lib.read_text().replace("def f", "\n\ndef f", 1))  # lines move, nothing resolves differently
    indexer.index(paths=["lib.py"], totals=False)
    assert resolved == []
    lib.write_text(lib.read_text().replace("return 2", "return len('x')"))
    indexer.index(paths=["lib.py"], totals=False)
    assert resolved == ["lib.py"]  # a new call site: only this file re-resolves
    resolved.clear()
    lib.write_text(lib.read_text() + "\n\ndef g():\n    return f()\n")
    resolved.clear()
    indexer.index(paths=["lib.py"], totals=False)
    assert sorted(resolved) == ["lib.py", "user.py"]  # a new definition: importers re-resolve
    store.close()
    assert call_edges(root) == {("user.py:user", "lib.py:f"), ("lib.py:g", "lib.py:f")}
