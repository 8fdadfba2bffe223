"""The engine facade's per-hunk approve, status, stop and ghost, through the ``remora`` CLI (its
``main`` in this process, on a real indexed project and database) and through the facade."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from remora_core.agents.drafts import draft_rewrite
from remora_core.agents.hunks import diff_hunks
from remora_core.agents.proposals import ProposalStore
from remora_core.cli import main
from remora_core.engine import Engine
from remora_core.errors import NodeNotFoundError
from remora_core.store.store import Store
from tests.fake_llm import indexed_project, node_id_of

FILES = {
    "src/calc.py": """
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
    "src/other.py": """
        def total():
            return 1
        """,
}


@pytest.fixture
def proj(tmp_path: Path) -> Iterator[tuple[Path, Store]]:
    root = tmp_path / "proj"
    store = indexed_project(root, FILES)
    yield root, store
    store.close()


def _two_hunk_proposal(root: Path, store: Store) -> str:
    node_id = _total(store)
    text = (root / "src/calc.py").read_text()
    start = text.index("def total")
    end = text.index("class Shape")
    old = text[start:end].rstrip("\n") + "\n"
    new = old.replace("result = 0\n", "result: int = 0\n").replace("return result", "return int(result)")
    proposal = draft_rewrite(text, node_id, "src/calc.py", new)
    assert len(diff_hunks(proposal.old_source, proposal.new_source)) == 2
    assert [line[:2] for line in proposal.diff.splitlines()].count("@@") == 2  # what `remora proposals` shows
    ProposalStore(store, root).submit(proposal)
    return proposal.id


def _total(store: Store) -> str:
    return next(row.id for row in store.nodes_in_file("src/calc.py") if row.qualname == "total")


def test_approve_only_the_chosen_hunks(proj: tuple[Path, Store], capsys: pytest.CaptureFixture[str]) -> None:
    root, store = proj
    proposal_id = _two_hunk_proposal(root, store)
    assert main(["approve", proposal_id, "--hunks", "2", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"applied proposal {proposal_id} to src/calc.py") and "(hunks 2 of 2)" in out
    text = (root / "src/calc.py").read_text()
    assert "return int(result)" in text and "result: int = 0" not in text
    assert f"# {_total(store)}" in text  # the anchor is kept
    assert main(["approve", proposal_id, "--root", str(root)]) == 1  # applied once
    assert "already applied" in capsys.readouterr().err


def test_approve_rejects_unknown_hunks(proj: tuple[Path, Store], capsys: pytest.CaptureFixture[str]) -> None:
    root, store = proj
    proposal_id = _two_hunk_proposal(root, store)
    assert main(["approve", proposal_id, "--hunks", "3", "--root", str(root)]) == 1
    assert "has 2 hunks; no hunk 3" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["approve", proposal_id, "--hunks", "0", "--root", str(root)])
    assert "hunk numbers start at 1" in capsys.readouterr().err
    with Engine(root) as engine:
        assert engine.proposal(proposal_id).status == "pending"


def test_approve_lines_gives_the_new_buffer(proj: tuple[Path, Store]) -> None:
    root, store = proj
    proposal_id = _two_hunk_proposal(root, store)
    before = (root / "src/calc.py").read_text()
    lines = before.split("\n")[:-1]
    with Engine(root, store=store) as engine:
        result = engine.approve_lines(proposal_id, lines, [0])
    assert result.applied and result.lines is not None
    assert "    result: int = 0" in result.lines and "    return result" in result.lines
    assert result.lines[: result.start] == lines[: result.start]
    assert result.lines[result.start : result.start + len(result.replacement)] == result.replacement
    assert (root / "src/calc.py").read_text() == before  # the caller writes the buffer


