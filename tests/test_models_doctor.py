"""``remora doctor`` / ``health_report``: the server checks against the scripted server (real HTTP)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from remora_core.agents.doctor import health_report, run_checks
from remora_core.config import LLMConfig
from tests.fake_llm import FAKE_MODEL, FakeLLM, fake_llm_fixture  # noqa: F401 - fixture


def _statuses(config: LLMConfig) -> dict[str, tuple[str, str]]:
    return {check.name: (check.status, check.message) for check in run_checks(config, tool_timeout=5.0)}


def test_a_healthy_server_passes_every_check(fake_llm: FakeLLM, monkeypatch: object) -> None:
    fake_llm.add_tool_calls(("ping", {"word": "pong"}))
    checks = _statuses(LLMConfig(base_url=fake_llm.base_url, model=FAKE_MODEL, api_key_env="REMORA_TEST_NO_KEY"))
    assert {name: status for name, (status, _) in checks.items()} == {
        "base URL": "ok",
        "reachable": "ok",
        "API key": "ok",
        "model": "ok",
        "tool call": "ok",
    }
    assert checks["API key"][1] == "none needed (local server)"
    request = fake_llm.chat_requests()[0]
    assert request["tools"][0]["function"]["name"] == "ping" and request["model"] == FAKE_MODEL


def test_a_missing_model_id_suggests_the_listed_one(fake_llm: FakeLLM) -> None:
    fake_llm.model_ids = ["/root/.cache/remora/models/remora-local-q4.gguf"]
    checks = _statuses(LLMConfig(base_url=fake_llm.base_url, model="Qwen/Qwen2.5-Coder-7B-Instruct"))
    status, message = checks["model"]
    assert status == "error" and 'set [llm] model = "/root/.cache/remora/models/remora-local-q4.gguf"' in message
    assert "tool call" not in checks


def test_base_url_without_v1_is_reported_with_the_fix(fake_llm: FakeLLM) -> None:
    fake_llm.add_text('<tool_call>{"name": "ping", "arguments": {"word": "pong"}}</tool_call>')
    bare = fake_llm.base_url.removesuffix("/v1")
    checks = _statuses(LLMConfig(base_url=bare, model=FAKE_MODEL))
    assert checks["base URL"] == ("error", f"{bare!r} lacks /v1: set [llm] base_url = \"{bare}/v1\"")
    assert checks["tool call"] == ("ok", "accepted; the model writes its calls as text, which Remora reads")


def test_vllm_without_tool_flags_is_told_the_flags(fake_llm: FakeLLM) -> None:
    fake_llm.refuse_tools = True
    status, message = _statuses(LLMConfig(base_url=fake_llm.base_url, model=FAKE_MODEL))["tool call"]
    assert status == "error" and "--enable-auto-tool-choice --tool-call-parser <parser>" in message


def test_an_unreachable_server_is_one_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    checks = run_checks(LLMConfig(base_url=f"http://127.0.0.1:{port}/v1", model="m"), timeout=1.0)
    assert [(c.name, c.status) for c in checks] == [("reachable", "error")]
    assert "start the model server" in checks[0].message


def test_doctor_command_and_health_report(fake_llm: FakeLLM, tmp_path: Path) -> None:
    (tmp_path / ".remora").mkdir()
    (tmp_path / ".remora" / "config.toml").write_text(
        f'[llm]\nbase_url = "{fake_llm.base_url}"\nmodel = "{FAKE_MODEL}"\n', encoding="utf-8"
    )
    fake_llm.add_tool_calls(("ping", {"word": "pong"}))
    fake_llm.add_text("pong")  # the model does not call: a warning, not an error
    done = subprocess.run(
        [sys.executable, "-m", "remora_core.cli", "doctor", "--json", "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert [c["status"] for c in json.loads(done.stdout)] == ["ok"] * 5
    report = health_report(tmp_path)
    assert report[-1]["name"] == "tool call" and report[-1]["status"] == "warn"
    assert "per_step" in report[-1]["message"]
