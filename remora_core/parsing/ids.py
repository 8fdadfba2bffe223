"""Remora node IDs: ``rm_`` + 8 characters of ``[a-z0-9]``."""

from __future__ import annotations

import os
import re
from collections.abc import Container

ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
ID_BODY_LENGTH = 8
_ID_SPACE = 36**ID_BODY_LENGTH
ID_RE = re.compile(r"rm_[a-z0-9]{8}")


def is_node_id(text: str) -> bool:
    """True when ``text`` is exactly one well-formed node id."""
    return ID_RE.fullmatch(text) is not None


def new_node_id(taken: Container[str] = ()) -> str:
    """A fresh random id that is not in ``taken``."""
    while True:
        candidate = "rm_" + _encode(int.from_bytes(os.urandom(6), "big"))
        if candidate not in taken:
            return candidate


def _encode(number: int) -> str:
    number %= _ID_SPACE
    body = []
    for _ in range(ID_BODY_LENGTH):
        number, digit = divmod(number, 36)
        body.append(ID_ALPHABET[digit])
    return "".join(body)
