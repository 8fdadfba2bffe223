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
