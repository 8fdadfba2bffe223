"""Node-state updates end to end on a fixture project: versioned store, last source across a
restart, markdown regeneration and orphan moves, failing tools, freshness, the hub context."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from remora_core.agents.node import hydrate_agent
from remora_core.config import HubConfig
from remora_core.events.store import EventLog
from remora_core.hub.state.context import HubContextProvider, emit_hub_hint, hub_context
from remora_core.hub.state.freshness import freshness
from remora_core.hub.state.model import NodeState, state_key
from remora_core.hub.state.store import NodeStateStore
from remora_core.hub.state.updater import StateUpdater
from remora_core.index.discovery import discover
from remora_core.store.store import Store
from tests.state_helpers import FAST, by_name, edit, make_project, node_id, state_of, update


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "proj")
    first = update(root)
    assert first.built > 0 and not first.updates
    return root


def test_store_get_set_partial_update_keyed_and_versioned(root: Path) -> None:
    store = Store.open(root)
    try:
        states = NodeStateStore(store.connection)
        target = node_id(root, "discount")
        state = states.get(target)
        assert state is not None and state.key == f"node:{target}:state"
        row = store.connection.execute("SELECT key, source_version FROM node_state WHERE node_id = ?", (target,)).fetchone()
        assert row == (state_key(target), state.source_version)
        merged = states.update(target, {"summary": "hand-written"})
        assert merged.summary == "hand-written" and states.get(target) == merged
        assert merged.signature == state.signature  # the rest is kept
    finally:
        store.close()


def test_build_makes_markdown_mirroring_the_repo(root: Path) -> None:
    nodes = root / ".agentfs" / "nodes"
    assert (nodes / "shop/pricing.py/Cart.checkout.md").exists()
    assert (nodes / "shop/pricing.py/__file__.md").exists()
    text = (nodes / "shop/pricing.py/total.md").read_text()
    assert "def total(items, rate=0.0)" in text
    assert "[`Cart.checkout`](../../../../shop/pricing.py#L22) (shop/pricing.py:22)" in text
    assert "`tests/test_pricing.py::test_total_sums` (name): not run" in text
    assert "cyclomatic: 2" in text


def test_agentfs_is_never_indexed(root: Path) -> None:
    assert (root / ".agentfs").is_dir()
    (root / ".agentfs" / "tests" / "x.py").parent.mkdir(parents=True, exist_ok=True)
    (root / ".agentfs" / "tests" / "x.py").write_text("def hidden():\n    pass\n")
    assert not [item for item in discover(root, ()) if item.path.startswith(".agentfs")]
    update(root)
    store = Store.open(root)
    try:
        assert store.find_nodes("hidden") == []
    finally:
        store.close()


def test_signature_change_diffs_against_the_last_stored_source_even_after_a_restart(root: Path) -> None:
    # a "restart": a fresh updater and connection; the last source comes from the database
    edit(root, "shop/pricing.py", "def total(items, rate=0.0):", "def total(items, rate=0.0, tax=0.0):")
    result = update(root)
    item = by_name(result, "total")
    assert item.bundle is not None and item.bundle.kind == "changed"
    assert "parameter 'tax' added" in item.bundle.structural.changes
    assert {"signature_changed", "public_api_changed"} <= set(item.signals)
    assert "find_callers" in item.ran and "list_exports" in item.ran and "search_similar" in item.ran
    state = state_of(root, "total")
    assert state.impact is not None and len(state.impact.call_sites) == 3
    assert [change.kind for change in state.changes] == ["build", "changed"]
    markdown = (root / ".agentfs/nodes/shop/pricing.py/total.md").read_text()
    assert "## API change impact" in markdown and "shop/report.py:6 in `summary`" in markdown
    store = Store.open(root)
    try:
        impact = EventLog(store.connection).by_type("ApiImpact")
        assert impact and impact[-1].agent_ref() == state.id
    finally:
        store.close()


def test_markdown_is_rewritten_only_when_its_content_changes(root: Path) -> None:
    path = root / ".agentfs/nodes/shop/pricing.py/discount.md"
    before = path.stat().st_mtime_ns
    time.sleep(0.02)
    update(root)  # nothing changed
    assert path.stat().st_mtime_ns == before
    edit(root, "shop/pricing.py", "    return amount * (1 - rate)", "    return round(amount * (1 - rate), 2)")
    update(root)
    assert path.stat().st_mtime_ns != before and "+1 -1 lines" in path.read_text()


def test_removed_and_renamed_nodes_move_their_markdown_to_orphaned(root: Path) -> None:
    edit(root, "shop/report.py", "def summary(items):", "def overview(items):")
    result = update(root)
    nodes = root / ".agentfs" / "nodes"
    assert not (nodes / "shop/report.py/summary.md").exists()
    assert (nodes / "_orphaned/shop/report.py/summary.md").exists()
    assert (nodes / "shop/report.py/overview.md").exists()
    assert ".agentfs/nodes/_orphaned/shop/report.py/summary.md" in result.orphaned
    store = Store.open(root)
    try:
        orphan = [row for row in store.connection.execute("SELECT state FROM node_state")]
        states = [NodeState.model_validate_json(item[0]) for item in orphan]
        assert any(s.qualname == "summary" and s.status == "orphaned" for s in states)
    finally:
        store.close()


def test_new_function_without_a_test_gets_a_skeleton_run_alone_and_logged(root: Path) -> None:
    edit(root, "shop/report.py", "def summary(items):", "def count(items):\n    return len(items)\n\n\ndef summary(items):")
    result = update(root)
    item = by_name(result, "count")
    assert "missing_test" in item.signals
    assert item.ran[-2:] == ["generate_test_skeleton", "run_single_test"]
    assert [run.outcome for run in item.test_runs] == ["passed"]
    state = state_of(root, "count")
    assert state.skeleton_path == ".agentfs/tests/test_shop_report_count.py"
    assert state.tests[0].how == "skeleton" and state.tests[0].last_result == "passed"
    assert "(skeleton): passed" in (root / ".agentfs/nodes/shop/report.py/count.md").read_text()
    assert not (root / "tests" / "test_shop_report_count.py").exists()
    store = Store.open(root)
    try:
        log = EventLog(store.connection)
        runs = log.by_type("TestRun")
        assert runs and runs[-1].agent_ref() == state.id and "passed" in runs[-1].model_dump()["output"]
        assert log.by_type("TestSkeletonOffered")[-1].agent_ref() == state.id
    finally:
        store.close()
    # a second save of the function does not regenerate and re-run it
    edit(root, "shop/report.py", "    return len(items)", "    return len(list(items))")
    again = by_name(update(root), "count")
    assert "missing_test" not in again.signals and not again.test_runs


def test_a_failing_tool_is_recorded_and_the_others_still_run(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from remora_core.hub.state import tools

    def boom(self: object, node_id: str) -> object:
        raise RuntimeError("callers exploded")

    monkeypatch.setattr(tools.UpdateTools, "find_callers", tools.tool(boom, name="find_callers"))
    edit(root, "shop/pricing.py", "def total(items, rate=0.0):", "def total(items, rate=0.5):")
    item = by_name(update(root), "total")
    assert "callers exploded" in item.failed["find_callers"]
    assert {"extract_signature", "compute_complexity", "find_callees", "find_tests"} <= set(item.ran)
    store = Store.open(root)
    try:
        event = [e for e in EventLog(store.connection).by_type("NodeStateUpdated") if e.agent_ref() == item.node_id][-1]
        assert "callers exploded" in event.model_dump()["failed"]["find_callers"]
    finally:
        store.close()


def test_freshness_boundaries() -> None:
    state = NodeState(id="rm_a", type="function", name="f", qualname="f", file_path="a.py", start_line=1, end_line=2,
                      source_version="v1", last_updated=1000.0)
    assert freshness(None, "v1", 60, now=1000.0) == "missing"
    assert freshness(state, "v1", 60, now=1000.0) == "fresh"
    assert freshness(state, "v1", 60, now=1060.0) == "fresh"  # age == max: still fresh
    assert freshness(state, "v1", 60, now=1060.001) == "stale"
    assert freshness(state, "v2", 60, now=1000.0) == "stale"  # source moved on
    assert freshness(state.model_copy(update={"status": "orphaned"}), "v1", 60, now=1000.0) == "stale"


def test_agent_prompt_has_hub_context_only_when_fresh_and_each_use_is_an_event(root: Path) -> None:
    store = Store.open(root)
    try:
        target = node_id(root, "total")
        provider = HubContextProvider(store, FAST)
        fresh = hydrate_agent(root, store, target, providers=[provider]).node.system_prompt()
        assert "# Hub Context (fresh node state)" in fresh and "Signature: `def total(items, rate=0.0)`" in fresh
        edit(root, "shop/pricing.py", "    return discount(subtotal, rate)", "    return discount(subtotal, rate) + 0")
        stale = hydrate_agent(root, store, target, providers=[provider]).node.system_prompt()
        assert "Hub Context (fresh" not in stale and "Hub context is stale for this node (not used)" in stale
        old = hydrate_agent(root, store, target, providers=[HubContextProvider(store, HubConfig(freshness_seconds=1e-9))])
        assert "stale" in old.node.system_prompt()
        used = EventLog(store.connection).by_type("HubContextUsed")
        assert [event.model_dump()["freshness"] for event in used] == ["fresh", "stale", "stale"]
        assert used[0].model_dump()["hub_state_key"] == state_key(target)
        assert used[0].model_dump()["source_version"] is not None
        assert hub_context(store, "rm_zzzzzzzz", "x", FAST).freshness_status == "missing"
    finally:
        store.close()


def test_agents_run_without_any_hub_state(tmp_path: Path) -> None:
    root = make_project(tmp_path / "bare")
    from tests.conftest import index_project

    index_project(root)
    store = Store.open(root)
    try:
        prompt = hydrate_agent(root, store, node_id(root, "total"), providers=[HubContextProvider(store, FAST)]).node.system_prompt()
        assert "No hub context for this node yet" in prompt
    finally:
        store.close()


def test_a_hub_update_hint_refreshes_the_node(root: Path) -> None:
    store = Store.open(root)
    try:
        target = node_id(root, "summary")
        emit_hub_hint(store, "rm_agent000", target, "callers changed")
        updater = StateUpdater(root, store, FAST)
        item = updater.update_node(target, hint="callers changed")
        assert item is not None and "find_callers" in item.ran
        assert NodeStateStore(store.connection).get(target).changes[-1].kind == "hint"  # type: ignore[union-attr]
    finally:
        store.close()


def test_the_node_state_editor_request_gives_the_panel_section(root: Path) -> None:
    from remora_core.editor.service import EditorService

    service = EditorService()
    try:
        payload = service.call("node_state", {"root": str(root), "id": node_id(root, "discount")})
    finally:
        service.close()
    assert payload["freshness"] == "fresh" and payload["signature"] == "def discount(amount, rate)"
    assert payload["complexity"] == 3 and payload["complexity_trend"] == [3]
    assert payload["tests"][0]["test_id"] == "tests/test_pricing.py::test_discount"
    assert payload["tests"][0]["last_result"] == "not run"
    assert payload["markdown"] == str(root / ".agentfs/nodes/shop/pricing.py/discount.md")
    assert payload["hub_state_key"].startswith("node:") and "state" not in payload


def test_update_tools_are_offered_and_run_as_editor_forms(root: Path) -> None:
    from remora_core.editor.service import EditorService

    service = EditorService()
    try:
        schemas = service.call("node_state_tools", {"root": str(root)})
        names = [item["function"]["name"] for item in schemas]
        assert "find_callers" in names and "run_single_test" in names
        target = node_id(root, "total")
        done = service.call("node_state_run", {"root": str(root), "tool": "find_callers", "arguments": {"node_id": target}})
        assert done["ok"] and "Cart.checkout" in done["text"]
        bad = service.call("node_state_run", {"root": str(root), "tool": "find_callers", "arguments": {}})
        assert not bad["ok"] and "node_id" in bad["text"]
        missing = service.call("node_state_run", {"root": str(root), "tool": "find_callers", "arguments": {"node_id": "rm_nope0000"}})
        assert not missing["ok"] and "rm_nope0000" in missing["text"]
    finally:
        service.close()


def test_test_runs_per_changed_file_are_capped_and_the_rest_is_noted(root: Path) -> None:
    edit(root, "shop/report.py", "def summary(items):",
         "def one(items):\n    return 1\n\n\ndef two(items):\n    return 2\n\n\ndef summary(items):")
    result = update(root, FAST.model_copy(update={"max_test_runs": 1}))
    ran, skipped = sorted((by_name(result, "one"), by_name(result, "two")), key=lambda item: not item.test_runs)
    assert [run.outcome for run in ran.test_runs] == ["passed"]
    assert not skipped.test_runs and "max_test_runs = 1" in skipped.skipped["run_single_test"]
    assert skipped.state is not None and skipped.state.skeleton_path is not None  # written, offered, not run


def test_the_hint_tool_appends_one_event_and_returns_at_once(root: Path) -> None:
    from types import SimpleNamespace

    from remora_core.agents.tools import ToolSet, collect_tools
    from remora_core.hub.state.context import HubHintTools

    store = Store.open(root)
    try:
        me = node_id(root, "summary")
        tools = ToolSet(collect_tools(HubHintTools(SimpleNamespace(node_id=me, store=store))))
        assert tools.schemas()[0]["function"]["name"] == "hub_update_hint"
        checked = tools.validate("hub_update_hint", {"note": "total gained a parameter", "node_id": node_id(root, "total")})
        assert not hasattr(checked, "ok")
        text = HubHintTools(SimpleNamespace(node_id=me, store=store)).hub_update_hint("total gained a parameter", node_id(root, "total"))
        assert "hub hint recorded" in text
        [hint] = EventLog(store.connection).by_type("HubUpdateHint")
        assert hint.agent_ref() == me and hint.model_dump()["node_id"] == node_id(root, "total")
    finally:
        store.close()
