"""Atomic file replacement that refuses to overwrite a file changed since it was read."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from remora_core.errors import FileChangedError


def bytes_hash(data: bytes) -> str:
    """Exact content hash used to detect that a file changed under us."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def replace_checked(path: Path, data: bytes, expected_hash: str) -> os.stat_result:
    """Write ``data`` to ``path`` atomically (temp file + fsync + rename).

    Refuses with ``FileChangedError`` when the file on disk no longer has ``expected_hash``
    (it changed since it was read); the file is then left exactly as it is.
    """
    temp = path.with_name(f".{path.name}.remora-{os.getpid()}.tmp")
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        raise FileChangedError(f"{str(path)!r} was deleted since it was read") from None
    try:
        with open(temp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        try:
            current = path.read_bytes()
        except FileNotFoundError:
            raise FileChangedError(f"{str(path)!r} was deleted since it was read") from None
        if bytes_hash(current) != expected_hash:
            raise FileChangedError(f"{str(path)!r} changed on disk since it was read; not overwritten")
        os.replace(temp, path)
    finally:
        if temp.exists():
            temp.unlink()
    return path.stat()
