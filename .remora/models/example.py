"""Example Remora extension model (discovered at start from ``.remora/models/*.py``).

An ``ExtensionNode`` subclass docks into the one base prompt of every node it matches:
``match_type`` ("function", "method", "class", "file" or "*") and an fnmatch
``match_pattern`` on the node's name select the nodes; the highest ``priority`` wins when
several match. It adds ``system_prompt`` to the "Custom Instructions" section,
``get_workspaces()`` to "Available Data", and its ``@tool`` methods to the core tools
(a tool schema comes from the signature and the docstring's ``Args:`` section).
``self.context`` is the running agent's context (node id, project root, store).
"""

from __future__ import annotations

import os

from remora_core.agents import ExtensionNode, tool


class ConfigSpecialist(ExtensionNode):
    """Every ``*Config`` class of the project gets a configuration specialist."""

    match_type = "class"
    match_pattern = "*Config"
    priority = 10

    system_prompt = """
    You are a configuration specialist. You make sure every config class:
    - has sensible defaults,
    - validates its inputs (unknown keys are errors),
    - documents its fields.
    """

    def get_workspaces(self) -> str:
        return (
            "- .remora/config.toml (read-only, via read_config_example)\n- environment variables (read_env)"
        )

    @tool
    def read_env(self, key: str) -> str:
        """Read an environment variable of the process running the agents.

        Args:
            key: The variable's name, e.g. "REMORA_API_KEY".
        """
        value = os.environ.get(key)
        return (
            "(not set)" if value is None else ("(set, hidden)" if "KEY" in key or "TOKEN" in key else value)
        )

    @tool
    def read_config_example(self) -> str:
        """Read the project's documented example configuration file."""
        if self.context is None:
            return "(no project context)"
        path = self.context.root / ".remora" / "config.toml"
        return path.read_text(encoding="utf-8") if path.exists() else "(no .remora/config.toml)"
