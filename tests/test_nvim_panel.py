# ruff: noqa: F811 -- pytest fixtures imported from tests.nvim_harness are redefined as parameters
"""The side panel: layout, lines, highlights, <CR> jumps, live events, window churn; the hub commands."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from remora_core.events.models import HumanChatEvent
from remora_core.events.store import EventLog
from remora_core.hub.control import stop_hub
from remora_core.store.store import Store
from tests.nvim_harness import (  # noqa: F401 -- fixtures
    Editor,
    editor_factory,
    open_file,
    project,
    remora_manifest,
)

PANEL_WIN = "require('remora.panel.view').win()"


def _stored(project: Path) -> dict[str, str]:
    store = Store.open(project)
    try:
        return {row.qualname: row.id for row in store.nodes_in_file("models.py", active_only=True)}
    finally:
        store.close()


def _goto(editor: Editor, text: str) -> int:
    row = next(i for i, line in enumerate(editor.nvim.current.buffer[:]) if text in line) + 1
    editor.nvim.command(f"call cursor({row}, 5)")
    return row


def _panel_shows(editor: Editor, line: str, timeout: float = 10) -> list[str]:
    editor.wait_for(f"vim.tbl_contains(vim.api.nvim_buf_get_lines(require('remora.panel.view').buf, 0, -1, false), {line!r})",
                    timeout)
    return editor.panel_lines()


def test_panel_layout_lines_highlights_and_jump(editor_factory: Callable[..., Editor], project: Path) -> None:
    ids = _stored(project)
    editor = editor_factory("eager", cwd=project)
    editor.nvim.options["columns"] = 80
    open_file(editor, project / "models.py")
    code_win = editor.nvim.current.window.handle
    load_row = _goto(editor, "def load")
    editor.nvim.command("Remora panel")
    lines = _panel_shows(editor, "   " + ids["parse"] + "  function parse")
    # Layout: the code window on the left, the panel on the right at its fixed width; focus stays.
    layout = editor.nvim.call("winlayout")
    panel_win = editor.lua(f"return {PANEL_WIN}")
    assert layout == ["row", [["leaf", code_win], ["leaf", panel_win]]]
    # panel.width (48) capped at 40 % of the editor: 32 of a headless Neovim's 80 columns
    assert editor.nvim.call("winwidth", panel_win) == 32
    assert editor.nvim.current.window.handle == code_win
    assert lines[:3] == [" " + ids["Loader.load"], " method Loader.load", f" models.py:{load_row}-{load_row + 1}"]
    assert "   " + ids["Loader"] + "  class Loader" in lines
    assert " Callers (0)" in lines and " Callees (1)" in lines
    assert " Status: ● idle" in lines
    assert lines[-1] == " <CR> jump  r refresh  q close"
    # Highlights a person sees: id, title, link.
    groups = editor.lua("""
      local ui = require('remora.panel.view')
      local out = {}
      for _, m in ipairs(vim.api.nvim_buf_get_extmarks(ui.buf, ui.ns, 0, -1, { details = true })) do
        out[#out + 1] = { m[2], m[4].hl_group }
      end
      return out""")
    assert [0, "RemoraPanelId"] in groups and [1, "RemoraPanelTitle"] in groups
    callee_row = lines.index("   " + ids["parse"] + "  function parse")
    assert [callee_row, "RemoraPanelLink"] in groups
    # <CR> on the callee jumps to it in the code window; the panel follows.
    editor.nvim.call("win_gotoid", panel_win)
    editor.nvim.command(f"call cursor({callee_row + 1}, 1)")
    editor.nvim.feedkeys(editor.nvim.replace_termcodes("<CR>", True, False, True), "x", False)
    assert editor.nvim.current.window.handle == code_win
    assert editor.nvim.current.line.startswith("def parse(text):")
    lines = _panel_shows(editor, "   " + ids["helper"] + "  function helper")  # graph context drawn
    assert lines[0] == " " + ids["parse"]
    assert " function parse" in lines
    assert any(line.endswith("method Loader.load") for line in lines)  # parse's caller
    # A wider editor (VimResized): the panel follows, up to panel.width.
    editor.nvim.options["columns"] = 200
    editor.wait_for(f"vim.api.nvim_win_get_width({panel_win}) == 48")
    # Toggle closes it.
    editor.nvim.command("Remora panel")
    assert editor.lua(f"return {PANEL_WIN}") is None
    assert editor.nvim.call("winlayout") == ["leaf", code_win]
    editor.assert_no_errors()


def test_panel_shows_events_pushed_from_python(editor_factory: Callable[..., Editor], project: Path) -> None:
    ids = _stored(project)
    editor = editor_factory("eager", cwd=project)
    open_file(editor, project / "models.py")
    _goto(editor, "def helper")
    editor.nvim.command("Remora panel")
    _panel_shows(editor, " function helper")
    store = Store.open(project)
    try:
        EventLog(store.connection).append(HumanChatEvent(to_agent=ids["helper"], message="add type hints"))
        EventLog(store.connection).append(HumanChatEvent(to_agent=ids["parse"], message="not for helper"))
    finally:
        store.close()
    editor.wait_for("vim.iter(vim.api.nvim_buf_get_lines(require('remora.panel.view').buf, 0, -1, false))"
                    ":any(function(l) return l:find('HumanChat add type hints', 1, true) ~= nil end)", 5)
    assert not any("not for helper" in line for line in editor.panel_lines())
    editor.assert_no_errors()


def test_panel_survives_window_churn(editor_factory: Callable[..., Editor], project: Path) -> None:
    editor = editor_factory("eager", cwd=project)
    open_file(editor, project / "models.py")
    _goto(editor, "def load")
    editor.nvim.command("Remora panel")
    _panel_shows(editor, " method Loader.load")
    # :only in the code window closes the panel; toggling opens it again.
    editor.nvim.command("only")
    assert editor.lua(f"return {PANEL_WIN}") is None
    editor.nvim.command("Remora panel")
    assert editor.lua(f"return {PANEL_WIN}") is not None
    assert len(editor.nvim.current.tabpage.windows) == 2
    # :q on the panel itself.
    editor.nvim.call("win_gotoid", editor.lua(f"return {PANEL_WIN}"))
    editor.nvim.command("quit")
    assert editor.lua(f"return {PANEL_WIN}") is None
    _goto(editor, "def parse")
    # A new tab: the panel is per tab; moving around there raises nothing.
    editor.nvim.command("Remora panel")
    editor.nvim.command("tabnew")
    assert editor.lua(f"return {PANEL_WIN}") is None
    editor.nvim.command("Remora panel")
    lines = editor.panel_lines()
    assert editor.lua(f"return {PANEL_WIN}") is not None
    assert lines  # shows the last node (or the hint when none)
    editor.nvim.command("only")  # panel closed in this tab
    editor.nvim.command("Remora panel")
    editor.nvim.call("win_gotoid", editor.lua(f"return {PANEL_WIN}"))
    editor.nvim.command("only")  # the panel is now the only window of the tab
    editor.nvim.command("Remora panel")  # closing it leaves an empty window
    assert len(editor.nvim.current.tabpage.windows) == 1
    editor.nvim.command("tabclose")
    editor.nvim.command("tabfirst")
    _goto(editor, "def helper")
    _panel_shows(editor, " function helper")
    editor.nvim.command("wincmd o")
    editor.nvim.command("Remora panel")
    _panel_shows(editor, " function helper")
    editor.assert_no_errors()


def test_hub_status_start_stop(editor_factory: Callable[..., Editor], project: Path) -> None:
    editor = editor_factory("eager", cwd=project)
    open_file(editor, project / "models.py")
    try:
        for action, running in (("status", False), ("start", True), ("status", True), ("stop", False)):
            editor.lua("require('remora.hub').last = nil")
            editor.nvim.command(f"Remora hub {action}")
            last = editor.wait_for("require('remora.hub').last", 15)
            assert last.get("running") is running, last
        assert "is not running" in editor.messages()
        assert f"remora-hub for {project.resolve()} stopped" in editor.messages()
    finally:
        stop_hub(project)


def test_a_dead_hub_is_noticed_and_restarted(editor_factory: Callable[..., Editor], project: Path) -> None:
    editor = editor_factory("eager", cwd=project, opts="{ hub = { autostart = true } }")
    status = "require('remora.rpc').call('hub', { root = vim.fn.getcwd(), action = 'status' })"
    try:
        open_file(editor, project / "models.py")
        first = editor.wait_for(f"{status}.running and {status}.pid", 15)
        editor.wait_for("(require('remora.hub').watched[vim.fn.resolve(vim.fn.getcwd())] or {}).running == true", 15)
        os.kill(first, signal.SIGKILL)
        editor.wait_for("vim.fn.execute('messages'):find('died; restarting it', 1, true) ~= nil", 15)
        second = editor.wait_for(f"{status}.running and {status}.pid", 15)
        assert second != first
        assert editor.messages().count("died; restarting it") == 1  # said once
    finally:
        stop_hub(project)


def test_hub_autostarts_on_first_use(editor_factory: Callable[..., Editor], project: Path) -> None:
    editor = editor_factory("eager", cwd=project, opts="{ hub = { autostart = true } }")
    try:
        open_file(editor, project / "models.py")
        editor.wait_for("require('remora.rpc').call('hub', { root = vim.fn.getcwd(), action = 'status' }).running",
                        15)
    finally:
        stop_hub(project)


@pytest.mark.parametrize("mode", ["eager"])
def test_panel_without_project_explains(editor_factory: Callable[..., Editor], tmp_path: Path, mode: str) -> None:
    editor = editor_factory(mode, cwd=tmp_path)
    (tmp_path / "loose.py").write_text("def f():\n    pass\n", encoding="utf-8")
    editor.nvim.command("edit loose.py")
    editor.nvim.command("Remora panel")
    assert editor.panel_lines()[:2] == [" Remora", " No node under the cursor."]
    editor.nvim.command("write")  # no project: the file is written untouched
    assert (tmp_path / "loose.py").read_text(encoding="utf-8") == "def f():\n    pass\n"
    editor.assert_no_errors()
