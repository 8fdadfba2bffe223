"""One agent turn: system prompt + user message -> tool calls dispatched -> results fed back,
until the model answers in plain text (the agent's reply) or ``max_tool_rounds`` is reached.

Every step goes through an injected ``emit(event_type, payload)`` callback (the event bus
plugs in there; every round's raw text and calls are a ``model_response``). A malformed tool
call becomes an error tool result and the turn goes on. A reply without server-parsed calls is
read for calls written as text (``recovery.py``: ``<tool_call>`` tags, ``functions.NAME:``,
JSON objects); on an edit request, a reply with one fenced Python block defining the node
becomes a ``rewrite_self`` call (the code-block fallback, which ends the turn once proposed).
A call repeated identically within a turn is dropped. The assistant message always carries a
string ``content`` ("" beside tool calls).
The whole turn has a deadline. Cancellation (``asyncio``) propagates after an
``agent_turn_cancelled`` event; tools only ever create complete proposal rows (no file is
written during a turn), so a cancelled turn leaves no half-applied state.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from remora_core.agents.errors import AgentTimeoutError
from remora_core.agents.llm import ChatModel, ChatResult, ToolCallRequest, ToolChoice, choice_label
from remora_core.agents.recovery import code_block_rewrite, find_text_calls, salvage_new_source, strip_calls
from remora_core.agents.tools import ToolSet, parse_arguments

Emit = Callable[[str, dict[str, Any]], None]
StopReason = Literal["answered", "max_tool_rounds"]
ToolChoiceStrategy = Literal["auto", "required", "per_step", "code_block"]


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
    usage: dict[str, int] = field(default_factory=dict)  # token counts summed over the rounds
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TurnPolicy:
    """How a turn talks to its model (``agents/strategy.py`` builds it from the config).

    ``tool_choice``: ``auto``; ``required`` (a tool call is forced until one succeeds); or
    ``per_step`` (``force_tool`` is forced until a call succeeds, then auto); or ``code_block``
    (as per_step, but an edit request is sent without tools and with ``system_prompt`` /
    ``task_suffix``: the model answers with one fenced Python block, read by the fallback).
    ``own_name`` / ``own_source`` feed the code-block fallback, used only on edit requests.
    ``tool_names`` limits the schemas sent (None: every tool; ``()``: none); calls to the
    others still work. ``system_prompt`` replaces the node's prompt; ``task_suffix`` is appended
    to the user's message; ``block_retries`` is how many times a reply without a usable block
    is asked again for one (code_block edits).
    """

    tool_choice: ToolChoiceStrategy = "auto"
    edit_request: bool = False
    own_name: str | None = None
    own_source: str = ""
    recover_text_calls: bool = True
    tool_names: tuple[str, ...] | None = None
    short_schemas: bool = False
    force_tool: str | None = None  # per_step: the tool forced until a call succeeds
    system_prompt: str | None = None
    task_suffix: str = ""
    block_retries: int = 0
    tools_after_force: bool = True  # False: once the forced call succeeded, no more tools are sent


def _assistant_message(text: str | None, calls: list[ToolCallRequest]) -> dict[str, Any]:
    # content is "" (never None) next to tool_calls: llama-cpp-python answers HTTP 500 to None
    message: dict[str, Any] = {"role": "assistant", "content": text or ""}
    if calls:
        message["tool_calls"] = [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
            for call in calls
        ]
    return message


def _call_key(name: str, arguments: str) -> tuple[str, str]:
    data = parse_arguments(arguments)
    return name, json.dumps(data, sort_keys=True) if isinstance(data, dict) else arguments


@dataclass(slots=True)
class _Round:
    """What one model reply amounts to once text calls and the code-block fallback are read."""

    calls: list[ToolCallRequest]
    text: str | None
    recovered: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)
    fallback: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    final: bool = False  # the fallback proposal ends the turn


class _Reader:
    """Turns model replies into tool calls: the server's, the ones written as text, the code-block
    fallback. Remembers the turn's calls so a repeated identical call is dropped."""

    def __init__(self, policy: TurnPolicy, tools: ToolSet) -> None:
        self.policy = policy
        self.tools = tools
        self.seen: set[tuple[str, str]] = set()
        self.proposed = False
        self.recover = policy.recover_text_calls

    def read(self, result: ChatResult, round_number: int) -> _Round:
        outcome = _Round(calls=[], text=result.text)
        native: set[tuple[str, str]] = set()  # the server's calls: repeats dropped within one reply
        for call in result.tool_calls:
            key = _call_key(call.name, call.arguments)
            if key in native:
                outcome.dropped.append({"name": call.name, "arguments": call.arguments})
                continue
            native.add(key)
            self.seen.add(key)
            salvaged = self._salvage(call)
            if salvaged is not call:
                outcome.recovered.append({"name": call.name, "arguments": salvaged.arguments, "form": "code_in_arguments"})
            outcome.calls.append(salvaged)
        if not result.tool_calls and self.recover:
            found = find_text_calls(result.text)
            for index, text_call in enumerate(found):
                call = ToolCallRequest(f"text_{round_number}_{index}", text_call.name, text_call.arguments)
                self._add(outcome, call, text_call.form)
            if found:
                outcome.text = strip_calls(result.text or "", found)
        if not outcome.calls and not outcome.dropped:
            self._fallback(outcome, result.text, round_number)
        return outcome

    def _salvage(self, call: ToolCallRequest) -> ToolCallRequest:
        """A ``rewrite_self`` whose new_source is markdown: its code block (small forced models)."""
        if call.name != "rewrite_self" or not self.policy.own_name:
            return call
        fixed = salvage_new_source(call.arguments, self.policy.own_name, self.policy.own_source)
        return ToolCallRequest(call.id, call.name, fixed) if fixed is not None else call

    def _add(self, outcome: _Round, call: ToolCallRequest, form: str) -> None:
        """A call read from text: dropped when the turn already made it (small models repeat)."""
        key = _call_key(call.name, call.arguments)
        entry: dict[str, Any] = {"name": call.name, "arguments": call.arguments, "form": form}
        if key in self.seen:
            outcome.dropped.append(entry)
            return
        self.seen.add(key)
        outcome.calls.append(call)
        outcome.recovered.append(entry)

    def _fallback(self, outcome: _Round, text: str | None, round_number: int) -> None:
        policy = self.policy
        if not (policy.edit_request and policy.own_name and "rewrite_self" in self.tools) or self.proposed:
            return
        rewrite = code_block_rewrite(text, policy.own_name, policy.own_source)
        if rewrite is None:
            return
        if rewrite.unchanged:
            outcome.notes.append("the reply's code block is the current source: no proposal")
            return
        arguments = json.dumps({"new_source": rewrite.new_source}, ensure_ascii=False)
        call = ToolCallRequest(f"fallback_{round_number}", "rewrite_self", arguments)
        self.seen.add(_call_key(call.name, arguments))
        outcome.calls.append(call)
        outcome.fallback = {"tool": "rewrite_self", "imports": rewrite.imports}
        if rewrite.imports:
            outcome.notes.append(
                "imports the code block adds are not part of the proposal (a node's rewrite holds one "
                "definition); add them to the file: " + "; ".join(rewrite.imports)
            )
        outcome.final = True