def test_status_and_stop_by_name(proj: tuple[Path, Store], capsys: pytest.CaptureFixture[str]) -> None:
    root, store = proj
    assert main(["status", "Shape.area", "--root", str(root), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "idle"
    assert main(["chat", "Shape.area", "add a docstring", "--root", str(root)]) == 0
    queued = capsys.readouterr().out
    area = node_id_of(store, "Shape.area")
    assert queued.startswith(f"queued chat to {area} (correlation c_")
    correlation = queued.split("correlation ")[1].split(")")[0]
    assert main(["status", "Shape.area", "--root", str(root), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["state"] == "running" and status["correlation_id"] == correlation
    assert status["node"] == area and status["qualname"] == "Shape.area"
    assert main(["stop", area, "--root", str(root)]) == 0
    assert f"stopped {area}: correlation {correlation} (1 queued" in capsys.readouterr().out
    assert main(["status", area, "--root", str(root)]) == 0
    assert capsys.readouterr().out.startswith(f"{area} Shape.area: idle")
    assert main(["stop", "Shape.area", "--root", str(root)]) == 0
    assert capsys.readouterr().out == f"nothing is running for {area}\n"


def test_a_name_that_names_two_nodes_is_refused(
    proj: tuple[Path, Store], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = proj
    assert main(["chat", "total", "hello", "--root", str(root)]) == 1
    assert "'total' names 2 nodes" in capsys.readouterr().err


def test_ghost_in_a_class_goes_to_the_method_before(
    proj: tuple[Path, Store], capsys: pytest.CaptureFixture[str]
) -> None:
    root, store = proj
    lines = (root / "src/calc.py").read_text().split("\n")
    empty = lines.index("        return 0") + 2  # the empty line after Shape.area (1-based)
    assert lines[empty - 1] == ""
    area, shape = node_id_of(store, "Shape.area"), node_id_of(store, "Shape")
    assert main(["ghost", str(root / "src/calc.py"), str(empty), "a perimeter method"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"asked {area} for a new node in {shape} after {area} (src/calc.py:{empty}")
    with Engine(root, store=store) as engine:
        triggers = engine.queue.list(status="queued")
    assert len(triggers) == 1 and triggers[0].agent_id == area
    assert "a perimeter method" in triggers[0].message and f"insert_after={area!r}" in triggers[0].message


def test_ghost_plans(proj: tuple[Path, Store]) -> None:
    root, store = proj
    lines = (root / "src/calc.py").read_text().split("\n")
    file_id = next(row.id for row in store.nodes_in_file("src/calc.py") if row.node_type == "file")
    shape_line = next(i for i, line in enumerate(lines, 1) if line.startswith("class Shape"))
    with Engine(root, store=store) as engine:
        module = engine.ghost_plan("src/calc.py", shape_line - 1)  # between total and Shape
        assert (module.container, module.target, module.insert_after) == (file_id, file_id, _total(store))
        assert module.indent == ""
        buffer = [*lines[:shape_line], "", *lines[shape_line:]]  # an unsaved empty first line in Shape
        first = engine.ghost_plan("src/calc.py", shape_line + 1, buffer)
        area, shape = node_id_of(store, "Shape.area"), node_id_of(store, "Shape")
        assert (first.container, first.target, first.insert_after, first.indent) == (
            shape,
            area,
            None,
            "    ",
        )
        with pytest.raises(NodeNotFoundError, match="is not empty"):
            engine.ghost_plan("src/calc.py", shape_line)


def test_cli_modules_import_alone() -> None:
    """No import circle: each command module imports first, on its own."""
    for module in (
        "remora_core.cli.agents",
        "remora_core.cli.index",
        "remora_core.cli.hub",
        "remora_core.cli",
    ):
        done = subprocess.run(
            [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr


def test_neighbours_through_the_facade(proj: tuple[Path, Store]) -> None:
    root, store = proj
    with Engine(root, store=store) as engine:
        near = engine.neighbours("Shape")
        assert near.parent is not None and near.parent.node_type == "file"
        assert [row.qualname for row in near.children] == ["Shape.area", "Shape.name"]
        assert near.callers == [] and near.callees == []


def test_tools_and_tool_from_the_cli(proj: tuple[Path, Store], capsys: pytest.CaptureFixture[str]) -> None:
    """What the editor's tool forms do, headless: list a node's tools, run one as the human."""
    root, store = proj
    assert main(["tools", "Shape.area", "--root", str(root)]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert any(line.startswith("rewrite_self(new_source") for line in listed)
    assert main(["tools", "Shape.area", "--root", str(root), "--json"]) == 0
    names = [schema["function"]["name"] for schema in json.loads(capsys.readouterr().out)]
    assert {"rewrite_self", "read_node", "propose_new_node"} <= set(names)
    new = "def area(self):\n    return 1\n"
    assert (
        main(["tool", "Shape.area", "rewrite_self", json.dumps({"new_source": new}), "--root", str(root)])
        == 0
    )
    assert "pr_" in capsys.readouterr().out
    with Engine(root, store=store) as engine:
        [proposal] = engine.proposals()
        assert proposal.node_id == node_id_of(store, "Shape.area") and "return 1" in proposal.new_source
        assert engine.status("Shape.area").state == "waiting"
    assert main(["tool", "Shape.area", "rewrite_self", "{}", "--root", str(root)]) == 1
    captured = capsys.readouterr()
    assert "new_source" in captured.out and "failed" in captured.err


def test_stale_reason_and_pending(proj: tuple[Path, Store]) -> None:
    root, store = proj
    proposal_id = _two_hunk_proposal(root, store)
    with Engine(root, store=store) as engine:
        proposal = engine.proposal(proposal_id)
        assert [p.id for p in engine.pending(_total(store))] == [proposal_id]
        assert engine.stale_reason(proposal) is None
        lines = (root / "src/calc.py").read_text().split("\n")[:-1]
        edited = [line.replace("# four", "x = 4") for line in lines]  # the buffer moved on
        assert "changed since proposal" in (engine.stale_reason(proposal, edited) or "")
        assert engine.stale_reason(proposal, lines) is None


async def test_message_node_to_a_node_the_graph_has_as_orphaned_is_refused(proj: tuple[Path, Store]) -> None:
    """The cycle/depth rule reads the correlation's activation path; who may be asked at all
    is read from the topology graph: an unknown or orphaned target is refused before any turn."""
    root, store = proj
    area = next(row.id for row in store.nodes_in_file("src/calc.py") if row.qualname == "Shape.area")
    text = (root / "src/calc.py").read_text()
    start = text.index("    def area")
    (root / "src/calc.py").write_text(text[:start] + text[text.index("    def name") :])
    with Engine(root) as engine:
        engine.reindex("src/calc.py")
        assert engine.topology().node(area).status == "orphaned"
        outcome = await engine.call_tool(_total(store), "message_node", {"target_id": area, "request": "hi"})
        assert not outcome.ok and f"{area!r} is orphaned" in outcome.text
        outcome = await engine.call_tool(_total(store), "message_node", {"target_id": "rm_00000000", "request": "hi"})
        assert not outcome.ok and "'rm_00000000'" in outcome.text
        assert engine.queue.list(limit=10) == []  # no turn was queued for either
        await engine.close_runner()  # its db thread ends on this loop, not after it
