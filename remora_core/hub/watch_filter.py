"""Which raw file-system changes the hub looks at.

Kept: files of the registry's languages (``*.py``, ``*.go`` ...) and extension-less names (possibly directories: a moved or deleted
directory is reported as one path), plus ``.gitignore`` files (they change what is
indexed). Dropped: anything under ``.remora/``, ``.agentfs/``, ``.git/``, venvs,
``__pycache__`` and the other skipped directories, gitignored paths, editor swap and
backup files, and every other suffix.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from watchfiles import Change

from remora_core.index.discovery import SKIPPED_DIRS, IgnoreRules
from remora_core.languages import extensions

GITIGNORE = ".gitignore"


class HubWatchFilter:
    """A ``watch_filter`` for ``watchfiles.watch`` rooted at one project. It runs on the watch
    thread; ``reset`` (from the hub's loop) only swaps whole objects, so no lock is needed."""

    def __init__(self, root: Path, exclude: Iterable[str] = ()) -> None:
        self.root = str(root.resolve())
        self.prefix = self.root.rstrip(os.sep) + os.sep
        self.exclude = list(exclude)
        self.rules = IgnoreRules(root, self.exclude)
        self._venvs: dict[str, bool] = {}
        self.suffixes = frozenset(extensions())

    def reset(self) -> None:
        """Forget cached ignore rules (a ``.gitignore`` changed)."""
        self.rules = IgnoreRules(Path(self.root), self.exclude)
        self._venvs = {}

    def relative(self, path: str) -> str | None:
        if not path.startswith(self.prefix):
            return None
        return path[len(self.prefix) :].replace(os.sep, "/")

    def _is_venv(self, rel_dir: str) -> bool:
        cached = self._venvs.get(rel_dir)
        if cached is None:
            if len(self._venvs) > 10_000:
                self._venvs.clear()
            cached = os.path.exists(os.path.join(self.root, rel_dir, "pyvenv.cfg"))
            self._venvs[rel_dir] = cached
        return cached

    def __call__(self, change: Change, path: str) -> bool:
        rel = self.relative(path)
        if not rel:
            return False
        parts = rel.split("/")
        name = parts[-1]
        for depth, part in enumerate(parts[:-1]):
            if part in SKIPPED_DIRS or self._is_venv("/".join(parts[: depth + 1])):
                return False
        if name in SKIPPED_DIRS:
            return False
        if name == GITIGNORE:
            return True
        suffix = os.path.splitext(name)[1]
        if suffix and suffix not in self.suffixes:
            return False
        if name.endswith("~") or name.startswith(".#"):
            return False
        is_dir = not suffix and os.path.isdir(path)
        return not self.rules.ignored(rel, is_dir)
