"""The runner and the service facade against the fake model server (real openai client, real SQLite)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from remora_core.agents.service import AgentService
from remora_core.events.models import (
    AgentErrorEvent,
    RewriteProposalEvent,
    ToolResultEvent,
)
from remora_core.events.subscriptions import subscribe
from remora_core.store.db import write_transaction
from remora_core.store.store import Store
from tests.fake_llm import FakeLLM, fake_llm_fixture, indexed_project, node_id_of  # noqa: F401 - fixture
from tests.runner_helpers import CODE, REWRITE_TURN, last_tool_message, service, types, until


@pytest.fixture
def proj(tmp_path: Path) -> Iterator[tuple[Path, Store]]:
    root = tmp_path / "proj"
    store = indexed_project(root, CODE)
    yield root, store
    store.close()


@pytest.fixture
def svc(proj: tuple[Path, Store], fake_llm: FakeLLM) -> Iterator[AgentService]:
    root, _ = proj
    service_ = service(root, fake_llm.base_url)
    yield service_
    service_.close()


def _ids(store: Store, *names: str) -> list[str]:
    return [node_id_of(store, name) for name in names]


async def test_chat_runs_the_turn_and_every_step_is_an_event(
    proj: tuple[Path, Store], svc: AgentService, fake_llm: FakeLLM
) -> None:
    _, store = proj
    (a,) = _ids(store, "a_func")
    fake_llm.add_tool_calls(
        ("rewrite_self", {"new_source": "def a_func(x: int) -> int:\n    return b_func(x)\n"})
    )
    fake_llm.add_text("typed")
    correlation = svc.chat(a, "add type hints")
    trigger = await svc.wait(correlation)
    assert trigger.status == "done" and trigger.reply == "typed" and trigger.attempts == 1
    events = svc.events(node_id=a)
    assert types(events) == REWRITE_TURN
    assert all(event.correlation_id == correlation for event in events)
    proposal_event = events[4]
    assert isinstance(proposal_event, RewriteProposalEvent)
    (proposal,) = svc.proposals()
    assert proposal_event.proposal_id == proposal.id and "+def a_func(x: int) -> int:" in proposal_event.diff
    assert proposal.event_seq == proposal_event.seq and proposal.correlation_id == correlation
    assert events[3].arguments == {"new_source": "def a_func(x: int) -> int:\n    return b_func(x)\n"}  # type: ignore[attr-defined]
    assert svc.events(after_seq=events[-1].seq or 0) == []


async def test_cycle_refused_while_a_chain_replies_through_tool_results(
    proj: tuple[Path, Store], svc: AgentService, fake_llm: FakeLLM
) -> None:
    _, store = proj
    a, b, c = _ids(store, "a_func", "b_func", "c_func")
    fake_llm.add_tool_calls(("message_node", {"target_id": b, "request": "what is c?"}))  # A
    fake_llm.add_tool_calls(("message_node", {"target_id": a, "request": "back to you"}))  # B -> A: cycle
    fake_llm.add_tool_calls(("message_node", {"target_id": c, "request": "value?"}))  # B -> C
    fake_llm.add_text("C says 42")  # C
    fake_llm.add_text("B got 42")  # B
    fake_llm.add_text("final: 42")  # A
    trigger = await svc.wait(svc.chat(a, "ask b"))
    assert trigger.status == "done" and trigger.reply == "final: 42"
    requests = fake_llm.chat_requests()
    assert len(requests) == 6
    assert last_tool_message(requests[2]) == f"error: would create a cycle: {a} -> {b} -> {a}"
    assert last_tool_message(requests[4]) == "C says 42"  # C's reply is B's tool result
    assert last_tool_message(requests[5]) == "B got 42"  # B's reply is A's tool result
    triggers = svc.triggers(trigger.correlation_id)
    assert [(t.agent_id, t.kind, t.depth, t.status) for t in triggers] == [
        (a, "human_chat", 0, "done"),
        (b, "agent_message", 1, "done"),
        (c, "agent_message", 2, "done"),
    ]
    messages = [(e.from_agent, e.to_agent) for e in svc.events() if e.event_type == "AgentMessage"]  # type: ignore[attr-defined]
    assert messages == [(a, b), (b, c)]
    starts = [e.agent_ref() for e in svc.events() if e.event_type == "AgentStart"]
    assert starts == [a, b, c]  # the reply did not activate A again
    assert store.connection.execute("SELECT count(*) FROM activation_chain").fetchone()[0] == 0


async def test_same_target_twice_in_one_turn_is_not_a_cycle(
    proj: tuple[Path, Store], svc: AgentService, fake_llm: FakeLLM
) -> None:
    _, store = proj
    a, b = _ids(store, "a_func", "b_func")
    fake_llm.add_tool_calls(("message_node", {"target_id": b, "request": "one"}))
    fake_llm.add_text("first")
    fake_llm.add_tool_calls(("message_node", {"target_id": b, "request": "two"}))
    fake_llm.add_text("second")
    fake_llm.add_text("done")
    assert (await svc.wait(svc.chat(a, "go"))).reply == "done"
    assert last_tool_message(fake_llm.chat_requests()[4]) == "second"


async def test_max_depth_is_refused_with_a_tool_result(proj: tuple[Path, Store], fake_llm: FakeLLM) -> None:
    root, store = proj
    a, b, c = _ids(store, "a_func", "b_func", "c_func")
    fake_llm.add_tool_calls(("message_node", {"target_id": b, "request": "go deeper"}))
    fake_llm.add_tool_calls(("message_node", {"target_id": c, "request": "deeper still"}))
    fake_llm.add_text("too deep")
    fake_llm.add_text("ok")
    with service(root, fake_llm.base_url, max_depth=2) as svc:
        trigger = await svc.wait(svc.chat(a, "go"))
        assert trigger.status == "done"
        refused = last_tool_message(fake_llm.chat_requests()[2])
        assert refused == f"error: max activation depth 2 reached: {a} -> {b} cannot message {c!r}"
        assert [t.agent_id for t in svc.triggers(trigger.correlation_id)] == [a, b]


async def test_ask_parent_reaches_the_class(proj: tuple[Path, Store], svc: AgentService, fake_llm: FakeLLM) -> None:
    _, store = proj
    config, load = _ids(store, "Config", "Config.load")
    fake_llm.add_tool_calls(("ask_parent", {"request": "may I?"}))
    fake_llm.add_text("yes")
    fake_llm.add_text("parent said yes")
    assert (await svc.wait(svc.chat(load, "go"))).reply == "parent said yes"
    assert [t.agent_id for t in svc.triggers(svc.events()[0].correlation_id or "")] == [load, config]


async def test_feedback_after_rejection_reruns_in_a_new_correlation(
    proj: tuple[Path, Store], svc: AgentService, fake_llm: FakeLLM
) -> None:
    root, store = proj
    (c,) = _ids(store, "c_func")
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": "def c_func(x):\n    return x * 1\n"}))
    fake_llm.add_text("done")
    first = svc.chat(c, "simplify")
    await svc.wait(first)
    (proposal,) = svc.proposals()
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": "def c_func(x: int) -> int:\n    return x\n"}))
    fake_llm.add_text("retried")
    rejection = svc.reject(proposal.id, "use type hints instead")
    assert rejection.proposal.status == "rejected" and rejection.correlation_id not in (None, first)
    assert rejection.correlation_id is not None
    retry = await svc.wait(rejection.correlation_id)
    assert retry.status == "done" and retry.reply == "retried" and retry.kind == "feedback"
    user = fake_llm.chat_requests()[2]["messages"][-1]["content"]
    assert "use type hints instead" in user and proposal.id in user and "x * 1" in user
    (again,) = svc.proposals()
    assert (
        again.correlation_id == rejection.correlation_id and "def c_func(x: int) -> int:" in again.new_source
    )
    rejected = [e for e in svc.events() if e.event_type == "RewriteRejected"]
    assert len(rejected) == 1 and rejected[0].feedback == "use type hints instead"  # type: ignore[attr-defined]
    assert "x * 1" not in (root / "app.py").read_text()


async def test_reject_without_feedback_does_not_rerun(
    svc: AgentService, proj: tuple[Path, Store], fake_llm: FakeLLM
) -> None:
    _, store = proj
    (c,) = _ids(store, "c_func")
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": "def c_func(x):\n    return x * 1\n"}))
    fake_llm.add_text("done")
    await svc.wait(svc.chat(c, "go"))
    rejection = svc.reject(svc.proposals()[0].id)
    assert rejection.correlation_id is None and svc.queue.queued_count() == 0


async def _propose(svc: AgentService, fake_llm: FakeLLM, node_id: str, new_source: str) -> str:
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": new_source}))
    fake_llm.add_text("proposed")
    trigger = await svc.wait(svc.chat(node_id, "change"))
    assert trigger.status == "done", trigger.error
    (proposal,) = svc.proposals()
    return proposal.id


async def test_approved_twice_applies_once_and_reindexes(
    proj: tuple[Path, Store], svc: AgentService, fake_llm: FakeLLM
) -> None:
    root, store = proj
    (c,) = _ids(store, "c_func")
    proposal = await _propose(svc, fake_llm, c, "def c_func(x):\n    y = x\n    z = y\n    return z\n")
    first = svc.approve(proposal)
    text = (root / "app.py").read_text()
    second = svc.approve(proposal)
    assert first.applied and not second.applied and second.status == "applied"
    assert (root / "app.py").read_text() == text and text.count("z = y") == 1
    row = store.node(c)
    assert row is not None and row.end_line - row.start_line == 3  # the index has the new lines
    assert len([e for e in svc.events() if e.event_type == "RewriteApplied"]) == 1


async def test_moved_node_applies_to_its_new_span(
    proj: tuple[Path, Store], svc: AgentService, fake_llm: FakeLLM
) -> None:
    root, store = proj
    (b,) = _ids(store, "b_func")
    proposal = await _propose(svc, fake_llm, b, "def b_func(x):\n    return c_func(x) + 1\n")
    path = root / "app.py"
    path.write_text(
        path.read_text().replace("import functools\n", "import functools\n\n# a comment\nCONSTANT = 1\n", 1)
    )
    result = svc.approve(proposal)
    assert result.applied
    text = path.read_text()
    assert "    return c_func(x) + 1\n" in text and "    return c_func(x)\n" not in text
    assert "# a comment\nCONSTANT = 1\n" in text and "def a_func(x):" in text
    line = next(line for line in text.splitlines() if line.startswith("def b_func"))
    assert line.endswith(f"# {b}")


async def test_stale_proposal_is_refused(proj: tuple[Path, Store], svc: AgentService, fake_llm: FakeLLM) -> None:
    root, store = proj
    (b,) = _ids(store, "b_func")
    proposal = await _propose(svc, fake_llm, b, "def b_func(x):\n    return c_func(x) + 1\n")
    path = root / "app.py"
    path.write_text(path.read_text().replace("    return c_func(x)\n", "    return c_func(x) * 2\n"))
    before = path.read_text()
    result = svc.approve(proposal)
    assert not result.applied and result.status == "stale" and "stale" in result.message
    assert path.read_text() == before and svc.proposal(proposal).status == "stale"


async def test_decorated_method_rewritten_keeps_decorators(
    proj: tuple[Path, Store], svc: AgentService, fake_llm: FakeLLM
) -> None:
    root, store = proj
    (parse,) = _ids(store, "Config.parse")
    proposal = await _propose(svc, fake_llm, parse, "def parse(text: str) -> list[str]:\n    return text.split()\n")
    assert svc.approve(proposal).applied
    lines = (root / "app.py").read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if "def parse" in line)
    assert [lines[at - 2].strip(), lines[at - 1].strip()] == ["@functools.cache", "@staticmethod"]
    assert lines[at].startswith("    def parse(text: str) -> list[str]:") and lines[at].endswith(f"# {parse}")


async def test_malformed_tool_json_is_a_tool_error_event(
    proj: tuple[Path, Store], svc: AgentService, fake_llm: FakeLLM
) -> None:
    _, store = proj
    (c,) = _ids(store, "c_func")
    fake_llm.add_malformed_tool_call("rewrite_self", '{"new_source": "def c_func(x):\\n    ret')
    fake_llm.add_text("giving up")
    trigger = await svc.wait(svc.chat(c, "go"))
    assert trigger.status == "done" and trigger.reply == "giving up"
    (result,) = [e for e in svc.events() if isinstance(e, ToolResultEvent)]
    assert result.is_error and "not valid JSON" in result.result
    call = next(e for e in svc.events() if e.event_type == "ToolCall")
    assert call.arguments == {"_raw": '{"new_source": "def c_func(x):\\n    ret'}  # type: ignore[attr-defined]
    assert svc.proposals(status=None) == []


async def test_model_server_down_fails_the_trigger_naming_the_url(proj: tuple[Path, Store]) -> None:
    root, store = proj
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    with service(root, url) as svc:
        trigger = await svc.wait(svc.chat(node_id_of(store, "c_func"), "go"))
        assert (
            trigger.status == "failed"
            and url in (trigger.error or "")
            and "not reachable" in (trigger.error or "")
        )
        (error,) = [e for e in svc.events() if isinstance(e, AgentErrorEvent)]
        assert error.error == trigger.error and error.correlation_id == trigger.correlation_id


async def test_cancel_mid_turn_cancels_the_whole_correlation(
    proj: tuple[Path, Store], svc: AgentService, fake_llm: FakeLLM
) -> None:
    root, store = proj
    a, b = _ids(store, "a_func", "b_func")
    before = (root / "app.py").read_text()
    fake_llm.add_tool_calls(("message_node", {"target_id": b, "request": "slow"}))
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": "def b_func(x):\n    return 0\n"}))
    fake_llm.add_text("never", delay=5.0)
    correlation = svc.chat(a, "go")

    async def scenario() -> float:
        task = asyncio.create_task(svc.run_pending())
        # the third model request (b's answer, 5 s late) is in flight: b's proposal is stored
        await until(lambda: len(fake_llm.chat_requests()) == 3, "the third model request")
        started = asyncio.get_running_loop().time()
        report = svc.cancel(correlation)
        assert report.tasks == 1 and report.proposals == 1
        await task
        return asyncio.get_running_loop().time() - started

    assert await scenario() < 1.0
    assert [(t.agent_id, t.status) for t in svc.triggers(correlation)] == [(a, "cancelled"), (b, "cancelled")]
    errors = [e for e in svc.events() if isinstance(e, AgentErrorEvent)]
    assert sorted(e.agent_id for e in errors) == sorted([a, b]) and all(
        "cancelled" in e.error for e in errors
    )
    assert [p.status for p in svc.proposals(status=None)] == ["cancelled"]
    assert (root / "app.py").read_text() == before
    assert store.connection.execute("SELECT count(*) FROM activation_chain").fetchone()[0] == 0


async def test_cancel_from_another_connection_reaches_the_runner(
    proj: tuple[Path, Store], svc: AgentService, fake_llm: FakeLLM
) -> None:
    root, store = proj
    (c,) = _ids(store, "c_func")
    fake_llm.add_text("slow", delay=5.0)
    correlation = svc.chat(c, "go")

    async def scenario() -> None:
        task = asyncio.create_task(svc.wait(correlation))
        await until(lambda: len(fake_llm.chat_requests()) == 1, "the model request")
        with AgentService(root, config=svc.config) as other:  # as if from another process
            report = other.cancel(correlation)
            assert report.running == 1 and report.tasks == 0
        trigger = await asyncio.wait_for(task, 2.0)
        assert trigger.status == "cancelled"

    await scenario()


async def test_concurrency_limit(proj: tuple[Path, Store], fake_llm: FakeLLM) -> None:
    root, store = proj
    b, c = _ids(store, "b_func", "c_func")
    fake_llm.default_text = "ok"
    with service(root, fake_llm.base_url, concurrency=1) as svc:
        svc.chat(b, "one")
        svc.chat(c, "two")
        finished = await svc.run_pending()
        assert [t.status for t in finished] == ["done", "done"]
        kinds = [e.event_type for e in svc.events() if e.event_type in ("AgentStart", "AgentComplete")]
        assert kinds == ["AgentStart", "AgentComplete", "AgentStart", "AgentComplete"]
    with service(root, fake_llm.base_url, concurrency=2) as svc:
        after = svc.last_seq()
        for node in (b, c):
            fake_llm.add_text("slow", delay=0.2)
            svc.chat(node, "again")
        await svc.run_pending()
        kinds = [e.event_type for e in svc.events(after) if e.event_type in ("AgentStart", "AgentComplete")]
        assert kinds[:2] == ["AgentStart", "AgentStart"]


def _expire(store: Store, trigger_id: str, runner: str) -> None:
    with write_transaction(store.connection):
        store.connection.execute(
            "UPDATE triggers SET status = 'running', claimed_by = ?, lease_until = 0, attempts = attempts + 1 "
            "WHERE id = ?",
            (runner, trigger_id),
        )


async def test_a_dead_runners_claim_is_retried_once_then_failed(
    proj: tuple[Path, Store], svc: AgentService, fake_llm: FakeLLM
) -> None:
    _, store = proj
    b, c = _ids(store, "b_func", "c_func")
    fake_llm.default_text = "ok"
    once = svc.chat_trigger(b, "crashed once")
    twice = svc.chat_trigger(c, "crashed twice")
    _expire(store, once.id, "dead-1")
    _expire(store, twice.id, "dead-1")
    _expire(store, twice.id, "dead-2")
    await svc.run_pending()
    retried = svc.queue.get(once.id)
    failed = svc.queue.get(twice.id)
    assert retried is not None and retried.status == "done" and retried.attempts == 2
    assert (
        failed is not None
        and failed.status == "failed"
        and "gave up after 2 attempts" in (failed.error or "")
    )
    assert len(fake_llm.chat_requests()) == 1


async def test_subscription_match_triggers_the_subscriber(
    proj: tuple[Path, Store], svc: AgentService, fake_llm: FakeLLM
) -> None:
    _, store = proj
    a, b = _ids(store, "a_func", "b_func")
    subscribe(store.connection, b, '{"event_types": ["AgentComplete"]}')
    fake_llm.default_text = "ok"
    svc.runner.pump_subscriptions()  # the cursor starts at the end of the log
    correlation = svc.chat(a, "go")
    finished = await svc.run_pending()
    assert [(t.agent_id, t.kind) for t in finished] == [(a, "human_chat"), (b, "subscription")]
    (sub,) = [t for t in svc.triggers(correlation) if t.kind == "subscription"]
    assert sub.depth == 1 and sub.status == "done" and "AgentComplete" in sub.message
    assert svc.runner.pump_subscriptions() == 0  # b's own AgentComplete does not trigger b again
