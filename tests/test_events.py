"""The event bus: models round-trip, append, subscriptions, retention, tailing across processes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from remora_core.events import (
    EVENT_CLASSES,
    EVENT_KINDS,
    AgentCompleteEvent,
    AgentErrorEvent,
    AgentMessageEvent,
    AgentStartEvent,
    BaseEvent,
    EventLog,
    EventTailer,
    HubStartedEvent,
    HubStoppedEvent,
    HumanChatEvent,
    ModelResponseEvent,
    RetentionPolicy,
    RewriteAppliedEvent,
    RewriteProposalEvent,
    RewriteRejectedEvent,
    SubscriptionError,
    SubscriptionPattern,
    ToolCallEvent,
    ToolResultEvent,
    TopologyChangedEvent,
    UnknownEventError,
    event_from_json,
    prune_events,
    subscribe,
    subscriptions,
    unsubscribe,
)
from remora_core.store.store import Store
from tests.test_state_events import node_state_samples

SAMPLES: list[BaseEvent] = [
    AgentStartEvent(agent_id="rm_aaaaaaaa", trigger_event_id="x", correlation_id="c1"),
    AgentCompleteEvent(agent_id="rm_aaaaaaaa", result="done"),
    AgentErrorEvent(agent_id="rm_aaaaaaaa", error="boom"),
    AgentMessageEvent(from_agent="rm_aaaaaaaa", to_agent="rm_bbbbbbbb", message="hi", correlation_id="c1"),
    RewriteProposalEvent(
        agent_id="rm_aaaaaaaa", proposal_id="p1", old_source="a", new_source="b", diff="-a\n+b"
    ),
    RewriteAppliedEvent(agent_id="rm_aaaaaaaa", proposal_id="p1"),
    RewriteRejectedEvent(agent_id="rm_aaaaaaaa", proposal_id="p1", feedback="no"),
    TopologyChangedEvent(
        file_path="pkg/a.py", added_nodes=["rm_1"], removed_nodes=[], orphaned_nodes=["rm_2"]
    ),
    HumanChatEvent(to_agent="rm_aaaaaaaa", message="add type hints"),
    ToolCallEvent(agent_id="rm_aaaaaaaa", tool_name="read_node", arguments={"node_id": "rm_b", "n": [1, 2]}),
    ToolResultEvent(agent_id="rm_aaaaaaaa", tool_name="read_node", call_id="k", result="src", is_error=False),
    HubStartedEvent(pid=1, root="/x"),
    HubStoppedEvent(pid=1, reason="signal"),
    *node_state_samples(),
    ModelResponseEvent(
        agent_id="rm_aaaaaaaa", round=1, text="<tool_call>...", recovered=[{"name": "x", "form": "tool_call_tag"}]
    ),
]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store.open(tmp_path)
    yield opened
    opened.close()


def test_every_event_class_has_a_sample_and_a_kind() -> None:
    assert {type(event) for event in SAMPLES} == set(EVENT_CLASSES)
    for cls in EVENT_CLASSES:
        assert cls.kind in EVENT_KINDS
        assert not cls.event_type.endswith("Event")


@pytest.mark.parametrize("event", SAMPLES, ids=lambda event: event.event_type)
def test_payload_round_trips_to_the_right_class(event: BaseEvent, store: Store) -> None:
    log = EventLog(store.connection)
    seq = log.append(event).seq
    again = log.get(seq)
    assert type(again) is type(event)
    assert again.model_dump() == event.model_dump()
    assert again.seq == seq
    assert event_from_json(event.event_type + "Event", event.to_json()).model_dump() == event.model_dump()
    envelope = again.envelope()
    assert (
        envelope["event_type"] == event.event_type
        and envelope["kind"] == event.kind
        and envelope["seq"] == seq
    )
    json.dumps(envelope)


def test_unknown_event_type_and_bad_payload_are_named() -> None:
    with pytest.raises(UnknownEventError, match="'Nope'"):
        event_from_json("Nope", "{}")
    with pytest.raises(UnknownEventError, match="'AgentStart'"):
        event_from_json("AgentStart", "{}")


def test_append_assigns_increasing_seq_and_indexed_columns(store: Store) -> None:
    log = EventLog(store.connection)
    appended = log.append_many(SAMPLES)
    seqs = [item.seq for item in appended]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert log.last_seq() == seqs[-1]
    row = store.connection.execute(
        "SELECT kind, agent_id, file_path, correlation_id FROM events WHERE event_type = 'AgentMessage'"
    ).fetchone()
    assert row == ("graph", "rm_bbbbbbbb", None, "c1")
    assert [e.event_type for e in log.by_correlation("c1")] == ["AgentStart", "AgentMessage"]
    assert log.by_type("TopologyChangedEvent")[0].file_path == "pkg/a.py"
    assert len(log.by_agent("rm_aaaaaaaa")) == 10
    assert [e.seq for e in log.after(seqs[5], limit=3)] == seqs[6:9]
    assert [e.event_type for e in log.after(0, event_types=["HubStarted", "HubStopped"])] == [
        "HubStarted",
        "HubStopped",
    ]


def test_subscriptions_match_on_append(store: Store) -> None:
    conn = store.connection
    subscribe(
        conn,
        "rm_watcher",
        SubscriptionPattern(event_types=("TopologyChangedEvent",), file_paths=("pkg/*.py",)),
    )
    subscribe(conn, "rm_listener", '{"event_types": ["AgentComplete"], "from_agents": ["rm_child"]}')
    subscribe(conn, "rm_all", SubscriptionPattern())
    subscribe(conn, "rm_all", SubscriptionPattern())  # idempotent
    assert len(subscriptions(conn)) == 3
    log = EventLog(conn)
    assert log.append(TopologyChangedEvent(file_path="pkg/a.py")).triggers == ["rm_all", "rm_watcher"]
    assert log.append(TopologyChangedEvent(file_path="other/a.py")).triggers == ["rm_all"]
    assert log.append(AgentCompleteEvent(agent_id="rm_child", result="")).triggers == [
        "rm_all",
        "rm_listener",
    ]
    assert log.append(AgentCompleteEvent(agent_id="rm_other", result="")).triggers == ["rm_all"]
    assert unsubscribe(conn, "rm_all") == 1
    assert log.append(AgentCompleteEvent(agent_id="rm_child", result="")).triggers == ["rm_listener"]
    with pytest.raises(SubscriptionError, match="'Bogus'"):
        subscribe(conn, "rm_x", '{"event_types": ["Bogus"]}')
    with pytest.raises(SubscriptionError, match="invalid subscription pattern"):
        subscribe(conn, "rm_x", '{"colour": 1}')


def _pending_proposal(store: Store, seq: int, status: str = "pending") -> None:
    with store.transaction():
        store.connection.execute(
            "INSERT INTO proposals (id, node_id, kind, file_path, base_hash, old_source, new_source, diff, status, "
            "event_seq, created_at) VALUES (?, 'rm_a', 'rewrite', 'a.py', 'h', '', '', '', ?, ?, 0)",
            (f"p{seq}", status, seq),
        )


def test_retention_by_count_and_age_keeps_pending_proposals(store: Store) -> None:
    log = EventLog(store.connection)
    now = 1_000_000_000.0
    old = [AgentErrorEvent(agent_id="rm_a", error=str(i), timestamp=now - 10 * 86400) for i in range(5)]
    new = [AgentErrorEvent(agent_id="rm_a", error=str(i), timestamp=now) for i in range(10)]
    seqs = [item.seq for item in log.append_many(old + new)]
    _pending_proposal(store, seqs[1])
    _pending_proposal(store, seqs[2], status="applied")
    deleted = prune_events(store.connection, RetentionPolicy(max_age_days=5, max_events=None), now=now)
    assert deleted == 4
    remaining = [e.seq for e in log.after(0)]
    assert remaining == [seqs[1], *seqs[5:]]
    deleted = prune_events(store.connection, RetentionPolicy(max_age_days=None, max_events=3), now=now)
    assert [e.seq for e in log.after(0)] == [seqs[1], *seqs[-3:]]
    assert deleted == 7
    # seq never goes back after a prune
    assert log.append(AgentErrorEvent(agent_id="rm_a", error="x")).seq == seqs[-1] + 1


APPENDER = """
import sys, time
from pathlib import Path
from remora_core.events import EventLog, AgentErrorEvent
from remora_core.store.store import Store
store = Store.open(Path(sys.argv[1]))
log = EventLog(store.connection)
for i in range(int(sys.argv[2])):
    log.append(AgentErrorEvent(agent_id="rm_p", error=str(i)))
    time.sleep(0.002)
