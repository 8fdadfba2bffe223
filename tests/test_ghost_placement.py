"""A ghost turn is bound to the engine's placement: the agent's ``propose_new_node`` inserts at
the ghost line (container + insert_after from the plan) whatever ``insert_after`` the model
passes. Real runner, real SQLite, the scripted model server through the real openai client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from remora_core.agents.service import AgentService
from remora_core.engine.ghost import GhostPlacement, ghost_message, ghost_placement
from remora_core.errors import WriteRefusedError
from remora_core.store.store import Store
from tests.fake_llm import FakeLLM, fake_llm_fixture, indexed_project, node_id_of  # noqa: F401 - fixture
from tests.runner_helpers import service

FILES = {
    "shapes.py": """
        class Shape:
            def area(self):
                return 0

            def name(self):
                return "shape"


        def helper():
            return 1
        """,
}


@pytest.fixture
def proj(tmp_path: Path) -> Iterator[tuple[Path, Store]]:
    root = tmp_path / "proj"
    store = indexed_project(root, FILES)
    yield root, store
    store.close()


@pytest.fixture
def svc(proj: tuple[Path, Store], fake_llm: FakeLLM) -> Iterator[AgentService]:
    service_ = service(proj[0], fake_llm.base_url)
    yield service_
    service_.close()


def test_ghost_message_carries_its_placement() -> None:
    assert ghost_placement(ghost_message("ghost_ab12cd34", "x", "rm_aaaaaaaa", "rm_cccccccc")) == GhostPlacement(
        "rm_cccccccc", "rm_aaaaaaaa"
    )
    assert ghost_placement(ghost_message("ghost_ab12cd34", "x", None, "rm_cccccccc")) == GhostPlacement(
        "rm_cccccccc", None
    )
    assert ghost_placement("please add a method after rm_aaaaaaaa") is None
    assert ghost_placement(ghost_message("ghost_ab12cd34", "x", None, None)) is None  # no container: no binding


async def test_ghost_turn_inserts_at_the_ghost_line_despite_a_wrong_insert_after(
    proj: tuple[Path, Store], svc: AgentService, fake_llm: FakeLLM
) -> None:
    root, store = proj
    lines = (root / "shapes.py").read_text().split("\n")
    empty = lines.index("        return 0") + 2  # the empty line after Shape.area (1-based)
    assert lines[empty - 1] == ""
    area, name, shape = node_id_of(store, "Shape.area"), node_id_of(store, "Shape.name"), node_id_of(store, "Shape")
    fake_llm.add_tool_calls(
        (
            "propose_new_node",
            {
                "node_type": "method",
                "name": "perimeter",
                "source": "def perimeter(self):\n    return 4\n",
                "insert_after": name,  # wrong: the ghost is between area and name
            },
        )
    )
    fake_llm.add_text("done")
    ghost = svc.ghost("shapes.py", empty, "a perimeter method")
    assert (ghost.plan.container, ghost.plan.target, ghost.plan.insert_after) == (shape, area, area)
    trigger = await svc.wait(ghost.correlation_id)
    assert trigger.status == "done"
    (proposal,) = svc.proposals("pending")
    assert proposal.kind == "new_node" and proposal.node_id == shape
    new = proposal.new_source.split("\n")
    at = next(i for i, line in enumerate(new) if line.lstrip().startswith("def perimeter"))
    assert new[at - 1] == "" and new[at - 2].strip() == "return 0"  # right after area ...
    assert any(line.lstrip().startswith("def name") for line in new[at:])  # ... and before name
    assert new[at].startswith("    def perimeter(self):") and new[at + 1] == "        return 4"


async def test_plain_chat_keeps_the_models_insert_after(
    proj: tuple[Path, Store], svc: AgentService, fake_llm: FakeLLM
) -> None:
    _, store = proj
    area, name = node_id_of(store, "Shape.area"), node_id_of(store, "Shape.name")
    fake_llm.add_tool_calls(
        (
            "propose_new_node",
            {"node_type": "method", "name": "perimeter", "source": "def perimeter(self):\n    return 4\n",
             "insert_after": name},
        )
    )
    fake_llm.add_text("done")
    trigger = await svc.wait(svc.chat(area, "add a perimeter method after name"))
    assert trigger.status == "done"
    (proposal,) = svc.proposals("pending")
    new = proposal.new_source.split("\n")
    at = next(i for i, line in enumerate(new) if "def perimeter" in line)
    assert any("def name" in line for line in new[:at])


def test_a_ghost_in_a_go_file_is_refused_with_the_reason(svc: AgentService, proj: tuple[Path, Store]) -> None:
    root, _ = proj
    (root / "main.go").write_text("package main\n\nfunc main() {\n}\n\n\n", encoding="utf-8")
    with pytest.raises(WriteRefusedError, match=r"Python files only; 'main.go' is go"):
        svc.ghost_plan("main.go", 5)
