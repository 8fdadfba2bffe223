"""The async face of the stores (aiosqlite): a write lock held by another process never blocks
the event loop, in ``AsyncDatabase`` and in the agent runner that writes through it."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from remora_core.agents.service import AgentService
from remora_core.agents.triggers import TriggerQueue
from remora_core.events.store import EventLog
from remora_core.store.aio import AsyncDatabase
from remora_core.store.db import database_path, write_transaction
from remora_core.store.store import Store
from tests.fake_llm import FakeLLM, fake_llm_fixture, indexed_project, node_id_of  # noqa: F401 - fixture
from tests.runner_helpers import CODE, REWRITE_TURN, service, types

# Another process: take the write lock, say so, hold it until told to commit.
LOCKER = """
import sys
from pathlib import Path
from remora_core.store.store import Store
store = Store.open(Path(sys.argv[1]))
store.connection.execute("BEGIN IMMEDIATE")
store.connection.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('locker', 'held')")
print("locked", flush=True)
sys.stdin.readline()
store.connection.execute("COMMIT")
store.close()
"""
TICKS = 30  # loop turns that must happen while a write waits for the other process's lock


@pytest.fixture
def proj(tmp_path: Path) -> Iterator[tuple[Path, Store]]:
    root = tmp_path / "proj"
    store = indexed_project(root, CODE)
    yield root, store
    store.close()


class Locker:
    """A real process holding the database's write lock until :meth:`release`."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def hold(cls, root: Path) -> Locker:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            LOCKER,
            str(root),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        assert (await process.stdout.readline()).strip() == b"locked"
        return cls(process)

    async def release(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"go\n")
        await self.process.stdin.drain()
        assert await self.process.wait() == 0


async def _loop_turns_while(pending: asyncio.Future[object], turns: int) -> int:
    """Turn the loop ``turns`` times (tiny sleeps); returns how many happened before ``pending`` ended."""
    done = 0
    while done < turns and not pending.done():
        await asyncio.sleep(0.001)
        done += 1
    return done


def _set_meta(connection: object, key: str) -> int:
    import sqlite3

    assert isinstance(connection, sqlite3.Connection)
    with write_transaction(connection):
        connection.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, 'x')", (key,))
    return threading.get_ident()


async def test_a_write_waits_for_the_lock_on_its_thread_not_on_the_loop(proj: tuple[Path, Store]) -> None:
    root, store = proj

    async def scenario() -> None:
        db = await AsyncDatabase.open(database_path(root))
        locker = await Locker.hold(root)
        write = asyncio.ensure_future(db.run(_set_meta, db.connection, "async"))
        assert await _loop_turns_while(write, TICKS) == TICKS  # the loop kept turning...
        assert not write.done()  # ...while the write waited for the other process
        await locker.release()
        assert await write != threading.get_ident()  # it ran on aiosqlite's thread
        # one API, both faces: the same store object, awaited through the db thread
        queue = TriggerQueue(db.connection, EventLog(db.connection))
        assert await db.run(queue.queued_count) == 0
        assert await db.fetchall("SELECT value FROM meta WHERE key IN ('locker', 'async') ORDER BY key") == [
            ("x",),
            ("held",),
        ]
        await db.close()

    await scenario()
    assert store.connection.execute("SELECT count(*) FROM meta WHERE key = 'async'").fetchone()[0] == 1


async def test_the_runner_keeps_the_loop_free_while_another_process_holds_the_lock(
    proj: tuple[Path, Store], fake_llm: FakeLLM
) -> None:
    root, store = proj
    node = node_id_of(store, "a_func")
    fake_llm.add_tool_calls(
        ("rewrite_self", {"new_source": "def a_func(x: int) -> int:\n    return b_func(x)\n"})
    )
    fake_llm.add_text("typed")
    svc: AgentService = service(root, fake_llm.base_url)
    heard: list[tuple[str, int]] = []
    svc.bus.add_listener(lambda event: heard.append((event.event_type, threading.get_ident())))

    async def scenario() -> None:
        locker = await Locker.hold(root)
        chat = asyncio.ensure_future(svc.achat(node, "add type hints"))  # the host's chat request
        assert await _loop_turns_while(chat, TICKS) == TICKS
        assert not chat.done()
        await locker.release()
        correlation = await chat
        locker = await Locker.hold(root)
        turn = asyncio.ensure_future(svc.wait(correlation))
        assert await _loop_turns_while(turn, TICKS) == TICKS
        assert not turn.done()  # the claim waits for the lock, on the db thread
        await locker.release()
        trigger = await turn
        assert trigger.status == "done" and trigger.reply == "typed"
        await svc.runner.aclose()

    try:
        await scenario()
        events = svc.events(node_id=node)
    finally:
        svc.close()
    assert types(events) == REWRITE_TURN
    loop_thread = threading.get_ident()  # the test's loop runs on this thread
    assert [kind for kind, _ in heard] == types(events)
    assert {thread for _, thread in heard} == {loop_thread}  # listeners are told on the loop


async def test_the_hosts_accept_reject_stop_and_cancel_keep_the_loop_free(
    proj: tuple[Path, Store], fake_llm: FakeLLM
) -> None:
    """The Neovim host's write requests run on the engine's db thread: while another process
    holds the write lock, each waits there and the host's loop keeps turning."""
    from remora_core.editor.agent_host import AgentHost

    root, store = proj
    a_func, c_func = node_id_of(store, "a_func"), node_id_of(store, "c_func")
    for name in ("a_func", "c_func"):
        fake_llm.add_tool_calls(
            ("rewrite_self", {"new_source": f"def {name}(x: int) -> int:\n    return x\n"})
        )
        fake_llm.add_text("typed")
    svc: AgentService = service(root, fake_llm.base_url)
    pushed: list[tuple[str, object]] = []
    host = AgentHost(lambda kind, payload: pushed.append((kind, payload)), lambda _root: store)
    host.services[root.resolve()] = svc  # the host's service for this root, on the fake model

    async def under_lock(request: str, params: dict[str, object]) -> object:
        locker = await Locker.hold(root)
        call = asyncio.ensure_future(host.call(request, {"root": str(root), **params}))
        assert await _loop_turns_while(call, TICKS) == TICKS, request  # the loop kept turning...
        assert not call.done(), request  # ...while the request waited for the other process
        await locker.release()
        return await call

    async def proposal_of(node: str) -> str:
        await svc.wait(await svc.achat(node, "add type hints"))
        return svc.pending(node)[0].id

    async def scenario() -> None:
        accepted, rejected = await proposal_of(a_func), await proposal_of(c_func)
        result = await under_lock("accept", {"proposal": accepted})
        assert isinstance(result, dict) and result["applied"] is True
        result = await under_lock("reject", {"proposal": rejected, "feedback": ""})
        assert result == {"proposal": rejected, "correlation_id": None}
        queued = await svc.achat(a_func, "and a docstring")  # queued, not run
        assert await under_lock("stop", {"id": a_func}) == {"cancelled": [queued]}
        queued = await svc.achat(c_func, "and a docstring")
        result = await under_lock("cancel", {"correlation_id": queued})
        assert isinstance(result, dict) and result["cancelled"] == [queued]
        assert {trigger.status for trigger in svc.triggers(queued)} == {"cancelled"}
        assert svc.proposal(accepted).status == "applied" and svc.proposal(rejected).status == "rejected"
        assert "def a_func(x: int) -> int:" in (root / "app.py").read_text()

    try:
        await scenario()
    finally:
        await host.aclose()  # closes the runner's db thread on this loop
        svc.close()
