"""The agent runtime: base prompt, tools, extensions, proposals, model client and the turn loop.

User extension models import from here: ``from remora_core.agents import ExtensionNode, tool``.
Names load on first use (PEP 562): importing one module of the package does not pull in
``openai`` (~0.9 s), which only the model client needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from remora_core.agents.context import AgentContext, LocalAgentContext, ProposalSink
    from remora_core.agents.core_tools import CORE_TOOL_NAMES, CoreTools
    from remora_core.agents.drafts import draft_new_node, draft_rewrite
    from remora_core.agents.errors import (
        AgentError,
        AgentTimeoutError,
        ExtensionError,
        LLMError,
        LLMUnavailableError,
        ProposalError,
        ToolDefinitionError,
        ToolsNotSupportedError,
    )
    from remora_core.agents.extensions import ExtensionNode, ExtensionRegistry, discover_extensions
    from remora_core.agents.llm import ChatModel, ChatResult, LLMClient, ToolCallRequest
    from remora_core.agents.loop import TurnResult, run_turn
    from remora_core.agents.node import ASTAgentNode, ContextProvider, HydratedAgent, hydrate_agent
    from remora_core.agents.proposal_model import Proposal
    from remora_core.agents.proposals import ApplyResult, ProposalStore, splice_proposal
    from remora_core.agents.tools import ToolResult, ToolSet, ToolSpec, tool, tool_schemas

_SOURCES: dict[str, str] = {
    "CORE_TOOL_NAMES": "remora_core.agents.core_tools",
    "ASTAgentNode": "remora_core.agents.node",
    "AgentContext": "remora_core.agents.context",
    "AgentError": "remora_core.agents.errors",
    "AgentTimeoutError": "remora_core.agents.errors",
    "ApplyResult": "remora_core.agents.proposals",
    "ChatModel": "remora_core.agents.llm",
    "ChatResult": "remora_core.agents.llm",
    "ContextProvider": "remora_core.agents.node",
    "CoreTools": "remora_core.agents.core_tools",
    "ExtensionError": "remora_core.agents.errors",
    "ExtensionNode": "remora_core.agents.extensions",
    "ExtensionRegistry": "remora_core.agents.extensions",
    "HydratedAgent": "remora_core.agents.node",
    "LLMClient": "remora_core.agents.llm",
    "LLMError": "remora_core.agents.errors",
    "LLMUnavailableError": "remora_core.agents.errors",
    "LocalAgentContext": "remora_core.agents.context",
    "Proposal": "remora_core.agents.proposal_model",
    "ProposalError": "remora_core.agents.errors",
    "ProposalSink": "remora_core.agents.context",
    "ProposalStore": "remora_core.agents.proposals",
    "ToolCallRequest": "remora_core.agents.llm",
    "ToolDefinitionError": "remora_core.agents.errors",
    "ToolResult": "remora_core.agents.tools",
    "ToolSet": "remora_core.agents.tools",
    "ToolSpec": "remora_core.agents.tools",
    "ToolsNotSupportedError": "remora_core.agents.errors",
    "TurnResult": "remora_core.agents.loop",
    "discover_extensions": "remora_core.agents.extensions",
    "draft_new_node": "remora_core.agents.drafts",
    "draft_rewrite": "remora_core.agents.drafts",
    "hydrate_agent": "remora_core.agents.node",
    "run_turn": "remora_core.agents.loop",
    "splice_proposal": "remora_core.agents.proposals",
    "tool": "remora_core.agents.tools",
    "tool_schemas": "remora_core.agents.tools",
}

__all__ = [
    "CORE_TOOL_NAMES",
    "ASTAgentNode",
    "AgentContext",
    "AgentError",
    "AgentTimeoutError",
    "ApplyResult",
    "ChatModel",
    "ChatResult",
    "ContextProvider",
    "CoreTools",
    "ExtensionError",
    "ExtensionNode",
    "ExtensionRegistry",
    "HydratedAgent",
    "LLMClient",
    "LLMError",
    "LLMUnavailableError",
    "LocalAgentContext",
    "Proposal",
    "ProposalError",
    "ProposalSink",
    "ProposalStore",
    "ToolCallRequest",
    "ToolDefinitionError",
    "ToolResult",
    "ToolSet",
    "ToolSpec",
    "ToolsNotSupportedError",
    "TurnResult",
    "discover_extensions",
    "draft_new_node",
    "draft_rewrite",
    "hydrate_agent",
    "run_turn",
    "splice_proposal",
    "tool",
    "tool_schemas",
]


def __getattr__(name: str) -> Any:
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module 'remora_core.agents' has no attribute {name!r}")
    value = getattr(importlib.import_module(source), name)
    globals()[name] = value
    return value
