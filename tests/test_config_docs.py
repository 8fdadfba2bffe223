"""The example ``.remora/config.toml`` of this repository is the defaults, complete, and every key
is documented in the vimdoc's configuration section."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from remora_core.config import RemoraConfig, parse_config

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / ".remora" / "config.toml"
VIMDOC = REPO / "doc" / "remora.txt"


def _model_keys() -> dict[str, set[str]]:
    return {
        section: set(field.annotation.model_fields)  # type: ignore[union-attr]
        for section, field in RemoraConfig.model_fields.items()
    }


def test_the_example_config_is_the_defaults() -> None:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert parse_config(data, EXAMPLE) == RemoraConfig()


def test_the_example_config_has_every_key() -> None:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert {section: set(values) for section, values in data.items()} == _model_keys()


def test_every_key_is_in_the_vimdoc() -> None:
    text = VIMDOC.read_text(encoding="utf-8")
    start = text.index("*remora-config*")
    section = text[start : text.index("=" * 78, start)]
    missing = []
    for name, keys in _model_keys().items():
        if f"`[{name}]" not in section:
            missing.append(f"[{name}]")
        missing.extend(
            f"{name}.{key}" for key in sorted(keys) if not re.search(rf"`(\[{name}\] )?{key}`", section)
        )
    assert missing == []
