# ruff: noqa: F811 -- pytest fixtures imported from tests.nvim_harness / tests.fake_llm are redefined as parameters
"""Chat, diff approval and stop in a real Neovim with the real Python host, against the fake
model server (Appendix A of the design: "add type hints" -> rewrite_self -> diff -> accept -> u)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from tests.fake_llm import FakeLLM, fake_llm_fixture  # noqa: F401 -- fixture
from tests.nvim_agent_helpers import (
    SHAPES,
    agent_project,
    answer,
    goto,
    node_ids,
    panel_groups,
    pending_signs,
    press,
    stub_prompts,
    wait_panel,
    wait_panel_gone,
)
from tests.nvim_harness import Editor, editor_factory, open_file, remora_manifest  # noqa: F401 -- fixtures

TYPED_LOADER = '''class Loader:
    """Loads things."""

    def __init__(self, path: str) -> None:
        self.path = path

    def load(self) -> str:
        return parse(self.path)
'''


def _start(editor_factory: Callable[..., Editor], root: Path, file: str) -> Editor:
    editor = editor_factory("eager", cwd=root)
    stub_prompts(editor)
    open_file(editor, root / file)
    return editor


def test_chat_diff_accept_undo(editor_factory: Callable[..., Editor], tmp_path: Path, fake_llm: FakeLLM) -> None:
    root = agent_project(tmp_path / "proj", fake_llm.base_url)
    ids = node_ids(root, "models.py")
    before = (root / "models.py").read_text(encoding="utf-8").splitlines()
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": TYPED_LOADER}))
    fake_llm.add_text("Added type hints to both methods.")
    editor = _start(editor_factory, root, "models.py")
    class_row = goto(editor, "class Loader")
    goto(editor, '"""Loads things."""')
    editor.nvim.command("Remora panel")
    wait_panel(editor, " class Loader")
    wait_panel(editor, "(none yet: c to chat)")
    editor.lua("_G.streamed = {}; require('remora.rpc').on('stream', function(p) table.insert(_G.streamed, p.text) end)")
    editor.nvim.command("Remora chat add type hints")
    # The conversation, the reply, the diff with its highlights, the status and the gold sign.
    lines = wait_panel(editor, "agent: Added type hints to both methods.")
    assert "   you: add type hints" in lines
    lines = wait_panel(editor, "+    def __init__(self, path: str) -> None:")
    assert " -    def __init__(self, path):" in lines
    assert " Status: ● waiting for approval" in lines
    proposal_row = next(i for i, line in enumerate(lines) if line.startswith(" Proposal pr_"))
    assert lines[proposal_row].endswith("(rewrite)")
    assert lines[proposal_row + 1].startswith(" [x] hunk 1/1 @@")
    groups = panel_groups(editor)
    add_row = lines.index(" +    def __init__(self, path: str) -> None:")
    assert [add_row, "RemoraDiffAdd"] in groups
    assert [lines.index(" -    def __init__(self, path):"), "RemoraDiffDelete"] in groups
    assert [proposal_row, "RemoraPending"] in groups
    # Python syntax inside the diff: `def` on the added line is a Python keyword.
    panel_buf = editor.lua("return require('remora.panel.view').buf")
    col = lines[add_row].index("def") + 1
    syntax = editor.lua("local buf, row, col = ...; return vim.api.nvim_buf_call(buf, function() "
                        "return vim.fn.synIDattr(vim.fn.synID(row, col, 1), 'name') end)", panel_buf, add_row + 1, col)
    assert syntax.startswith("python"), syntax
    editor.wait_for("#vim.api.nvim_buf_get_extmarks(0, require('remora.ui.signs').ns, 0, -1, {}) > 0", 10)
    assert pending_signs(editor) == [[class_row, "▍", "RemoraPending"]]
    panel_win = editor.lua("return require('remora.panel.view').win()")
    assert editor.nvim.call("getwinvar", panel_win, "&winhighlight") == "WinSeparator:RemoraPending"
    # The reply was streamed (SSE chunks pushed to Lua as they came) before the turn completed.
    assert "".join(editor.lua("return _G.streamed")) == "Added type hints to both methods."
    # The fake server got the node's source and the human's message.
    first = fake_llm.chat_requests()[0]
    assert first["stream"] is True
    assert "add type hints" in json.dumps(first["messages"])
    # Accept: into the buffer, anchors kept, one undo step, left modified for the user to save.
    editor.nvim.command("Remora accept")
    editor.wait_for("vim.iter(vim.api.nvim_buf_get_lines(0, 0, -1, false))"
                    ":any(function(l) return l:find('path: str', 1, true) ~= nil end)", 10)
    buffer = editor.nvim.current.buffer[:]
    assert buffer[class_row - 1].startswith("class Loader:") and buffer[class_row - 1].endswith("# " + ids["Loader"])
    init_line = next(line for line in buffer if "def __init__" in line)
    assert init_line.startswith("    def __init__(self, path: str) -> None:")
    assert init_line.endswith("# " + ids["Loader.__init__"])
    assert any(line.startswith("    def load(self) -> str:") and line.endswith(ids["Loader.load"]) for line in buffer)
    assert editor.nvim.current.buffer.options["modified"] is True
    assert (root / "models.py").read_text(encoding="utf-8").splitlines() == before  # not written: the user saves
    wait_panel_gone(editor, "Proposal pr_")
    wait_panel(editor, " Status: ● idle")
    editor.wait_for("#vim.api.nvim_buf_get_extmarks(0, require('remora.ui.signs').ns, 0, -1, {}) == 0", 10)
    editor.nvim.command("normal! u")
    assert editor.nvim.current.buffer[:] == before
    editor.assert_no_errors()


def test_per_hunk_accept(editor_factory: Callable[..., Editor], tmp_path: Path, fake_llm: FakeLLM) -> None:
    root = agent_project(tmp_path / "proj", fake_llm.base_url, {"shapes.py": SHAPES})
    new = SHAPES.replace("def area(self, w, h):", "def area(self, w: float, h: float) -> float:").replace(
        "def volume(self, w, h, d):", "def volume(self, w: float, h: float, d: float) -> float:"
    )
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": new}))
    fake_llm.add_text("Typed area and volume.")
    editor = _start(editor_factory, root, "shapes.py")
    goto(editor, "class Shapes")
    editor.nvim.command("Remora chat type the methods")  # opens the panel
    wait_panel(editor, "agent: Typed area and volume.")
    lines = wait_panel(editor, " [x] hunk 2/2 @@")
    assert any(line.startswith(" [x] hunk 1/2 @@") for line in lines)
    # Skip hunk 2 with `s` on it in the panel, then accept with `a`.
    row = next(i for i, line in enumerate(lines) if line.startswith(" [x] hunk 2/2")) + 1
    editor.nvim.call("win_gotoid", editor.lua("return require('remora.panel.view').win()"))
    editor.nvim.command(f"call cursor({row + 1}, 1)")  # a diff line of hunk 2
    press(editor, "s")
    lines = wait_panel(editor, " [ ] hunk 2/2 @@")
    skipped = next(i for i, line in enumerate(lines) if line.startswith(" [ ] hunk 2/2"))
    assert [skipped, "RemoraDiffSkipped"] in panel_groups(editor)
    assert [skipped + 1, "RemoraDiffSkipped"] in panel_groups(editor)
    press(editor, "a")
    editor.nvim.command("wincmd p")
    editor.wait_for("vim.iter(vim.api.nvim_buf_get_lines(0, 0, -1, false))"
                    ":any(function(l) return l:find('def area(self, w: float', 1, true) ~= nil end)", 10)
    buffer = editor.nvim.current.buffer[:]
    assert any(line.startswith("    def volume(self, w, h, d):") for line in buffer)
    assert not any("def volume(self, w: float" in line for line in buffer)
    assert "(hunks 1 of 2)" in editor.messages()
    # `u` in the (read-only) panel undoes in the code window: the accept was one undo step.
    editor.nvim.call("win_gotoid", editor.lua("return require('remora.panel.view').win()"))
    press(editor, "u")
    editor.nvim.command("wincmd p")
    assert not any("def area(self, w: float" in line for line in editor.nvim.current.buffer[:])
    editor.assert_no_errors()


def test_reject_with_feedback_reruns_the_agent(editor_factory: Callable[..., Editor], tmp_path: Path,
                                              fake_llm: FakeLLM) -> None:
    root = agent_project(tmp_path / "proj", fake_llm.base_url)
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": TYPED_LOADER}))
    fake_llm.add_text("Done.")
    fake_llm.add_text("Understood, I will keep the old signature.")
    editor = _start(editor_factory, root, "models.py")
    goto(editor, "class Loader")
    editor.nvim.command("Remora panel")
    press(editor, ":Remora chat<CR>add type hints<C-s>")  # as typed: the chat box, then <C-s> sends
    assert editor.lua("return require('remora.input').current") is None
    wait_panel(editor, " Proposal pr_")
    wait_panel(editor, "agent: Done.")  # the turn has ended: the history order below is fixed
    answer(editor, "keep path untyped, it can be a Path")
    editor.nvim.command("Remora reject")
    assert editor.lua("return _G.remora_test.prompts[1]").startswith("Why reject?")
    lines = wait_panel(editor, "agent: Understood, I will keep the old")
    assert not any(line.startswith(" Proposal pr_") for line in lines)
    requests = fake_llm.chat_requests()
    assert len(requests) == 3
    assert "keep path untyped, it can be a Path" in json.dumps(requests[2]["messages"])
    assert any(line.startswith("   you: rejected pr_") for line in lines)
    editor.assert_no_errors()
    # The conversation comes from the event store: a fresh Neovim shows it when its panel opens.
    other = _start(editor_factory, root, "models.py")
    goto(other, "class Loader")
    other.nvim.command("Remora panel")
    lines = wait_panel(other, "agent: Understood, I will keep the old")
    chat = lines[lines.index(" Chat") + 1:]
    assert chat[0] == "   you: add type hints" and chat[2] == "   agent: Done."


def test_stop_cancels_a_running_turn(editor_factory: Callable[..., Editor], tmp_path: Path,
                                    fake_llm: FakeLLM) -> None:
    root = agent_project(tmp_path / "proj", fake_llm.base_url)
    fake_llm.add_text("too late", delay=30)
    editor = _start(editor_factory, root, "models.py")
    goto(editor, "def helper")
    editor.nvim.command("Remora chat think hard")
    lines = wait_panel(editor, " Status: ● running")
    assert any(line.startswith(" Status: ● running ") and line.endswith("s") for line in lines)
    deadline = time.monotonic() + 10
    while not fake_llm.chat_requests() and time.monotonic() < deadline:  # the model call is in flight
        time.sleep(0.01)
    assert len(fake_llm.chat_requests()) == 1
    editor.nvim.command("Remora stop")
    lines = wait_panel(editor, " Status: ● idle", timeout=10)
    wait_panel(editor, "cancelled")
    assert "stopped c_" in editor.messages()
    editor.assert_no_errors()


def test_failed_turn_shows_error_status(editor_factory: Callable[..., Editor], tmp_path: Path,
                                       fake_llm: FakeLLM) -> None:
    root = agent_project(tmp_path / "proj", fake_llm.base_url)
    fake_llm.add_error(400, "context length exceeded")
    editor = _start(editor_factory, root, "models.py")
    goto(editor, "def helper")
    editor.nvim.command("Remora chat hello")
    lines = wait_panel(editor, " Status: ● error: ")
    status = next(line for line in lines if line.startswith(" Status: ● error: "))
    assert "context length exceeded" in status or "400" in status
    assert any(line.startswith("   error: ") for line in lines)
    row = lines.index(status)
    assert [row, "RemoraPanelError"] in panel_groups(editor)


def test_a_command_right_after_a_cursor_move_acts_on_the_new_node(
    editor_factory: Callable[..., Editor], tmp_path: Path, fake_llm: FakeLLM
) -> None:
    """No CursorMoved runs between a mapping's keys (or two RPC calls): the command itself
    must look at the cursor, not at the node the panel showed before the move."""
    root = agent_project(tmp_path / "proj", fake_llm.base_url)
    ids = node_ids(root, "models.py")
    fake_llm.add_text("parse here")
    fake_llm.add_text("helper here")
    editor = _start(editor_factory, root, "models.py")
    goto(editor, "def parse")
    editor.nvim.command("Remora chat first")
    wait_panel(editor, "agent: parse here")
    row = next(i for i, line in enumerate(editor.nvim.current.buffer[:]) if "def helper" in line) + 1
    editor.lua(f"vim.api.nvim_win_set_cursor(0, {{{row}, 4}}); vim.cmd('Remora chat second')")
    wait_panel(editor, "agent: helper here")
    prompts = [json.dumps(request["messages"]) for request in fake_llm.chat_requests()]
    assert ids["helper"] in prompts[1]
