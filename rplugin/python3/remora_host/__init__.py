"""Thin pynvim glue: moves data between Neovim and ``remora_core.editor``. No business logic.

Two remote functions (their specs are repeated in ``lua/remora/host.lua`` for
self-registration; ``tests/test_nvim_host.py`` checks they match):

* ``RemoraCall(method, params)`` -- synchronous, for requests that take a few ms
  (BufWritePre anchors, ping, health). Returns ``{ok = true, result = ...}`` or
  ``{ok = false, error = "..."}``.
* ``RemoraNotify(method, params, request_id)`` -- asynchronous; the answer comes back as a
  notification ``require('remora.rpc')._reply(request_id, result, error)``.

Events committed to a project's event log, by any process, are pushed to Lua as
notifications ``require('remora.rpc')._push(kind, payload)``: every batch as kind "events"
(summaries) and each agent event also as kind "agent" (``remora_core.events.follow`` tails the
database: the one path). Streamed model text is pushed as kind "stream".
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pynvim

from remora_core.editor.service import AGENT_REQUESTS, EditorService
from remora_core.errors import RemoraError

if TYPE_CHECKING:  # the event models (pydantic) load after the first line map is answered
    from remora_core.events.follow import RootsFollower
    from remora_core.events.models import BaseEvent

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
        self.follower: RootsFollower | None = None  # made with the first followed root
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
        if self.follower is None:
            from remora_core.events.follow import RootsFollower

            self.follower = RootsFollower(self._events, self._follow_error)
        self.follower.follow(root)
        if self.poller is None:
            self.poller = self.nvim.loop.create_task(self.follower.run())

    def _events(self, root: Path, events: list[BaseEvent]) -> None:
        from remora_core.editor.events import agent_push, event_summary

        self._push("events", {"root": str(root), "events": [event_summary(event) for event in events]})
        for event in events:
            payload = agent_push(root, event)
            if payload is not None:
                self._push("agent", payload)

    def _follow_error(self, root: Path, error: Exception) -> None:
        self._push("error", {"root": str(root), "message": _describe(error)})
