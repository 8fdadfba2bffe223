"""Which files of a project are indexed: the registry's languages (``*.py``, ``*.go`` ...) minus
VCS, venvs, caches and ignored paths."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import pathspec

from remora_core.fileio import remove_stale_temp
from remora_core.languages import excluded_suffixes, extensions

# Directory names never descended into.
SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".remora",
        ".agentfs",
        "__pycache__",
        "node_modules",
        "site-packages",
        "dist-packages",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".eggs",
    }
)


class FoundFile(NamedTuple):  # one per file of the tree on every full pass: a plain tuple
    path: str  # relative to the root, "/"-separated
    mtime_ns: int
    size: int


def _ignore_spec(directory: str) -> pathspec.PathSpec | None:
    try:
        with open(os.path.join(directory, ".gitignore"), encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    return spec if spec.patterns else None


def is_skipped_dir(name: str, full_path: str) -> bool:
    """True for directories that never hold project code (VCS, venvs, caches)."""
    return name in SKIPPED_DIRS or os.path.exists(os.path.join(full_path, "pyvenv.cfg"))


class IgnoreRules:
    """``.gitignore`` files (root and nested) plus the configured extra patterns."""

    def __init__(self, root: Path, extra_patterns: Iterable[str] = ()) -> None:
        self.root = str(root)
        extra = list(extra_patterns)
        self.extra = pathspec.GitIgnoreSpec.from_lines(extra) if extra else None
        self._specs: dict[str, pathspec.PathSpec | None] = {}

    def any_rules(self, rel_dir: str, above: bool) -> bool:
        """Whether ``ignored`` can be true below ``rel_dir``: extra patterns, or a ``.gitignore``
        in it or (``above``, known by the caller) in one of its parents."""
        return above or self.extra is not None or self._spec_for(rel_dir) is not None

    def _spec_for(self, rel_dir: str) -> pathspec.PathSpec | None:
        if rel_dir not in self._specs:
            self._specs[rel_dir] = _ignore_spec(os.path.join(self.root, rel_dir) if rel_dir else self.root)
        return self._specs[rel_dir]

    def ignored(self, rel_path: str, is_dir: bool) -> bool:
        """True when a ``.gitignore`` on the way down (or the extra patterns) ignore ``rel_path``."""
        candidate = rel_path + "/" if is_dir else rel_path
        if self.extra is not None and self.extra.match_file(candidate):
            return True
        parts = rel_path.split("/")
        for depth in range(len(parts)):
            rel_dir = "/".join(parts[:depth])
            spec = self._spec_for(rel_dir)
            if spec is None:
                continue
            below = "/".join(parts[depth:]) + ("/" if is_dir else "")
            if spec.match_file(below):
                return True
        return False


def discover(root: Path, extra_patterns: Iterable[str] = ()) -> list[FoundFile]:
    """Every indexable source file under ``root`` (the registry's languages), sorted by path.
    One ``os.scandir`` per directory and one stat per source file (the no-change re-index of a big tree is mostly
    this walk); ignore rules are matched only below a directory that has some."""
    rules = IgnoreRules(root, extra_patterns)
    top = str(root)
    suffixes, excluded = extensions(), excluded_suffixes()
    found: list[FoundFile] = []
    stack = [("", rules.any_rules("", False))]
    while stack:
        rel, check = stack.pop()
        directory = os.path.join(top, rel) if rel else top
        try:
            with os.scandir(directory) as listing:
                entries = list(listing)
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            rel_path = f"{rel}/{name}" if rel else name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if is_skipped_dir(name, entry.path) or (check and rules.ignored(rel_path, True)):
                        continue
                    stack.append((rel_path, rules.any_rules(rel_path, check)))
                elif (
                    name.endswith(suffixes)
                    and not (excluded and name.endswith(excluded))  # TypeScript's .d.ts
                    and entry.is_file(follow_symlinks=False)
                ):
                    # A symbolic link (to a file or a directory) is never followed: a file is
                    # indexed once, under its real path, when that path is inside the root.
                    if check and rules.ignored(rel_path, False):
                        continue
                    stat = entry.stat()
                    found.append(FoundFile(rel_path, stat.st_mtime_ns, stat.st_size))
                elif name.endswith(".tmp") and ".remora-" in name:
                    remove_stale_temp(directory, name)  # left next to a file by a killed writer
            except OSError:
                continue
    found.sort(key=lambda item: item.path)
    return found
