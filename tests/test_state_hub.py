"""The node-state worker of the hub: coalescing, hints, triage through the scripted model server,
and the real ``remora-hub --watch`` process keeping node state and markdown fresh."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from remora_core.config import HubConfig, IndexConfig, TriageConfig
from remora_core.events.store import EventLog
from remora_core.hub.indexing import HubIndexer
from remora_core.hub.state.context import emit_hub_hint
from remora_core.hub.state.service import StateHub
from remora_core.hub.state.triage import FUNCTION
from remora_core.store.store import Store
from tests.fake_llm import FakeLLM, fake_llm_fixture  # noqa: F401 - the fixture
from tests.state_helpers import FAST, by_name, edit, make_project, node_id, state_of, update
from tests.test_hub import kill, start_hub

WAIT = 60.0


def wait_for(check: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "proj")
    update(root)
    return root


def test_ten_saves_of_one_file_run_its_updates_once(root: Path) -> None:
    """With the default settle_ms: the hub pauses the updates while each save's index pass runs
    (as ``remora-hub`` does through its child's pipe), so back-to-back saves coalesce."""
    assert FAST.settle_ms == HubConfig().settle_ms
    hub = StateHub(root, FAST, build=False).start()
    store = Store.open(root)
    try:
        indexer = HubIndexer(root, store, IndexConfig())
        for number in range(10):
            hub.pause()
            edit(root, "shop/pricing.py", f"amount * (1 - rate){' + 0' * number}", f"amount * (1 - rate){' + 0' * (number + 1)}")
            assert indexer.run(["shop/pricing.py"]).events
            hub.wake()
        assert hub.wait_idle(WAIT)
    finally:
        store.close()
        hub.stop()
    assert hub.stats.events == 10
    assert hub.stats.batches == 1
    assert hub.updater.runs == 2  # discount and its file, once each
    assert state_of(root, "discount").changes[-1].summary.startswith("+1 -1 lines")


def test_a_hint_event_is_picked_up_by_the_hub(root: Path) -> None:
    hub = StateHub(root, FAST, build=False, poll_s=0.05).start()
    store = Store.open(root)
    try:
        target = node_id(root, "summary")
        emit_hub_hint(store, "rm_agent000", target, "found a new caller")
        wait_for(lambda: hub.stats.node_updates == 1, "the hinted update")
        assert state_of(root, "summary").changes[-1].summary == "hint: found a new caller"
    finally:
        store.close()
        hub.stop()


# -- triage ---------------------------------------------------------------------------------
def _triage(fake: FakeLLM | None, base_url: str | None = None) -> HubConfig:
    url = base_url or (fake.base_url if fake else "")
    return FAST.model_copy(update={"triage": TriageConfig(enabled=True, base_url=url, model="fake-model", timeout=5.0)})


def _change_signature(root: Path) -> None:
    edit(root, "shop/pricing.py", "def total(items, rate=0.0):", "def total(items, rate=0.0, tax=0.0):")


def _decision(root: Path) -> dict[str, object]:
    store = Store.open(root)
    try:
        return EventLog(store.connection).by_type("TriageDecision")[-1].model_dump()
    finally:
        store.close()


def test_triage_good_answer_runs_only_the_approved_updates(root: Path, fake_llm: FakeLLM) -> None:
    fake_llm.add_tool_calls((FUNCTION, {"updates": [{"name": "find_callers", "reason": "public signature changed"}]}))
    fake_llm.default_text = "no tool call"  # later nodes of the pass: an empty answer (fallback)
    _change_signature(root)
    item = by_name(update(root, _triage(fake_llm)), "total")
    assert "find_callers" in item.ran and "search_similar" not in item.ran and "list_exports" not in item.ran
    assert item.triage_fallback is None
    request = fake_llm.chat_requests()[0]
    assert request["tool_choice"] == {"type": "function", "function": {"name": FUNCTION}}
    schema = request["tools"][0]["function"]["parameters"]["properties"]["updates"]["items"]["properties"]["name"]
    assert "find_callers" in schema["enum"] and "search_similar" in schema["enum"]
    store = Store.open(root)
    try:
        decisions = [e.model_dump() for e in EventLog(store.connection).by_type("TriageDecision")]
    finally:
        store.close()
    good = [d for d in decisions if d["agent_id"] == item.node_id][-1]
    assert good["approved"] == ["find_callers"] and good["reasons"] == {"find_callers": "public signature changed"}


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        (lambda fake: fake.add_malformed_tool_call(FUNCTION, '{"updates": [{'), "not valid JSON"),
        (lambda fake: fake.add_tool_calls((FUNCTION, {"updates": [{"name": "rm_rf", "reason": "x"}]})), "unknown update 'rm_rf'"),
        (lambda fake: fake.add_tool_calls((FUNCTION, {"updates": []})), "approved nothing"),
        (lambda fake: fake.add_text("I would run them all"), "no 'approve_updates' call"),
    ],
    ids=["invalid-json", "unknown-update", "empty", "no-call"],
)
def test_triage_bad_answers_fall_back_to_every_candidate(
    root: Path, fake_llm: FakeLLM, script: Callable[[FakeLLM], None], reason: str
) -> None:
    script(fake_llm)
    fake_llm.default_text = "no tool call"
    _change_signature(root)
    item = by_name(update(root, _triage(fake_llm)), "total")
    assert item.triage_fallback is not None and reason in item.triage_fallback
    assert {"find_callers", "find_tests", "list_exports", "search_similar"} <= set(item.ran)
    decision = _decision(root)
    assert decision["fallback"] is True


def test_triage_server_down_falls_back_and_the_trace_says_so(root: Path) -> None:
    _change_signature(root)
    item = by_name(update(root, _triage(None, "http://127.0.0.1:9/v1")), "total")
    assert item.triage_fallback is not None and "unreachable" in item.triage_fallback
    assert {"find_callers", "search_similar"} <= set(item.ran)


# -- the real hub process -----------------------------------------------------------------
def test_remora_hub_builds_state_then_follows_a_save(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", {".remora/config.toml": "[hub]\nstate = true\n"})
    proc = start_hub(root)
    try:
        markdown = root / ".agentfs/nodes/shop/pricing.py/total.md"
        wait_for(markdown.exists, "the first full state build")
        _change_signature(root)
        wait_for(lambda: "## API change impact" in markdown.read_text(), "the state update after a save")
        assert "tax=0.0" in markdown.read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        kill(proc)
    log = (root.parent / "hub-test.log").read_text()
    assert "node state:" in log and "built in" in log


def test_remora_hub_state_can_be_switched_off(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", {".remora/config.toml": "[hub]\nstate = false\n"})
    proc = start_hub(root)
    try:
        _change_signature(root)
        time.sleep(1.0)
        assert not (root / ".agentfs").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            kill(proc)
