"""Ghost nodes: the request a placeholder line sends to the agent that creates the new node."""

from __future__ import annotations

import secrets
import string

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
