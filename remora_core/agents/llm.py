"""The model client: ``openai.AsyncOpenAI`` against any OpenAI-compatible server (vLLM).

The only module that imports ``openai``. Retries 429 / 5xx / connection errors with bounded
exponential backoff; turns the server's failures into one-line ``LLMError``s that say what
to do (start the server at the base URL, start vLLM with the tool-call flags).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, Self

import openai

from remora_core.agents.doctor import NO_KEY, VLLM_TOOL_FLAGS
from remora_core.agents.errors import LLMError, LLMUnavailableError, ToolsNotSupportedError
from remora_core.config import LLMConfig


@dataclass(frozen=True, slots=True)
class ToolCallRequest:
    id: str
    name: str
    arguments: str  # raw JSON text as the model wrote it (may be malformed)


@dataclass(slots=True)
class ChatResult:
    text: str | None
    tool_calls: list[ToolCallRequest] = field(default_factory=list)
    finish_reason: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # e.g. a tool_choice the server refused
    tool_choice: str | None = None  # what was sent ("auto", "required", or a tool's name)


ToolChoice = str | dict[str, Any]  # "auto" | "required" | "none" | {"type": "function", "function": {"name"}}


class ChatModel(Protocol):
    """What the agent loop needs from a model (``LLMClient``; a test double also fits). The loop
    passes ``tool_choice`` only when it is not ``"auto"``."""

    async def chat(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
    ) -> ChatResult: ...


def choice_label(choice: ToolChoice | None) -> str:
    """``"auto"``, ``"required"``, ... or the forced tool's name."""
    if choice is None:
        return "auto"
    if isinstance(choice, str):
        return choice
    function = choice.get("function")
    return str(function.get("name")) if isinstance(function, dict) else "auto"


TextDelta = Callable[[str], None]


def _tools_rejected(error: openai.APIStatusError) -> bool:
    if error.status_code not in (400, 422, 501):
        return False
    text = str(error.message).lower()
    return "tool" in text and any(word in text for word in ("choice", "support", "parser", "enable", "tools"))


