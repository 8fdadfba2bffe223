"""The agent runtime inside the editor host: one worker thread with its own asyncio loop owns
every project's ``AgentService`` (its SQLite connection included), runs agent turns as tasks
there and pushes what happens to the editor. Neovim's own loop never waits on a model.

``AgentHost.call(name, params)`` runs one request on that thread and waits for its answer (the
glue calls it from a worker thread, never from Neovim's loop). ``push(kind, payload)`` must be
thread-safe (the glue hands it to ``nvim.async_call``).
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from remora_core.errors import RemoraError

if TYPE_CHECKING:  # the runtime imports openai (~1 s): loaded on the agent thread only
    from remora_core.agents.llm import ChatResult, LLMClient
    from remora_core.agents.service import AgentService
    from remora_core.config import LLMConfig
    from remora_core.events.models import BaseEvent

Push = Callable[[str, Any], None]
CALL_TIMEOUT_S = 120.0
RUNNER_POLL_S = 0.5


class AgentHostError(RemoraError):
    """A request to the editor's agent runtime cannot be served."""


class StreamingModel:
    """``LLMClient`` whose text deltas are reported with the trigger (asyncio task name) they belong to."""

    def __init__(self, config: LLMConfig, on_text: Callable[[str, str], None]) -> None:
        self.config = config
        self.on_text = on_text
        self.client: LLMClient | None = None

    async def chat(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> ChatResult:
        if self.client is None:
            from remora_core.agents.llm import LLMClient

            self.client = LLMClient(self.config, on_text=self._delta)
        return await self.client.chat(messages, tools)

    def _delta(self, text: str) -> None:
        task = asyncio.current_task()
        self.on_text(task.get_name() if task is not None else "", text)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()


class AgentHost:
    def __init__(self, push: Push) -> None:
        self.push = push
        self.loop = asyncio.new_event_loop()
        self.services: dict[Path, AgentService] = {}
        self.models: dict[Path, StreamingModel] = {}
        self.stops: dict[Path, asyncio.Event] = {}
        self.tasks: set[asyncio.Task[Any]] = set()
        self.trigger_nodes: dict[str, str] = {}
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._main, name="remora-agents", daemon=True)
        self.thread.start()

    # -- the thread --------------------------------------------------------------------
    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._warm)
        self.loop.run_forever()

    def _warm(self) -> None:
        import remora_core.agents.service  # noqa: F401 -- the slow import, once, off Neovim's loop

        self.ready.set()

    def call(self, name: str, params: dict[str, Any], timeout: float = CALL_TIMEOUT_S) -> Any:
        """Run request ``name`` on the agent thread; its result (raises what it raised)."""
        method = getattr(self, "do_" + name, None)
        if method is None:
            raise AgentHostError(f"unknown agent request {name!r}")

        async def run() -> Any:
            value = method(params)
            if inspect.isawaitable(value):
                value = await value
            return value

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout)

    def close(self) -> None:
        async def stop() -> None:
            for event in self.stops.values():
                event.set()
            for task in list(self.tasks):
                task.cancel()
            for model in self.models.values():
                await model.close()
            for service in self.services.values():
                service.close()

        if self.loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(stop(), self.loop).result(5)
            except Exception:  # noqa: BLE001 -- best effort at exit
                pass
            self.loop.call_soon_threadsafe(self.loop.stop)

    # -- services (agent thread only) --------------------------------------------------
    def service(self, params: dict[str, Any]) -> AgentService:
        raw = params.get("root")
        if not isinstance(raw, str) or not raw:
            raise AgentHostError(f"request without a project root (got {raw!r})")
        root = Path(raw).resolve()
        service = self.services.get(root)
        if service is None:
            from remora_core.agents.service import AgentService
            from remora_core.config import load_config

            config = load_config(root)
            model = StreamingModel(config.llm, lambda trigger, text: self._streamed(root, trigger, text))
            service = AgentService(root, config=config, model=model)
            service.add_listener(lambda event: self._event(root, event))
            self.services[root] = service
            self.models[root] = model
            self.stops[root] = asyncio.Event()
            self._spawn(service.run_forever(self.stops[root], poll_interval=RUNNER_POLL_S))
        return service

    def _spawn(self, coroutine: Any) -> asyncio.Task[Any]:
        task = self.loop.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.push("error", {"message": f"agent task failed: {task.exception()}"})

    def _event(self, root: Path, event: BaseEvent) -> None:
        self.push(
            "agent",
            {
                "root": str(root),
                "type": event.event_type,
                "node": event.agent_ref(),
                "correlation_id": event.correlation_id,
                "seq": event.seq or 0,
            },
        )

    def _streamed(self, root: Path, trigger_id: str, text: str) -> None:
        node = self.trigger_nodes.get(trigger_id)
        if node is None:
            trigger = self.services[root].queue.get(trigger_id) if root in self.services else None
            node = trigger.agent_id if trigger is not None else ""
            self.trigger_nodes[trigger_id] = node
        if node:
            self.push("stream", {"root": str(root), "node": node, "trigger": trigger_id, "text": text})

    def _run(self, service: AgentService, correlation_id: str) -> None:
        self._spawn(service.wait(correlation_id))

    # -- requests (agent thread) ---------------------------------------------------------
    def do_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service(params)
        correlation_id = service.chat(str(params.get("id", "")), str(params.get("message", "")))
        self._run(service, correlation_id)
        return {"correlation_id": correlation_id}

    def do_stop(self, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service(params)
        node_id = str(params.get("id", ""))
        rows = service.store.connection.execute(
            "SELECT DISTINCT correlation_id FROM triggers WHERE agent_id = ? AND status IN ('queued', 'running')",
            (node_id,),
        ).fetchall()
        cancelled = [service.cancel(correlation_id).correlation_id for (correlation_id,) in rows]
        return {"cancelled": cancelled}

    def do_cancel(self, params: dict[str, Any]) -> dict[str, Any]:
        report = self.service(params).cancel(str(params.get("correlation_id", "")))
        return {"cancelled": [report.correlation_id], "proposals": report.proposals}

    def do_panel(self, params: dict[str, Any]) -> dict[str, Any]:
        from remora_core.editor.agent_views import node_panel

        return node_panel(self.service(params), str(params.get("id", "")), params.get("lines"))

    def do_pending(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        from remora_core.editor.agent_views import pending_marks

        return pending_marks(self.service(params))

    def do_accept(self, params: dict[str, Any]) -> dict[str, Any]:
        from remora_core.editor.agent_views import accept

        keep = params.get("hunks")
        return accept(
            self.service(params),
            str(params.get("proposal", "")),
            params.get("lines"),
            [int(index) for index in keep] if isinstance(keep, list) else None,
        )

    def do_reindex(self, params: dict[str, Any]) -> dict[str, Any]:
        self.service(params).reindex(str(params.get("file", "")))
        return {"ok": True}

    def do_reject(self, params: dict[str, Any]) -> dict[str, Any]:
        from remora_core.editor.agent_views import reject

        service = self.service(params)
        result = reject(service, str(params.get("proposal", "")), str(params.get("feedback", "")))
        if result["correlation_id"]:
            self._run(service, result["correlation_id"])
        return result

    def do_tools(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        from remora_core.editor.agent_tools import tool_list

        return tool_list(self.service(params), str(params.get("id", "")))

    async def do_tool_call(self, params: dict[str, Any]) -> dict[str, Any]:
        from remora_core.editor.agent_tools import call_tool

        arguments = params.get("arguments")
        return await call_tool(
            self.service(params),
            str(params.get("id", "")),
            str(params.get("tool", "")),
            arguments if isinstance(arguments, dict) else {},
        )

    def do_ghost(self, params: dict[str, Any]) -> dict[str, Any]:
        from remora_core.editor.ghost import ghost_message

        service = self.service(params)
        target = str(params.get("target", ""))
        message = ghost_message(
            str(params.get("ghost", "")),
            str(params.get("instruction", "")),
            params.get("insert_after") or None,
            params.get("container") or None,
        )
        correlation_id = service.chat(target, message)
        self._run(service, correlation_id)
        return {"correlation_id": correlation_id}
