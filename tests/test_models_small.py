"""Small local models (issue #12 items 1-5, 7; issue #9 item 16): replies in every text format a
small model uses, the code-block fallback, tool_choice strategies, the compact prompt and the raw
model rounds as events. The whole runner path: service -> runner -> real openai client -> the
scripted server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from remora_core.agents.service import AgentService
from remora_core.config import AgentsConfig, LLMConfig, RemoraConfig
from remora_core.events.models import ModelResponseEvent, ToolCallEvent, ToolResultEvent
from remora_core.store.store import Store
from tests.fake_llm import TEXT_FORMS, FakeLLM, fake_llm_fixture, indexed_project, node_id_of  # noqa: F401

CODE = {
    "shop.py": """
        def total(prices, tax):
            return add_tax(sum(prices), tax)


        def add_tax(amount, tax):
            return amount * (1 + tax)
        """,
}
TYPED_TOTAL = "def total(prices: list[float], tax: float) -> float:\n    return add_tax(sum(prices), tax)\n"


@pytest.fixture(name="proj")
def proj_fixture(tmp_path: Path) -> Iterator[tuple[Path, Store]]:
    root = tmp_path / "proj"
    store = indexed_project(root, CODE)
    yield root, store
    store.close()


def make_service(root: Path, base_url: str, *, llm: dict[str, Any] | None = None, **agents: Any) -> AgentService:
    values: dict[str, Any] = {
        "base_url": base_url,
        "model": "fake-model",
        "max_retries": 0,
        "retry_base_delay": 0.01,
        "timeout": 5.0,
        **(llm or {}),
    }
    config = RemoraConfig(llm=LLMConfig(**values), agents=AgentsConfig(**agents))
    return AgentService(root, config=config, heartbeat_seconds=0.05)


@pytest.fixture
def svc(proj: tuple[Path, Store], fake_llm: FakeLLM) -> Iterator[AgentService]:
    service = make_service(proj[0], fake_llm.base_url)
    yield service
    service.close()


def responses(svc: AgentService, correlation: str) -> list[ModelResponseEvent]:
    return [e for e in svc.events(correlation_id=correlation) if isinstance(e, ModelResponseEvent)]


@pytest.mark.parametrize("form", TEXT_FORMS)
async def test_a_tool_call_written_as_text_becomes_a_real_call(
    proj: tuple[Path, Store], svc: AgentService, fake_llm: FakeLLM, form: str
) -> None:
    root, store = proj
    total = node_id_of(store, "total")
    fake_llm.add_text_call("rewrite_self", {"new_source": TYPED_TOTAL}, form, prefix="Here you go.\n")
    fake_llm.add_text("Added type hints.")
    correlation = svc.chat(total, "add type hints")
    trigger = (await svc.wait(correlation))
    assert trigger.status == "done" and trigger.reply == "Added type hints."
    (proposal,) = svc.proposals()
    assert "+def total(prices: list[float], tax: float) -> float:" in proposal.diff
    first = responses(svc, correlation)[0]
    assert first.tool_calls == [] and first.recovered[0]["name"] == "rewrite_self"
    assert first.recovered[0]["form"] == ("json" if form.startswith("json") else form)
    assert "rewrite_self" in first.text  # the raw text is in the event
    # the tool round went back with content "" (never None) and the recovered call's id
    second = fake_llm.chat_requests()[1]["messages"]
    assistant = next(m for m in second if m["role"] == "assistant")
    assert isinstance(assistant["content"], str) and assistant["tool_calls"][0]["function"]["name"] == "rewrite_self"
    assert second[-1]["role"] == "tool" and second[-1]["tool_call_id"] == assistant["tool_calls"][0]["id"]
    assert svc.approve(proposal.id).applied
    assert f"float:  # {total}" in (root / "shop.py").read_text() or f"# {total}" in (root / "shop.py").read_text()


async def test_native_tool_round_sends_empty_string_content(svc: AgentService, proj: tuple[Path, Store], fake_llm: FakeLLM) -> None:
    total = node_id_of(proj[1], "total")
    fake_llm.add_tool_calls(("get_my_callees", {}))
    fake_llm.add_text("It calls add_tax.")
    (await svc.wait(svc.chat(total, "what do you call?")))
    assistant = fake_llm.chat_requests()[1]["messages"][-2]
    assert assistant["role"] == "assistant" and assistant["content"] == ""


async def test_raw_newlines_anchor_and_double_encoded_arguments_are_read(
    svc: AgentService, proj: tuple[Path, Store], fake_llm: FakeLLM
) -> None:
    root, store = proj
    total = node_id_of(store, "total")
    raw = '{"new_source": "def total(prices: list, tax: float) -> float:\n    return add_tax(sum(prices), tax)\n"}'
    fake_llm.add_malformed_tool_call("rewrite_self", raw)  # raw control characters in a JSON string
    fake_llm.add_text("done")
    (await svc.wait(svc.chat(total, "add type hints")))
    (proposal,) = svc.proposals()
    assert "def total(prices: list, tax: float) -> float:" in proposal.new_source
    svc.reject(proposal.id)
    twice = json.dumps(json.dumps({"new_source": TYPED_TOTAL}))
    fake_llm.add_malformed_tool_call("rewrite_self", twice)
    fake_llm.add_text("done")
    (await svc.wait(svc.chat(total, "add type hints", new_conversation=True)))
    (again,) = svc.proposals()
    assert "list[float]" in again.new_source
    assert svc.approve(again.id).applied
    assert (root / "shop.py").read_text().count(total) == 1


async def test_unknown_tool_name_gets_the_real_tools_and_repeats_are_dropped(
    svc: AgentService, proj: tuple[Path, Store], fake_llm: FakeLLM
) -> None:
    total = node_id_of(proj[1], "total")
    call = '{"name": "total", "arguments": {}}'
    fake_llm.add_text(f"{call}\n{call}")  # the node's name used as a tool, twice
    fake_llm.add_text(call)  # and once more after the error
    correlation = svc.chat(total, "what are you?")
    trigger = (await svc.wait(correlation))
    assert trigger.status == "done"
    results = [e for e in svc.events(correlation_id=correlation) if isinstance(e, ToolResultEvent)]
    assert len(results) == 1 and results[0].is_error
    assert "unknown tool 'total'" in results[0].result and "rewrite_self" in results[0].result
    first, second = responses(svc, correlation)
    assert len(first.recovered) == 1 and len(first.dropped) == 1
    assert second.recovered == [] and len(second.dropped) == 1  # answered: the turn ends
    tool_request = fake_llm.chat_requests()[1]["messages"]
    assert tool_request[-1]["role"] == "tool" and "available tools" in tool_request[-1]["content"]


async def test_bad_arguments_in_a_text_call_go_back_as_a_tool_error(
    svc: AgentService, proj: tuple[Path, Store], fake_llm: FakeLLM
) -> None:
    total = node_id_of(proj[1], "total")
    fake_llm.add_text('<tool_call>{"name": "rewrite_self", "arguments": {"source": "x"}}</tool_call>')
    fake_llm.add_text("sorry")
    correlation = svc.chat(total, "add type hints")
    assert (await svc.wait(correlation)).status == "done"
    (result,) = [e for e in svc.events(correlation_id=correlation) if isinstance(e, ToolResultEvent)]
    assert result.is_error and "new_source" in result.result and svc.proposals() == []


async def test_code_block_fallback_makes_a_proposal_and_reports_imports(
    svc: AgentService, proj: tuple[Path, Store], fake_llm: FakeLLM
) -> None:
    root, store = proj
    total = node_id_of(store, "total")
    block = (
        "Here is the function with type hints:\n```python\nfrom typing import List\n\n"
        "def total(prices: List[float], tax: float) -> float:\n    return add_tax(sum(prices), tax)\n```\n"
    )
    fake_llm.add_text(block)
    correlation = svc.chat(total, "add type hints")
    trigger = (await svc.wait(correlation))
    assert trigger.status == "done" and "from typing import List" in (trigger.reply or "")
    (proposal,) = svc.proposals()
    assert "List[float]" in proposal.new_source and "import" not in proposal.new_source
    (response,) = responses(svc, correlation)
    assert response.fallback == {"tool": "rewrite_self", "imports": ["from typing import List"]}
    assert len(fake_llm.chat_requests()) == 1  # the fallback ends the turn
    assert svc.approve(proposal.id).applied and f"# {total}" in (root / "shop.py").read_text()


async def test_code_block_equal_to_the_source_makes_no_proposal(
    svc: AgentService, proj: tuple[Path, Store], fake_llm: FakeLLM
) -> None:
    total = node_id_of(proj[1], "total")
    fake_llm.add_text("```python\ndef total(prices, tax):\n    return add_tax(sum(prices), tax)\n```")
    correlation = svc.chat(total, "add type hints")
    trigger = (await svc.wait(correlation))
    assert trigger.status == "done" and svc.proposals() == []
    assert "current source" in (trigger.reply or "")


async def test_code_block_is_not_a_proposal_for_a_question(
    svc: AgentService, proj: tuple[Path, Store], fake_llm: FakeLLM
) -> None:
    total = node_id_of(proj[1], "total")
    fake_llm.add_text("```python\ndef total(prices: list, tax: float) -> float: ...\n```")
    (await svc.wait(svc.chat(total, "what is your signature?")))
    assert svc.proposals() == []


async def test_per_step_forces_rewrite_self_then_auto(proj: tuple[Path, Store], fake_llm: FakeLLM) -> None:
    root, store = proj
    total = node_id_of(store, "total")
    with make_service(root, fake_llm.base_url, llm={"tool_choice": "per_step"}) as svc:
        fake_llm.add_tool_calls(("rewrite_self", {"new_source": TYPED_TOTAL}))
        fake_llm.add_text("done")
        (await svc.wait(svc.chat(total, "add type hints")))
    first, second = fake_llm.chat_requests()
    assert first["tool_choice"] == {"type": "function", "function": {"name": "rewrite_self"}}
    assert second["tool_choice"] == "auto"
    # an edit request is offered fewer tools, with short descriptions
    names = [tool["function"]["name"] for tool in first["tools"]]
    assert "rewrite_self" in names and "propose_new_node" not in names and "get_my_callers" not in names
    assert all("\n" not in tool["function"]["description"] for tool in first["tools"])


async def test_per_step_forces_message_node_on_a_request_for_another_node(
    proj: tuple[Path, Store], fake_llm: FakeLLM
) -> None:
    root, store = proj
    total, add_tax = node_id_of(store, "total"), node_id_of(store, "add_tax")
    with make_service(root, fake_llm.base_url, llm={"tool_choice": "per_step"}) as svc:
        fake_llm.add_tool_calls(("message_node", {"target_id": add_tax, "request": "validate tax"}))
        fake_llm.add_text("ok, I will")  # add_tax's nested turn
        fake_llm.add_text("asked")
        (await svc.wait(svc.chat(total, f"ask {add_tax} to validate that tax is not negative")))
    first = fake_llm.chat_requests()[0]
    assert first["tool_choice"] == {"type": "function", "function": {"name": "message_node"}}


async def test_required_choice_refused_falls_back_to_auto_with_a_note(proj: tuple[Path, Store], fake_llm: FakeLLM) -> None:
    root, store = proj
    total = node_id_of(store, "total")
    fake_llm.refuse_tool_choice = {"required"}
    with make_service(root, fake_llm.base_url, llm={"tool_choice": "required"}) as svc:
        fake_llm.add_tool_calls(("rewrite_self", {"new_source": TYPED_TOTAL}))
        fake_llm.add_text("done")
        correlation = svc.chat(total, "add type hints")
        trigger = (await svc.wait(correlation))
        assert trigger.status == "done" and len(svc.proposals()) == 1
        first = responses(svc, correlation)[0]
    assert first.tool_choice == "auto" and "rejected tool_choice 'required'" in first.notes[0]
    choices = [body.get("tool_choice") for body in fake_llm.chat_requests()]
    assert choices == ["required", "auto", "auto"]  # refused once, then auto for the client's life


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("this is not json", "not an OpenAI chat completion"),
        (
            (
                '{"id": "x", "object": "chat.completion", "created": 0, "model": "m", '
                '"choices": [{"index": 0, "message": null, "finish_reason": "stop"}]}'
            ),
            '"message": null',
        ),
    ],
)
async def test_unreadable_replies_fail_the_turn_with_one_plain_line(
    svc: AgentService, proj: tuple[Path, Store], fake_llm: FakeLLM, body: str, expected: str
) -> None:
    total = node_id_of(proj[1], "total")
    fake_llm.add_raw(body)
    trigger = (await svc.wait(svc.chat(total, "add type hints")))
    assert trigger.status == "failed" and expected in (trigger.error or "")
    error = trigger.error or ""
    assert "\n" not in error and "JSONDecodeError" not in error and "AttributeError" not in error


async def test_a_lone_surrogate_in_arguments_is_a_tool_error(
    svc: AgentService, proj: tuple[Path, Store], fake_llm: FakeLLM
) -> None:
    total = node_id_of(proj[1], "total")
    fake_llm.add_malformed_tool_call("rewrite_self", '{"new_source": "def total(prices, tax):\\ud800\\n    pass\\n"}')
    fake_llm.add_text("sorry")
    correlation = svc.chat(total, "add type hints")
    trigger = (await svc.wait(correlation))
    assert trigger.status == "done" and svc.proposals() == []
    (result,) = [e for e in svc.events(correlation_id=correlation) if isinstance(e, ToolResultEvent)]
    assert result.is_error and "surrogate" in result.result
    (call,) = [e for e in svc.events(correlation_id=correlation) if isinstance(e, ToolCallEvent)]
    assert "\ufffd" in json.dumps(call.arguments, ensure_ascii=False) or "?" in str(call.arguments)


async def test_compact_prompt_has_no_anchor_and_ends_with_a_sentence(
    svc: AgentService, proj: tuple[Path, Store], fake_llm: FakeLLM
) -> None:
    total = node_id_of(proj[1], "total")
    fake_llm.add_text("ok")
    (await svc.wait(svc.chat(total, "add type hints")))
    system = fake_llm.chat_requests()[0]["messages"][0]["content"]
    assert total in system  # named once as the ID, never as an anchor comment in the source
    assert f"# {total}" not in system and "   # rm_" not in system
    assert system.rstrip().endswith(".") and not system.rstrip().splitlines()[-1].startswith("#")
    assert fake_llm.chat_requests()[0]["messages"][-1] == {"role": "user", "content": "add type hints"}


async def test_usage_is_reported_per_round_and_per_turn(
    svc: AgentService, proj: tuple[Path, Store], fake_llm: FakeLLM
) -> None:
    total = node_id_of(proj[1], "total")
    fake_llm.add_tool_calls(("get_my_callees", {}))
    fake_llm.add_text("ok")
    correlation = svc.chat(total, "what do you call?")
    (await svc.wait(correlation))
    assert [r.usage["prompt_tokens"] for r in responses(svc, correlation)] == [10, 10]


async def test_follow_up_chats_carry_the_conversation_until_a_new_one(
    svc: AgentService, proj: tuple[Path, Store], fake_llm: FakeLLM
) -> None:
    total = node_id_of(proj[1], "total")
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": TYPED_TOTAL}))
    fake_llm.add_text("I added hints.")
    (await svc.wait(svc.chat(total, "add type hints")))
    (proposal,) = svc.proposals()
    svc.reject(proposal.id, "")  # rejected without feedback: no re-run, but the outcome is history
    fake_llm.add_text("Because you rejected it.")
    (await svc.wait(svc.chat(total, "why no hints?")))
    messages = fake_llm.chat_requests()[-1]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == "add type hints"
    assert "I added hints." in messages[2]["content"] and f"{proposal.id} (rejected)" in messages[2]["content"]
    fake_llm.add_text("fresh")
    (await svc.wait(svc.chat(total, "hello", new_conversation=True)))
    assert [m["role"] for m in fake_llm.chat_requests()[-1]["messages"]] == ["system", "user"]
    fake_llm.add_text("after")
    (await svc.wait(svc.chat(total, "and now?")))
    after = fake_llm.chat_requests()[-1]["messages"]
    assert [m["content"] for m in after if m["role"] == "user"] == ["hello", "and now?"]  # nothing before "hello"


async def test_history_budget_keeps_the_newest_exchanges(proj: tuple[Path, Store], fake_llm: FakeLLM) -> None:
    root, store = proj
    total = node_id_of(store, "total")
    with make_service(root, fake_llm.base_url, history_turns=2) as svc:
        for number in range(4):
            fake_llm.add_text(f"reply {number}")
            (await svc.wait(svc.chat(total, f"question {number}?")))
        users = [m["content"] for m in fake_llm.chat_requests()[-1]["messages"] if m["role"] == "user"]
        assert users == ["question 1?", "question 2?", "question 3?"]
    with make_service(root, fake_llm.base_url, history_turns=0) as svc:
        fake_llm.add_text("x")
        (await svc.wait(svc.chat(total, "question 4?")))
        assert len(fake_llm.chat_requests()[-1]["messages"]) == 2
    with make_service(root, fake_llm.base_url, history_tokens=12) as svc:  # room for one short exchange
        fake_llm.add_text("x")
        (await svc.wait(svc.chat(total, "question 5?")))
        assert len(fake_llm.chat_requests()[-1]["messages"]) == 4
