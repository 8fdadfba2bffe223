"""``.remora/config.toml``: validated with pydantic; an unknown key is an error naming the key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from remora_core.errors import ConfigError

CONFIG_DIR = ".remora"
CONFIG_FILE = "config.toml"


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
    tool_choice: Literal["auto", "required", "per_step"] = Field(
        "auto",
        description="auto; required (force a tool call until one succeeds); per_step (force rewrite_self on "
        "an edit request, message_node on a request to another node, then auto).",
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


class RemoraConfig(_Section):
    index: IndexConfig = Field(default_factory=IndexConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    agents: AgentsConfig = Field(default_factory=AgentsConfig)


def config_path(root: Path) -> Path:
    return root / CONFIG_DIR / CONFIG_FILE


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
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return RemoraConfig()
    except OSError as error:
        raise ConfigError(f"cannot read {str(path)!r}: {error.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{str(path)!r} is not valid TOML: {error}") from None
    return parse_config(data, path)
