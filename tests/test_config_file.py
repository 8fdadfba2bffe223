"""``config_file.load_index_settings`` (no pydantic) gives what ``load_config(root).index`` gives,
errors included, and checks by hand only what it certainly knows."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest

from remora_core.config import IndexConfig, load_config
from remora_core.config_file import IndexSettings, checked_index, load_index_settings
from remora_core.errors import ConfigError

FIELDS = [field.name for field in dataclasses.fields(IndexSettings)]


def _values(settings: object) -> dict[str, object]:
    return {name: getattr(settings, name) for name in FIELDS}


def _outcome(root: Path, load: object) -> tuple[str, object]:
    try:
        return "ok", _values(load(root))  # type: ignore[operator]
    except ConfigError as error:
        return "error", str(error)


def test_same_fields_and_defaults_as_the_model() -> None:
    assert sorted(FIELDS) == sorted(IndexConfig.model_fields)
    assert _values(IndexSettings()) == _values(IndexConfig())


VALUES = {
    "anchor_column": ["19", "20", "150", "1000", "1001", "true", "150.0", "'150'", "-3"],
    "inject": ["true", "false", "1", "'yes'"],
    "exclude": ["[]", "['a.py', 'b/']", "['a', 3]", "'a.py'", "[[]]"],
    "workers": ["0", "64", "65", "-1", "false", "2.0"],
}


@pytest.mark.parametrize("key", sorted(VALUES))
def test_every_value_as_the_model_says(tmp_path: Path, key: str) -> None:
    (tmp_path / ".remora").mkdir()
    config = tmp_path / ".remora" / "config.toml"
    for value in VALUES[key]:
        config.write_text(f"[index]\n{key} = {value}\n")
        assert _outcome(tmp_path, load_index_settings) == _outcome(tmp_path, lambda root: load_config(root).index)


BODIES = [
    None,  # no file
    "",
    "[index]\n",
    "[index]\nanchor_colum = 120\n",  # unknown key
    "[index]\nanchor_column = 100\nexclude = ['broken.py']\nworkers = 3\ninject = false\n",
    "[index\n",  # not TOML
    "index = 3\n",
    "[llm]\nbase_url = 'http://127.0.0.1:9/v1'\n",  # another section: the full validation
    "[llm]\nbase_urll = 'x'\n[index]\nworkers = 2\n",
    "[indexx]\n",
    "[hub.rules]\nadded = ['make_coffee']\n",
    b"[index]\nexclude = ['\xff']\n",  # not UTF-8
]


@pytest.mark.parametrize("body", BODIES)
def test_same_settings_or_error_as_load_config(tmp_path: Path, body: str | bytes | None) -> None:
    if body is not None:
        (tmp_path / ".remora").mkdir()
        path = tmp_path / ".remora" / "config.toml"
        path.write_bytes(body if isinstance(body, bytes) else body.encode())
    assert _outcome(tmp_path, load_index_settings) == _outcome(tmp_path, lambda root: load_config(root).index)


def test_hand_checked_only_when_certain() -> None:
    assert checked_index({}) == IndexSettings()
    assert checked_index({"index": {"workers": 2, "exclude": ["x"]}}) == IndexSettings(workers=2, exclude=["x"])
    for data in (
        {"llm": {}},
        {"index": {"workers": True}},
        {"index": {"anchor_column": 10}},
        {"index": {"bogus": 1}},
        {"index": []},
    ):
        assert checked_index(data) is None


def test_combinations_of_valid_values(tmp_path: Path) -> None:
    (tmp_path / ".remora").mkdir()
    config = tmp_path / ".remora" / "config.toml"
    for column, inject, workers in itertools.product(("20", "999"), ("true", "false"), ("0", "64")):
        config.write_text(f"[index]\nanchor_column = {column}\ninject = {inject}\nworkers = {workers}\n")
        light = load_index_settings(tmp_path)
        assert isinstance(light, IndexSettings)
        assert _values(light) == _values(load_config(tmp_path).index)
