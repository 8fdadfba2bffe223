# ruff: noqa: F811 -- pytest fixtures imported from tests.nvim_harness / tests.fake_llm are redefined as parameters
"""The inline diff in the code buffer (issue #11 item 4): removed lines highlighted in place,
added lines as virtual lines, per hunk, a hint line, buffer-local keys only while shown, accept
as one undo step, and the full-width `:Remora diff` view."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.fake_llm import FakeLLM, fake_llm_fixture  # noqa: F401 -- fixture
from tests.nvim_agent_helpers import SHAPES, agent_project, goto, press, stub_prompts, wait_panel
from tests.nvim_harness import Editor, editor_factory, open_file, remora_manifest  # noqa: F401 -- fixtures

TYPED = SHAPES.replace("def area(self, w, h):", "def area(self, w: float, h: float) -> float:").replace(
    "def volume(self, w, h, d):", "def volume(self, w: float, h: float, d: float) -> float:"
)

INLINE = """
local ns = require('remora.diff.view').ns
local out = { removed = {}, added = {}, hint = nil }
for _, m in ipairs(vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })) do
  local d = m[4]
  if d.line_hl_group then table.insert(out.removed, { m[2] + 1, d.line_hl_group }) end
  for _, vl in ipairs(d.virt_lines or {}) do
    local text = ''
    for _, chunk in ipairs(vl) do text = text .. chunk[1] end
    text = vim.trim(text)
    if text:find('^Remora pr_') then out.hint = text
    else table.insert(out.added, { m[2] + 1, d.virt_lines_above or false, text, vl[1][2] }) end
  end
end
return out
"""


def inline(editor: Editor) -> dict[str, Any]:
    return editor.lua(INLINE)


def _start(editor_factory: Callable[..., Editor], root: Path) -> Editor:
    editor = editor_factory("eager", cwd=root)
    stub_prompts(editor)
    open_file(editor, root / "shapes.py")
    return editor


def test_inline_diff_shows_accepts_and_undoes(editor_factory: Callable[..., Editor], tmp_path: Path,
                                             fake_llm: FakeLLM) -> None:
    root = agent_project(tmp_path / "proj", fake_llm.base_url, {"shapes.py": SHAPES})
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": TYPED}))
    fake_llm.add_text("Typed area and volume.")
    editor = _start(editor_factory, root)
    before = editor.nvim.current.buffer[:]
    goto(editor, "class Shapes")
    assert editor.nvim.call("maparg", "ga", "n") == ""  # no key before a proposal is shown
    editor.nvim.command("Remora chat type the methods")
    wait_panel(editor, "agent: Typed area and volume.")
    editor.nvim.command("wincmd p")
    editor.wait_for("#vim.api.nvim_buf_get_extmarks(0, require('remora.diff.view').ns, 0, -1, {}) > 0", 15)
    shown = inline(editor)
    area = goto(editor, "def area")
    volume = goto(editor, "def volume")
    assert shown["removed"] == [[area, "RemoraDiffInlineDelete"], [volume, "RemoraDiffInlineDelete"]]
    added = [(row, above, text) for row, above, text, _group in shown["added"]]
    assert added == [(area, False, "+     def area(self, w: float, h: float) -> float:"),
                     (volume, False, "+     def volume(self, w: float, h: float, d: float) -> float:")]
    assert all(group == "RemoraDiffInlineAdd" for *_rest, group in shown["added"])
    assert shown["hint"].startswith("Remora pr_") and "ga accept · gR reject · gs skip hunk" in shown["hint"]
    assert editor.nvim.current.buffer[:] == before  # nothing changed until accepted
    # Buffer-local keys while shown; ]h moves between hunks; gs skips the hunk under the cursor.
    assert editor.nvim.call("maparg", "ga", "n") != ""
    editor.nvim.command(f"call cursor({area}, 1)")
    press(editor, "]h")
    assert editor.nvim.call("line", ".") == volume
    press(editor, "gs")
    assert [row for row, group in inline(editor)["removed"] if group == "RemoraDiffSkipped"] == [volume]
    press(editor, "ga")
    editor.wait_for("vim.iter(vim.api.nvim_buf_get_lines(0, 0, -1, false))"
                    ":any(function(l) return l:find('def area(self, w: float', 1, true) ~= nil end)", 10)
    buffer = editor.nvim.current.buffer[:]
    assert any(line.startswith("    def volume(self, w, h, d):") for line in buffer)  # skipped hunk kept old
    editor.wait_for("#vim.api.nvim_buf_get_extmarks(0, require('remora.diff.view').ns, 0, -1, {}) == 0", 10)
    assert editor.nvim.call("maparg", "ga", "n") == ""  # the keys went with the diff
    editor.nvim.command("normal! u")  # accept is one undo step
    assert editor.nvim.current.buffer[:] == before
    editor.assert_no_errors()


def test_full_width_diff_view(editor_factory: Callable[..., Editor], tmp_path: Path, fake_llm: FakeLLM) -> None:
    root = agent_project(tmp_path / "proj", fake_llm.base_url, {"shapes.py": SHAPES})
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": TYPED}))
    fake_llm.add_text("Typed.")
    editor = _start(editor_factory, root)
    goto(editor, "class Shapes")
    editor.nvim.command("Remora chat type the methods")
    wait_panel(editor, "agent: Typed.")
    editor.nvim.command("wincmd p")
    editor.wait_for("#vim.api.nvim_buf_get_extmarks(0, require('remora.diff.view').ns, 0, -1, {}) > 0", 15)
    editor.nvim.command("Remora diff")
    assert editor.nvim.call("tabpagenr", "$") == 2
    wins = editor.lua("return vim.api.nvim_tabpage_list_wins(0)")
    assert len(wins) == 2 and all(editor.nvim.call("getwinvar", win, "&diff") for win in wins)
    left, right = (editor.lua("return vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(...), 0, -1, false)", w)
                   for w in wins)
    assert "    def area(self, w, h):" in left and "    def area(self, w: float, h: float) -> float:" in right
    assert sum(editor.nvim.call("winwidth", win) for win in wins) >= 78  # full width: nothing cut
    press(editor, "q")
    assert editor.nvim.call("tabpagenr", "$") == 1
    editor.assert_no_errors()
