"""Call resolution corner cases found while testing the graph fixture."""

from __future__ import annotations

import ast
import os
import random
import re
import shutil
from pathlib import Path

import pytest

from remora_core.store.store import Store
from tests.conftest import index_project, write_files


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
            "early.py": "import lib\n\ndef early():\n    return lib.g()\n",  # g does not exist yet
            "base.py": "from lib import *\n\nclass Sub(Base):\n    def run(self):\n        return self.h()\n",
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
    # A new definition: the importers that spell its name re-resolve, the others do not.
    assert sorted(resolved) == ["early.py", "lib.py"]
    assert call_edges(root) == {("user.py:user", "lib.py:f"), ("lib.py:g", "lib.py:f"), ("early.py:early", "lib.py:g")}
    lib.write_text(lib.read_text() + "\n\nclass Base:\n    def h(self):\n        return 1\n")
    resolved.clear()
    indexer.index(paths=["lib.py"], totals=False)
    assert sorted(resolved) == ["base.py", "lib.py"]  # through a star import and a base class
    assert ("base.py:Sub.run", "lib.py:Base.h") in call_edges(root)
    lib.write_text(lib.read_text().replace("def g():", "def renamed():"))
    resolved.clear()
    indexer.index(paths=["lib.py"], totals=False)
    assert sorted(resolved) == ["early.py", "lib.py"]  # its callers lose the edge
    assert ("early.py:early", "lib.py:g") not in call_edges(root)
    store.close()


GRAPH_FIXTURE = Path(__file__).parent / "fixtures" / "graph_project"


def _edge_state(root: Path) -> set[tuple[str, str, str]]:
    store = Store.open(root)
    try:
        rows = store.connection.execute(
            "SELECT a.file_path || ':' || a.qualname, b.file_path || ':' || b.qualname, e.edge_type "
            "FROM edges e JOIN nodes a ON a.id = e.from_id JOIN nodes b ON b.id = e.to_id"
        ).fetchall()
    finally:
        store.close()
    return {tuple(row) for row in rows}  # type: ignore[misc]


def _fresh_edge_state(live: Path, fresh: Path) -> set[tuple[str, str, str]]:
    """The edges of indexing a copy of ``live``'s files from scratch."""
    from remora_core.config import IndexConfig
    from remora_core.index.indexer import Indexer

    shutil.copytree(live, fresh, ignore=shutil.ignore_patterns(".remora"))
    fresh_store = Store.open(fresh)
    Indexer(fresh, fresh_store, IndexConfig(inject=False)).index()
    fresh_store.close()
    return _edge_state(fresh)


def _random_interface_edit(root: Path, rng: random.Random, names: list[str]) -> str:
    """One edit that changes a module's interface: a definition added, removed or renamed,
    a class's bases changed, an import added, a class with a base added. Returns the edited file."""
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*.py"))
    path = rng.choice(files)
    target = root / path
    lines = target.read_text().split("\n")
    tops = [i for i, line in enumerate(lines) if re.match(r"(def|class) \w+", line)]
    roll = rng.random()
    name, other = rng.choice(names), rng.choice(names)
    if roll < 0.3 or not tops:
        lines += ["", "", f"def {name}():", f"    return {other}()", ""]
    elif roll < 0.45:
        start = rng.choice(tops)
        end = next((i for i in range(start + 1, len(lines)) if lines[i] and not lines[i][0].isspace()), len(lines))
        del lines[start:end]
    elif roll < 0.65:
        start = rng.choice(tops)
        lines[start] = re.sub(r"^(def|class) \w+", rf"\1 {name}", lines[start])
    elif roll < 0.75:
        classes = [i for i in tops if lines[i].startswith("class ")]
        if classes:
            start = rng.choice(classes)
            lines[start] = re.sub(r"^class (\w+)(\([^)]*\))?:", rf"class \1({other.title()}):", lines[start])
    elif roll < 0.85:
        donor = (root / rng.choice(files)).read_text().split("\n")
        imports = [line for line in donor if line.startswith(("import ", "from "))]
        if imports:
            lines.insert(0, rng.choice(imports))
    else:
        lines += ["", "", f"class {name.title()}({rng.choice(names).title()}):", "    def run(self):",
                  f"        return self.{other}()", ""]
    target.write_text("\n".join(lines))
    return path


@pytest.mark.parametrize("seed", range(3))
def test_incremental_edges_equal_a_fresh_index_after_interface_edits(tmp_path: Path, seed: int) -> None:
    """Only importers that spell a changed name are re-resolved: after every edit the edges
    must be exactly those of indexing the same files from scratch."""
    from remora_core.config import IndexConfig
    from remora_core.index.indexer import Indexer

    rng = random.Random(seed)
    live = tmp_path / "live"
    shutil.copytree(GRAPH_FIXTURE, live)
    names = sorted(
        {
            node.name
            for path in live.rglob("*.py")
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.FunctionDef | ast.ClassDef)
        }
    )
    store = Store.open(live)
    indexer = Indexer(live, store, IndexConfig(inject=False))
    indexer.index()
    for number in range(12):
        path = _random_interface_edit(live, rng, names)
        indexer.index(paths=[path], totals=False)
        assert _edge_state(live) == _fresh_edge_state(live, tmp_path / f"fresh-{number}"), (
            f"edit {number} of {path} (seed {seed})"
        )
    store.close()


