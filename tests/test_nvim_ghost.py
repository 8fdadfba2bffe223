# ruff: noqa: F811 -- pytest fixtures imported from tests.nvim_harness / tests.fake_llm are redefined as parameters
"""Ghost nodes: placeholder on an empty line, instruction prompt, routed to the agent that can
create the node, accepted as a real anchored definition; cancelled without a trace."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.fake_llm import FakeLLM, fake_llm_fixture  # noqa: F401 -- fixture
from tests.nvim_agent_helpers import SHAPES, agent_project, answer, node_ids, stub_prompts, wait_panel
from tests.nvim_harness import Editor, editor_factory, open_file, remora_manifest  # noqa: F401 -- fixtures

GHOST_MARKS = """
  local ns = require('remora.ghost.view').ns
  local out = {}
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })) do
    local text = {}
    for _, chunk in ipairs(m[4].virt_text or {}) do text[#text + 1] = chunk[1] end
    out[#out + 1] = { m[2] + 1, table.concat(text), m[4].virt_text[1][2] }
  end
  return out"""


SPY_RPC = """
  local rpc = require('remora.rpc')
  _G.remora_test.sent = {}
  for _, name in ipairs({ 'call', 'request' }) do
    local original = rpc[name]
    rpc[name] = function(method, params, ...)
      table.insert(_G.remora_test.sent, { method, params })
      return original(method, params, ...)
    end
  end"""


def _sent(editor: Editor, method: str) -> list[dict[str, Any]]:
    return [params for name, params in editor.lua("return _G.remora_test.sent") if name == method]


def _ghost_command(editor: Editor) -> None:
    """:Remora ghost, then wait for the engine's placement (asynchronous) to open the prompt."""
    editor.nvim.command("Remora ghost")
    editor.wait_for("#_G.remora_test.prompts > 0", 15)


def _ghosts(editor: Editor) -> list[list[Any]]:
    return editor.lua(GHOST_MARKS)


def _snapshot(editor: Editor) -> tuple[list[str], Any, bool]:
    undo = editor.nvim.call("undotree")
    return editor.nvim.current.buffer[:], (undo["seq_last"], undo["seq_cur"]), editor.nvim.current.buffer.options["modified"]


def _start(editor_factory: Callable[..., Editor], root: Path, file: str) -> Editor:
    editor = editor_factory("eager", cwd=root)
    stub_prompts(editor)
    open_file(editor, root / file)
    return editor


def _blank_after(editor: Editor, text: str) -> int:
    """Put the cursor on the first empty line after the line holding ``text``."""
    lines = editor.nvim.current.buffer[:]
    start = next(i for i, line in enumerate(lines) if text in line)
    row = next(i for i in range(start, len(lines)) if lines[i].strip() == "") + 1
    editor.nvim.command(f"call cursor({row}, 1)")
    return row


def test_ghost_create_and_accept(editor_factory: Callable[..., Editor], tmp_path: Path, fake_llm: FakeLLM) -> None:
    root = agent_project(tmp_path / "proj", fake_llm.base_url)
    ids = node_ids(root, "models.py")
    fake_llm.add_tool_calls(("propose_new_node", {
        "node_type": "function", "name": "double", "source": "def double(x):\n    return 2 * x\n",
        "insert_after": ids["parse"],
    }))
    fake_llm.add_text("Proposed double().")
    editor = _start(editor_factory, root, "models.py")
    row = _blank_after(editor, "return helper(text)")
    original = editor.nvim.current.buffer[:]
    answer(editor, "a function that doubles a number")
    editor.lua(SPY_RPC)
    _ghost_command(editor)
    prompt = editor.lua("return _G.remora_test.prompts[1]")
    assert prompt.startswith("New node at ghost_")
    ghost_id = prompt.split()[-1].rstrip(":")
    (mark,) = _ghosts(editor)
    assert mark[0] == row and mark[1].startswith("# " + ghost_id) and mark[2] == "RemoraGhost"
    # Routed to the file's agent (the container at module level), after the sibling before it.
    assert editor.lua("return require('remora.ghost').active.target") == ids[""]
    # Placement is the engine's: the plan request and the ghost request carry the buffer and the
    # line, never a Lua-chosen target / insert_after (the Lua-side planner is gone).
    assert editor.lua("return require('remora.ghost').plan") is None
    (plan,) = _sent(editor, "agent_ghost_plan")
    assert plan["line"] == row and plan["lines"] == original and Path(plan["file"]).resolve() == (root / "models.py").resolve()
    (request,) = _sent(editor, "agent_ghost")
    assert request["line"] == row and request["lines"] == original and request["ghost"] == ghost_id
    assert Path(request["file"]).resolve() == (root / "models.py").resolve() and request["instruction"] == "a function that doubles a number"
    assert not {"target", "container", "insert_after"} & set(request)
    editor.wait_for("(function() local m = vim.api.nvim_buf_get_extmarks(0, require('remora.ghost.view').ns, 0, -1,"
                    " { details = true })[1]; return m and m[4].virt_text[2][1]:find('proposal ready', 1, true) end)()",
                    15)
    request = json.dumps(fake_llm.chat_requests()[0]["messages"])
    assert ghost_id in request and "propose_new_node" in request and "doubles a number" in request
    editor.nvim.command("Remora panel")
    lines = wait_panel(editor, "(new node)")
    assert " +def double(x):" in lines
    # The conversation shows what the user asked, not the request Remora wrote for the agent.
    lines = wait_panel(editor, "ghost: a function that doubles a number")
    chat = lines[lines.index(" Chat"): lines.index(" Recent events")]
    assert not any("placeholder" in line for line in chat if line.startswith("   you:")), chat
    editor.nvim.command("Remora accept")
    editor.wait_for("vim.iter(vim.api.nvim_buf_get_lines(0, 0, -1, false))"
                    ":any(function(l) return l:find('def double(x):', 1, true) ~= nil end)", 10)
    buffer = editor.nvim.current.buffer[:]
    new_line = next(line for line in buffer if line.startswith("def double(x):"))
    anchor = new_line.rsplit("# ", 1)[1]
    assert anchor.startswith("rm_") and len(anchor) == 11 and anchor not in ids.values()
    assert buffer.index(new_line) > buffer.index(next(line for line in buffer if line.startswith("def parse")))
    assert _ghosts(editor) == []
    assert editor.lua("return require('remora.ghost').active") is None
    assert editor.nvim.current.buffer.options["modified"] is True
    editor.nvim.command("normal! u")  # the insertion is one undo step
    assert editor.nvim.current.buffer[:] == original
    editor.assert_no_errors()


def test_ghost_cancel_with_empty_prompt_leaves_no_trace(editor_factory: Callable[..., Editor], tmp_path: Path,
                                                       fake_llm: FakeLLM) -> None:
    root = agent_project(tmp_path / "proj", fake_llm.base_url)
    editor = _start(editor_factory, root, "models.py")
    _blank_after(editor, "return helper(text)")
    before = _snapshot(editor)
    answer(editor, "")
    _ghost_command(editor)
    assert _ghosts(editor) == []
    assert _snapshot(editor) == before
    assert fake_llm.chat_requests() == []
    editor.assert_no_errors()


def test_ghost_in_a_class_cancelled_by_reject(editor_factory: Callable[..., Editor], tmp_path: Path,
                                             fake_llm: FakeLLM) -> None:
    root = agent_project(tmp_path / "proj", fake_llm.base_url, {"shapes.py": SHAPES})
    ids = node_ids(root, "shapes.py")
    fake_llm.add_text("thinking…", delay=30)
    editor = _start(editor_factory, root, "shapes.py")
    row = _blank_after(editor, "return w * h")
    before = _snapshot(editor)
    answer(editor, "a method for the circumference")
    _ghost_command(editor)
    (mark,) = _ghosts(editor)
    assert mark[0] == row and mark[1].startswith("    # ghost_")  # indented like a method of the class
    # Inside a class the method before the ghost creates the sibling (its propose_new_node inserts
    # into the class), right after itself.
    assert editor.lua("return require('remora.ghost').active.target") == ids["Shapes.area"]
    assert editor.lua("return require('remora.ghost').active.insert_after") == ids["Shapes.area"]
    editor.wait_for("require('remora.ghost').active.correlation_id ~= nil", 15)
    editor.nvim.command("Remora reject")
    assert _ghosts(editor) == []
    assert _snapshot(editor) == before
    editor.assert_no_errors()