def _choice(policy: TurnPolicy, tools: ToolSet, forced_done: bool) -> ToolChoice | None:
    if forced_done:
        return None
    if policy.tool_choice == "required":
        return "required"
    if policy.tool_choice in ("per_step", "code_block") and policy.force_tool and policy.force_tool in tools:
        return {"type": "function", "function": {"name": policy.force_tool}}
    return None


async def _ask(
    model: ChatModel,
    messages: list[dict[str, Any]],
    schemas: list[dict[str, Any]] | None,
    choice: ToolChoice | None,
) -> ChatResult:
    if choice is None or not schemas:
        return await model.chat(messages, schemas)
    return await model.chat(messages, schemas, tool_choice=choice)  # type: ignore[call-arg]


async def _turn(
    model: ChatModel,
    messages: list[dict[str, Any]],
    tools: ToolSet,
    max_tool_rounds: int,
    emit: Emit,
    base: dict[str, Any],
    outcome: TurnResult,
    policy: TurnPolicy,
) -> None:
    schemas = tools.schemas(policy.tool_names, short=policy.short_schemas) or None
    reader = _Reader(policy, tools)
    forced_done = False
    retries_left = policy.block_retries
    for round_number in range(1, max_tool_rounds + 1):
        outcome.rounds = round_number
        choice = _choice(policy, tools, forced_done)
        if forced_done and not policy.tools_after_force:
            schemas = None  # the answer round: no tools, and no calls read from its text
            reader.recover = False
        emit(
            "model_request",
            {
                **base,
                "round": round_number,
                "messages": len(messages),
                "prompt_chars": sum(len(str(m.get("content") or "")) for m in messages),
                "tool_choice": choice_label(choice),
            },
        )
        started = time.perf_counter()
        result = await _ask(model, messages, schemas, choice)
        outcome.model_seconds += time.perf_counter() - started
        for key, value in result.usage.items():
            outcome.usage[key] = outcome.usage.get(key, 0) + value
        read = reader.read(result, round_number)
        notes = [*result.notes, *read.notes]
        outcome.notes.extend(notes)
        emit(
            "model_response",
            {
                **base,
                "round": round_number,
                "text": result.text or "",
                "tool_calls": [{"name": c.name, "arguments": c.arguments} for c in result.tool_calls],
                "recovered": read.recovered,
                "dropped": read.dropped,
                "fallback": read.fallback,
                "finish_reason": result.finish_reason,
                "tool_choice": result.tool_choice or choice_label(choice),
                "notes": notes,
                "usage": result.usage,
            },
        )
        messages.append(_assistant_message(read.text if read.calls else result.text, read.calls))
        if not read.calls and retries_left > 0 and not reader.proposed and round_number < max_tool_rounds:
            retries_left -= 1  # code_block edit without a usable block: ask once more, plainly
            messages.append({"role": "user", "content": _block_again(policy, read.notes)})
            continue
        if not read.calls:
            outcome.reply = _final_text(read.text, notes)
            outcome.stop_reason = "answered"
            return
        for call in read.calls:
            emit("tool_call", {**base, "round": round_number, "tool": call.name, "arguments": call.arguments})
            started = time.perf_counter()
            tool_result = await tools.call(call.name, call.arguments)
            seconds = time.perf_counter() - started
            forced_done = forced_done or tool_result.ok
            reader.proposed = reader.proposed or (tool_result.ok and call.name == "rewrite_self")
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
        if read.final and reader.proposed:
            created = outcome.tool_calls[-1].result.splitlines()[0] if outcome.tool_calls else ""
            outcome.reply = _final_text(read.text, notes, proposed=created)
            outcome.stop_reason = "answered"
            return
    last = messages[-1]
    outcome.reply = (
        f"stopped after {max_tool_rounds} tool rounds without a final answer"
        if last.get("role") == "tool"
        else str(last.get("content") or "")
    )
    outcome.stop_reason = "max_tool_rounds"


