# ruff: noqa: F811 -- pytest fixtures imported from tests.nvim_harness are redefined as parameters
"""``:Remora serve`` in a real headless Neovim: starts ``remora serve`` for the project, opens the
dashboard URL (with the token in its fragment) and stops it again."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.nvim_harness import (  # noqa: F401 -- fixtures
    Editor,
    editor_factory,
    make_project,
    remora_manifest,
)
from tests.service_helpers import free_port


def test_remora_serve_starts_opens_and_stops(editor_factory: Callable[..., Editor], tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    editor = editor_factory("eager", cwd=root)
    editor.nvim.command(f"edit {root / 'models.py'}")
    port = free_port()
    editor.lua(f"vim.g.remora_serve_port = {port}; require('remora.serve').opener = function(url) vim.g.remora_opened = url end")
    editor.nvim.command("Remora serve")
    url = editor.wait_for("vim.g.remora_opened", 90)
    token = (root / ".remora" / "service.token").read_text().strip()
    assert url == f"http://127.0.0.1:{port}/#token={token}"
    assert httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=10).json()["root"] == str(root.resolve())
    editor.nvim.command("Remora serve stop")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1)
        except httpx.HTTPError:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("remora serve still answers after :Remora serve stop")
    assert editor.lua("return next(require('remora.serve').jobs) == nil")
    editor.assert_no_errors()
