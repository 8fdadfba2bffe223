"""A real ``remora serve`` in a subprocess for the service tests (and the bench)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from remora_core.service.security import load_or_create_token

DATASTAR_ENV = "REMORA_DATASTAR_JS"  # path of the npm package's datastar.js (set by .ci/run)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def datastar_js() -> Path | None:
    """The Datastar client from npm, when ``.ci/run`` (or the user) fetched it."""
    candidates = [os.environ.get(DATASTAR_ENV, "")]
    candidates.append(str(Path(__file__).resolve().parent.parent / ".ci" / "npm" / "package" / "dist" / "datastar.js"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def service_config(base_url: str = "http://127.0.0.1:9/v1", **service: object) -> str:
    lines = [
        "[llm]", f'base_url = "{base_url}"', 'model = "fake-model"', "max_retries = 0", "timeout = 5.0", "",
        "[service]",
    ]
    settings: dict[str, object] = {"rate_limit": 1000.0, "rate_burst": 1000, **service}
    js = datastar_js()
    if js is not None and "datastar_js" not in settings:
        settings["datastar_js"] = str(js)
    for key, value in settings.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, str):
            lines.append(f'{key} = "{value}"')
        elif isinstance(value, list):
            lines.append(f"{key} = [{', '.join(repr(str(v)).replace(chr(39), chr(34)) for v in value)}]")
        else:
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


@dataclass
class Server:
    root: Path
    port: int
    process: subprocess.Popen[str]
    token: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, *, auth: bool = True, timeout: float = 30.0) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        out = self.process.stdout.read() if self.process.stdout else ""
        return out


def start_server(root: Path, *extra: str, host: str = "127.0.0.1", wait: float = 60.0) -> Server:
    """``remora serve ROOT`` on a free port; returns once ``/v1/health`` answers."""
    token, _ = load_or_create_token(root)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "remora_core.cli", "serve", str(root), "--host", host, "--port", str(port), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    server = Server(root, port, process, token)
    deadline = time.monotonic() + wait
    headers = {"Authorization": f"Bearer {token}"}
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"remora serve exited {process.returncode}: {server.stop()}")
        try:
            if httpx.get(f"{server.url}/v1/health", headers=headers, timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"remora serve did not answer within {wait} s: {server.stop()}")


def sse_events(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    """Parse SSE lines into {"id", "event", "data"} dicts (comments skipped)."""
    current: dict[str, str] = {}
    for line in lines:
        if not line:
            if "data" in current:
                yield current
            current = {}
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data" and "data" in current:
            current["data"] += "\n" + value
        else:
            current[field] = value
