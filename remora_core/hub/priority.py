"""The hub is background work: it runs niced so the editor's process wins the CPU when both want it."""

from __future__ import annotations

import os


def lower_priority(niceness: int) -> int:
    """Raise this process's niceness to at least ``niceness`` (its parse workers inherit it);
    never lowers it. Returns the niceness in effect."""
    current = os.nice(0)
    if niceness > current:
        try:
            return os.nice(niceness - current)
        except OSError:  # a sandbox that forbids it: run at the current priority
            return current
    return current
