# ruff: noqa: F811 -- pytest fixtures imported from tests.nvim_harness / tests.fake_llm are redefined as parameters
"""Diff approval details: stale proposals, accepting into the file when no buffer holds it,
gold signs and ]r / [r navigation between nodes with pending proposals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.fake_llm import FakeLLM, fake_llm_fixture  # noqa: F401 -- fixture
from tests.nvim_agent_helpers import (
    agent_project,
    goto,
    node_ids,
    pending_signs,
    press,
    stub_prompts,
    wait_panel,
    wait_panel_gone,
)
from tests.nvim_harness import Editor, editor_factory, open_file, remora_manifest  # noqa: F401 -- fixtures

TYPED_HELPER = "def helper(text: str) -> str:\n    return text.strip()\n"
TYPED_PARSE = "def parse(text: str) -> str:\n    return helper(text)\n"
TYPED_MAIN = 'def main() -> str:\n    return Loader("x").load()\n'


def _start(editor_factory: Callable[..., Editor], root: Path, file: str, opts: str | None = None) -> Editor:
    editor = editor_factory("eager", cwd=root, **({"opts": opts} if opts else {}))
    stub_prompts(editor)
    open_file(editor, root / file)
    return editor


def test_stale_proposal_is_shown_and_refused(editor_factory: Callable[..., Editor], tmp_path: Path,
                                            fake_llm: FakeLLM) -> None:
    root = agent_project(tmp_path / "proj", fake_llm.base_url)
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": TYPED_HELPER}))
    fake_llm.add_text("typed")
    editor = _start(editor_factory, root, "models.py")
    row = goto(editor, "def helper")
    editor.nvim.command("Remora chat add type hints")
    wait_panel(editor, "+def helper(text: str) -> str:")
    # The user edits the node meanwhile: the proposal's base is gone.
    editor.nvim.current.buffer[row] = "    return text.strip().lower()"
    lines = wait_panel(editor, " STALE")
    assert any(line.startswith(" stale: node ") for line in lines)
    assert " cannot be applied: x rejects it (ask again)" in lines
    assert not any(line.startswith(" a accept") for line in lines)
    editor.nvim.command("Remora accept")
    assert "is stale and cannot be applied" in editor.messages()
    assert editor.nvim.current.buffer[row - 1].startswith("def helper(text):")
    assert editor.nvim.current.buffer[row] == "    return text.strip().lower()"


def test_accept_without_a_buffer_writes_the_file(editor_factory: Callable[..., Editor], tmp_path: Path,
                                                 fake_llm: FakeLLM) -> None:
    root = agent_project(tmp_path / "proj", fake_llm.base_url)
    ids = node_ids(root, "main.py")
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": TYPED_MAIN}))
    fake_llm.add_text("typed")
    editor = _start(editor_factory, root, "main.py")
    goto(editor, "def main")
    editor.nvim.command("Remora chat type main")
    wait_panel(editor, "+def main() -> str:")
    editor.nvim.command("enew")
    editor.nvim.command(f"bwipeout {root / 'main.py'}")
    # The panel still shows the node (its file is not loaded): accept from the panel.
    editor.lua("vim.api.nvim_set_current_win(require('remora.panel.view').win())")
    editor.nvim.command("Remora accept")
    editor.wait_for("vim.iter(vim.fn.readfile(...)):any(function(l) return l:find('def main() -> str:', 1, true) end)",
                    10, str(root / "main.py"))
    text = (root / "main.py").read_text(encoding="utf-8")
    assert any(line.startswith("def main() -> str:") and line.endswith("# " + ids["main"]) for line in text.splitlines())
    editor.wait_for("vim.fn.execute('messages'):find(\"applied to 'main.py'\", 1, true) ~= nil", 10)
    editor.assert_no_errors()


def test_gold_signs_and_navigation(editor_factory: Callable[..., Editor], tmp_path: Path, fake_llm: FakeLLM) -> None:
    root = agent_project(tmp_path / "proj", fake_llm.base_url)
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": TYPED_PARSE}))
    fake_llm.add_text("typed parse")
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": TYPED_HELPER}))
    fake_llm.add_text("typed helper")
    editor = _start(editor_factory, root, "models.py", "{ hub = { autostart = false }, keymaps = { next = ']r', prev = '[r' } }")
    parse_row = goto(editor, "def parse")
    editor.nvim.command("Remora chat type parse")
    wait_panel(editor, "agent: typed parse")
    helper_row = goto(editor, "def helper")
    editor.nvim.command("Remora chat type helper")
    wait_panel(editor, "agent: typed helper")
    editor.wait_for("#vim.api.nvim_buf_get_extmarks(0, require('remora.ui.signs').ns, 0, -1, {}) == 2", 10)
    assert pending_signs(editor) == [[parse_row, "▍", "RemoraPending"], [helper_row, "▍", "RemoraPending"]]
    assert editor.nvim.api.get_hl(0, {"name": "RemoraPending"})["fg"] == 0xD7AF00
    editor.nvim.command("call cursor(1, 1)")
    press(editor, "]r")
    assert editor.nvim.current.window.cursor[0] == parse_row
    press(editor, "]r")
    assert editor.nvim.current.window.cursor[0] == helper_row
    press(editor, "]r")  # wraps
    assert editor.nvim.current.window.cursor[0] == parse_row
    press(editor, "[r")
    assert editor.nvim.current.window.cursor[0] == helper_row
    editor.nvim.command("Remora prev")
    assert editor.nvim.current.window.cursor[0] == parse_row
    # The panel follows the cursor to the node and shows its diff; accepting removes its sign.
    wait_panel(editor, "+def parse(text: str) -> str:")
    editor.nvim.command("Remora accept")
    wait_panel_gone(editor, "Proposal pr_")
    editor.wait_for("#vim.api.nvim_buf_get_extmarks(0, require('remora.ui.signs').ns, 0, -1, {}) == 1", 10)
    assert pending_signs(editor) == [[helper_row, "▍", "RemoraPending"]]
    editor.assert_no_errors()
