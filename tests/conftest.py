"""Shared helpers for the test-suite: temp projects, the real CLI, reading the real database."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from remora_core.config import IndexConfig
from remora_core.index.indexer import Indexer, IndexReport
from remora_core.store.store import NodeRow, Store


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")


def index_project(root: Path, *, inject: bool = True, column: int = 150) -> IndexReport:
    store = Store.open(root)
    try:
        return Indexer(root, store, IndexConfig(inject=inject, anchor_column=column)).index()
    finally:
        store.close()


def nodes_of(root: Path, path: str, *, active_only: bool = True) -> list[NodeRow]:
    store = Store.open(root)
    try:
        return store.nodes_in_file(path, active_only=active_only)
    finally:
        store.close()


def ids_by_qualname(root: Path, path: str) -> dict[str, str]:
    return {row.qualname: row.id for row in nodes_of(root, path)}


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real ``remora`` command in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "remora_core.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,  # the tests look at the exit code themselves
    )


@pytest.fixture
def project(tmp_path: Path) -> Callable[[dict[str, str | bytes]], Path]:
    """Create a project under tmp_path from {relative path: content} (content is dedented)."""

    def make(files: dict[str, str | bytes]) -> Path:
        root = tmp_path / "proj"
        root.mkdir(exist_ok=True)
        write_files(root, files)
        return root

    return make


# -- markers (documented in pyproject.toml and the README's Development section) ------------------
# ``nvim``: every test of a tests/test_nvim_*.py module (a real headless Neovim).
# ``slow``: the nvim tests, the modules below (hub daemons, CLI subprocesses, mypy) and the tests
# below (the standard library, big generated trees, Python subprocesses). ``pytest -m "not slow"``
# is the fast subset (under a minute on an idle machine).
SLOW_MODULES = frozenset(
    {
        "test_hub.py",
        "test_hub_signals.py",
        "test_agent_cli.py",
        "test_cli.py",
        "test_static.py",
        # real uvicorn / Chromium / remora-hub / pytest subprocesses, the injection fuzz
        "test_service_http.py",
        "test_service_contract.py",
        "test_service_browser.py",
        "test_service_state.py",
        "test_service_nvim.py",
        "test_state_hub.py",
        "test_state_demos.py",
        "test_trust_processes.py",
        "test_trust.py",  # the real CLI on hostile trees
        "test_state_tools.py",  # pytest subprocesses (run_single_test)
        "test_state_updates.py",
        "test_anchor_fuzz.py",
    }
)
NVIM_MODULES = frozenset({"test_service_nvim.py"})  # a real Neovim, beside tests/test_nvim_*.py
SLOW_TESTS = frozenset(
    {
        "test_parsing.py::test_every_definition_of_the_standard_library_matches_ast",
        "test_anchors.py::test_injection_keeps_the_ast_of_every_file_identical",
        "test_graph.py::test_large_project_is_not_loaded_whole",
        "test_incremental_parse.py::test_random_edits_of_real_files_give_the_fresh_parse",
        "test_cli_engine.py::test_cli_modules_import_alone",
        "test_topology_events.py::test_editor_host_index_emits",
        "test_events.py::test_tailer_follows_another_process",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = item.path.name
        if module.startswith("test_nvim_") or module in NVIM_MODULES:
            item.add_marker(pytest.mark.nvim)
            item.add_marker(pytest.mark.slow)
        elif module in SLOW_MODULES or f"{module}::{item.originalname}" in SLOW_TESTS:  # type: ignore[attr-defined]
            item.add_marker(pytest.mark.slow)
