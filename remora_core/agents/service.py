"""Compatibility name: the engine facade is ``remora_core.engine.Engine``; ``AgentService`` is
the same class under the name the faces used first."""

from remora_core.engine.facade import CancelReport, Engine, NodeStatus, Rejection, feedback_message

AgentService = Engine

__all__ = ["AgentService", "CancelReport", "Engine", "NodeStatus", "Rejection", "feedback_message"]
