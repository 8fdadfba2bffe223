# ruff: noqa: F811 -- pytest fixtures imported from tests.nvim_harness are redefined as parameters
"""Install and host: registration (manifest, eager, lazy, after a foreign :UpdateRemotePlugins),
:checkhealth remora, setup() validation, the :Remora command and its completion."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pynvim
import pytest

from tests.nvim_harness import (  # noqa: F401 -- fixtures
    Editor,
    editor_factory,
    manifest_path,
    open_file,
    project,
    remora_manifest,
    update_remote_plugins,
)

REGISTRATIONS = """
local n = 0
for _, host in ipairs({ "python3", "remora_python3" }) do
  for _, p in ipairs(vim.fn["remote#host#PluginsForHost"](host)) do
    if p.path:find("remora_host", 1, true) then n = n + 1 end
  end
end
return n
"""


def test_manifest_specs_match_lua_self_registration(remora_manifest: Path, editor_factory: Callable[..., Editor]) -> None:
    text = remora_manifest.read_text(encoding="utf-8")
    assert "/rplugin/python3/remora_host'" in text
    assert "{'sync': v:true, 'name': 'RemoraCall', 'type': 'function', 'opts': {}}" in text
    assert "{'sync': v:false, 'name': 'RemoraNotify', 'type': 'function', 'opts': {}}" in text
    editor = editor_factory("eager")
    specs = editor.lua("return require('remora.host').SPECS")
    assert [(spec["name"], bool(spec["sync"])) for spec in specs] == [("RemoraCall", True), ("RemoraNotify", False)]
    assert editor.lua("return require('remora.host').how") == "manifest"
    assert editor.lua(REGISTRATIONS) == 1
    assert editor.lua("return require('remora.rpc').call('ping')") == "pong"
    editor.assert_no_errors()


def _foreign_manifest(home: Path) -> None:
    """Another plugin's :UpdateRemotePlugins, run while Remora was not on the runtimepath."""
    text = update_remote_plugins(home, "none")
    assert "remora_host" not in text


def test_eager_registers_after_foreign_update_remote_plugins(
    tmp_path: Path, editor_factory: Callable[..., Editor], project: Path
) -> None:
    editor = editor_factory("eager", manifest=False, name="eager")
    editor.close()
    _foreign_manifest(editor.home)  # rewrite this home's manifest without Remora
    editor = editor_factory("eager", manifest=False, name="eager2")
    (editor.home / "data" / "nvim").mkdir(parents=True, exist_ok=True)
    assert not manifest_path(editor.home).exists() or "remora_host" not in manifest_path(editor.home).read_text()
    assert editor.lua("return require('remora.host').how") == "registered"
    assert editor.lua(REGISTRATIONS) == 1
    open_file(editor, project / "models.py")
    assert editor.lua("return require('remora.rpc').call('ping')") == "pong"
    editor.lua("require('remora.host').ensure()")  # idempotent: never twice
    assert editor.lua(REGISTRATIONS) == 1
    editor.assert_no_errors()


def test_lazy_loaded_after_foreign_update_remote_plugins(
    tmp_path: Path, editor_factory: Callable[..., Editor], project: Path
) -> None:
    home = tmp_path / "lazy-home"
    _foreign_manifest(home)
    foreign = manifest_path(home).read_text(encoding="utf-8")
    editor = editor_factory("lazy", manifest=False, name="lazy")
    manifest_path(editor.home).parent.mkdir(parents=True, exist_ok=True)
    manifest_path(editor.home).write_text(foreign, encoding="utf-8")
    editor.close()
    # A fresh lazy-configured Neovim over the foreign manifest.
    from tests.nvim_harness import init_lua, start_nvim

    editor = start_nvim(home, init_lua("lazy"), project)
    try:
        assert editor.lua("return package.loaded['remora'] == nil")
        editor.nvim.command("edit models.py")
        editor.nvim.command("call cursor(11, 5)")
        editor.nvim.command("Remora panel")  # loads the plugin (lazy), registers, opens the panel
        assert editor.lua("return require('remora.host').how") == "registered"
        assert editor.lua(REGISTRATIONS) == 1
        editor.wait_for("vim.tbl_contains(require('remora.panel.view').buf and "
                        "vim.api.nvim_buf_get_lines(require('remora.panel.view').buf, 0, -1, false) or {}, "
                        "' method Loader.load')", 15)
        editor.wait_for(  # the panel may draw the node before its graph context arrives
            "(function() local b = require('remora.panel.view').buf; if not b then return false end "
            "for _, l in ipairs(vim.api.nvim_buf_get_lines(b, 0, -1, false)) do "
            "if l:find('Callees (1)', 1, true) then return true end end return false end)()",
            15,
        )
        editor.assert_no_errors()
    finally:
        editor.close()


def test_lazy_load_while_python3_host_already_runs_uses_a_clone_host(
    editor_factory: Callable[..., Editor], project: Path
) -> None:
    editor = editor_factory("lazy", manifest=False, cwd=project)
    editor.nvim.call("remote#host#Require", "python3")  # another plugin started the shared host
    assert editor.nvim.call("remote#host#IsRunning", "python3") == 1
    editor.nvim.command("edit models.py")
    editor.nvim.command("Remora panel")
    assert editor.lua("return require('remora.host').how") == "clone"
    assert editor.lua(REGISTRATIONS) == 1
    assert editor.lua("return require('remora.rpc').call('ping')") == "pong"
    editor.assert_no_errors()


class _Models(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"object": "list", "data": [{"id": "test-model", "object": "model"}]}'
        self.send_response(200 if self.path == "/v1/models" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def model_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Models)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _health(editor: Editor) -> str:
    editor.nvim.command("checkhealth remora")
    return "\n".join(editor.nvim.current.buffer[:])


