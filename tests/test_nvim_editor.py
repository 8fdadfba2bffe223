# ruff: noqa: F811 -- pytest fixtures imported from tests.nvim_harness are redefined as parameters
"""The editor as a daily user meets it (issue #11 items 1, 3, 10 and the Lua layout of #10 §6):
every module loads, the options schema is the vimdoc, commands act on the current buffer only,
the first command after start waits for the line map, errors are one "(remora)" line, syntax
errors are diagnostics."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pynvim

from tests.nvim_harness import REPO, Editor, editor_factory, open_file, project, remora_manifest  # noqa: F401
from tests.test_lua_layout import lua_modules

LOAD_ALL = """
local out = {}
for _, name in ipairs(...) do
  local ok, err = pcall(require, name)
  if not ok then out[#out + 1] = name .. ": " .. tostring(err) end
end
return out
"""


def test_every_lua_module_loads(editor_factory: Callable[..., Editor]) -> None:
    editor = editor_factory("eager")
    names = sorted(lua_modules())
    assert len(names) > 25
    assert editor.lua(LOAD_ALL, names) == []
    editor.assert_no_errors()


def test_options_schema_is_the_vimdoc_section(editor_factory: Callable[..., Editor]) -> None:
    editor = editor_factory("eager")
    generated = editor.lua("return require('remora.config').vimdoc()")
    doc = (REPO / "doc" / "remora.txt").read_text(encoding="utf-8")
    section = doc[doc.index("*remora-options*"): doc.index("*remora-highlights*")]
    assert "\n".join(generated) in section
    # Every option of the schema is validated: a wrong type names the option.
    for name in editor.lua("return vim.tbl_map(function(o) return o.name end, require('remora.config').schema)"):
        parts = name.split(".")
        opts = "{ " + " = { ".join(parts) + " = {} " + "}" * len(parts)
        error = editor.lua(f"local ok, err = pcall(require('remora.config').validate, {opts}); return err")
        assert error.startswith(f'(remora) setup: invalid option "{name}"'), (name, error)
    defaults = editor.lua("return require('remora.config').validate({})")
    assert defaults["anchors"]["mode"] == "compact" and defaults["diff"]["keys"]["accept"] == "ga"


def _remora_lines(editor: Editor) -> list[str]:
    return [line for line in editor.messages().splitlines() if line.strip()]


def run(editor: Editor, command: str) -> list[str]:
    """Run an Ex command as typed; what it printed (an error-level message included)."""
    editor.nvim.command("messages clear")
    try:
        editor.nvim.command(command)
    except pynvim.NvimError as error:
        return [str(error).removeprefix("Vim:")]
    return _remora_lines(editor)


def _human_chats(root: Path) -> int:
    connection = sqlite3.connect(root / ".remora" / "remora.db")
    try:
        return int(connection.execute("SELECT COUNT(*) FROM events WHERE event_type = 'HumanChat'").fetchone()[0])
    finally:
        connection.close()


def test_commands_never_act_on_a_node_of_another_buffer(
    editor_factory: Callable[..., Editor], project: Path, tmp_path: Path
) -> None:
    editor = editor_factory("eager", cwd=project)
    open_file(editor, project / "models.py")
    editor.nvim.command("call cursor(search('def parse'), 5)")
    editor.nvim.command("Remora panel")
    editor.wait_for("require('remora.panel').state.node ~= nil and require('remora.panel').state.node.name == 'parse'")
    outside = tmp_path / "outside.py"
    outside.write_text("def lonely():\n    return 1\n", encoding="utf-8")
    notes = tmp_path / "notes.md"
    notes.write_text("# notes\n", encoding="utf-8")
    editor.nvim.command("wincmd p")
    for setup in ("enew | setlocal filetype=python", f"edit {notes}", f"edit {outside}"):
        editor.nvim.command(setup)
        for command in ("Remora chat hi", "Remora tools", "Remora stop", "Remora accept"):
            lines = run(editor, command)
            assert len(lines) == 1, (setup, command, lines)
            assert lines[0].startswith("(remora) not a Python buffer of a Remora project"), lines
    assert _human_chats(project) == 0
    editor.nvim.command(f"edit {project / 'models.py'}")
    assert run(editor, "Remora hub bogus") == ['(remora) unknown hub action "bogus" (status, start, restart, stop)']
    assert "stack traceback" not in editor.messages()


def test_first_command_after_a_lazy_start_waits_for_the_line_map(
    editor_factory: Callable[..., Editor], project: Path
) -> None:
    # lazy.nvim with cmd = "Remora": the plugin is not loaded when the file is opened.
    editor = editor_factory("lazy", cwd=project)
    editor.nvim.command(f"edit {project / 'models.py'}")
    editor.nvim.command("call cursor(search('def helper'), 5)")
    assert editor.lua("return package.loaded['remora.linemap'] == nil")
    editor.nvim.command("Remora stop")  # the very first :Remora command
    node = editor.lua("return require('remora.linemap').node_at(vim.api.nvim_get_current_buf(), vim.fn.line('.'))")
    assert node["name"] == "helper"
    editor.wait_for("vim.fn.execute('messages'):find('nothing is running for " + node["id"] + "', 1, true) ~= nil", 20)
    assert "stack traceback" not in editor.messages()
    assert "no indexed node" not in editor.messages()


def test_syntax_errors_are_diagnostics(editor_factory: Callable[..., Editor], project: Path) -> None:
    editor = editor_factory("eager", cwd=project)
    open_file(editor, project / "models.py")
    row = editor.lua("return vim.fn.search('def parse')")
    editor.lua(f"vim.api.nvim_buf_set_lines(0, {row}, {row}, false, {{ '    return (((' }})")
    editor.lua("require('remora.linemap').refresh(0)")
    found = editor.wait_for("#vim.diagnostic.get(0, { namespace = vim.api.nvim_create_namespace('remora') }) > 0"
                            " and vim.diagnostic.get(0, { namespace = vim.api.nvim_create_namespace('remora') })")
    assert found[0]["source"] == "remora" and found[0]["severity"] == 1
    assert row <= found[0]["lnum"] <= row + 3, (row, found)
    assert "syntax error" in found[0]["message"] or "missing" in found[0]["message"]
    editor.lua(f"vim.api.nvim_buf_set_lines(0, {row}, {row + 1}, false, {{}})")
    editor.lua("require('remora.linemap').refresh(0)")
    editor.wait_for("#vim.diagnostic.get(0, { namespace = vim.api.nvim_create_namespace('remora') }) == 0")
    editor.assert_no_errors()


RECORD_REQUESTS = """
local rpc = require('remora.rpc')
_G.sent = {}
local request = rpc.request
rpc.request = function(method, params, callback)
  table.insert(_G.sent, { method = method, params = params })
  return request(method, params, callback)
end
"""


def test_chat_new_starts_a_new_conversation(editor_factory: Callable[..., Editor], project: Path) -> None:
    editor = editor_factory("eager", cwd=project)
    open_file(editor, project / "models.py")
    editor.nvim.command("call cursor(search('def parse'), 5)")
    editor.lua(RECORD_REQUESTS)
    editor.nvim.command("Remora chat --new start over")
    editor.nvim.command("Remora chat and go on")
    chats = editor.lua("return vim.tbl_filter(function(r) return r.method == 'agent_chat' end, _G.sent)")
    assert [(c["params"]["message"], c["params"].get("new_conversation")) for c in chats] == [
        ("start over", True), ("and go on", None)]
    assert editor.nvim.call("getcompletion", "Remora chat ", "cmdline") == ["--new"]


def test_chat_box_is_a_multi_line_markdown_buffer(editor_factory: Callable[..., Editor], project: Path) -> None:
    editor = editor_factory("eager", cwd=project)
    open_file(editor, project / "models.py")
    editor.nvim.command("call cursor(search('def parse'), 5)")
    editor.lua(RECORD_REQUESTS)
    editor.nvim.input(":Remora chat<CR>")  # typed, as a person would (nvim_input)
    editor.wait_for("vim.api.nvim_get_mode().mode == 'i'")
    assert editor.nvim.current.buffer.options["filetype"] == "markdown"
    config = editor.lua("return vim.api.nvim_win_get_config(0)")
    assert config["relative"] == "editor" and "Chat with function parse" in str(config["title"])
    editor.nvim.input("first line<CR>second line<Esc>")
    editor.wait_for("vim.api.nvim_get_mode().mode == 'n'")
    assert editor.nvim.current.buffer[:] == ["first line", "second line"]
    editor.nvim.input("<CR>")  # <CR> in normal mode sends
    editor.wait_for("require('remora.input').current == nil")
    chats = editor.lua("return vim.tbl_filter(function(r) return r.method == 'agent_chat' end, _G.sent)")
    assert [c["params"]["message"] for c in chats] == ["first line\nsecond line"]
    # q closes without sending.
    editor.nvim.input(":Remora chat<CR>nothing<Esc>q")
    editor.wait_for("require('remora.input').current == nil and vim.api.nvim_get_mode().mode == 'n'")
    assert len(editor.lua("return vim.tbl_filter(function(r) return r.method == 'agent_chat' end, _G.sent)")) == 1


def test_config_changes_apply_without_restart(editor_factory: Callable[..., Editor], project: Path) -> None:
    editor = editor_factory("eager", cwd=project)
    open_file(editor, project / "models.py")
    config = project / ".remora" / "config.toml"
    editor.wait_for("require('remora.config_watch').watched[vim.fn.resolve(vim.fn.getcwd())] ~= nil")
    config.write_text(config.read_text(encoding="utf-8") + "[index]\nanchor_column = 100\n", encoding="utf-8")
    editor.wait_for("(require('remora.config_watch').last or {}).ok == true", 15)
    assert "configuration of" in editor.messages() and "reloaded" in editor.messages()
    # The new column is used by the next anchors a save adds.
    editor.lua("vim.api.nvim_buf_set_lines(0, -1, -1, false, { '', '', 'def added(x):', '    return x' })")
    editor.nvim.command("write")
    added = next(line for line in editor.nvim.current.buffer[:] if line.startswith("def added(x):"))
    assert len(added) == 100, added
    # A bad edit keeps the last good configuration and says why.
    editor.lua("require('remora.config_watch').last = nil")
    config.write_text("[index]\nanchor_column = 'wide'\n", encoding="utf-8")
    last = editor.wait_for("require('remora.config_watch').last", 15)
    assert last["ok"] is False and "anchor_column" in last["message"] and "last good configuration" in last["message"]
    assert "stack traceback" not in editor.messages()
