"""The framework-agnostic service layer without HTTP: projector, feed, request tags, limits, token."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest

from remora_core.events.models import AgentStartEvent, BaseEvent, HumanChatEvent
from remora_core.service.feed import EventFeed, Resync, item_of
from remora_core.service.handlers import RequestTags
from remora_core.service.projector import EventProjector
from remora_core.service.security import RateLimiter, is_loopback, load_or_create_token, request_id


def env(seq: int, event_type: str, **fields: object) -> dict[str, object]:
    return {"seq": seq, "event_type": event_type, "kind": "agent", "event_id": f"e{seq}", "timestamp": 0.0,
            "correlation_id": "c1", **fields}


def test_projector_reduces_turns_and_proposals_and_ignores_replays() -> None:
    projector = EventProjector(recent=3)
    projector.record(env(1, "AgentStart", agent_id="rm_a"))
    projector.record(env(2, "RewriteProposal", agent_id="rm_a", proposal_id="p1", diff="-x\n+y", file_path="m.py"))
    assert projector.to_dict()["running"]["rm_a"]["started_seq"] == 1
    projector.record(env(3, "AgentComplete", agent_id="rm_a", result="ok"))
    projector.record(env(2, "RewriteProposal", agent_id="rm_a", proposal_id="p2", diff=""))  # replayed: ignored
    state = projector.to_dict()
    assert state["running"] == {} and list(state["proposals"]) == ["p1"]
    assert state["nodes"]["rm_a"] == {"state": "idle", "last_event": "AgentComplete", "last_seq": 3}
    projector.record(env(4, "RewriteApplied", agent_id="rm_a", proposal_id="p1"))
    state = projector.to_dict()
    assert state["proposals"] == {} and state["last_seq"] == 4
    assert [e["seq"] for e in state["recent"]] == [2, 3, 4]
    assert list(state) == ["last_seq", "nodes", "running", "proposals", "recent"]


def test_request_tags_by_event_and_by_correlation_are_bounded() -> None:
    tags = RequestTags(limit=2)
    tags.tag_event("e1", "r1")
    tags.tag_correlation("c1", "r2")
    assert tags.request_id("e1", None) == "r1"
    assert tags.request_id("other", "c1") == "r2"
    tags.tag_event("e2", "r3")
    tags.tag_event("e3", "r4")
    assert tags.request_id("e1", None) is None and len(tags.by_event) == 2


def test_rate_limiter_token_bucket() -> None:
    limiter = RateLimiter(rate=2.0, burst=2)
    assert limiter.check("a", now=0.0) == 0 and limiter.check("a", now=0.0) == 0
    assert limiter.check("a", now=0.0) == pytest.approx(0.5)
    assert limiter.check("b", now=0.0) == 0  # per client
    assert limiter.check("a", now=0.5) == 0  # refilled


def test_token_file_is_private_and_created_once(tmp_path: Path) -> None:
    token, created = load_or_create_token(tmp_path)
    assert created and len(token) >= 32
    mode = stat.S_IMODE((tmp_path / ".remora" / "service.token").stat().st_mode)
    assert mode == 0o600
    assert load_or_create_token(tmp_path) == (token, False)


def test_request_id_is_kept_when_sane_and_made_otherwise() -> None:
    assert request_id("abc-123") == "abc-123"
    assert request_id("bad id\n").startswith("req_") and request_id(None).startswith("req_")
    assert is_loopback("127.0.0.1") and is_loopback("::1") and not is_loopback("0.0.0.0")


def _event(seq: int) -> BaseEvent:
    event = AgentStartEvent(agent_id="rm_a") if seq % 2 else HumanChatEvent(to_agent="rm_b", message="hi")
    event.seq = seq
    return event


def test_feed_replays_then_streams_live_without_gap_or_duplicate(tmp_path: Path) -> None:
    stored = [_event(seq) for seq in range(1, 8)]

    def replay(after: int, node: str | None, limit: int) -> list[BaseEvent]:
        return [e for e in stored if e.seq is not None and e.seq > after][:limit]

    feed = EventFeed(tmp_path, lambda e: e.envelope(), replay, queue_size=100)

    async def main() -> list[int]:
        seen: list[int] = []
        stream = feed.events(3)
        seen.extend(item.seq for item in await anext(stream))  # the replay: 4..7
        for seq in (6, 7, 8, 9):  # live, overlapping what was replayed
            feed.publish(item_of(_event(seq).envelope()))
        seen.extend(item.seq for item in await anext(stream))
        await stream.aclose()
        return seen

    assert asyncio.run(main()) == [4, 5, 6, 7, 8, 9]
    assert feed.subscribers == set()


def test_feed_node_filter_and_slow_subscriber_is_told_to_resync(tmp_path: Path) -> None:
    feed = EventFeed(tmp_path, lambda e: e.envelope(), lambda after, node, limit: [], queue_size=10)

    async def main() -> tuple[list[int], int]:
        only_b = feed.events(0, node="rm_b", keepalive=0.01)
        slow = feed.events(0, keepalive=0.01)
        assert await anext(only_b) == [] and await anext(slow) == []  # subscribed (a keepalive)
        for seq in range(1, 5):
            feed.publish(item_of(_event(seq).envelope()))
        filtered = [item.seq for item in await anext(only_b)]
        for seq in range(5, 30):  # nobody reads `slow`: its queue overflows
            feed.publish(item_of(_event(seq).envelope()))
        with pytest.raises(Resync) as caught:
            await anext(slow)
        await only_b.aclose()
        return filtered, caught.value.last_id

    filtered, last_id = asyncio.run(main())
    assert filtered == [2, 4] and last_id == 0
    assert feed.dropped >= 1 and feed.subscribers == set()

