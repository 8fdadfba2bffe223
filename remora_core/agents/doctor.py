"""Server checks (``remora doctor``; ``:checkhealth remora`` calls :func:`health_report`).

Each check is one line with a status (``ok`` / ``warn`` / ``error``) and, when something is
wrong, what to do:

- **base URL**: an OpenAI-compatible endpoint ends in ``/v1``; a URL without it that answers
  at ``URL/v1`` is reported with the fixed value.
- **reachable**: ``GET /models`` answers (else: start the server at that URL).
- **API key**: none is needed for a local server (Remora sends a placeholder); a server that
  answers 401/403 needs ``$<api_key_env>``.
- **model**: the configured id is listed at ``/models``; otherwise the listed ids are suggested
  (llama-cpp-python lists the ``.gguf`` path it was started with, or its ``--model_alias``).
- **tool call**: a tiny request with one tool is accepted; a vLLM that rejects ``tools`` is
  reported with the flags it needs; whether the call came back parsed by the server or as text
  (which Remora recovers, see ``recovery.py``) is said.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from remora_core.errors import ProjectError

if TYPE_CHECKING:  # the config models (pydantic) load with the commands that run, not with `remora`
    from remora_core.config import LLMConfig

NO_KEY = "EMPTY"  # what the client sends without a key (as llm.py)
VLLM_TOOL_FLAGS = "--enable-auto-tool-choice --tool-call-parser <parser>"

Status = Literal["ok", "warn", "error"]
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "0.0.0.0")
PING_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "ping",
        "description": "Answer the health check.",
        "parameters": {"type": "object", "properties": {"word": {"type": "string"}}, "required": ["word"]},
    },
}


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: Status
    message: str

    def line(self) -> str:
        return f"{self.status:5} {self.name}: {self.message}"


def _headers(config: LLMConfig) -> dict[str, str]:
    return {"Authorization": f"Bearer {os.environ.get(config.api_key_env) or NO_KEY}"}


def _is_local(base_url: str) -> bool:
    return (urlsplit(base_url).hostname or "") in LOCAL_HOSTS


@dataclass(frozen=True, slots=True)
class _Response:
    status_code: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def _http(url: str, config: LLMConfig, timeout: float, body: dict[str, Any] | None = None) -> _Response:
    """GET (or POST ``body``) ``url``; an HTTP error status is a response; no answer raises OSError."""
    data = json.dumps(body).encode("utf-8") if body is not None else None
    request = urllib.request.Request(url, data=data, headers={**_headers(config), "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return _Response(response.status, response.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as error:
        return _Response(error.code, error.read().decode("utf-8", "replace"))


def _get_models(base: str, config: LLMConfig, timeout: float) -> _Response:
    return _http(f"{base}/models", config, timeout)


def _model_ids(response: _Response) -> list[str]:
    try:
        data = response.json()
    except json.JSONDecodeError:
        return []
    items = data.get("data") if isinstance(data, dict) else None
    return [str(item["id"]) for item in items or [] if isinstance(item, dict) and "id" in item]


def _error_text(response: _Response) -> str:
    try:
        data = response.json()
    except json.JSONDecodeError:
        return " ".join(response.text.split())[:200]
    error = data.get("error", data) if isinstance(data, dict) else data
    message = error.get("message", error.get("detail", error)) if isinstance(error, dict) else error
    return " ".join(str(message).split())[:200]


def run_checks(config: LLMConfig, *, timeout: float = 5.0, tool_timeout: float = 120.0) -> list[Check]:
    """Every check against ``config``'s server; stops after the first one that makes the rest moot."""
    checks: list[Check] = []
    base = config.base_url.rstrip("/")
    try:
        response = _get_models(base, config, timeout)
    except OSError as error:
        checks.append(
            Check(
                "reachable",
                "error",
                f"no answer from {base!r} ({type(error).__name__}): start the model server there or fix "
                "[llm] base_url in .remora/config.toml",
            )
        )
        return checks
    if response.status_code == 404 and not urlsplit(base).path.rstrip("/").endswith("/v1"):
        try:
            fixed = _get_models(f"{base}/v1", config, timeout)
        except OSError:
            fixed = response
        if fixed.status_code == 200:
            checks.append(
                Check("base URL", "error", f"{base!r} lacks /v1: set [llm] base_url = \"{base}/v1\"")
            )
            base, response = f"{base}/v1", fixed
    if not any(check.name == "base URL" for check in checks):
        ends = urlsplit(base).path.rstrip("/").endswith("/v1")
        checks.append(
            Check("base URL", "ok" if ends else "warn", base if ends else f"{base!r} does not end in /v1")
        )
    if response.status_code in (401, 403):
        checks.append(
            Check(
                "API key",
                "error",
                f"{base!r} refused the key (HTTP {response.status_code}): set ${config.api_key_env}",
            )
        )
        return checks
    if response.status_code != 200:
        checks.append(
            Check("reachable", "error", f"GET {base}/models answered HTTP {response.status_code}: {_error_text(response)}")
        )
        return checks
    checks.append(Check("reachable", "ok", f"{base} answers"))
    has_key = bool(os.environ.get(config.api_key_env))
    checks.append(
        Check(
            "API key",
            "ok",
            f"${config.api_key_env} is set"
            if has_key
            else ("none needed (local server)" if _is_local(base) else f"none set (${config.api_key_env}); the server accepted none"),
        )
    )
    ids = _model_ids(response)
    if config.model in ids:
        checks.append(Check("model", "ok", f"{config.model!r} is served"))
    else:
        suggestion = f'set [llm] model = "{ids[0]}"' if len(ids) == 1 else f"the server lists {ids!r}"
        checks.append(Check("model", "error", f"{config.model!r} is not served at {base}: {suggestion}"))
        return checks
    checks.append(_tool_check(config, base, tool_timeout))
    return checks


