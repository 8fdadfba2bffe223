"""The hub: Remora's background indexer process (one per project root) and its control API."""

from remora_core.hub.control import HubError, ensure_hub, spawn_hub, stop_hub
from remora_core.hub.status import HubStatus, hub_status

__all__ = ["HubError", "HubStatus", "ensure_hub", "hub_status", "spawn_hub", "stop_hub"]
