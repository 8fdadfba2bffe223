# ruff: noqa: F811 -- pytest fixtures imported from tests.nvim_harness are redefined as parameters
"""Anchors in buffers: added on BufWritePre for new nodes, joined to the user's last undo step,
cursor and view unchanged; dimmed / concealed; the node under the cursor from the line map."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from remora_core.store.store import Store
from tests.nvim_harness import (  # noqa: F401 -- fixtures
    Editor,
    editor_factory,
    make_project,
    open_file,
    project,
    remora_manifest,
)

ANCHOR = re.compile(r"\s{4,}# (rm_[a-z0-9]{8})$")


def _type(editor: Editor, keys: str) -> None:
    """Type keys as a user would (one undoable change per insert)."""
    editor.nvim.feedkeys(editor.nvim.replace_termcodes(keys, True, False, True), "nx", False)


def test_write_anchors_new_node_in_the_users_undo_step(editor_factory: Callable[..., Editor], project: Path) -> None:
    editor = editor_factory("eager", cwd=project)
    open_file(editor, project / "models.py")
    original = editor.nvim.current.buffer[:]
    _type(editor, "Go<CR>def added(x):<CR>return x<Esc>")
    editor.nvim.command("call cursor(11, 9)")
    editor.nvim.command("call winrestview({'topline': 3})")
    before_view = editor.nvim.call("winsaveview")
    editor.nvim.command("write")
    lines = editor.nvim.current.buffer[:]
    added = [line for line in lines if line.startswith("def added(x):")]
    assert len(added) == 1 and ANCHOR.search(added[0]), added
    assert len(added[0]) == 150  # right-aligned to the default column
    new_id = ANCHOR.search(added[0]).group(1)
    # Existing anchors untouched (same text), cursor and view unchanged.
    assert lines[: len(original)] == original
    after_view = editor.nvim.call("winsaveview")
    assert (after_view["lnum"], after_view["col"], after_view["topline"]) == (
        before_view["lnum"], before_view["col"], before_view["topline"])
    assert (project / "models.py").read_text(encoding="utf-8").splitlines() == lines
    assert editor.nvim.current.buffer.options["modified"] is False
    # One `u` undoes the anchor and the user's last change together.
    editor.nvim.command("undo")
    assert editor.nvim.current.buffer[:] == original
    # The new id is the one the index will keep.
    store = Store.open(project)
    try:
        assert store.node(new_id) is None  # not indexed yet (no hub in this test)
    finally:
        store.close()
    editor.assert_no_errors()


def test_write_uses_stored_ids_for_nodes_that_lost_their_anchor(
    editor_factory: Callable[..., Editor], project: Path
) -> None:
    store = Store.open(project)
    try:
        stored = {row.qualname: row.id for row in store.nodes_in_file("models.py", active_only=True)}
    finally:
        store.close()
    editor = editor_factory("eager", cwd=project)
    open_file(editor, project / "models.py")
    row = next(i for i, line in enumerate(editor.nvim.current.buffer[:]) if line.startswith("def parse"))
    # The user deletes parse's anchor (and the file anchor line 1).
    editor.nvim.current.buffer[row] = "def parse(text):"
    editor.nvim.command("1delete")
    editor.nvim.command("call cursor(5, 1)")
    editor.nvim.command("write")
    lines = editor.nvim.current.buffer[:]
    assert lines[0] == f"# remora-file: {stored['models.py']}"
    parse_line = next(line for line in lines if line.startswith("def parse"))
    assert parse_line.endswith(f"# {stored['parse']}")
    # The file-anchor line was inserted above the cursor: the cursor stays on the same text.
    assert editor.nvim.call("line", ".") == 6
    editor.assert_no_errors()


def test_file_with_syntax_error_gets_no_anchors(editor_factory: Callable[..., Editor], project: Path) -> None:
    editor = editor_factory("eager", cwd=project)
    open_file(editor, project / "models.py")
    _type(editor, "Go<CR>def broken(:<CR>pass<Esc>")
    before = editor.nvim.current.buffer[:]
    editor.nvim.command("write")
    assert editor.nvim.current.buffer[:] == before
    editor.assert_no_errors()


def test_anchors_compact_then_dimmed(editor_factory: Callable[..., Editor], project: Path) -> None:
    editor = editor_factory("eager", cwd=project)
    open_file(editor, project / "models.py")
    marks = editor.lua("return require('remora.ui.anchors').marks(0)")
    lines = editor.nvim.current.buffer[:]
    anchored_rows = [i for i, line in enumerate(lines) if "rm_" in line]
    assert sorted(mark[1] for mark in marks) == anchored_rows
    # Default "compact": padding + anchor concealed, the id as dim virtual text at the right edge,
    # the file-anchor line hidden as a whole line.
    assert all(mark[3].get("conceal") == "" for mark in marks)
    file_mark = next(mark for mark in marks if mark[1] == 0)
    assert file_mark[3].get("conceal_lines") == ""
    row = next(i for i, line in enumerate(lines) if line.startswith("def parse"))
    mark = next(mark for mark in marks if mark[1] == row)
    anchor = lines[row].split("# ")[-1]
    assert mark[3]["virt_text"] == [[anchor, "RemoraAnchorId"]] and mark[3]["virt_text_pos"] == "eol"
    editor.lua("require('remora.config').options.anchors.id = 'right'; require('remora.anchors').draw(0)")
    mark = next(mark for mark in editor.lua("return require('remora.ui.anchors').marks(0)") if mark[1] == row)
    assert mark[3]["virt_text_pos"] == "right_align"
    editor.lua("require('remora.config').options.anchors.id = 'none'; require('remora.anchors').draw(0)")
    mark = next(mark for mark in editor.lua("return require('remora.ui.anchors').marks(0)") if mark[1] == row)
    assert "virt_text" not in mark[3] and mark[3].get("conceal") == ""
    assert mark[2] == len(lines[row].split("#")[0].rstrip())  # the concealed span starts at the padding
    assert editor.nvim.current.window.options["conceallevel"] == 2
    assert editor.nvim.current.window.options["concealcursor"] == "n"  # the cursor line stays concealed
    editor.nvim.command("Remora ids")
    marks = editor.lua("return require('remora.ui.anchors').marks(0)")
    assert all(mark[3]["hl_group"] == "RemoraAnchor" and "conceal" not in mark[3] for mark in marks)
    col = lines[row].index("# rm_")
    assert editor.lua(f"return vim.inspect_pos(0, {row}, {col}).extmarks[1].opts.hl_group") == "RemoraAnchor"
    editor.nvim.command("Remora ids")
    marks = editor.lua("return require('remora.ui.anchors').marks(0)")
    assert all(mark[3].get("conceal") == "" for mark in marks)
    editor.assert_no_errors()


HEIGHT = "local row = ...; return vim.api.nvim_win_text_height(0, { start_row = row, end_row = row }).all"


def test_anchors_never_wrap_a_def_line(editor_factory: Callable[..., Editor], project: Path) -> None:
    editor = editor_factory("eager", cwd=project, opts="{ hub = { autostart = false }, anchors = { mode = 'dim' } }")
    open_file(editor, project / "models.py")
    lines = editor.nvim.current.buffer[:]
    def_rows = [i for i, line in enumerate(lines) if "# rm_" in line and not line.startswith("# remora-file")]
    assert def_rows and all(len(lines[row]) > 120 for row in def_rows)  # the anchors end at column 150
    for columns in (80, 120):
        editor.nvim.options["columns"] = columns
        editor.nvim.command("set wrap")
        editor.lua("require('remora.config').options.anchors.mode = 'dim'; require('remora.anchors').draw(0)")
        assert all(editor.lua(HEIGHT, row) == 2 for row in def_rows)  # what the issue saw
        editor.lua("require('remora.config').options.anchors.mode = 'compact'; require('remora.anchors').draw(0)")
        assert editor.nvim.current.window.width == columns
        assert [editor.lua(HEIGHT, row) for row in def_rows] == [1] * len(def_rows), columns
        # The concealed file-anchor line takes no screen line (unless the cursor is on it).
        editor.nvim.command("normal! G")
        assert editor.lua(HEIGHT, 0) == 0
        # The body line under a def starts on the next screen row: nothing wrapped in between.
        editor.nvim.command("redraw")
        first = def_rows[0]
        assert editor.lua(f"return vim.fn.screenpos(0, {first + 2}, 1).row - vim.fn.screenpos(0, {first + 1}, 1).row") \
            in (0, 1)
    editor.assert_no_errors()


def test_node_under_cursor_from_the_line_map(editor_factory: Callable[..., Editor], project: Path) -> None:
    store = Store.open(project)
    try:
        stored = {row.qualname: row.id for row in store.nodes_in_file("models.py", active_only=True)}
    finally:
        store.close()
    editor = editor_factory("eager", cwd=project)
    open_file(editor, project / "models.py")

    def node_at(line: int) -> dict:
        editor.nvim.command(f"call cursor({line}, 1)")
        return editor.lua("return require('remora').current_node()")

    lines = editor.nvim.current.buffer[:]
    load_row = next(i for i, line in enumerate(lines) if "def load" in line) + 1
    assert node_at(load_row + 1)["qualname"] == "Loader.load"
    assert node_at(load_row + 1)["id"] == stored["Loader.load"]
    assert node_at(load_row - 1)["qualname"] == "Loader"  # the blank line between methods
    assert node_at(2)["type"] == "file" and node_at(2)["id"] == stored["models.py"]
    # A typed change is picked up after the debounce, without any RPC per cursor move.
    _type(editor, "Go<CR>def fresh():<CR>return 2<Esc>")
    editor.wait_for("(require('remora').current_node() or {}).name == 'fresh'", 5)
    node = editor.lua("return require('remora').current_node()")
    assert node["type"] == "function" and node.get("id") is None  # new, not anchored yet
    editor.assert_no_errors()


CURRENT = ("(function() local b = vim.api.nvim_get_current_buf(); local m = require('remora.linemap').maps[b];"
           " return m ~= nil and m.tick == vim.api.nvim_buf_get_changedtick(b) end)()")
COUNT_CALLS = """
local rpc = require('remora.rpc')
_G.sync_calls = {}
local call = rpc.call
rpc.call = function(method, ...) table.insert(_G.sync_calls, method); return call(method, ...) end
"""


def test_save_applies_the_line_maps_edits_without_a_parse(editor_factory: Callable[..., Editor], project: Path) -> None:
    editor = editor_factory("eager", cwd=project)
    open_file(editor, project / "models.py")
    editor.lua(COUNT_CALLS)
    _type(editor, "Go<CR>def added(x):<CR>return x<Esc>")
    editor.wait_for(CURRENT)  # the user paused: the map of this text arrived (with its edits)
    editor.nvim.command("write")
    added = [line for line in editor.nvim.current.buffer[:] if line.startswith("def added(x):")]
    assert len(added) == 1 and ANCHOR.search(added[0]), added
    assert editor.lua("return _G.sync_calls") == []  # no RPC, no parse on BufWritePre
    assert (project / "models.py").read_text(encoding="utf-8").splitlines() == editor.nvim.current.buffer[:]
    editor.nvim.command("undo")
    assert not any(line.startswith("def added") for line in editor.nvim.current.buffer[:])
    editor.assert_no_errors()


def test_a_big_buffer_saved_before_its_map_gets_anchors_after(
    editor_factory: Callable[..., Editor], project: Path
) -> None:
    editor = editor_factory("eager", cwd=project)
    open_file(editor, project / "models.py")
    editor.lua(COUNT_CALLS + "require('remora.anchors').SYNC_LINES = 0")  # every buffer counts as big
    _type(editor, "Go<CR>def later(x):<CR>return x<Esc>")
    editor.nvim.command("write")  # at once: the map of this text has not arrived yet
    assert editor.lua("return _G.sync_calls") == []
    assert any(line.startswith("def later(x):") and "# rm_" not in line
               for line in (project / "models.py").read_text(encoding="utf-8").splitlines())
    editor.wait_for("vim.fn.execute('messages'):find('anchors added to models.py after its write', 1, true) ~= nil")
    added = [line for line in editor.nvim.current.buffer[:] if line.startswith("def later(x):")]
    assert ANCHOR.search(added[0]) and editor.nvim.current.buffer.options["modified"] is True
    editor.assert_no_errors()