def _tool_check(config: LLMConfig, base: str, timeout: float) -> Check:
    from remora_core.agents.recovery import find_text_calls

    body = {
        "model": config.model,
        "messages": [{"role": "user", "content": 'Call the ping tool with word "pong".'}],
        "tools": [PING_TOOL],
        "tool_choice": "auto",
        "max_tokens": 64,
        "temperature": 0,
    }
    try:
        response = _http(f"{base}/chat/completions", config, timeout, body)
    except OSError as error:
        return Check("tool call", "error", f"no answer to a tiny tool call within {timeout}s ({type(error).__name__})")
    if response.status_code != 200:
        text = _error_text(response)
        if "tool" in text.lower() and response.status_code in (400, 422, 501):
            return Check(
                "tool call",
                "error",
                f"the server rejects tools ({text}); start vLLM with {VLLM_TOOL_FLAGS} "
                "(e.g. --tool-call-parser hermes for Qwen models)",
            )
        return Check("tool call", "error", f"a tiny tool call got HTTP {response.status_code}: {text}")
    try:
        message = response.json()["choices"][0]["message"] or {}
    except (json.JSONDecodeError, KeyError, IndexError, TypeError):
        return Check("tool call", "error", "the reply to a tiny tool call is not an OpenAI chat completion")
    if message.get("tool_calls"):
        return Check("tool call", "ok", "accepted; the server parses the model's tool calls")
    text = str(message.get("content") or "")
    if find_text_calls(text):
        return Check("tool call", "ok", "accepted; the model writes its calls as text, which Remora reads")
    return Check(
        "tool call",
        "warn",
        f"accepted, but the model answered without a call ({text[:60]!r}); small models may need "
        '[llm] tool_choice = "code_block" (or "per_step")',
    )


def health_report(root: str | Path) -> list[dict[str, str]]:
    """The checks of the project at ``root`` as dicts (name, status, message): for ``:checkhealth``."""
    from remora_core.config import load_config

    config = load_config(Path(root))
    return [asdict(check) for check in run_checks(config.llm, tool_timeout=30.0)]


# -- the CLI command -------------------------------------------------------------------------
def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("doctor", help="check the model server of the project")
    parser.add_argument("--json", action="store_true", help="one JSON list of {name, status, message}")
    parser.add_argument("--root", default=None, help="project root (default: found from the current directory)")
    parser.set_defaults(handler=run)


def run(args: Any) -> int:
    from remora_core.config import load_config
    from remora_core.project import find_root

    start = Path(args.root) if args.root else Path.cwd()
    try:
        root = find_root(start)
    except ProjectError:
        root = start  # no index yet: the config (if any) of this directory
    config = load_config(root)
    checks = run_checks(config.llm)
    if args.json:
        print(json.dumps([asdict(check) for check in checks], indent=2))
    else:
        print(f"model server {config.llm.base_url} (model {config.llm.model!r})")
        for check in checks:
            print(check.line())
    return 1 if any(check.status == "error" for check in checks) else 0
