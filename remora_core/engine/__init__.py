"""The engine facade: one API over the index, the agents, proposals and events that every face
(the CLI, the Neovim host, the HTTP service) calls. ``Engine`` loads on first use (PEP 562):
importing ``remora_core.engine.nodes`` or ``.ghost`` does not pull in the agent runtime."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from remora_core.engine.facade import CancelReport, Engine, NodeStatus, Rejection

__all__ = ["CancelReport", "Engine", "NodeStatus", "Rejection"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from remora_core.engine import facade

        return getattr(facade, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
