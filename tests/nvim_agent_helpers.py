"""Helpers for the Neovim tests of the agent features: a project whose config points at the
fake model server, stubbed prompts (vim.ui.input / vim.ui.select answer from a queue and record
what they asked), waits on what the panel and the buffer show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from remora_core.store.store import Store
from tests.nvim_harness import Editor, make_project

SHAPES = '''\
class Shapes:
    """Shapes."""

    def area(self, w, h):
        return w * h

    def perimeter(self, w, h):
        return 2 * (w + h)

    def diagonal(self, w, h):
        return (w * w + h * h) ** 0.5

    def volume(self, w, h, d):
        return w * h * d
'''

STUB_PROMPTS = """
_G.remora_test = { answers = {}, prompts = {} }
vim.ui.input = function(opts, on_confirm)
  table.insert(_G.remora_test.prompts, opts.prompt or "")
  local answer = table.remove(_G.remora_test.answers, 1)
  if answer == vim.NIL then answer = nil end
  on_confirm(answer)
end
vim.ui.select = function(items, opts, on_choice)
  table.insert(_G.remora_test.prompts, opts.prompt or "")
  local answer = table.remove(_G.remora_test.answers, 1)
  for index, item in ipairs(items) do
    local label = type(item) == "table" and item.name or tostring(item)
    if label == answer then return on_choice(item, index) end
  end
  on_choice(nil, nil)
end
"""


def agent_project(root: Path, base_url: str, files: dict[str, str] | None = None) -> Path:
    make_project(root, files)
    (root / ".remora" / "config.toml").write_text(
        f'[llm]\nbase_url = "{base_url}"\nstream = true\nmax_retries = 0\n', encoding="utf-8"
    )
    return root


def node_ids(root: Path, file: str) -> dict[str, str]:
    store = Store.open(root)
    try:
        ids = {row.qualname: row.id for row in store.nodes_in_file(file, active_only=True)}
        ids[""] = next(row.id for row in store.nodes_in_file(file, active_only=True) if row.node_type == "file")
        return ids
    finally:
        store.close()


def stub_prompts(editor: Editor) -> None:
    editor.lua(STUB_PROMPTS)


def answer(editor: Editor, *answers: Any) -> None:
    """Queue answers for the next prompts (None: the user pressed <Esc>)."""
    editor.lua("for _, a in ipairs(...) do table.insert(_G.remora_test.answers, a) end", list(answers))


def goto(editor: Editor, text: str, col: int = 5) -> int:
    row = next(i for i, line in enumerate(editor.nvim.current.buffer[:]) if text in line) + 1
    editor.nvim.command(f"call cursor({row}, {col})")
    return row


PANEL_HAS = (
    "require('remora.panel.view').buf ~= nil and vim.iter(vim.api.nvim_buf_get_lines(require('remora.panel.view').buf, 0, -1, false))"
    ":any(function(l) return l:find({text}, 1, true) ~= nil end)"
)


def wait_panel(editor: Editor, text: str, timeout: float = 15) -> list[str]:
    editor.wait_for(PANEL_HAS.format(text=json.dumps(text, ensure_ascii=False)), timeout)
    return editor.panel_lines()


def wait_panel_gone(editor: Editor, text: str, timeout: float = 15) -> list[str]:
    editor.wait_for("not (" + PANEL_HAS.format(text=json.dumps(text, ensure_ascii=False)) + ")", timeout)
    return editor.panel_lines()


def panel_groups(editor: Editor) -> list[list[Any]]:
    """[row, hl_group] of the panel's highlights."""
    return editor.lua("""
      local ui = require('remora.panel.view')
      local out = {}
      for _, m in ipairs(vim.api.nvim_buf_get_extmarks(ui.buf, ui.ns, 0, -1, { details = true })) do
        out[#out + 1] = { m[2], m[4].hl_group }
      end
      return out""")


def pending_signs(editor: Editor) -> list[list[Any]]:
    """[1-based line, sign text, sign hl group] of the pending signs in the current buffer."""
    return editor.lua("""
      local ns = require('remora.ui.signs').ns
      local out = {}
      for _, m in ipairs(vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })) do
        out[#out + 1] = { m[2] + 1, vim.trim(m[4].sign_text or ''), m[4].sign_hl_group }
      end
      return out""")


def press(editor: Editor, keys: str) -> None:
    editor.nvim.feedkeys(editor.nvim.replace_termcodes(keys, True, False, True), "x", False)
