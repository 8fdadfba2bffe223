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
