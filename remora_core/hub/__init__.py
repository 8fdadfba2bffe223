"""The hub: Remora's background indexer process (one per project root) and its control API.

The names below are imported on first use (PEP 562): a parse worker imports ``hub.parent`` and
must not pull in the control API (and the config models behind it) with it."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from remora_core.hub.control import HubError, ensure_hub, spawn_hub, stop_hub
    from remora_core.hub.status import HubStatus, hub_status

__all__ = ["HubError", "HubStatus", "ensure_hub", "hub_status", "spawn_hub", "stop_hub"]

_HOMES = {
    "HubError": "control",
    "ensure_hub": "control",
    "spawn_hub": "control",
    "stop_hub": "control",
    "HubStatus": "status",
    "hub_status": "status",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"remora_core.hub.{home}"), name)
