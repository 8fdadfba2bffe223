"""Thin pynvim glue: moves data between Neovim and ``remora_core.editor``. No business logic.

Two remote functions (their specs are repeated in ``lua/remora/host.lua`` for
self-registration; ``tests/test_nvim_host.py`` checks they match):

* ``RemoraCall(method, params)`` -- synchronous, for requests that take a few ms
  (BufWritePre anchors, ping, health). Returns ``{ok = true, result = ...}`` or
  ``{ok = false, error = "..."}``.
* ``RemoraNotify(method, params, request_id)`` -- asynchronous; the answer comes back as a
  notification ``require('remora.rpc')._reply(request_id, result, error)``.

Events committed to the project's event log (kind "events"), the agent runtime's own events
(kind "agent") and streamed model text (kind "stream") are pushed to Lua as notifications
``require('remora.rpc')._push(kind, payload)``.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pynvim

from remora_core.editor.service import AGENT_REQUESTS, EditorService
from remora_core.errors import RemoraError
from remora_core.events.wakeup import CommitWatch, WakeSchedule, wait_for_commit
from remora_core.store.db import database_path

POLL_INTERVAL_S = 0.03  # when a root's database cannot be watched (no inotify, not created yet)
WATCHED_POLL_S = 1.0  # with commit watches on every root: a safety net only
REWATCH_S = 1.0  # how often a root without a working watch tries again
BLOCKING = frozenset({"hub", "health", "index"})  # run in a worker thread, never on the host's loop
AGENT = frozenset("agent_" + name for name in AGENT_REQUESTS)  # coroutines: tasks on the host's loop
LUA_REPLY = "require('remora.rpc')._reply(...)"
LUA_PUSH = "require('remora.rpc')._push(...)"


def _unpack(args: list[Any]) -> tuple[str, dict[str, Any], Any]:
    method = str(args[0]) if args else ""
    params = args[1] if len(args) > 1 and isinstance(args[1], dict) else {}
    request = args[2] if len(args) > 2 else None
    return method, params, request


def _describe(error: BaseException) -> str:
    if isinstance(error, RemoraError):
        return str(error)
    return f"internal error {type(error).__name__}: {error}"


@pynvim.plugin
class RemoraHost:
    def __init__(self, nvim: pynvim.Nvim) -> None:
        self.nvim = nvim
        self.service = EditorService()
        self.roots: set[Path] = set()
        self.watches: dict[Path, CommitWatch] = {}  # wake the poller when a root's log is written
        self.rewatched = 0.0
        self.roots_changed: asyncio.Event | None = None
        self.poller: asyncio.Task[None] | None = None
        # The agent runtime imports openai (~1 s) in a background thread. It starts after the first
        # line map is answered (or with the first agent request): at start-up the import would
        # compete for the GIL with the line map the user waits for.
        self.service.push = lambda kind, payload: nvim.async_call(self._push, kind, payload)

    # -- entry points -------------------------------------------------------------------
    @pynvim.function("RemoraCall", sync=True)
    def call(self, args: list[Any]) -> dict[str, Any]:
        method, params, _ = _unpack(args)
        if method in AGENT:
            return {"ok": False, "error": f"{method!r} is asynchronous: use RemoraNotify"}
        try:
            return {"ok": True, "result": self.service.call(method, params)}
        except Exception as error:  # noqa: BLE001 -- every failure goes back to Lua as text
            return {"ok": False, "error": _describe(error)}

    @pynvim.function("RemoraNotify", sync=False)
    def notify(self, args: list[Any]) -> None:
        method, params, request = _unpack(args)
        if method in BLOCKING:
            self.nvim.loop.create_task(self._in_thread(method, params, request))
            return
        if method in AGENT:
            self.nvim.loop.create_task(self._agent(method, params, request))
            return
        try:
            result = self.service.call(method, params)
        except Exception as error:  # noqa: BLE001
            self._reply(request, None, _describe(error))
            return
        self._reply(request, result, None)
        if method == "linemap":
            self._watch(Path(result["root"]), bool(params.get("hub_autostart")))
            if self.service.agents is None:
                self.service.start_agents(self.service.push)

    # -- helpers -------------------------------------------------------------------------
    def _reply(self, request: Any, result: Any, error: str | None) -> None:
        if request is not None:
            self.nvim.exec_lua(LUA_REPLY, request, result, error, async_=True)

    def _push(self, kind: str, payload: Any) -> None:
        self.nvim.exec_lua(LUA_PUSH, kind, payload, async_=True)

    async def _in_thread(self, method: str, params: dict[str, Any], request: Any) -> None:
        try:
            result = await self.nvim.loop.run_in_executor(None, self.service.call, method, params)
        except Exception as error:  # noqa: BLE001
            self._reply(request, None, _describe(error))
            return
        self._reply(request, result, None)

    async def _agent(self, method: str, params: dict[str, Any], request: Any) -> None:
        try:
            result = await self.service.call(method, params)
        except Exception as error:  # noqa: BLE001
            self._reply(request, None, _describe(error))
            return
        self._reply(request, result, None)

    async def _start_hub(self, root: Path) -> None:
        params = {"root": str(root), "action": "start"}
        try:
            result = await self.nvim.loop.run_in_executor(None, self.service.hub, params)
        except Exception as error:  # noqa: BLE001
            self._push("hub", {"root": str(root), "ok": False, "message": _describe(error)})
            return
        self._push("hub", {"root": str(root), "ok": True, "message": result["message"]})

    def _watch(self, root: Path, autostart: bool) -> None:
        """Follow ``root``'s event log; on first sight start its hub when allowed."""
        if autostart and self.service.needs_hub(root):
            self.nvim.loop.create_task(self._start_hub(root))
        if root not in self.roots:
            self.roots.add(root)
            self.watches[root] = CommitWatch(database_path(root))  # before the first read
            self.service.new_events(root)  # sets the starting position
            if self.roots_changed is not None:
                self.roots_changed.set()
        if self.poller is None:
            self.roots_changed = asyncio.Event()
            self.poller = self.nvim.loop.create_task(self._poll())

    def _rewatch(self) -> None:
        """Retry the watches that could not be set up (the project had no database yet)."""
        now = time.monotonic()
        if now - self.rewatched < REWATCH_S:
            return
        self.rewatched = now
        for root, watch in list(self.watches.items()):
            if watch.fileno() is None:
                watch.close()
                self.watches[root] = CommitWatch(database_path(root))

    async def _poll(self) -> None:
        """Push new events of every followed root: woken by their commits (inotify), else
        every POLL_INTERVAL_S."""
        assert self.roots_changed is not None
        schedule = WakeSchedule()
        while True:
            watched = all(watch.fileno() is not None for watch in self.watches.values())
            if not watched:
                self._rewatch()
            seconds = schedule.timeout(WATCHED_POLL_S if watched else POLL_INTERVAL_S)
            schedule.waited(await wait_for_commit(list(self.watches.values()), seconds, self.roots_changed))
            self.roots_changed.clear()
            if self._push_new_events():
                schedule.found()

    def _push_new_events(self) -> bool:
        """Push what each root's log gained; True when there was anything."""
        found = False
        for root in list(self.roots):
            try:
                events = self.service.new_events(root)
            except Exception as error:  # noqa: BLE001 -- a locked or missing db must not kill the poller
                events = []
                self._push("error", {"root": str(root), "message": _describe(error)})
                self.roots.discard(root)
                watch = self.watches.pop(root, None)
                if watch is not None:
                    watch.close()
            if events:
                found = True
                self._push("events", {"root": str(root), "events": events})
        return found
