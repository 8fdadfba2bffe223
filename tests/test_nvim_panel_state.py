# ruff: noqa: F811 -- pytest fixtures imported from tests.nvim_harness are redefined as parameters
"""The panel's State section (the hub's node state from ``node_state``) and its markdown key."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.nvim_harness import (  # noqa: F401 -- fixtures
    Editor,
    editor_factory,
    open_file,
    project,
    remora_manifest,
)
from tests.test_nvim_panel import _goto, _panel_shows

PANEL_WIN = "require('remora.panel.view').win()"
REMORA = [sys.executable, "-m", "remora_core.cli"]


def _press(editor: Editor, keys: str) -> None:
    editor.nvim.call("win_gotoid", editor.lua(f"return {PANEL_WIN}"))
    editor.nvim.feedkeys(editor.nvim.replace_termcodes(keys, True, False, True), "x", False)


def test_panel_state_section_and_markdown_key(editor_factory: Callable[..., Editor], project: Path) -> None:
    editor = editor_factory("eager", cwd=project)
    open_file(editor, project / "models.py")
    code_win = editor.nvim.current.window.handle
    _goto(editor, "def helper")
    editor.nvim.command("Remora panel")
    # No state yet: one dim line says so.
    lines = _panel_shows(editor, "   (not built by the hub yet)")
    assert " State" in lines
    # `m` without a state file explains instead of opening anything.
    _press(editor, "m")
    assert "has not built the state of" in editor.messages()
    assert len(editor.nvim.current.tabpage.windows) == 2
    # The hub's update (the real CLI) builds the state; `r` refreshes the panel.
    subprocess.run([*REMORA, "update"], cwd=project, check=True, capture_output=True, timeout=120)
    _press(editor, "r")
    lines = _panel_shows(editor, "   freshness: fresh")
    assert "   signature: def helper(text)" in lines
    assert "   complexity: 1" in lines
    assert "   tests (0)" in lines
    assert "   m open the state file" in lines
    state_row = lines.index("   freshness: fresh")
    assert lines.index(" State") < state_row < lines.index(" Status: ● idle")
    # `m` opens the node's markdown file in a split above the code window.
    _press(editor, "m")
    markdown = (project / ".agentfs" / "nodes" / "models.py" / "helper.md").resolve()
    assert Path(editor.nvim.current.buffer.name).resolve() == markdown
    assert editor.nvim.current.buffer[0] == "# helper"
    windows = [win.handle for win in editor.nvim.current.tabpage.windows]
    assert len(windows) == 3 and code_win in windows
    # Pressing it again reuses that window.
    _press(editor, "m")
    assert len(editor.nvim.current.tabpage.windows) == 3
    assert Path(editor.nvim.current.buffer.name).resolve() == markdown
    editor.assert_no_errors()


def test_panel_markdown_key_can_be_changed(editor_factory: Callable[..., Editor], project: Path) -> None:
    subprocess.run([*REMORA, "update"], cwd=project, check=True, capture_output=True, timeout=120)
    editor = editor_factory("eager", cwd=project, opts="{ hub = { autostart = false }, panel = { keys = { markdown = 'M' } } }")
    open_file(editor, project / "models.py")
    _goto(editor, "def parse")
    editor.nvim.command("Remora panel")
    lines = _panel_shows(editor, "   M open the state file")
    assert "   signature: def parse(text)" in lines
    _press(editor, "M")
    assert Path(editor.nvim.current.buffer.name).name == "parse.md"
    editor.assert_no_errors()


def test_panel_state_goes_stale_and_follows_the_hub_events(editor_factory: Callable[..., Editor],
                                                           project: Path) -> None:
    subprocess.run([*REMORA, "update"], cwd=project, check=True, capture_output=True, timeout=120)
    editor = editor_factory("eager", cwd=project)
    open_file(editor, project / "models.py")
    row = _goto(editor, "return text.strip()")
    editor.nvim.command("Remora panel")
    _panel_shows(editor, "   freshness: fresh")
    # The body changes: the state no longer matches the source.
    editor.nvim.current.buffer[row - 1] = "    return text.strip().lower()"
    editor.nvim.command("write")
    _press(editor, "r")
    _panel_shows(editor, "   freshness: stale")
    # The hub's update writes a NodeStateUpdated event about the node: the panel fetches the new state
    # by itself (no `r`), with the generated test's result.
    subprocess.run([*REMORA, "update"], cwd=project, check=True, capture_output=True, timeout=120)
    test_line = "     passed  .agentfs/tests/test_models_helper.py::test_helper_is_importable"
    lines = _panel_shows(editor, test_line, timeout=20)
    assert "   freshness: fresh" in lines and "   tests (1)" in lines
    assert "   complexity: 1  (1 → 1)" in lines
    editor.assert_no_errors()
