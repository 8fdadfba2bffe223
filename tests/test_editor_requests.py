"""The editor's agent requests (what Lua sends through the host) only turn parameters into
engine calls: per-hunk accept into buffer lines, stop by node, ghost by file and line. Run on
this test's event loop with the real EditorService, a real database and the fake model server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from remora_core.agents.drafts import draft_rewrite
from remora_core.agents.hunks import diff_hunks
from remora_core.agents.proposals import ProposalStore
from remora_core.editor.service import EditorService
from remora_core.store.store import Store
from tests.fake_llm import FakeLLM, fake_llm_fixture, indexed_project, node_id_of  # noqa: F401 - fixture

FILES = {
    "mod.py": """
        def total(values):
            result = 0
            for value in values:
                result += value
            # one
            # two
            # three
            # four
            # five
            # six
            # seven
            return result


        class Shape:
            def area(self):
                return 0

            def name(self):
                return "shape"
        """,
}


@pytest.fixture
async def editor(tmp_path: Path, fake_llm: FakeLLM) -> AsyncIterator[tuple[Path, EditorService, list[Any]]]:
    root = tmp_path / "proj"
    indexed_project(root, FILES).close()
    (root / ".remora" / "config.toml").write_text(
        f'[llm]\nbase_url = "{fake_llm.base_url}"\nmodel = "fake-model"\nmax_retries = 0\ntimeout = 5.0\n'
    )
    service = EditorService()
    pushed: list[Any] = []
    service.start_agents(lambda kind, payload: pushed.append((kind, payload)))
    yield root, service, pushed
    if service.agents is not None:
        await service.agents.aclose()
    service.close()


async def _call(service: EditorService, method: str, **params: Any) -> Any:
    return await service.call(method, params)


async def test_accept_some_hunks_into_buffer_lines(editor: tuple[Path, EditorService, list[Any]]) -> None:
    root, service, _ = editor
    text = (root / "mod.py").read_text()
    store = Store.open(root)
    try:
        node_id = node_id_of(store, "total")
        old = text[text.index("def total") : text.index("class Shape")].rstrip("\n") + "\n"
        new = old.replace("result = 0\n", "result: int = 0\n").replace("return result", "return int(result)")
        proposal = draft_rewrite(text, node_id, "mod.py", new)
        assert len(diff_hunks(proposal.old_source, proposal.new_source)) == 2
        ProposalStore(store, root).submit(proposal)
    finally:
        store.close()
    lines = text.split("\n")[:-1]
    result = await _call(
        service, "agent_accept", root=str(root), proposal=proposal.id, lines=lines, hunks=[1]
    )
    assert result["applied"] and "(hunks 2 of 2)" in result["message"]
    buffer = lines[: result["start"]] + result["replacement"] + lines[result["old_end"] :]
    assert "    return int(result)" in buffer and "    result = 0" in buffer
    assert (root / "mod.py").read_text() == text  # the editor writes the buffer, not the engine


async def test_stop_by_node_and_ghost_by_file_and_line(
    editor: tuple[Path, EditorService, list[Any]], fake_llm: FakeLLM
) -> None:
    root, service, _ = editor
    fake_llm.add_text("thinking", delay=5.0)  # the ghost's turn stays in flight
    lines = (root / "mod.py").read_text().split("\n")
    empty = lines.index("        return 0") + 2
    plan = await _call(service, "agent_ghost_plan", root=str(root), file=str(root / "mod.py"), line=empty)
    store = Store.open(root)
    try:
        area, shape = node_id_of(store, "Shape.area"), node_id_of(store, "Shape")
    finally:
        store.close()
    assert (plan["target"], plan["container"], plan["insert_after"], plan["indent"]) == (
        area,
        shape,
        area,
        "    ",
    )
    ghost = await _call(
        service,
        "agent_ghost",
        root=str(root),
        file="mod.py",
        line=empty,
        instruction="a perimeter",
        ghost="ghost_abcd1234",
    )
    assert ghost["target"] == area and ghost["ghost"] == "ghost_abcd1234" and ghost["correlation_id"]
    stopped = await _call(service, "agent_stop", root=str(root), id=area)
    assert stopped == {"cancelled": [ghost["correlation_id"]]}
    status = await _call(service, "agent_panel", root=str(root), id=area)
    assert status["state"]["status"] == "idle"
