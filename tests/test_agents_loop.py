"""Agent turns through the real openai client against the fake model server."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from remora_core.agents.context import LocalAgentContext
from remora_core.agents.errors import AgentTimeoutError, LLMError, LLMUnavailableError, ToolsNotSupportedError
from remora_core.agents.llm import LLMClient
from remora_core.agents.loop import TurnResult, run_turn
from remora_core.agents.node import hydrate_agent
from remora_core.agents.proposals import ProposalStore
from remora_core.config import LLMConfig
from remora_core.store.store import Store
from tests.fake_llm import FakeLLM, fake_llm_fixture, indexed_project, node_id_of  # noqa: F401 - fixture
from tests.runner_helpers import until

CODE = {
    "calc.py": """
        def add(a, b):
            return a + b


        def total(items):
            result = 0
            for item in items:
                result = add(result, item)
            return result
        """,
}


@pytest.fixture
def proj(tmp_path: Path) -> tuple[Path, Store]:
    root = tmp_path / "proj"
    store = indexed_project(root, CODE)
    yield root, store
    store.close()


def _config(base_url: str, **overrides: Any) -> LLMConfig:
    values: dict[str, Any] = {
        "base_url": base_url,
        "model": "fake-model",
        "max_retries": 2,
        "retry_base_delay": 0.01,
        "timeout": 5.0,
    }
    values.update(overrides)
    return LLMConfig(**values)


class Turn:
    """One agent (node ``qualname``) wired to the fake server; records emitted events."""

    def __init__(
        self, root: Path, store: Store, qualname: str, config: LLMConfig, messenger: Any = None
    ) -> None:
        self.node_id = node_id_of(store, qualname)
        self.proposals = ProposalStore(store, root)
        context = LocalAgentContext(self.node_id, root, store, self.proposals)
        if messenger is not None:
            context.messenger = messenger
        hydrated = hydrate_agent(root, store, self.node_id)
        self.prompt = hydrated.node.system_prompt()
        self.tools = hydrated.toolset(context)
        self.config = config
        self.events: list[tuple[str, dict[str, Any]]] = []

    def emit(self, event_type: str, payload: dict[str, Any]) -> None:
        self.events.append((event_type, payload))

    async def run(self, request: str, **kwargs: Any) -> TurnResult:
        async with LLMClient(self.config) as client:
            return await run_turn(
                client,
                self.prompt,
                request,
                self.tools,
                emit=self.emit,
                agent_id=self.node_id,
                max_tool_rounds=self.config.max_tool_rounds,
                **kwargs,
            )

    def types(self) -> list[str]:
        return [event_type for event_type, _ in self.events]


@pytest.mark.parametrize("stream", [False, True])
async def test_turn_rewrites_and_answers(proj: tuple[Path, Store], fake_llm: FakeLLM, stream: bool) -> None:
    root, store = proj
    fake_llm.add_tool_calls(
        ("rewrite_self", {"new_source": "def add(a: int, b: int) -> int:\n    return a + b\n"})
    )
    fake_llm.add_text("I added type hints.")
    turn = Turn(root, store, "add", _config(fake_llm.base_url, stream=stream))
    result = await turn.run("add type hints")
    assert result.reply == "I added type hints." and result.stop_reason == "answered" and result.rounds == 2
    (proposal,) = turn.proposals.list(status="pending")
    assert proposal.node_id == turn.node_id and "+def add(a: int, b: int) -> int:" in proposal.diff
    first, second = fake_llm.chat_requests()
    assert first["model"] == "fake-model" and bool(first.get("stream")) == stream
    assert (
        first["messages"][0]["role"] == "system"
        and f"- Node ID: {turn.node_id}" in first["messages"][0]["content"]
    )
    assert first["messages"][1] == {"role": "user", "content": "add type hints"}
    assert [tool["function"]["name"] for tool in first["tools"]][:2] == ["rewrite_self", "message_node"]
    tool_message = second["messages"][-1]
    assert tool_message["role"] == "tool" and proposal.id in tool_message["content"]
    assert second["messages"][-2]["tool_calls"][0]["function"]["name"] == "rewrite_self"
    assert turn.types() == [
        "agent_turn_started",
        "model_request",
        "model_response",
        "tool_call",
        "tool_result",
        "model_request",
        "model_response",
        "agent_turn_completed",
    ]


async def test_malformed_tool_json_becomes_a_tool_error(proj: tuple[Path, Store], fake_llm: FakeLLM) -> None:
    root, store = proj
    fake_llm.add_malformed_tool_call("rewrite_self", '{"new_source": "def add(a, b):\\n    return')
    fake_llm.add_text("sorry, giving up")
    turn = Turn(root, store, "add", _config(fake_llm.base_url))
    result = await turn.run("go")
    assert result.reply == "sorry, giving up"
    assert not result.tool_calls[0].ok and "not valid JSON" in result.tool_calls[0].result
    assert "not valid JSON" in fake_llm.chat_requests()[1]["messages"][-1]["content"]
    assert turn.proposals.list() == []


async def test_bad_proposal_reason_reaches_the_model(proj: tuple[Path, Store], fake_llm: FakeLLM) -> None:
    root, store = proj
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": "def plus(a, b):\n    return a + b\n"}))
    fake_llm.add_text("ok")
    turn = Turn(root, store, "add", _config(fake_llm.base_url))
    await turn.run("rename yourself")
    content = fake_llm.chat_requests()[1]["messages"][-1]["content"]
    assert content.startswith("error:") and "renaming creates a new node" in content


async def test_message_node_uses_the_runner_callback(proj: tuple[Path, Store], fake_llm: FakeLLM) -> None:
    root, store = proj
    add = node_id_of(store, "add")
    sent: list[tuple[str, str]] = []

    async def messenger(target: str, request: str) -> str:
        sent.append((target, request))
        return "add says: done"

    fake_llm.add_tool_calls(
        ("get_my_callees", {}), ("message_node", {"target_id": add, "request": "be fast"})
    )
    fake_llm.add_text("asked add")
    turn = Turn(root, store, "total", _config(fake_llm.base_url), messenger)
    result = await turn.run("speed up")
    assert sent == [(add, "be fast")]
    assert add in result.tool_calls[0].result and result.tool_calls[1].result == "add says: done"


async def test_server_down_names_the_base_url(proj: tuple[Path, Store]) -> None:
    root, store = proj
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}/v1"
    turn = Turn(root, store, "add", _config(base_url, max_retries=1))
    with pytest.raises(LLMUnavailableError, match=f"model server at '{base_url}' is not reachable"):
        await turn.run("hello")
    assert turn.types()[-1] == "agent_turn_failed"


async def test_429_then_success_is_retried(proj: tuple[Path, Store], fake_llm: FakeLLM) -> None:
    root, store = proj
    fake_llm.add_error(429, "rate limited")
    fake_llm.add_error(503, "overloaded")
    fake_llm.add_text("finally")
    result = await Turn(root, store, "add", _config(fake_llm.base_url)).run("hi")
    assert result.reply == "finally" and len(fake_llm.chat_requests()) == 3


async def test_retries_are_bounded(proj: tuple[Path, Store], fake_llm: FakeLLM) -> None:
    root, store = proj
    for _ in range(3):
        fake_llm.add_error(500, "boom")
    fake_llm.add_text("never reached")
    with pytest.raises(LLMUnavailableError, match="kept failing with HTTP 500 after 2 retries"):
        await Turn(root, store, "add", _config(fake_llm.base_url)).run("hi")
    assert fake_llm.pending == 1


async def test_tools_rejected_names_the_vllm_flags(proj: tuple[Path, Store], fake_llm: FakeLLM) -> None:
    root, store = proj
    fake_llm.add_tools_not_supported()
    with pytest.raises(ToolsNotSupportedError) as caught:
        await Turn(root, store, "add", _config(fake_llm.base_url)).run("hi")
    assert "--enable-auto-tool-choice" in str(caught.value) and "--tool-call-parser" in str(caught.value)
    assert fake_llm.base_url in str(caught.value)
    assert len(fake_llm.chat_requests()) == 1  # a 400 is not retried


async def test_other_client_errors_are_clear(proj: tuple[Path, Store], fake_llm: FakeLLM) -> None:
    root, store = proj
    fake_llm.add_error(404, "The model `x` does not exist.")
    with pytest.raises(LLMError, match="is the model 'fake-model' served there"):
        await Turn(root, store, "add", _config(fake_llm.base_url)).run("hi")


async def test_cancellation_mid_turn_leaves_no_half_state(proj: tuple[Path, Store], fake_llm: FakeLLM) -> None:
    root, store = proj
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": "def add(a, b):\n    return b + a\n"}))
    fake_llm.add_text("too late", delay=5.0)
    turn = Turn(root, store, "add", _config(fake_llm.base_url))
    before = (root / "calc.py").read_text()

    async def scenario() -> None:
        task = asyncio.create_task(turn.run("swap"))
        await until(lambda: len(fake_llm.chat_requests()) == 2, "the second model request")  # in flight
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    await scenario()
    assert turn.types()[-1] == "agent_turn_cancelled"
    assert (root / "calc.py").read_text() == before
    (proposal,) = turn.proposals.list()
    assert proposal.status == "pending" and proposal.new_source.startswith("def add(a, b):")
    assert turn.proposals.approve(proposal.id).applied  # complete and usable


async def test_deadline(proj: tuple[Path, Store], fake_llm: FakeLLM) -> None:
    root, store = proj
    fake_llm.add_text("slow", delay=3.0)
    turn = Turn(root, store, "add", _config(fake_llm.base_url))
    with pytest.raises(AgentTimeoutError, match="deadline of 0.3s"):
        await turn.run("hi", deadline=0.3)
    assert turn.types()[-1] == "agent_turn_failed"


async def test_max_tool_rounds(proj: tuple[Path, Store], fake_llm: FakeLLM) -> None:
    root, store = proj
    for _ in range(2):
        fake_llm.add_tool_calls(("get_my_callers", {}))
    turn = Turn(root, store, "add", _config(fake_llm.base_url, max_tool_rounds=2))
    result = await turn.run("loop")
    assert result.stop_reason == "max_tool_rounds" and result.rounds == 2
    assert "stopped after 2 tool rounds" in result.reply
    assert node_id_of(store, "total") in result.tool_calls[0].result


async def test_api_key_from_the_named_env_var(
    proj: tuple[Path, Store], fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, store = proj
    monkeypatch.setenv("MY_TEST_KEY", "sekret")
    fake_llm.add_text("hi")
    await Turn(root, store, "add", _config(fake_llm.base_url, api_key_env="MY_TEST_KEY", temperature=0.7)).run(
            "x"
        )
    request = fake_llm.requests[-1]
    assert request.headers["authorization"] == "Bearer sekret"
    assert request.body["temperature"] == 0.7 and request.body["max_tokens"] == 2048
    assert json.dumps(request.body["tools"])  # sent as JSON