def test_checkhealth_reports_what_is_there_and_what_is_missing(
    editor_factory: Callable[..., Editor], project: Path, model_server: str
) -> None:
    editor = editor_factory("eager", cwd=project)
    open_file(editor, project / "models.py")
    report = _health(editor)
    assert "OK Neovim 0.11" in report
    assert "remora_core and its dependencies are importable" in report
    assert "registered on host \"python3\"" in report
    assert "database schema version" in report
    assert "remora-hub is not running" in report
    assert "reachable: no answer from 'http://127.0.0.1:9/v1'" in report  # nothing listens on port 9 (doctor)
    # Point the config at a real OpenAI-style server: reachable, model listed.
    (project / ".remora" / "config.toml").write_text(
        f'[llm]\nbase_url = "{model_server}"\nmodel = "test-model"\n', encoding="utf-8"
    )
    editor.nvim.command("tabclose")
    report = _health(editor)
    assert f"reachable: {model_server} answers" in report
    assert "model: 'test-model' is served" in report


def test_checkhealth_names_a_missing_host_python(editor_factory: Callable[..., Editor], project: Path) -> None:
    editor = editor_factory("eager", cwd=project)
    editor.nvim.command("let g:python3_host_prog = '/nonexistent/python'")
    report = _health(editor)
    assert "g:python3_host_prog = /nonexistent/python is not executable" in report
    assert "require('remora.build').run()" in report


def test_setup_validates_every_option_and_names_the_bad_one(editor_factory: Callable[..., Editor]) -> None:
    editor = editor_factory("eager")
    cases = {
        "{ panel = { width = 'wide' } }": 'invalid option "panel.width"',
        "{ anchors = { mode = 'blink' } }": 'invalid option "anchors.mode"',
        "{ keymaps = { panel = 3 } }": 'invalid option "keymaps.panel"',
        "{ hub = { autostart = 'yes' } }": 'invalid option "hub.autostart"',
        "{ debounce_ms = -1 }": 'invalid option "debounce_ms"',
        "{ panel = { widht = 40 } }": 'unknown option "panel.widht"',
        "{ keymaps = { c = 'c' } }": 'unknown option "keymaps.c"',
    }
    for opts, expected in cases.items():
        with pytest.raises(pynvim.NvimError) as caught:
            editor.lua(f"require('remora').setup({opts})")
        assert "(remora) setup: " + expected in str(caught.value), str(caught.value)
    merged = editor.lua("return require('remora').setup({ panel = { width = 60 }, anchors = { mode = 'conceal' } })")
    assert merged["panel"]["width"] == 60 and merged["anchors"]["mode"] == "conceal"
    assert merged["hub"]["autostart"] is True
    # No default mappings: nothing shadows built-ins.
    assert editor.nvim.call("maparg", "c", "n") == ""
    assert all(value is False for value in merged["keymaps"].values())


def test_remora_command_completion_and_subcommand_errors(editor_factory: Callable[..., Editor]) -> None:
    editor = editor_factory("eager")
    subs = editor.nvim.call("getcompletion", "Remora ", "cmdline")
    assert subs == ["panel", "chat", "stop", "accept", "reject", "next", "prev", "ghost", "tools", "diff",
                    "proposals", "index", "hub", "events", "ids", "health", "serve"]
    assert editor.nvim.call("getcompletion", "Remora hub ", "cmdline") == ["status", "start", "restart", "stop"]
    assert editor.nvim.call("getcompletion", "Remora pa", "cmdline") == ["panel"]
    with pytest.raises(pynvim.NvimError, match=r"^Vim:\(remora\) not a Python buffer of a Remora project"):
        editor.nvim.command("Remora chat")
    with pytest.raises(pynvim.NvimError, match='unknown subcommand "frobnicate"'):
        editor.nvim.command("Remora frobnicate")


def test_checkhealth_on_a_fresh_start(editor_factory: Callable[..., Editor], project: Path) -> None:
    # Nothing used yet: the remote functions are defined on first use, which is fine.
    editor = editor_factory("eager", cwd=project, opts="{}")
    assert editor.nvim.call("exists", "*RemoraCall") == 0
    report = _health(editor)
    assert "is not defined" not in report and "neither defined" not in report
    assert "function RemoraCall() is defined on first use" in report or "function RemoraCall() is defined" in report
    assert f"project root: {project.resolve()}" in report
    assert "hub.autostart is on" in report and "enable hub.autostart" not in report


def test_build_runs_without_freezing_and_names_a_failure(editor_factory: Callable[..., Editor], tmp_path: Path) -> None:
    fake = tmp_path / "fake-python"
    fake.write_text("#!/bin/sh\necho 'Collecting remora'\nsleep 1\necho 'ERROR: no matching distribution' >&2\n"
                    "exit 1\n", encoding="utf-8")
    fake.chmod(0o755)
    editor = editor_factory("eager")
    editor.nvim.command(f"let g:python3_host_prog = '{fake}'")
    editor.lua("_G.build_done = nil; require('remora.build').run(function(ok) _G.build_done = { ok } end)")
    # Neovim answers at once while pip runs.
    assert editor.lua("return require('remora.build').job ~= nil and _G.build_done == nil")
    editor.wait_for("_G.build_done ~= nil", 20)
    assert editor.lua("return _G.build_done[1]") is False
    messages = editor.messages()
    assert "(remora) build: installing remora_core into" in messages
    assert "(remora) build: Collecting remora" in messages
    assert "failed (exit 1)" in messages and "ERROR: no matching distribution" in messages
