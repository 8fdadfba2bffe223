"""The benchmarks' shared test tree: the running interpreter's standard library."""

from __future__ import annotations

import os
import shutil
import sysconfig
from pathlib import Path

SKIPPED = ("site-packages", "dist-packages", "__pycache__")


def stdlib_path() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def copy_stdlib(target: Path) -> tuple[int, int]:
    """Copy every ``*.py`` of the standard library (site-packages excluded) under ``target``;
    returns (files, bytes)."""
    source = stdlib_path()
    files = 0
    size = 0
    for directory, dirs, names in os.walk(source):
        dirs[:] = [d for d in dirs if d not in SKIPPED]
        for name in names:
            if name.endswith(".py"):
                src = Path(directory) / name
                dst = target / src.relative_to(source)
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
                files += 1
                size += dst.stat().st_size
    return files, size


def copy_stdlib_times(target: Path, copies: int) -> tuple[int, int]:
    """``copies`` copies of the standard library side by side (``target/copy0``, ...): a project
    ``copies`` times the stdlib's size; returns (files, bytes) in all."""
    files = size = 0
    for number in range(copies):
        count, total = copy_stdlib(target / f"copy{number}")
        files += count
        size += total
    return files, size