"""


def test_tailer_follows_another_process(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    with EventTailer(tmp_path, after=None) as tailer:
        proc = subprocess.Popen([sys.executable, "-c", APPENDER, str(tmp_path), "50"])
        got: list[BaseEvent] = []
        for event in tailer.follow(timeout=20):
            got.append(event)
            if len(got) == 50:
                break
        proc.wait(timeout=20)
    assert [int(e.error) for e in got] == list(range(50))
    assert [e.seq for e in got] == sorted(e.seq for e in got)


def test_tailer_resumes_after_seq_and_filters_types(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    log = EventLog(store.connection)
    seqs = [item.seq for item in log.append_many(SAMPLES)]
    with EventTailer(tmp_path, after=seqs[6]) as tailer:
        assert [e.seq for e in tailer.poll()] == seqs[7:]
        assert tailer.poll() == []
    with EventTailer(tmp_path, event_types=["TopologyChanged"]) as tailer:
        assert [e.event_type for e in tailer.poll()] == ["TopologyChanged"]
        assert tailer.position == seqs[-1]
        log.append(HumanChatEvent(to_agent="rm_a", message="x"))
        assert tailer.poll() == []
        appended = log.append(TopologyChangedEvent(file_path="z.py"))
        assert [e.seq for e in tailer.poll()] == [appended.seq]
    with EventTailer(tmp_path) as tailer:
        assert len(tailer.poll(limit=4)) == 4
        assert len(tailer.poll(limit=100)) == len(seqs) + 2 - 4
    store.close()


async def test_async_tailer(tmp_path: Path) -> None:
    Store.open(tmp_path).close()

    async def main() -> list[int]:
        tailer = EventTailer(tmp_path)
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", APPENDER, str(tmp_path), "20")
        got: list[int] = []
        stop = asyncio.Event()
        async for event in tailer.afollow(stop=stop):
            got.append(int(event.error))
            if len(got) == 20:
                stop.set()
        await proc.wait()
        tailer.close()
        return got

    assert await asyncio.wait_for(main(), 30) == list(range(20))


def test_idle_tailer_does_not_burn_cpu(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    with EventTailer(tmp_path) as tailer:
        started_cpu = time.process_time()
        list(tailer.follow(timeout=1.0))
        used = time.process_time() - started_cpu
    assert used < 0.1, f"idle tailer used {used:.3f}s CPU in 1s"


SLOW_APPENDER = APPENDER.replace("time.sleep(0.002)", "time.sleep(0.05)")


def test_a_commit_wakes_a_waiting_tailer(tmp_path: Path) -> None:
    """With a commit watch (inotify, Linux) the tailer does not wait for its poll interval."""
    Store.open(tmp_path).close()
    with EventTailer(tmp_path, after=None, poll_interval=30.0) as tailer:
        if tailer.watch.fileno() is None:
            pytest.skip("no inotify here: the tailer polls")
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-c", SLOW_APPENDER, str(tmp_path), "5"])
        got: list[int] = []
        for event in tailer.follow(timeout=60):
            got.append(int(event.error))  # type: ignore[attr-defined]
            if len(got) == 5:
                break
        proc.wait(timeout=20)
    assert got == list(range(5))
    assert time.monotonic() - started < 15  # a poll every 30 s would need minutes


async def test_a_commit_wakes_an_async_tailer(tmp_path: Path) -> None:
    Store.open(tmp_path).close()

    async def main() -> tuple[list[int], float]:
        tailer = EventTailer(tmp_path, after=None, poll_interval=30.0)
        if tailer.watch.fileno() is None:
            tailer.close()
            pytest.skip("no inotify here: the tailer polls")
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", SLOW_APPENDER, str(tmp_path), "5")
        got: list[int] = []
        stop = asyncio.Event()
        async for event in tailer.afollow(stop=stop):
            got.append(int(event.error))  # type: ignore[attr-defined]
            if len(got) == 5:
                stop.set()
        await proc.wait()
        tailer.close()
        return got, time.monotonic() - started

    got, elapsed = await asyncio.wait_for(main(), 60)
    assert got == list(range(5)) and elapsed < 15
