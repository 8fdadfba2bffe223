# ruff: noqa: F811 -- pytest fixtures imported from tests.nvim_harness / tests.fake_llm are redefined as parameters
"""Cross-file work is visible (issue #11 item 7): a proposal in another file raises a notice,
:Remora proposals fills the quickfix list with every pending proposal of the project, and
:Remora next / prev move across files."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.fake_llm import FakeLLM, fake_llm_fixture  # noqa: F401 -- fixture
from tests.nvim_agent_helpers import agent_project, node_ids
from tests.nvim_harness import Editor, editor_factory, open_file, remora_manifest  # noqa: F401 -- fixtures

TYPED_PARSE = "def parse(text: str) -> str:\n    return helper(text)\n"


def test_proposals_of_other_files(editor_factory: Callable[..., Editor], tmp_path: Path, fake_llm: FakeLLM) -> None:
    root = agent_project(tmp_path / "proj", fake_llm.base_url)
    ids = node_ids(root, "models.py")
    editor = editor_factory("eager", cwd=root)
    open_file(editor, root / "main.py")
    editor.wait_for("require('remora.agent').pending[vim.fn.resolve(vim.fn.getcwd())] ~= nil")
    # Another process (the CLI here; a caller's agent alike) proposes a change in models.py.
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": TYPED_PARSE}))
    fake_llm.add_text("typed")
    done = subprocess.run([sys.executable, "-m", "remora_core.cli", "chat", ids["parse"], "type it", "--wait"],
                          capture_output=True, text=True, cwd=root, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    editor.wait_for(f"vim.fn.execute('messages'):find('{ids['parse']} proposed pr_', 1, true) ~= nil", 15)
    assert "in models.py:" in editor.messages()
    editor.nvim.command("Remora proposals")
    editor.wait_for("#vim.fn.getqflist() == 1")
    item = editor.lua("local q = vim.fn.getqflist()[1]; return { vim.api.nvim_buf_get_name(q.bufnr), q.lnum, q.text }")
    parse_line = next(i for i, line in enumerate((root / "models.py").read_text().splitlines(), 1)
                      if line.startswith("def parse"))
    assert Path(item[0]).resolve() == (root / "models.py").resolve() and item[1] == parse_line
    assert item[2].startswith("pr_") and ids["parse"] in item[2]
    assert editor.lua("return vim.fn.getqflist({ title = 1 }).title") == "Remora proposals"
    # :Remora next from main.py goes to the proposal in models.py.
    editor.nvim.command("cclose")
    editor.nvim.command(f"edit {root / 'main.py'}")
    editor.nvim.command("Remora next")
    assert Path(editor.nvim.current.buffer.name).resolve() == (root / "models.py").resolve()
    assert editor.nvim.current.window.cursor[0] == parse_line
    editor.assert_no_errors()


def test_callee_panel_shows_its_callers_request(editor_factory: Callable[..., Editor], tmp_path: Path,
                                                fake_llm: FakeLLM) -> None:
    root = agent_project(tmp_path / "proj", fake_llm.base_url)
    ids = node_ids(root, "models.py")
    fake_llm.add_tool_calls(("message_node", {"target_id": ids["helper"], "request": "please return lower case"}))
    fake_llm.add_text("I will.")  # the callee's turn
    fake_llm.add_text("Asked helper.")  # the caller's turn ends
    editor = editor_factory("eager", cwd=root)
    open_file(editor, root / "models.py")
    editor.nvim.command("call cursor(search('def parse'), 5)")
    editor.nvim.command("Remora chat ask helper for lower case")
    editor.wait_for("vim.iter(vim.api.nvim_buf_get_lines(require('remora.panel.view').buf, 0, -1, false))"
                    ":any(function(l) return l:find('agent: Asked helper.', 1, true) ~= nil end)", 20)
    editor.nvim.command("call cursor(search('def helper'), 5)")
    lines = editor.wait_for(
        "(function() local l = vim.api.nvim_buf_get_lines(require('remora.panel.view').buf, 0, -1, false);"
        " return vim.iter(l):any(function(x) return x:find('caller: ', 1, true) ~= nil end) and l end)()", 20)
    chat = lines[lines.index(" Chat") + 1:]
    assert chat[0] == f"   caller: {ids['parse']} asks: please return lower"  # wrapped at the panel width
    assert chat[1].strip() == "case" and chat[2] == "   agent: I will."
    editor.assert_no_errors()