def test_a_name_bound_in_a_package_re_resolves_who_imported_its_submodule(project) -> None:  # type: ignore[no-untyped-def]
    """``from pkg import sub`` links to pkg/sub.py, yet it reads pkg's namespace: when
    pkg/__init__.py binds ``sub`` itself, the importer must be resolved again (found by
    the random differential test above)."""
    from remora_core.config import IndexConfig
    from remora_core.index.indexer import Indexer

    root = project(
        {
            "pkg/__init__.py": "",
            "pkg/sub.py": "def f():\n    return 1\n",
            "user.py": "from pkg import sub\n\ndef u():\n    return sub.f()\n",
        }
    )
    store = Store.open(root)
    indexer = Indexer(root, store, IndexConfig(inject=False))
    indexer.index()
    assert ("user.py:u", "pkg/sub.py:f") in call_edges(root)
    (root / "pkg/__init__.py").write_text("from .elsewhere import sub\n")
    indexer.index(paths=["pkg/__init__.py"], totals=False)
    store.close()
    assert ("user.py:u", "pkg/sub.py:f") not in call_edges(root)


def _random_structure_edit(root: Path, rng: random.Random) -> list[str]:
    """One edit of the package structure: an ``__init__.py`` added or removed (a package
    becomes a namespace package or back), a module moved to another directory, a nested
    package of the same name (``x/x/__init__.py``) with relative imports, or a module with a
    relative import added. Returns the paths it touched (what the hub would be told)."""
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py") if ".remora" not in p.parts)
    directories = sorted({path.rsplit("/", 1)[0] for path in files if "/" in path})
    roll = rng.random()
    if roll < 0.25 and directories:
        init = f"{rng.choice(directories)}/__init__.py"
        if (root / init).exists():
            (root / init).unlink()
        else:
            (root / init).write_text("from . import *\n" if rng.random() < 0.3 else "")
        return [init]
    if roll < 0.5:
        source = rng.choice([path for path in files if not path.endswith("__init__.py")] or files)
        target_dir = rng.choice(["", *directories])
        target = f"{target_dir}/{source.rsplit('/', 1)[-1]}" if target_dir else source.rsplit("/", 1)[-1]
        if target == source or (root / target).exists():
            return []
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        os.replace(root / source, root / target)
        return [source, target]
    if roll < 0.75:
        base = rng.choice(directories) if directories else "x"
        name = base.rsplit("/", 1)[-1]
        made = [f"{base}/{name}/__init__.py", f"{base}/{name}/core.py", f"{base}/core.py"]
        write_files(
            root,
            {
                made[0]: "from .core import run\n\ndef nested():\n    return run()\n",
                made[1]: "def run():\n    return 1\n",
                made[2]: "def run():\n    return 2\n",
            },
        )
        return made
    directory = rng.choice(directories) if directories else ""
    sibling = rng.choice([p for p in files if p.startswith(directory)] or files)
    module = sibling.rsplit("/", 1)[-1][:-3]
    path = f"{directory}/rel_{rng.randrange(1000)}.py" if directory else f"rel_{rng.randrange(1000)}.py"
    write_files(root, {path: f"from . import {module}\nfrom .{module} import *\n\ndef user():\n    return {module}.main()\n"})
    return [path]


@pytest.mark.parametrize("seed", range(3))
def test_incremental_edges_equal_a_fresh_index_after_package_structure_edits(tmp_path: Path, seed: int) -> None:
    """Adding or removing ``__init__.py``, moving modules between packages, namespace packages
    and ``x/x/__init__.py`` relative imports: the hub's incremental passes and a fresh index
    must give the same edges after every edit."""
    from remora_core.config import IndexConfig
    from remora_core.index.indexer import Indexer

    rng = random.Random(seed)
    live = tmp_path / "live"
    shutil.copytree(GRAPH_FIXTURE, live)
    store = Store.open(live)
    indexer = Indexer(live, store, IndexConfig(inject=False))
    indexer.index()
    for number in range(12):
        paths = _random_structure_edit(live, rng)
        if not paths:
            continue
        indexer.index(paths=paths, totals=False)
        assert _edge_state(live) == _fresh_edge_state(live, tmp_path / f"fresh-{number}"), (
            f"edit {number}: {paths} (seed {seed})"
        )
    store.close()


def test_relative_import_in_a_nested_package_of_the_same_name_is_its_sibling(project) -> None:  # type: ignore[no-untyped-def]
    """``from .core import run`` in x/x/__init__.py is x/x/core.py, also when x/ (no
    ``__init__.py``) holds a core.py of its own: relative imports follow the directories."""
    root = project(
        {
            "x/core.py": "def run():\n    return 2\n",
            "x/x/__init__.py": "from .core import run\n\ndef nested():\n    return run()\n",
            "x/x/core.py": "def run():\n    return 1\n",
        }
    )
    index_project(root, inject=False)
    edges = _edge_state(root)
    assert ("x/x/__init__.py:nested", "x/x/core.py:run", "calls") in edges
    assert ("x/x/__init__.py:nested", "x/core.py:run", "calls") not in edges
