"""One agent turn: system prompt + user message -> tool calls dispatched -> results fed back,
until the model answers in plain text (the agent's reply) or ``max_tool_rounds`` is reached.

Every step goes through an injected ``emit(event_type, payload)`` callback (the event bus
plugs in there). A malformed tool call becomes an error tool result and the turn goes on.
The whole turn has a deadline. Cancellation (``asyncio``) propagates after an
``agent_turn_cancelled`` event; tools only ever create complete proposal rows (no file is
written during a turn), so a cancelled turn leaves no half-applied state.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from remora_core.agents.errors import AgentTimeoutError
from remora_core.agents.llm import ChatModel, ChatResult
from remora_core.agents.tools import ToolSet

Emit = Callable[[str, dict[str, Any]], None]
StopReason = Literal["answered", "max_tool_rounds"]


def _ignore(event_type: str, payload: dict[str, Any]) -> None:
    return


@dataclass(slots=True)
class ToolCallRecord:
    name: str
    arguments: str
    result: str
    ok: bool
    seconds: float


@dataclass(slots=True)
class TurnResult:
    reply: str
    stop_reason: StopReason
    rounds: int
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    model_seconds: float = 0.0
    seconds: float = 0.0


def _assistant_message(result: ChatResult) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": result.text}
    if result.tool_calls:
        message["tool_calls"] = [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
            for call in result.tool_calls
        ]
    return message


async def _turn(
    model: ChatModel,
    messages: list[dict[str, Any]],
    tools: ToolSet,
    max_tool_rounds: int,
    emit: Emit,
    base: dict[str, Any],
    outcome: TurnResult,
) -> None:
    schemas = tools.schemas() or None
    for round_number in range(1, max_tool_rounds + 1):
        outcome.rounds = round_number
        emit("model_request", {**base, "round": round_number, "messages": len(messages)})
        started = time.perf_counter()
        result = await model.chat(messages, schemas)
        outcome.model_seconds += time.perf_counter() - started
        emit(
            "model_response",
            {
                **base,
                "round": round_number,
                "text": result.text,
                "tool_calls": [{"name": c.name, "arguments": c.arguments} for c in result.tool_calls],
                "finish_reason": result.finish_reason,
            },
        )
        messages.append(_assistant_message(result))
        if not result.tool_calls:
            outcome.reply = result.text or ""
            outcome.stop_reason = "answered"
            return
        for call in result.tool_calls:
            emit("tool_call", {**base, "round": round_number, "tool": call.name, "arguments": call.arguments})
            started = time.perf_counter()
            tool_result = await tools.call(call.name, call.arguments)
            seconds = time.perf_counter() - started
            outcome.tool_calls.append(
                ToolCallRecord(call.name, call.arguments, tool_result.text, tool_result.ok, seconds)
            )
            emit(
                "tool_result",
                {
                    **base,
                    "round": round_number,
                    "tool": call.name,
                    "ok": tool_result.ok,
                    "result": tool_result.text,
                },
            )
            messages.append({"role": "tool", "tool_call_id": call.id, "content": tool_result.text})
    last = messages[-1]
    outcome.reply = (
        f"stopped after {max_tool_rounds} tool rounds without a final answer"
        if last.get("role") == "tool"
        else str(last.get("content") or "")
    )
    outcome.stop_reason = "max_tool_rounds"


async def run_turn(
    model: ChatModel,
    system_prompt: str,
    user_message: str,
    tools: ToolSet,
    *,
    max_tool_rounds: int = 8,
    deadline: float | None = None,
    emit: Emit = _ignore,
    agent_id: str | None = None,
    correlation_id: str | None = None,
    history: list[dict[str, Any]] | None = None,
) -> TurnResult:
    """Run one turn; ``deadline`` is in seconds for the whole turn (model time included)."""
    base: dict[str, Any] = {"agent_id": agent_id, "correlation_id": correlation_id}
    messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt}, *(history or [])]
    messages.append({"role": "user", "content": user_message})
    outcome = TurnResult(reply="", stop_reason="answered", rounds=0, messages=messages)
    started = time.perf_counter()
    emit("agent_turn_started", {**base, "request": user_message, "tools": tools.names})
    try:
        async with asyncio.timeout(deadline):
            await _turn(model, messages, tools, max_tool_rounds, emit, base, outcome)
    except TimeoutError:
        outcome.seconds = time.perf_counter() - started
        message = f"agent turn of {agent_id!r} ran past its deadline of {deadline}s (round {outcome.rounds})"
        emit("agent_turn_failed", {**base, "error": message, "rounds": outcome.rounds})
        raise AgentTimeoutError(message) from None
    except asyncio.CancelledError:
        emit("agent_turn_cancelled", {**base, "rounds": outcome.rounds})
        raise
    except Exception as error:
        emit("agent_turn_failed", {**base, "error": str(error), "rounds": outcome.rounds})
        raise
    outcome.seconds = time.perf_counter() - started
    emit(
        "agent_turn_completed",
        {**base, "reply": outcome.reply, "rounds": outcome.rounds, "stop_reason": outcome.stop_reason},
    )
    return outcome
