"""Artifact writes under ``.agentfs/``: atomic (temp file + rename), and only when the bytes change.
No fsync: artifacts are derived data the hub rebuilds."""

from __future__ import annotations

import os
import threading
from pathlib import Path


def write_if_changed(path: Path, data: bytes) -> bool:
    """Replace ``path`` with ``data`` atomically unless it already holds exactly that; True if written."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        temp.write_bytes(data)
        os.replace(temp, path)
    finally:
        if temp.exists():
            temp.unlink()
    return True


def move_file(source: Path, target: Path) -> bool:
    """Move ``source`` to ``target`` (replacing it); False when ``source`` does not exist."""
    if not source.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
    _prune_empty(source.parent)
    return True


def _prune_empty(directory: Path) -> None:
    """Remove empty directories left behind, up to (not including) the ``nodes`` folder."""
    while directory.name not in ("nodes", "_orphaned", "") and directory.is_dir():
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent
