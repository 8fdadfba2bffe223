"""A node's tools for the editor's generated forms, as plain data: the same JSON schemas the
model gets (``Engine.tools``) and calling one as the human (``Engine.call_tool``)."""

from __future__ import annotations

from typing import Any

from remora_core.engine.facade import Engine


def tool_list(engine: Engine, node_id: str) -> list[dict[str, Any]]:
    """[{name, description, parameters (JSON schema), order (the parameters in signature order:
    a Lua table keeps no key order)}] in the order the model sees them."""
    tools = []
    for schema in engine.tools(node_id):
        function = dict(schema["function"])
        function["order"] = list(function["parameters"].get("properties", {}))
        tools.append(function)
    return tools


async def call_tool(engine: Engine, node_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Run one tool of ``node_id`` as the human; the result text (errors are results too)."""
    outcome = await engine.call_tool(node_id, name, arguments)
    return {"tool": outcome.tool, "ok": outcome.ok, "text": outcome.text, "correlation_id": outcome.correlation_id}
