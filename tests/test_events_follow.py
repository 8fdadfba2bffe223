"""``events.follow.RootsFollower``: the one path by which stored events reach a long-lived face
(the Neovim host), across processes, several roots on one loop. Async tests run under
pytest-asyncio (``asyncio_mode = "auto"``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from remora_core.events.follow import RootsFollower
from remora_core.events.models import BaseEvent, HumanChatEvent, TopologyChangedEvent
from remora_core.events.store import EventLog
from remora_core.store.store import Store


class Collected:
    def __init__(self) -> None:
        self.events: list[tuple[Path, BaseEvent]] = []
        self.errors: list[tuple[Path, Exception]] = []
        self.changed = asyncio.Event()

    def on_events(self, root: Path, events: list[BaseEvent]) -> None:
        self.events.extend((root, event) for event in events)
        self.changed.set()

    def on_error(self, root: Path, error: Exception) -> None:
        self.errors.append((root, error))
        self.changed.set()

    async def until(self, count: int) -> None:
        while len(self.events) < count:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 10)


def _chat(root: Path, message: str) -> None:
    store = Store.open(root)  # another connection: as if another process wrote it
    try:
        EventLog(store.connection).append(HumanChatEvent(to_agent="rm_aaaaaaaa", message=message))
    finally:
        store.close()


async def test_follows_several_roots_from_their_current_end(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    _chat(first, "before")  # already in the log when following starts: not delivered
    seen = Collected()
    follower = RootsFollower(seen.on_events, seen.on_error)
    assert follower.follow(first) and not follower.follow(first)
    assert follower.follow(second)  # no database yet: followed once it exists
    task = asyncio.create_task(follower.run())
    try:
        _chat(first, "one")
        await seen.until(1)
        _chat(second, "two")  # creates b's database
        await seen.until(2)
        store = Store.open(first)
        try:
            EventLog(store.connection).append_many(
                [
                    TopologyChangedEvent(file_path="x.py"),
                    HumanChatEvent(to_agent="rm_bbbbbbbb", message="three"),
                ]
            )
        finally:
            store.close()
        await seen.until(4)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        follower.close()
    texts = [(root.name, getattr(event, "message", event.event_type)) for root, event in seen.events]
    assert texts == [("a", "one"), ("b", "two"), ("a", "TopologyChanged"), ("a", "three")]
    assert seen.errors == []


async def test_an_unreadable_root_is_reported_and_dropped(tmp_path: Path) -> None:
    root = tmp_path / "bad"
    (root / ".remora").mkdir(parents=True)
    (root / ".remora" / "remora.db").write_bytes(b"not a database" * 100)
    seen = Collected()
    follower = RootsFollower(seen.on_events, seen.on_error)
    follower.follow(root)
    assert [r for r, _ in seen.errors] == [root] and "not a SQLite database" in str(seen.errors[0][1])
    assert follower.roots() == set()
