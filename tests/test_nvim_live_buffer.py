# ruff: noqa: F811 -- pytest fixtures imported from tests.nvim_harness / tests.fake_llm are redefined as parameters
"""The agent sees the live buffer (issue #11 item 2): chat on a modified, unsaved buffer sends the
buffer's text as the file's current version; the proposal is made from it and applies to the
buffer. The same right after accepting a proposal (the buffer stays unsaved) and asking again."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from remora_core import live_buffers
from remora_core.store.store import NodeRow
from tests.fake_llm import FakeLLM, fake_llm_fixture  # noqa: F401 -- fixture
from tests.nvim_agent_helpers import agent_project, goto, node_ids, stub_prompts, wait_panel, wait_panel_gone
from tests.nvim_harness import Editor, editor_factory, open_file, remora_manifest  # noqa: F401 -- fixtures

HAS = "vim.iter(vim.api.nvim_buf_get_lines(0, 0, -1, false)):any(function(l) return l:find({}, 1, true) ~= nil end)"


def test_live_buffers_replace_and_node_source(tmp_path: Path) -> None:
    root = tmp_path
    text = "import os\n\n\ndef parse(text):  # rm_aaaaaaaa\n    return text.lower()\n"
    live_buffers.replace(root, {"m.py": text})
    row = NodeRow(id="rm_aaaaaaaa", node_type="function", name="parse", qualname="parse", file_path="m.py",
                  start_line=1, def_line=1, end_line=2, parent_id=None, source_hash="", status="active",
                  superseded_anchor=None, created_at=0.0, updated_at=0.0)  # its lines moved since
    assert live_buffers.node_source(root, row) == "def parse(text):  # rm_aaaaaaaa\n    return text.lower()\n"
    assert live_buffers.text(root, "other.py") is None
    live_buffers.replace(root, {})
    assert live_buffers.text(root, "m.py") is None and live_buffers.node_source(root, row) is None


def test_agent_works_from_the_unsaved_buffer(editor_factory: Callable[..., Editor], tmp_path: Path,
                                            fake_llm: FakeLLM) -> None:
    root = agent_project(tmp_path / "proj", fake_llm.base_url)
    ids = node_ids(root, "models.py")
    on_disk = (root / "models.py").read_text(encoding="utf-8")
    editor = editor_factory("eager", cwd=root)
    stub_prompts(editor)
    open_file(editor, root / "models.py")
    # Repro 1: the user edits the node (and shifts it down) without saving, then asks.
    editor.lua("vim.api.nvim_buf_set_lines(0, 2, 2, false, { 'import os', '' })")
    row = goto(editor, "return helper(text)")
    editor.lua(f"vim.api.nvim_buf_set_lines(0, {row - 1}, {row}, false, {{ '    return helper(text).lower()' }})")
    goto(editor, "def parse")
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": "def parse(text: str) -> str:\n"
                                                            "    return helper(text).lower()\n"}))
    fake_llm.add_text("Typed parse.")
    editor.nvim.command("Remora chat add type hints")
    lines = wait_panel(editor, "agent: Typed parse.")
    lines = wait_panel(editor, " Proposal pr_")
    assert not any("STALE" in line for line in lines)
    assert "helper(text).lower()" in json.dumps(fake_llm.chat_requests()[0]["messages"])  # the buffer's text
    editor.nvim.command("Remora accept")
    editor.wait_for(HAS.format(json.dumps("def parse(text: str) -> str:")), 10)
    buffer = editor.nvim.current.buffer[:]
    parse = next(line for line in buffer if line.startswith("def parse("))
    assert parse.endswith("# " + ids["parse"])
    assert buffer[buffer.index(parse) + 1] == "    return helper(text).lower()"
    assert "import os" in buffer  # the user's other unsaved edit is still there
    wait_panel_gone(editor, "Proposal pr_")
    # Repro 2: right after accepting (the buffer stays unsaved), ask again.
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": 'def parse(text: str) -> str:\n    """Parse."""\n'
                                                            "    return helper(text).lower()\n"}))
    fake_llm.add_text("Documented parse.")
    goto(editor, "def parse")
    editor.nvim.command("Remora chat add a docstring")
    wait_panel(editor, "agent: Documented parse.")
    lines = wait_panel(editor, " Proposal pr_")
    assert not any("STALE" in line for line in lines)
    assert "def parse(text: str) -> str:" in json.dumps(fake_llm.chat_requests()[-1]["messages"])
    editor.nvim.command("Remora accept")
    editor.wait_for(HAS.format(json.dumps('"""Parse."""')), 10)
    assert (root / "models.py").read_text(encoding="utf-8") == on_disk  # nothing was written
    assert editor.nvim.current.buffer.options["modified"] is True
    editor.assert_no_errors()
