"""The lazy rustworkx topology graph over a real index (the activation rule: test_activation.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from remora_core.errors import NodeNotFoundError
from remora_core.graph import TopologyGraph
from remora_core.store.store import Store
from tests.conftest import ids_by_qualname, index_project

FILES = {
    "pkg/__init__.py": "",
    "pkg/util.py": """
        def helper():
            return 1

        def unused():
            return 2
        """,
    "pkg/core.py": """
        from pkg.util import helper

        class Engine:
            def start(self):
                return self.step()

            def step(self):
                return helper()

        def run():
            return Engine().start()
        """,
    "app.py": """
        from pkg.core import run

        def main():
            run()
        """,
}


@pytest.fixture
def indexed(project: Callable[[dict[str, str | bytes]], Path]) -> Path:
    root = project(FILES)
    index_project(root)
    return root


def _ids(root: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in ("pkg/util.py", "pkg/core.py", "app.py"):
        found.update(
            {
                f"{path}:{name}" if name != path else path: node_id
                for name, node_id in ids_by_qualname(root, path).items()
            }
        )
    return found


def test_containment_queries(indexed: Path) -> None:
    ids = _ids(indexed)
    store = Store.open(indexed)
    graph = TopologyGraph(store.connection)
    start = ids["pkg/core.py:Engine.start"]
    assert graph.parent(start) == ids["pkg/core.py:Engine"]
    assert graph.ancestors(start) == [ids["pkg/core.py:Engine"], ids["pkg/core.py"]]
    assert graph.parent(ids["pkg/core.py"]) is None
    assert graph.children(ids["pkg/core.py:Engine"]) == [start, ids["pkg/core.py:Engine.step"]]
    assert graph.descendants(ids["pkg/core.py"]) == [
        ids["pkg/core.py:Engine"],
        start,
        ids["pkg/core.py:Engine.step"],
        ids["pkg/core.py:run"],
    ]
    assert graph.node(start).name == "start"
    with pytest.raises(NodeNotFoundError, match="'rm_zzzzzzzz'"):
        graph.callers("rm_zzzzzzzz")
    store.close()


def test_call_queries_and_paths(indexed: Path) -> None:
    ids = _ids(indexed)
    store = Store.open(indexed)
    graph = TopologyGraph(store.connection)
    helper = ids["pkg/util.py:helper"]
    step = ids["pkg/core.py:Engine.step"]
    assert graph.callers(helper) == [step]
    assert graph.callees(step) == [helper]
    assert graph.callers(ids["pkg/util.py:unused"]) == []
    start = ids["pkg/core.py:Engine.start"]
    assert graph.shortest_call_path(start, helper) == [start, step, helper]
    assert graph.shortest_call_path(ids["app.py:main"], ids["pkg/core.py:Engine"]) == [
        ids["app.py:main"],
        ids["pkg/core.py:run"],
        ids["pkg/core.py:Engine"],
    ]
    assert graph.shortest_call_path(helper, start) is None
    assert graph.shortest_call_path(start, helper, max_depth=1) is None
    assert graph.imports_of_file("app.py") == ["pkg/core.py"]
    assert graph.imports_of_file("pkg/core.py") == ["pkg/util.py"]
    assert graph.importers_of_file("pkg/util.py") == ["pkg/core.py"]
    with pytest.raises(NodeNotFoundError, match="'nope.py'"):
        graph.imports_of_file("nope.py")
    hood = graph.neighbourhood(step, 2, edge_types=("calls",))
    assert hood.distance == {step: 0, helper: 1, ids["pkg/core.py:Engine.start"]: 1}
    assert (ids["pkg/core.py:Engine.start"], step, "calls") in hood.edges
    out_only = graph.neighbourhood(step, 3, edge_types=("calls",), direction="out")
    assert set(out_only.distance) == {step, helper}
    full = graph.neighbourhood(step, 1)
    assert ids["pkg/core.py:Engine"] in full.nodes
    store.close()


def test_lazy_hydration_loads_only_the_neighbourhood(indexed: Path) -> None:
    ids = _ids(indexed)
    store = Store.open(indexed)
    graph = TopologyGraph(store.connection)
    assert graph.loaded_nodes == 0
    graph.callers(ids["pkg/util.py:unused"])
    assert graph.loaded_nodes == 1  # only the calls edges were read: there are none
    graph.parent(ids["pkg/util.py:unused"])
    assert graph.loaded_nodes == 2  # now its file too (parent_of edge)
    store.close()


def test_invalidate_file_picks_up_changes(indexed: Path) -> None:
    ids = _ids(indexed)
    store = Store.open(indexed)
    graph = TopologyGraph(store.connection)
    helper = ids["pkg/util.py:helper"]
    assert graph.callers(helper) == [ids["pkg/core.py:Engine.step"]]
    assert graph.callees(ids["app.py:main"]) == [ids["pkg/core.py:run"]]
    # app.py now also calls helper directly
    text = (indexed / "app.py").read_text()
    text = text.replace("from pkg.core import run", "from pkg.core import run\nfrom pkg.util import helper")
    text = text.replace("    run()", "    run()\n    helper()")
    (indexed / "app.py").write_text(text)
    index_project(indexed)
    assert graph.callers(helper) == [ids["pkg/core.py:Engine.step"]]  # stale until told
    graph.invalidate_file("app.py")
    assert graph.callers(helper) == [ids["app.py:main"], ids["pkg/core.py:Engine.step"]]
    assert graph.imports_of_file("app.py") == ["pkg/core.py", "pkg/util.py"]
    # helper renamed in util.py: the importer's call edge goes away with it
    (indexed / "pkg/util.py").write_text(
        (indexed / "pkg/util.py").read_text().replace("def helper", "def helper2")
    )
    index_project(indexed)
    from remora_core.events import TopologyChangedEvent

    graph.invalidate_change(TopologyChangedEvent(file_path="pkg/util.py", orphaned_nodes=[helper]))
    assert graph.callees(ids["app.py:main"]) == [ids["pkg/core.py:run"]]
    assert graph.node(helper).status == "orphaned"
    graph.clear()
    assert graph.loaded_nodes == 0
    store.close()


def _synthetic(root: Path, files: int, per_file: int) -> list[str]:
    """A project database of files * (per_file + 1) nodes, each function calling the next two."""
    store = Store.open(root)
    ids: list[str] = []
    now = time.time()
    nodes: list[tuple] = []
    edges: list[tuple[str, str, str, str]] = []
    for f in range(files):
        path = f"m{f}.py"
        file_id = f"rm_f{f:07d}"
        nodes.append(
            (file_id, "file", path, path, path, 1, 1, per_file * 2, None, "h", "active", None, now, now)
        )
        for n in range(per_file):
            node_id = f"rm_n{f:03d}{n:04d}"
            ids.append(node_id)
            nodes.append(
                (
                    node_id,
                    "function",
                    f"fn{n}",
                    f"fn{n}",
                    path,
                    n * 2 + 1,
                    n * 2 + 1,
                    n * 2 + 2,
                    file_id,
                    "h",
                    "active",
                    None,
                    now,
                    now,
                )
            )
            edges.append((file_id, node_id, "parent_of", path))
    for position, node_id in enumerate(ids):
        for step in (1, 2):
            target = ids[(position * 7 + step * 13) % len(ids)]
            if target != node_id:
                edges.append((node_id, target, "calls", "m0.py"))
    with store.transaction(check_foreign_keys=False):
        store.connection.executemany(f"INSERT INTO nodes VALUES ({', '.join('?' * 14)})", nodes)
        store.connection.executemany("INSERT OR IGNORE INTO edges VALUES (?, ?, ?, ?)", edges)
    store.close()
    return ids


def test_large_project_is_not_loaded_whole(tmp_path: Path) -> None:
    ids = _synthetic(tmp_path, 100, 1000)  # 100,100 nodes
    store = Store.open(tmp_path)
    graph = TopologyGraph(store.connection)
    started = time.perf_counter()
    hood = graph.neighbourhood(ids[50_000], 2, edge_types=("calls",))
    graph.parent(ids[50_000])
    elapsed = time.perf_counter() - started
    assert 5 <= len(hood.nodes) <= 20
    assert graph.loaded_nodes < 100
    assert elapsed < 0.5
    store.close()
