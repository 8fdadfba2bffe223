"""The live topology graph: ``LiveGraph`` follows TopologyChanged events (caught up on read and
followed on a loop), stays equal to a fresh view after changes, ``impact``, and the agent tools
and facade that read it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from remora_core.agents.context import LocalAgentContext
from remora_core.agents.core_tools import CoreTools
from remora_core.agents.node import hydrate_agent
from remora_core.agents.proposals import ProposalStore
from remora_core.agents.service import AgentService
from remora_core.config import IndexConfig
from remora_core.errors import NodeNotFoundError
from remora_core.graph import LiveGraph, TopologyGraph
from remora_core.graph.impact import impact_data
from remora_core.hub.indexing import HubIndexer
from remora_core.store.store import Store
from tests.conftest import ids_by_qualname, index_project
from tests.test_graph import FILES


@pytest.fixture
def indexed(project: Callable[[dict[str, str | bytes]], Path]) -> Path:
    root = project(FILES)
    index_project(root)
    return root


@pytest.fixture
def live(indexed: Path) -> Iterator[LiveGraph]:
    graph = LiveGraph(indexed)
    yield graph
    graph.close()


def _ids(root: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in ("pkg/util.py", "pkg/core.py", "app.py"):
        found.update({f"{path}:{name}": node_id for name, node_id in ids_by_qualname(root, path).items()})
    return found


def _hub_pass(root: Path, paths: list[str] | None = None) -> int:
    """One hub index pass (the path that emits TopologyChanged); returns the events written."""
    store = Store.open(root)
    try:
        return len(HubIndexer(root, store, IndexConfig()).run(paths).events)
    finally:
        store.close()


def _edit(root: Path, path: str, old: str, new: str) -> None:
    file = root / path
    file.write_text(file.read_text().replace(old, new))


def _answers(graph: TopologyGraph | LiveGraph, ids: list[str]) -> dict[str, tuple[object, ...]]:
    return {
        node_id: (graph.parent(node_id), graph.callers(node_id), graph.callees(node_id), graph.children(node_id))
        for node_id in ids
    }


def _active(root: Path) -> list[str]:
    store = Store.open(root)
    try:
        return [row[0] for row in store.connection.execute("SELECT id FROM nodes WHERE status = 'active'")]
    finally:
        store.close()


def test_events_are_applied_when_read(indexed: Path, live: LiveGraph) -> None:
    ids = _ids(indexed)
    helper = ids["pkg/util.py:helper"]
    assert live.callers(helper) == [ids["pkg/core.py:Engine.step"]]
    assert live.graph.loaded_nodes > 0
    _edit(indexed, "app.py", "from pkg.core import run", "from pkg.core import run\nfrom pkg.util import helper")
    _edit(indexed, "app.py", "    run()", "    run()\n    helper()")
    assert _hub_pass(indexed, ["app.py"]) == 1
    assert live.callers(helper) == [ids["app.py:main"], ids["pkg/core.py:Engine.step"]]
    assert live.applied == 1
    assert live.catch_up() == 0


def test_lazy_hydration_stays_equal_to_a_fresh_view(indexed: Path, live: LiveGraph) -> None:
    """Warm every node, change the code several ways, and compare with a graph read from scratch."""
    _answers(live, _active(indexed))
    edits = [
        ("app.py", "    run()", "    run()\n    helper()\n\ndef extra():\n    return main()"),
        ("app.py", "from pkg.core import run", "from pkg.core import run\nfrom pkg.util import helper"),
        ("pkg/util.py", "def helper():", "def helper2():"),  # a rename: helper is orphaned
        ("pkg/core.py", "return helper()", "return Engine().start()"),
    ]
    for path, old, new in edits:
        _edit(indexed, path, old, new)
        _hub_pass(indexed, [path])
        ids = _active(indexed)
        store = Store.open(indexed)
        try:
            assert _answers(live, ids) == _answers(TopologyGraph(store.connection), ids), (path, old)
        finally:
            store.close()
    (indexed / "pkg/util.py").unlink()
    _hub_pass(indexed, ["pkg/util.py"])
    ids = _active(indexed)
    store = Store.open(indexed)
    try:
        assert _answers(live, ids) == _answers(TopologyGraph(store.connection), ids)
    finally:
        store.close()
    assert live.applied >= 5


async def test_a_started_graph_follows_another_process(indexed: Path) -> None:
    """On a loop, the graph applies a hub pass run by another process without being queried."""
    ids = _ids(indexed)
    helper = ids["pkg/util.py:helper"]

    async def scenario() -> None:
        live = LiveGraph(indexed)
        live.start()
        try:
            assert live.graph.callers(helper) == [ids["pkg/core.py:Engine.step"]]
            _edit(indexed, "pkg/core.py", "return helper()", "return 2")
            command = [sys.executable, "-m", "remora_core.cli.hub", "--once", str(indexed)]
            done = await asyncio.to_thread(subprocess.run, command, capture_output=True, timeout=120)
            assert done.returncode == 0, done.stderr
            deadline = time.monotonic() + 10
            while live.applied == 0 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)  # waiting on the condition, not for a fixed time
            assert live.applied == 1
            assert live.graph.callers(helper) == []  # read without catching up: applied already
        finally:
            await live.stop()

    await scenario()


def test_a_big_batch_resets_instead_of_invalidating(indexed: Path, live: LiveGraph) -> None:
    from remora_core.events.models import TopologyChangedEvent
    from remora_core.graph import live as live_module

    ids = _ids(indexed)
    live.callers(ids["pkg/util.py:helper"])
    assert live.graph.loaded_nodes > 0
    live.apply([TopologyChangedEvent(file_path=f"f{n}.py") for n in range(live_module.RESET_BATCH)])
    assert live.graph.loaded_nodes == 0
    assert live.callers(ids["pkg/util.py:helper"]) == [ids["pkg/core.py:Engine.step"]]


def test_impact_is_transitive_callers_with_files(indexed: Path, live: LiveGraph) -> None:
    ids = _ids(indexed)
    helper = ids["pkg/util.py:helper"]
    impact = live.impact(helper, 2)
    assert [node.id for node in impact.callers] == [ids["pkg/core.py:Engine.step"], ids["pkg/core.py:Engine.start"]]
    assert impact.distance == {ids["pkg/core.py:Engine.step"]: 1, ids["pkg/core.py:Engine.start"]: 2}
    assert [node.id for node in live.impact(helper, 6).callers] == [node.id for node in impact.callers]
    engine = ids["pkg/core.py:Engine"]  # run() calls Engine(): main -> run -> Engine
    full = live.impact(engine, 6)
    assert set(full.files()) == {"pkg/core.py", "app.py"}
    assert full.distance == {ids["pkg/core.py:run"]: 1, ids["app.py:main"]: 2}
    assert live.impact(ids["pkg/util.py:unused"]).callers == []
    data = impact_data(live, engine, 6)
    assert data["node"]["qualname"] == "Engine"
    assert [item["distance"] for item in data["callers"]] == [1, 2]
    assert data["files"] == [
        {"path": "app.py", "callers": [ids["app.py:main"]]},
        {"path": "pkg/core.py", "callers": [ids["pkg/core.py:run"]]},
    ]
    with pytest.raises(ValueError, match="0"):
        live.impact(helper, 0)
    with pytest.raises(NodeNotFoundError, match="'rm_zzzzzzzz'"):
        impact_data(live, "rm_zzzzzzzz")


def test_tools_and_prompt_read_the_live_graph(indexed: Path, live: LiveGraph) -> None:
    ids = _ids(indexed)
    step = ids["pkg/core.py:Engine.step"]
    store = Store.open(indexed)
    try:
        context = LocalAgentContext(step, indexed, store, ProposalStore(store, indexed), live_graph=live)
        tools = CoreTools(context)
        assert ids["pkg/util.py:helper"] in tools.get_my_callees()
        assert ids["pkg/core.py:Engine.start"] in tools.get_my_callers()
        assert tools.get_my_impact(depth=9).splitlines() == [
            "1 caller(s) in 1 file(s) within 6 call(s):",
            "pkg/core.py:",
            f"  {ids['pkg/core.py:Engine.start']} (method Engine.start, pkg/core.py:5-6) [distance 1]",
        ]
        run_tools = CoreTools(LocalAgentContext(ids["pkg/core.py:run"], indexed, store, None, live_graph=live))  # type: ignore[arg-type]
        assert run_tools.get_my_impact() == (
            f"1 caller(s) in 1 file(s) within 3 call(s):\napp.py:\n  {ids['app.py:main']} (function main, app.py:4-5) [distance 1]"
        )
        assert "def step(self):" in tools.read_node(step)
        prompt = hydrate_agent(indexed, store, step, graph=live).node.system_prompt()
        assert "Called by: " + ids["pkg/core.py:Engine.start"] in prompt
        # the code changes: the tools see it through the graph's events
        _edit(indexed, "pkg/core.py", "return helper()", "return 2")
        _hub_pass(indexed, ["pkg/core.py"])
        assert tools.get_my_callees() == "no known callees"
        prompt = hydrate_agent(indexed, store, step, graph=live).node.system_prompt()
        assert "You call: None" in prompt
        with pytest.raises(NodeNotFoundError, match="'rm_zzzzzzzz'"):
            tools.read_node("rm_zzzzzzzz")
    finally:
        store.close()


def test_facade_impact_with_and_without_a_live_graph(indexed: Path, live: LiveGraph) -> None:
    ids = _ids(indexed)
    helper = ids["pkg/util.py:helper"]
    with AgentService(indexed) as service:
        assert [item["id"] for item in service.impact(helper, 1)["callers"]] == [ids["pkg/core.py:Engine.step"]]
    with AgentService(indexed, graph=live) as service:
        assert service.topology() is live
        assert len(service.impact(ids["pkg/core.py:Engine"])["callers"]) == 2


def test_the_editor_panel_reads_the_live_graph(indexed: Path) -> None:
    from remora_core.editor.service import EditorService

    ids = _ids(indexed)
    editor = EditorService()
    try:
        graph = editor.graph(indexed)
        assert graph is not None and editor.graph(indexed) is graph  # one per project
        info = editor.call("node_info", {"root": str(indexed), "id": ids["pkg/core.py:Engine"]})
        assert [ref["id"] for ref in info["callers"]] == [ids["pkg/core.py:run"]]
        assert info["impact"] == {
            "depth": 3,
            "callers": 2,
            "files": [
                {"path": "app.py", "callers": [ids["app.py:main"]]},
                {"path": "pkg/core.py", "callers": [ids["pkg/core.py:run"]]},
            ],
        }
        _edit(indexed, "app.py", "    run()", "    run()\n\ndef other():\n    return run()")
        _hub_pass(indexed, ["app.py"])
        info = editor.call("node_info", {"root": str(indexed), "id": ids["pkg/core.py:run"]})
        assert len(info["callers"]) == 2 and graph.applied == 1
    finally:
        editor.close()


def test_cli_impact(indexed: Path) -> None:
    import json

    from tests.conftest import run_cli

    ids = _ids(indexed)
    done = run_cli("impact", "Engine", "--root", str(indexed), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["node"]["id"] == ids["pkg/core.py:Engine"]
    assert [(item["id"], item["distance"]) for item in data["callers"]] == [
        (ids["pkg/core.py:run"], 1),
        (ids["app.py:main"], 2),
    ]
    text = run_cli("impact", ids["pkg/core.py:Engine"], "--depth", "1", cwd=indexed)
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines() == [
        f"{ids['pkg/core.py:Engine']} Engine: 1 caller(s) in 1 file(s) within 1 call(s)",
        "pkg/core.py",
        f"  {ids['pkg/core.py:run']}  run  line 11  (distance 1)",
    ]
    bad = run_cli("impact", "Engine", "--depth", "0", cwd=indexed)
    assert bad.returncode == 1 and bad.stderr.strip() == "remora: error: --depth must be at least 1, not 0"


async def test_the_hub_keeps_a_live_graph(indexed: Path) -> None:
    """The hub's own graph follows the passes it makes on a save."""
    from remora_core.hub.daemon import HubDaemon

    ids = _ids(indexed)
    helper = ids["pkg/util.py:helper"]

    async def scenario() -> None:
        daemon = HubDaemon(indexed)
        running = asyncio.create_task(daemon.run())
        deadline = time.monotonic() + 60
        while (daemon.graph is None or daemon.lock.info is None or daemon.lock.info.state != "watching") and (
            time.monotonic() < deadline
        ):
            await asyncio.sleep(0.02)
        graph = daemon.graph
        assert graph is not None
        assert graph.graph.callers(helper) == [ids["pkg/core.py:Engine.step"]]
        _edit(indexed, "pkg/core.py", "return helper()", "return 2")
        while graph.applied == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert graph.graph.callers(helper) == []  # applied by the hub's follower, not by a catch-up
        daemon.request_stop("test")
        assert await running == 0

    await scenario()
