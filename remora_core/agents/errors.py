"""Errors of the agent runtime. Every message names the thing it is about (with ``!r``)."""

from __future__ import annotations

from remora_core.errors import RemoraError


class AgentError(RemoraError):
    """An agent cannot be hydrated or its turn cannot run."""


class ToolDefinitionError(AgentError):
    """A ``@tool`` callable has a signature no JSON schema can describe."""


class ExtensionError(AgentError):
    """A user extension model in ``.remora/models/`` is invalid."""


class LLMError(AgentError):
    """The model server answered with an error Remora cannot recover from."""


class LLMUnavailableError(LLMError):
    """The model server is down, unreachable, or kept failing after the retries."""


class ToolsNotSupportedError(LLMError):
    """The model server refuses tool calling (vLLM without the tool-call flags)."""


class AgentTimeoutError(AgentError):
    """An agent turn ran past its deadline."""


class ProposalError(AgentError):
    """A proposal cannot be created, found or applied."""