def _block_again(policy: TurnPolicy, notes: list[str]) -> str:
    name = policy.own_name or "the code"
    if any("current source" in note for note in notes):
        return f"That is the current code, unchanged. Make the requested change and reply with ONE ```python block holding the complete new `{name}`."
    return f"Reply with ONE ```python block holding the complete new `{name}`, nothing else."


def _final_text(text: str | None, notes: list[str], *, proposed: str | None = None) -> str:
    """The turn's reply; ``proposed``: the first line of the fallback's ``rewrite_self`` result."""
    reply = (text or "").strip()
    if proposed is not None:
        reply = "I proposed a rewrite from the code in my reply (code-block fallback)"
        reply += f": {proposed}" if proposed else "."
    extra = "\n".join(f"note: {note}" for note in notes if note)
    return f"{reply}\n{extra}".strip() if extra else reply


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
    policy: TurnPolicy | None = None,
) -> TurnResult:
    """Run one turn; ``deadline`` is in seconds for the whole turn (model time included)."""
    base: dict[str, Any] = {"agent_id": agent_id, "correlation_id": correlation_id}
    policy = policy or TurnPolicy()
    system = policy.system_prompt if policy.system_prompt is not None else system_prompt
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}, *(history or [])]
    messages.append({"role": "user", "content": user_message + policy.task_suffix})
    outcome = TurnResult(reply="", stop_reason="answered", rounds=0, messages=messages)
    started = time.perf_counter()
    emit("agent_turn_started", {**base, "request": user_message, "tools": tools.names})
    try:
        async with asyncio.timeout(deadline):
            await _turn(model, messages, tools, max_tool_rounds, emit, base, outcome, policy)
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
        {
            **base,
            "reply": outcome.reply,
            "rounds": outcome.rounds,
            "stop_reason": outcome.stop_reason,
            "usage": outcome.usage,
        },
    )
    return outcome
