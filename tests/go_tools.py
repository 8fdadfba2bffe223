"""Running Debian's ``go`` / ``gofmt`` from tests: skipped when absent, unless REMORA_REQUIRE_GO=1."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def require_go() -> str:
    """The ``go`` executable; skips the test when it is missing (fails under REMORA_REQUIRE_GO=1)."""
    found = shutil.which("go")
    if found is None:
        if os.environ.get("REMORA_REQUIRE_GO") == "1":
            pytest.fail("REMORA_REQUIRE_GO=1 but no `go` on PATH (apt-get install golang-go)")
        pytest.skip("no `go` on PATH (Debian: apt-get install golang-go)")
    return found


def go_env(tmp: Path) -> dict[str, str]:
    """An offline module-mode environment with its caches under ``tmp``."""
    env = dict(os.environ)
    env.update(
        {
            "GOFLAGS": "-mod=mod",
            "GOPROXY": "off",
            "GO111MODULE": "on",
            "GOCACHE": str(tmp / "gocache"),
            "GOPATH": str(tmp / "gopath"),
            "GOTOOLCHAIN": "local",
            "CGO_ENABLED": "0",
        }
    )
    return env


def run_go(args: list[str], cwd: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    """``go ARGS`` (or ``gofmt ARGS`` when ``args[0]`` is "gofmt") in ``cwd``, offline."""
    go = require_go()
    if args[0] == "gofmt":
        command = [shutil.which("gofmt") or str(Path(go).with_name("gofmt")), *args[1:]]
    else:
        command = [go, *args]
    return subprocess.run(command, check=False, cwd=cwd, env=go_env(tmp), capture_output=True, text=True, timeout=600)
