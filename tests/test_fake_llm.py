"""The fake model server speaks enough of the OpenAI API for the real ``openai`` client."""

from __future__ import annotations

import json

import openai
import pytest

from tests.fake_llm import FAKE_MODEL, FakeLLM, fake_llm_fixture  # noqa: F401 - fixture

TOOL = {
    "type": "function",
    "function": {"name": "echo", "description": "Echo.", "parameters": {"type": "object", "properties": {}}},
}


def _client(fake: FakeLLM) -> openai.OpenAI:
    return openai.OpenAI(base_url=fake.base_url, api_key="test-key", max_retries=0, timeout=10)


def test_models_route(fake_llm: FakeLLM) -> None:
    models = _client(fake_llm).models.list()
    assert [m.id for m in models.data] == [FAKE_MODEL]


def test_text_and_request_recording(fake_llm: FakeLLM) -> None:
    fake_llm.add_text("hello there")
    result = _client(fake_llm).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], tools=[TOOL]
    )
    assert result.choices[0].message.content == "hello there"
    assert result.choices[0].message.tool_calls is None
    body = fake_llm.chat_requests()[0]
    assert body["messages"][0]["content"] == "hi"
    assert body["tools"][0]["function"]["name"] == "echo"
    assert fake_llm.requests[0].headers.get("authorization") == "Bearer test-key"


def test_tool_calls_non_streaming(fake_llm: FakeLLM) -> None:
    fake_llm.add_tool_calls(("echo", {"x": 1}), ("echo", {"y": "two"}))
    message = (
        _client(fake_llm)
        .chat.completions.create(model="m", messages=[{"role": "user", "content": "go"}])
        .choices[0]
        .message
    )
    assert [c.function.name for c in message.tool_calls] == ["echo", "echo"]
    assert [json.loads(c.function.arguments) for c in message.tool_calls] == [{"x": 1}, {"y": "two"}]


def test_streaming_text_and_tool_call_deltas(fake_llm: FakeLLM) -> None:
    fake_llm.add_tool_calls(("echo", {"text": "a long argument value"}), text="thinking out loud")
    stream = _client(fake_llm).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "go"}], stream=True
    )
    content = ""
    arguments: dict[int, str] = {}
    names: dict[int, str] = {}
    finish = None
    for chunk in stream:
        choice = chunk.choices[0]
        content += choice.delta.content or ""
        for call in choice.delta.tool_calls or []:
            arguments[call.index] = arguments.get(call.index, "") + (call.function.arguments or "")
            if call.function.name:
                names[call.index] = call.function.name
        finish = choice.finish_reason or finish
    assert content == "thinking out loud"
    assert names == {0: "echo"}
    assert json.loads(arguments[0]) == {"text": "a long argument value"}
    assert finish == "tool_calls"


def test_errors_and_malformed_arguments(fake_llm: FakeLLM) -> None:
    fake_llm.add_error(429, "slow down")
    fake_llm.add_error(500, "boom")
    fake_llm.add_tools_not_supported()
    fake_llm.add_malformed_tool_call("echo", '{"x": ')
    client = _client(fake_llm)
    messages = [{"role": "user", "content": "go"}]
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="m", messages=messages)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="m", messages=messages)
    with pytest.raises(openai.BadRequestError, match="enable-auto-tool-choice"):
        client.chat.completions.create(model="m", messages=messages)
    call = client.chat.completions.create(model="m", messages=messages).choices[0].message.tool_calls[0]
    assert call.function.arguments == '{"x": '
    with pytest.raises(openai.BadRequestError, match="no scripted response"):
        client.chat.completions.create(model="m", messages=messages)


async def test_delay_and_async_client(fake_llm: FakeLLM) -> None:
    fake_llm.add_text("late", delay=0.2)

    async def run() -> str | None:
        client = openai.AsyncOpenAI(base_url=fake_llm.base_url, api_key="k", max_retries=0)
        try:
            result = await client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x"}]
            )
            return result.choices[0].message.content
        finally:
            await client.close()

    assert await run() == "late"
