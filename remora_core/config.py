"""``.remora/config.toml``: validated with pydantic; an unknown key is an error naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from remora_core import config_file
from remora_core.errors import ConfigError

CONFIG_DIR = config_file.CONFIG_DIR
CONFIG_FILE = config_file.CONFIG_FILE
config_path = config_file.config_path


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IndexConfig(_Section):
    """How files are found, parsed and anchored."""

    anchor_column: int = Field(150, ge=20, le=1000, description="Column new anchors are right-aligned to.")
    inject: bool = Field(True, description="Write anchors into files when indexing.")
    exclude: list[str] = Field(
        default_factory=list, description="Extra gitignore-style patterns never indexed (on top of .gitignore)."
    )
    workers: int = Field(0, ge=0, le=64, description="Parser processes for big indexes; 0 = one per core.")


class LLMConfig(_Section):
    """The OpenAI-compatible model server (vLLM in production)."""

    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = "Qwen/Qwen2.5-Coder-7B-Instruct"
    api_key_env: str = "REMORA_API_KEY"
    temperature: float = Field(0.2, ge=0.0, le=2.0)
    max_tokens: int = Field(2048, ge=1)
    timeout: float = Field(120.0, gt=0)
    max_tool_rounds: int = Field(8, ge=1, le=100)
    stream: bool = Field(False, description="Stream completions (SSE) so the UI can show text as it comes.")
    max_retries: int = Field(3, ge=0, le=10, description="Retries on 429, 5xx and connection errors.")
    retry_base_delay: float = Field(0.5, ge=0.0, le=60.0, description="First retry delay (s); doubles each retry.")
    retry_max_delay: float = Field(8.0, ge=0.0, le=300.0, description="Longest delay between two retries (s).")
    tool_choice: Literal["auto", "required", "per_step", "code_block"] = Field(
        "auto",
        description="auto; required (force a tool call until one succeeds); per_step (force rewrite_self on "
        "an edit request, message_node on a request to another node, then auto); code_block (small local "
        "models: an edit request gets no tools and asks for one fenced python block; else as per_step).",
    )


class AgentsConfig(_Section):
    """Activation limits of the agent swarm."""

    max_depth: int = Field(5, ge=1, le=50)
    concurrency: int = Field(4, ge=1, le=64)
    turn_timeout: float = Field(300.0, gt=0, description="Deadline of one agent turn (s), model time included.")
    models_dir: str = Field(".remora/models", description="Extension models directory, relative to the root.")
    prompt: Literal["compact", "full"] = Field(
        "compact",
        description="compact: short tool descriptions, only the tools a request needs; full: every tool, whole docstrings.",
    )
    history_turns: int = Field(4, ge=0, le=100, description="Earlier exchanges of a node sent with a chat (0: none).")
    history_tokens: int = Field(1500, ge=0, le=100_000, description="Token budget of those exchanges (about 4 chars each).")


DATASTAR_CDN = "https://cdn.jsdelivr.net/npm/@starfederation/datastar@1.0.0-beta.11/dist/datastar.js"


class ServiceConfig(_Section):
    """``remora serve``: the HTTP + SSE API and the dashboard (doc/api.md)."""

    host: str = Field("127.0.0.1", description="Bind address; anything but loopback requires the token.")
    port: int = Field(7777, ge=0, le=65535)
    datastar_js: str = Field(
        DATASTAR_CDN, description="URL of the Datastar client, or a local file path that the server serves itself."
    )
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS (none: CORS off).")
    rate_limit: float = Field(20.0, gt=0, description="Requests per second per client (token bucket).")
    rate_burst: int = Field(60, ge=1, description="Requests a client may make at once before rate_limit applies.")
    max_active_turns: int = Field(8, ge=1, description="Queued + running agent turns before chat answers 429.")
    sse_queue: int = Field(1000, ge=10, description="Events buffered per SSE client before it is told to resync.")
    run_agents: bool = Field(True, description="Run queued agent turns inside the server process.")


UpdateName = Literal[
    "extract_signature",
    "compute_complexity",
    "find_callers",
    "find_callees",
    "find_tests",
    "search_similar",
    "list_exports",
    "generate_test_skeleton",
    "run_single_test",
]
UPDATE_NAMES: tuple[str, ...] = get_args(UpdateName)


def _updates(*names: UpdateName) -> list[UpdateName]:
    return list(names)


class HubRulesConfig(_Section):
    """Signal -> candidate updates of the node-state hub (each value lists update tools)."""

    added: list[UpdateName] = Field(
        default_factory=lambda: _updates("extract_signature", "compute_complexity", "find_callers", "find_tests"),
        description="A node appeared.",
    )
    signature_changed: list[UpdateName] = Field(
        default_factory=lambda: _updates("extract_signature", "find_callers"),
        description="Parameters, annotations, decorators or base classes changed (impact: every call site).",
    )
    public_api_changed: list[UpdateName] = Field(
        default_factory=lambda: _updates("find_callers", "find_tests", "list_exports", "search_similar"),
        description="The signature of a public (not underscored) function, method or class changed.",
    )
    complexity_changed: list[UpdateName] = Field(
        default_factory=lambda: _updates("compute_complexity"),
        description="Cyclomatic complexity moved by at least [hub] complexity_threshold.",
    )
    control_flow_changed: list[UpdateName] = Field(
        default_factory=lambda: _updates("compute_complexity", "find_callees"),
        description="Branches, loops, returns, raises, awaits or nesting changed.",
    )
    semantic_drift: list[UpdateName] = Field(
        default_factory=lambda: _updates("search_similar"),
        description="Drift distance at least [hub] drift_threshold.",
    )
    missing_test: list[UpdateName] = Field(
        default_factory=lambda: _updates("find_tests", "generate_test_skeleton", "run_single_test"),
        description="A new or changed function or method that no test names or calls.",
    )
    exports_changed: list[UpdateName] = Field(
        default_factory=lambda: _updates("list_exports"),
        description="A file's export list (__all__ or public names) changed.",
    )
    body_changed: list[UpdateName] = Field(
        default_factory=lambda: _updates("find_callees"), description="Any source change of an existing node."
    )


class TriageConfig(_Section):
    """The small triage model of the node-state hub (any OpenAI-compatible server)."""

    enabled: bool = Field(False, description="Ask the model which candidate updates to run.")
    base_url: str = "http://127.0.0.1:8001/v1"
    model: str = "google/functiongemma-270m-it"
    api_key_env: str = "REMORA_TRIAGE_API_KEY"
    timeout: float = Field(10.0, gt=0, description="Seconds per triage request (no retries).")


class HubConfig(_Section):
    """The hub's node state, markdown summaries and update tools."""

    state: bool = Field(
        False, description="Maintain node state and markdown in a child process of the hub (opt-in: see the README)."
    )
    markdown: bool = Field(True, description="Write .agentfs/nodes/ markdown summaries.")
    freshness_seconds: float = Field(
        3600.0, gt=0, description="Hub context older than this is stale (even when the source matches)."
    )
    embeddings_url: str = Field("", description="OpenAI-compatible base URL for /v1/embeddings ('' = lexical drift).")
    embeddings_model: str = Field("text-embedding-3-small", description="Embedding model name.")
    embeddings_api_key_env: str = "REMORA_EMBEDDINGS_API_KEY"
    test_timeout: float = Field(30.0, gt=0, description="Seconds run_single_test waits before killing the test.")
    test_python: str = Field("", description="Interpreter for tests ('' = the project's .venv, else the hub's).")
    max_test_runs: int = Field(
        3, ge=0, le=1000, description="run_single_test runs per changed file at most (the rest is skipped, noted)."
    )
    nice: int = Field(
        10, ge=0, le=19, description="Niceness of remora-hub and its parse workers (0 = the caller's priority)."
    )
    settle_ms: int = Field(150, ge=0, le=10_000, description="Quiet time before a changed file's updates run.")
    max_wait_ms: int = Field(
        60_000, ge=0, le=600_000, description="Longest an update waits for a file (or the hub) to settle."
    )
    queue_limit: int = Field(1000, ge=1, description="Files queued at most; beyond, a full rebuild is scheduled.")
    complexity_threshold: int = Field(1, ge=1, description="Complexity delta that fires complexity_changed.")
    drift_threshold: float = Field(0.35, ge=0.0, le=1.0, description="Drift distance that fires semantic_drift.")
    history: int = Field(10, ge=1, le=1000, description="Changes and complexity points kept per node.")
    always: list[UpdateName] = Field(
        default_factory=lambda: _updates("extract_signature", "compute_complexity", "find_callees"),
        description="Updates run for every changed node, whatever the rules and triage say.",
    )
    rules: HubRulesConfig = Field(default_factory=HubRulesConfig)
    triage: TriageConfig = Field(default_factory=TriageConfig)


class RemoraConfig(_Section):
    index: IndexConfig = Field(default_factory=IndexConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    agents: AgentsConfig = Field(default_factory=AgentsConfig)
    service: ServiceConfig = Field(default_factory=ServiceConfig)
    hub: HubConfig = Field(default_factory=HubConfig)


def _describe(error: ValidationError, path: Path) -> str:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    if first["type"] == "extra_forbidden":
        return f"{str(path)!r}: unknown key {key!r}"
    return f"{str(path)!r}: invalid value for {key!r}: {first['msg']}"


def parse_config(data: dict[str, Any], path: Path) -> RemoraConfig:
    try:
        return RemoraConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe(error, path)) from None


def load_config(root: Path) -> RemoraConfig:
    """The project's configuration; defaults when ``.remora/config.toml`` does not exist."""
    path = config_path(root)
    data = config_file.read_config_data(path)
    return RemoraConfig() if data is None else parse_config(data, path)
