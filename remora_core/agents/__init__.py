"""The agent runtime: base prompt, tools, extensions, proposals, model client and the turn loop.

User extension models import from here: ``from remora_core.agents import ExtensionNode, tool``.
"""

from __future__ import annotations

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