class _ChoiceRefused(Exception):
    """The server refused a forced ``tool_choice`` (the caller retries with ``auto``)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class LLMClient:
    """One configured model. ``chat`` sends messages (+ tool schemas) and returns text or tool calls."""

    def __init__(self, config: LLMConfig, *, on_text: TextDelta | None = None) -> None:
        self.config = config
        self.on_text = on_text
        api_key = os.environ.get(config.api_key_env) or NO_KEY
        self._client = openai.AsyncOpenAI(
            base_url=config.base_url, api_key=api_key, timeout=config.timeout, max_retries=0
        )
        self._refused_choices: set[str] = set()  # tool_choice kinds this server rejected

    async def close(self) -> None:
        await self._client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _delay(self, attempt: int) -> float:
        return min(self.config.retry_base_delay * (2**attempt), self.config.retry_max_delay)

    async def chat(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
        tool_choice: ToolChoice | None = None,
    ) -> ChatResult:
        """One completion. A ``tool_choice`` other than auto that the server rejects is dropped
        (for the rest of this client's life) and the request is sent again with ``auto``; the
        result's ``notes`` say so."""
        notes: list[str] = []
        kind = "required" if tool_choice == "required" else "named" if isinstance(tool_choice, dict) else "auto"
        if kind != "auto" and kind in self._refused_choices:
            tool_choice = None
        if kind != "auto" and tool_choice is not None and tools:
            try:
                result = await self._retrying(messages, tools, tool_choice, forced=True)
                result.tool_choice = choice_label(tool_choice)
                return result
            except _ChoiceRefused as refused:
                self._refused_choices.add(kind)
                notes.append(
                    f"the server rejected tool_choice {choice_label(tool_choice)!r} (HTTP {refused.status}: "
                    f"{refused.detail}); using 'auto' from now on"
                )
        result = await self._retrying(messages, tools, None)
        result.notes[:0] = notes
        result.tool_choice = "auto" if tools else None
        return result

    async def _retrying(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None,
        tool_choice: ToolChoice | None,
        *,
        forced: bool = False,
    ) -> ChatResult:
        config = self.config
        attempt = 0
        while True:
            try:
                try:
                    return await self._once(messages, tools, tool_choice)
                except openai.APIStatusError as error:
                    if forced and error.status_code in (400, 422, 500, 501):
                        detail = " ".join(str(error.message).split())[:160]
                        raise _ChoiceRefused(error.status_code, detail) from None
                    raise
            except (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError) as error:
                if attempt >= config.max_retries:
                    raise self._final_error(error, attempt) from None
            except openai.APIStatusError as error:
                if error.status_code >= 500 and attempt < config.max_retries:
                    pass
                else:
                    raise self._status_error(error) from None
            await asyncio.sleep(self._delay(attempt))
            attempt += 1

    def _final_error(self, error: openai.APIError, retries: int) -> LLMError:
        base = self.config.base_url
        if isinstance(error, openai.APITimeoutError):
            return LLMUnavailableError(
                f"model server at {base!r} did not answer within {self.config.timeout}s ({retries} retries)"
            )
        if isinstance(error, openai.APIConnectionError):
            return LLMUnavailableError(
                f"model server at {base!r} is not reachable ({retries} retries): is vLLM (or another "
                "OpenAI-compatible server) running there? Check llm.base_url in .remora/config.toml"
            )
        status = getattr(error, "status_code", "?")
        return LLMUnavailableError(
            f"model server at {base!r} kept failing with HTTP {status} after {retries} retries: {error.message}"
        )

    def _status_error(self, error: openai.APIStatusError) -> LLMError:
        base = self.config.base_url
        if _tools_rejected(error):
            return ToolsNotSupportedError(
                f"model server at {base!r} rejects tool calling ({error.message}); start vLLM with "
                f"{VLLM_TOOL_FLAGS} (e.g. --tool-call-parser hermes for Qwen models)"
            )
        if isinstance(error, openai.NotFoundError):
            return LLMError(
                f"model server at {base!r} answered 404: is the model {self.config.model!r} served there? ({error.message})"
            )
        if isinstance(error, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return LLMError(
                f"model server at {base!r} refused the API key (set it in ${self.config.api_key_env}): {error.message}"
            )
        return LLMError(f"model server at {base!r} answered HTTP {error.status_code}: {error.message}")

    async def _once(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, tool_choice: ToolChoice | None
    ) -> ChatResult:
        config = self.config
        kwargs: dict[str, Any] = {
            "model": config.model,
            "messages": messages,
            "temperature": config.temperature,
            "max_tokens": config.max_tokens,
        }
        if tools:
            kwargs["tools"] = tools
            kwargs["tool_choice"] = tool_choice or "auto"
        try:
            if config.stream:
                return await self._streamed(kwargs)
            response = await self._client.chat.completions.create(**kwargs)
            return self._read(response)
        except (openai.APIStatusError, openai.APIConnectionError, openai.RateLimitError, LLMError):
            raise
        except openai.APIResponseValidationError as error:
            raise self._unreadable(error) from None
        except (ValueError, TypeError, AttributeError, KeyError, IndexError, UnicodeError) as error:
            raise self._unreadable(error) from None

    def _unreadable(self, error: Exception) -> LLMError:
        detail = " ".join(str(error).split())[:160] or type(error).__name__
        return LLMError(
            f"model server at {self.config.base_url!r} sent a reply that is not an OpenAI chat completion "
            f"({detail}); is {self.config.base_url!r} the OpenAI-compatible endpoint (ending in /v1)?"
        )

    def _read(self, response: Any) -> ChatResult:
        base = self.config.base_url
        if isinstance(response, (str, bytes)) or not hasattr(response, "choices"):
            raise LLMError(f"model server at {base!r} sent a reply that is not JSON: {str(response)[:120]!r}")
        if not response.choices:
            raise LLMError(f"model server at {base!r} returned no choices")
        choice = response.choices[0]
        message = choice.message
        if message is None:
            raise LLMError(f"model server at {base!r} returned a choice without a message (\"message\": null)")
        calls = [
            ToolCallRequest(call.id or f"call_{index}", call.function.name or "", call.function.arguments or "")
            for index, call in enumerate(message.tool_calls or [])
            if getattr(call, "function", None) is not None
        ]
        usage = response.usage.model_dump() if response.usage is not None else {}
        content = message.content
        return ChatResult(
            content if isinstance(content, str) else None,
            calls,
            choice.finish_reason,
            {k: v for k, v in usage.items() if isinstance(v, int)},
        )

    async def _streamed(self, kwargs: dict[str, Any]) -> ChatResult:
        stream = await self._client.chat.completions.create(**kwargs, stream=True)
        text: list[str] = []
        ids: dict[int, str] = {}
        names: dict[int, str] = {}
        arguments: dict[int, list[str]] = {}
        finish: str | None = None
        usage: dict[str, int] = {}
        async for chunk in stream:
            if getattr(chunk, "usage", None) is not None:
                usage = {k: v for k, v in chunk.usage.model_dump().items() if isinstance(v, int)}
            if not chunk.choices:
                continue
            choice = chunk.choices[0]
            delta = choice.delta
            if delta.content:
                text.append(delta.content)
                if self.on_text is not None:
                    self.on_text(delta.content)
            for call in delta.tool_calls or []:
                index = call.index
                if call.id:
                    ids[index] = call.id
                if call.function is not None:
                    if call.function.name:
                        names[index] = names.get(index, "") + call.function.name
                    if call.function.arguments:
                        arguments.setdefault(index, []).append(call.function.arguments)
            finish = choice.finish_reason or finish
        calls = [
            ToolCallRequest(ids.get(index, f"call_{index}"), names[index], "".join(arguments.get(index, [])))
            for index in sorted(names)
        ]
        return ChatResult("".join(text) or None, calls, finish, usage)
