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


def new_node_ids(count: int, taken: Container[str] = ()) -> list[str]:
    """``count`` fresh random ids, none in ``taken`` nor twice in the list: one ``os.urandom``
    call for all of them (a cold index hands out one per node)."""
    body = os.urandom(ID_BODY_LENGTH * count).translate(_BYTE_TO_CHAR).decode("ascii")
    ids = ["rm_" + body[start : start + ID_BODY_LENGTH] for start in range(0, len(body), ID_BODY_LENGTH)]
    unique = set(ids)
    if len(unique) == count and (
        unique.isdisjoint(taken) if isinstance(taken, (set, frozenset)) else not any(i in taken for i in ids)
    ):
        return ids
    chosen: list[str] = []
    seen: set[str] = set()
    for node_id in ids:
        while node_id in taken or node_id in seen:
            node_id = new_node_id(taken)
        seen.add(node_id)
        chosen.append(node_id)
    return chosen
