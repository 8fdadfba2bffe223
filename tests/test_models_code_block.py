"""``[llm] tool_choice = "code_block"`` (issue #12 item 9): the strategy for small local models.
An edit request goes without tools, with a tiny prompt asking for one fenced Python block (read by
the code-block fallback); a request for another node forces ``message_node`` with a tiny prompt,
then answers without tools. The whole runner path against the scripted server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from remora_core.agents.service import AgentService
from remora_core.events.models import AgentMessageEvent, ModelResponseEvent
from remora_core.store.store import Store
from tests.fake_llm import FakeLLM, fake_llm_fixture, node_id_of  # noqa: F401
from tests.test_models_small import TYPED_TOTAL, make_service, proj_fixture  # noqa: F401


@pytest.fixture
def svc(proj: tuple[Path, Store], fake_llm: FakeLLM) -> Iterator[AgentService]:
    service = make_service(proj[0], fake_llm.base_url, llm={"tool_choice": "code_block"})
    yield service
    service.close()


def block(source: str, prose: str = "") -> str:
    return f"{prose}```python\n{source}```\n"


async def test_an_edit_is_sent_without_tools_and_its_block_is_the_proposal(
    proj: tuple[Path, Store], svc: AgentService, fake_llm: FakeLLM
) -> None:
    root, store = proj
    total = node_id_of(store, "total")
    fake_llm.add_text(block(TYPED_TOTAL, "Sure:\n"))
    correlation = svc.chat(total, "add type hints")
    trigger = await svc.wait(correlation)
    assert trigger.status == "done" and "code-block fallback): proposal 'pr_" in (trigger.reply or "")
    (request,) = fake_llm.chat_requests()  # the block ends the turn
    assert "tools" not in request and "tool_choice" not in request
    system, user = request["messages"]
    assert "rm_" not in system["content"] and "def total(prices, tax):" in system["content"]
    assert user["content"].startswith("add type hints") and user["content"].endswith("`total` function, nothing else.")
    (proposal,) = svc.proposals()
    assert svc.approve(proposal.id).applied
    text = (root / "shop.py").read_text()
    def_line = next(line for line in text.splitlines() if line.startswith("def total"))
    assert def_line.startswith("def total(prices: list[float], tax: float) -> float:")
    assert def_line.rstrip().endswith(f"# {total}") and text.count(total) == 1
    (response,) = [e for e in svc.events(correlation_id=correlation) if isinstance(e, ModelResponseEvent)]
    assert response.fallback == {"tool": "rewrite_self", "imports": []}


async def test_a_reply_without_a_block_is_asked_once_more(
    proj: tuple[Path, Store], svc: AgentService, fake_llm: FakeLLM
) -> None:
    total = node_id_of(proj[1], "total")
    fake_llm.add_text("You should add type hints to the parameters.")
    fake_llm.add_text(block(TYPED_TOTAL))
    assert (await svc.wait(svc.chat(total, "add type hints"))).status == "done"
    _, second = fake_llm.chat_requests()
    assert second["messages"][-1]["role"] == "user" and "ONE ```python block" in second["messages"][-1]["content"]
    assert second["messages"][-2] == {"role": "assistant", "content": "You should add type hints to the parameters."}
    assert len(svc.proposals()) == 1


async def test_an_unchanged_block_twice_makes_no_proposal(
    proj: tuple[Path, Store], svc: AgentService, fake_llm: FakeLLM
) -> None:
    total = node_id_of(proj[1], "total")
    same = "def total(prices, tax):\n    return add_tax(sum(prices), tax)\n"
    fake_llm.add_text(block(same))
    fake_llm.add_text(block(same))
    trigger = await svc.wait(svc.chat(total, "add type hints"))
    assert trigger.status == "done" and svc.proposals() == []
    assert "unchanged" in fake_llm.chat_requests()[1]["messages"][-1]["content"]
    assert "current source" in (trigger.reply or "")


async def test_a_request_for_another_node_forces_message_node_then_answers_without_tools(
    proj: tuple[Path, Store], svc: AgentService, fake_llm: FakeLLM
) -> None:
    total, add_tax = node_id_of(proj[1], "total"), node_id_of(proj[1], "add_tax")
    fake_llm.add_tool_calls(("message_node", {"target_id": add_tax, "request": "reject a negative tax"}))
    guarded = "def add_tax(amount, tax):\n    if tax < 0:\n        raise ValueError(tax)\n    return amount * (1 + tax)\n"
    fake_llm.add_text(block(guarded))  # add_tax's nested turn: an edit, so a block
    # the answer round has no tools: a call written in its text is not made (small models echo one)
    echo = json.dumps({"name": "message_node", "arguments": {"target_id": add_tax, "request": "again"}})
    fake_llm.add_text(f"{echo}\nadd_tax will check it.")
    correlation = svc.chat(total, f"Ask {add_tax} (add_tax) to validate that tax is not negative.")
    trigger = await svc.wait(correlation)
    assert trigger.status == "done" and trigger.reply is not None and trigger.reply.endswith("add_tax will check it.")
    first, nested, last = fake_llm.chat_requests()
    assert first["tool_choice"] == {"type": "function", "function": {"name": "message_node"}}
    assert [tool["function"]["name"] for tool in first["tools"]] == ["message_node"]
    assert add_tax in first["messages"][0]["content"] and "add_tax" in first["messages"][0]["content"]
    assert "tools" not in nested and nested["messages"][-1]["content"].startswith("reject a negative tax")
    assert "tools" not in last  # the forced call succeeded: the answer comes without tools
    sent = [e for e in svc.events(correlation_id=correlation) if isinstance(e, AgentMessageEvent)]
    assert any(e.from_agent == total and e.to_agent == add_tax for e in sent)
    (proposal,) = svc.proposals()
    assert proposal.node_id == add_tax and "raise ValueError" in proposal.new_source


async def test_a_question_is_auto_with_every_tool(proj: tuple[Path, Store], svc: AgentService, fake_llm: FakeLLM) -> None:
    total = node_id_of(proj[1], "total")
    fake_llm.add_text("I sum the prices.")
    assert (await svc.wait(svc.chat(total, "what do you do?"))).reply == "I sum the prices."
    (request,) = fake_llm.chat_requests()
    assert request["tool_choice"] == "auto" and len(request["tools"]) >= 5
