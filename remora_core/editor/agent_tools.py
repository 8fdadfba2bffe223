"""A node's tools for the editor's generated forms: the same JSON schemas the model gets
(core tools + the extension's), and calling one as the human."""

from __future__ import annotations

from typing import Any

from remora_core.agents.context import LocalAgentContext
from remora_core.agents.errors import AgentError
from remora_core.agents.node import hydrate_agent
from remora_core.agents.service import AgentService
from remora_core.agents.tools import ToolSet
from remora_core.agents.triggers import new_correlation_id


def _toolset(service: AgentService, node_id: str, correlation_id: str | None) -> ToolSet:
    hydrated = hydrate_agent(service.root, service.store, node_id, registry=service.runner.registry)

    async def ask(target_id: str, request: str) -> str:
        trigger = await service.wait(service.chat(target_id, request))
        if trigger.status != "done":
            raise AgentError(f"{target_id!r} did not answer: {trigger.error or trigger.status}")
        return trigger.reply or ""

    context = LocalAgentContext(
        node_id,
        service.root,
        service.store,
        service.runner.sink,
        correlation_id,
        service.config.index.anchor_column,
        messenger=ask,
    )
    return hydrated.toolset(context)


def tool_list(service: AgentService, node_id: str) -> list[dict[str, Any]]:
    """[{name, description, parameters (JSON schema), order (the parameters in signature order:
    a Lua table keeps no key order)}] in the order the model sees them."""
    tools = []
    for schema in _toolset(service, node_id, None).schemas():
        function = dict(schema["function"])
        function["order"] = list(function["parameters"].get("properties", {}))
        tools.append(function)
    return tools


async def call_tool(
    service: AgentService, node_id: str, name: str, arguments: dict[str, Any]
) -> dict[str, Any]:
    """Run one tool of ``node_id`` as the human; the result text (errors are results too)."""
    correlation_id = new_correlation_id()
    result = await _toolset(service, node_id, correlation_id).call(name, arguments)
    return {"tool": name, "ok": result.ok, "text": result.text, "correlation_id": correlation_id}
