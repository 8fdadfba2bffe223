"""Ghost nodes: where a new node asked for on an empty line goes, and the request its agent gets.

The placement rule: inside the innermost class that holds the line, else at module level. At
module level the file's agent creates the node; inside a class the agent of the method before
the line does (else the class's first child, else the class), because a method's
``propose_new_node`` inserts into its class. ``insert_after`` is the container's child that
ends last before the line (None: the new node goes first).
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from typing import Any

from remora_core.errors import NodeNotFoundError
from remora_core.parsing.model import ParsedFile

GHOST_ALPHABET = string.ascii_lowercase + string.digits


def new_ghost_id() -> str:
    return "ghost_" + "".join(secrets.choice(GHOST_ALPHABET) for _ in range(8))


def ghost_message(ghost: str, instruction: str, insert_after: str | None, container: str | None) -> str:
    """Ask the agent for exactly one ``propose_new_node`` call placed where the human put ``ghost``."""
    where = f" right after the node {insert_after!r}" if insert_after else ""
    inside = f" in {container!r}" if container else ""
    argument = f" with insert_after={insert_after!r}" if insert_after else ""
    return (
        f"The human placed a placeholder for a new node ({ghost}){inside}{where}.\n"
        f"Create it by calling propose_new_node{argument} (one definition, no remora ID comment).\n"
        f"What the new node must do: {instruction.strip()}"
    )


@dataclass(frozen=True, slots=True)
class GhostPlacement:
    """Where the new node of a ghost turn goes: bound to the turn, so the agent's
    ``propose_new_node`` inserts there whatever ``insert_after`` the model passes."""

    container: str
    insert_after: str | None


_GHOST_HEAD = re.compile(
    r"\AThe human placed a placeholder for a new node \((ghost_\w+)\) in '([^'\n]+)'"
    r"(?: right after the node '([^'\n]+)')?\.\n"
)


def ghost_placement(message: str) -> GhostPlacement | None:
    """The placement written by :func:`ghost_message` (with its container) at the head of a human
    chat, or None for any other message. The trigger's message carries it, so it reaches the turn
    in whichever process runs it."""
    match = _GHOST_HEAD.match(message)
    if match is None:
        return None
    return GhostPlacement(match.group(2), match.group(3))


@dataclass(slots=True)
class GhostPlan:
    """Where a ghost on ``line`` of ``file`` goes and which agent creates it."""

    file: str
    line: int  # 1-based
    container: str  # the file or class the new node goes into
    target: str  # the agent asked to create it
    insert_after: str | None
    indent: str  # the indentation of the new node's placeholder line

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "container": self.container,
            "target": self.target,
            "insert_after": self.insert_after,
            "indent": self.indent,
        }


@dataclass(slots=True)
class _Slot:
    node_type: str
    start: int
    end: int
    parent: int  # index into the slot list (the file is 0 and its own parent)
    node_id: str | None
    def_line: int


def _slots(parsed: ParsedFile, file_id: str | None, line_count: int, ids: dict[str, str]) -> list[_Slot]:
    slots = [_Slot("file", 1, max(line_count, 1), 0, file_id, 1)]
    for parsed_def in parsed.defs:
        node_id = parsed_def.anchor or ids.get(f"{parsed_def.node_type}:{parsed_def.qualname}")
        slots.append(
            _Slot(
                parsed_def.node_type,
                parsed_def.start_line,
                parsed_def.end_line,
                parsed_def.parent + 1,
                node_id,
                parsed_def.def_line,
            )
        )
    return slots


def plan_ghost(
    parsed: ParsedFile,
    lines: list[str],
    file: str,
    line: int,
    *,
    file_id: str | None,
    stored_ids: dict[str, str] | None = None,
) -> GhostPlan:
    """The placement of a ghost on ``line`` (1-based) of ``file`` whose text is ``lines``.
    ``stored_ids`` maps ``"type:qualname"`` to ids for definitions without an anchor yet."""
    if not 1 <= line <= max(len(lines), 1):
        raise NodeNotFoundError(f"line {line} is outside {file!r} ({len(lines)} lines)")
    if line <= len(lines) and lines[line - 1].strip():
        raise NodeNotFoundError(f"line {line} of {file!r} is not empty: a ghost needs an empty line")
    slots = _slots(parsed, file_id, len(lines), stored_ids or {})
    container = 0
    for index, slot in enumerate(slots):
        if slot.node_type == "class" and slot.start <= line <= slot.end:
            container = index  # document order: the last match is the innermost
    previous: int | None = None
    first: int | None = None
    for index, slot in enumerate(slots):
        if index == container or slot.parent != container:
            continue
        first = index if first is None else first
        if slot.end < line and (previous is None or slot.end > slots[previous].end):
            previous = index
    box = slots[container]
    target = box.node_id
    indent = ""
    if box.node_type == "class":
        chosen = previous if previous is not None else first
        target = slots[chosen].node_id if chosen is not None else box.node_id
        header = lines[box.def_line - 1] if box.def_line <= len(lines) else ""
        indent = header[: len(header) - len(header.lstrip())] + "    "
    if box.node_id is None or target is None:
        raise NodeNotFoundError(
            f"the node enclosing line {line} of {file!r} has no id yet: save and index the file first"
        )
    return GhostPlan(
        file,
        line,
        box.node_id,
        target,
        slots[previous].node_id if previous is not None else None,
        indent,
    )
