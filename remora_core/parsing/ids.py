"""Remora node IDs: ``rm_`` + 8 characters of ``[a-z0-9]``."""

from __future__ import annotations

import os
import re
from collections.abc import Container

ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
ID_BODY_LENGTH = 8
# Each random byte picks a character (byte % 36: a slight bias, harmless for unique ids).
_BYTE_TO_CHAR = bytes(ord(ID_ALPHABET[value % len(ID_ALPHABET)]) for value in range(256))
ID_RE = re.compile(r"rm_[a-z0-9]{8}")


def is_node_id(text: str) -> bool:
    """True when ``text`` is exactly one well-formed node id."""
    return ID_RE.fullmatch(text) is not None


def new_node_id(taken: Container[str] = ()) -> str:
    """A fresh random id that is not in ``taken``."""
    while True:
        candidate = "rm_" + os.urandom(ID_BODY_LENGTH).translate(_BYTE_TO_CHAR).decode("ascii")
        if candidate not in taken:
            return candidate
