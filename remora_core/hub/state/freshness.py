"""The one freshness policy of hub state: fresh | stale | missing."""

from __future__ import annotations

import time
from typing import Literal

from remora_core.hub.state.model import NodeState

Freshness = Literal["fresh", "stale", "missing"]


def freshness(state: NodeState | None, current_version: str, max_age: float, now: float | None = None) -> Freshness:
    """``fresh``: computed from the node's current source and at most ``max_age`` seconds old;
    ``stale``: present otherwise; ``missing``: no state."""
    if state is None:
        return "missing"
    age = (time.time() if now is None else now) - state.last_updated
    if state.status == "active" and state.source_version == current_version and age <= max_age:
        return "fresh"
    return "stale"
