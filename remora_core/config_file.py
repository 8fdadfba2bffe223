"""``.remora/config.toml`` read without pydantic: the TOML itself, and the ``[index]`` settings
for the commands that need nothing else (``remora index``: pydantic and the config models are
~15 MB of its process).

:func:`load_index_settings` accepts only a file it can check completely: no section but
``[index]``, every key known and every value of exactly the model's type and range. Anything
else (another section, a key or a value it does not know) goes through the full pydantic
validation of ``remora_core.config``, so every error is the one ``load_config`` raises."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from remora_core.errors import ConfigError

CONFIG_DIR = ".remora"
CONFIG_FILE = "config.toml"


def config_path(root: Path) -> Path:
    return root / CONFIG_DIR / CONFIG_FILE


def read_config_data(path: Path) -> dict[str, Any] | None:
    """The TOML table of ``path``; None when the file does not exist."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ConfigError(f"cannot read {str(path)!r}: {error.strerror}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{str(path)!r} is not valid TOML: {error}") from None


class IndexOptions(Protocol):
    """What the indexer reads of the ``[index]`` section (``config.IndexConfig`` has it too)."""

    @property
    def anchor_column(self) -> int: ...

    @property
    def inject(self) -> bool: ...

    @property
    def exclude(self) -> Sequence[str]: ...

    @property
    def workers(self) -> int: ...


@dataclass(frozen=True, slots=True)
class IndexSettings:
    """The ``[index]`` section, checked by hand (the defaults and limits of ``config.IndexConfig``:
    tests/test_config_file.py compares the two)."""

    anchor_column: int = 150
    inject: bool = True
    exclude: list[str] = field(default_factory=list)
    workers: int = 0


def _int_in(value: object, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def checked_index(data: dict[str, Any]) -> IndexSettings | None:
    """The ``[index]`` settings of ``data`` when they are certainly valid and ``data`` holds
    nothing else; None when only the full validation can tell."""
    if not set(data) <= {"index"}:
        return None
    section = data.get("index", {})
    if type(section) is not dict or not set(section) <= {"anchor_column", "inject", "exclude", "workers"}:
        return None
    settings = IndexSettings(**section)
    exclude = settings.exclude
    if (
        not _int_in(settings.anchor_column, 20, 1000)
        or type(settings.inject) is not bool
        or type(exclude) is not list
        or not all(type(pattern) is str for pattern in exclude)
        or not _int_in(settings.workers, 0, 64)
    ):
        return None
    return settings


def load_index_settings(root: Path) -> IndexOptions:
    """The project's ``[index]`` settings, as ``load_config(root).index`` would give them (the
    same errors included), without importing pydantic when the file needs no more than a look."""
    path = config_path(root)
    data = read_config_data(path)
    if data is None:
        return IndexSettings()
    settings = checked_index(data)
    if settings is not None:
        return settings
    from remora_core.config import parse_config

    return parse_config(data, path).index
