"""The agent runtime inside the editor host. Agent turns are asyncio tasks on the host's own
loop (Neovim never waits on a model: every model call is awaited), and each project's
``AgentService`` shares the editor service's SQLite connection: one connection per database
per process (a second connection opened later in the same process would lose the first one's
POSIX locks when ``Store.open`` reads the file header; see the report in doc/remora.txt).

The runtime imports ``openai`` (~1 s): a background thread imports it at start, and requests
that arrive before it finished wait for it in an executor, never on the loop.
``push(kind, payload)`` tells the editor what happened (thread-safe).
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from remora_core.errors import RemoraError

if TYPE_CHECKING:  # the runtime imports openai (~1 s): imported by the warm-up thread
    from remora_core.agents.llm import ChatResult, LLMClient, ToolChoice
    from remora_core.agents.service import AgentService
    from remora_core.config import LLMConfig
    from remora_core.events.models import BaseEvent
    from remora_core.store.store import Store

Push = Callable[[str, Any], None]
StoreOf = Callable[[Path], "Store | None"]
RUNNER_POLL_S = 0.5


def _import_runtime() -> None:
    import remora_core.agents.service  # noqa: F401 -- the slow import, once, off the host's loop


class AgentHostError(RemoraError):
    """A request to the editor's agent runtime cannot be served."""


class StreamingModel:
    """``LLMClient`` whose text deltas are reported with the trigger (asyncio task name) they belong to."""

    def __init__(self, config: LLMConfig, on_text: Callable[[str, str], None]) -> None:
        self.config = config
        self.on_text = on_text
        self.client: LLMClient | None = None

    async def chat(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
        tool_choice: ToolChoice | None = None,
    ) -> ChatResult:
        if self.client is None:
            from remora_core.agents.llm import LLMClient

            self.client = LLMClient(self.config, on_text=self._delta)
        return await self.client.chat(messages, tools, tool_choice)

    def _delta(self, text: str) -> None:
        task = asyncio.current_task()
        self.on_text(task.get_name() if task is not None else "", text)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()


class AgentHost:
    def __init__(self, push: Push, store_of: StoreOf) -> None:
        self.push = push
        self.store_of = store_of
        self.services: dict[Path, AgentService] = {}
        self.models: dict[Path, StreamingModel] = {}
        self.stops: dict[Path, asyncio.Event] = {}
        self.tasks: set[asyncio.Task[Any]] = set()
        self.trigger_nodes: dict[str, str] = {}
        self.warm = threading.Thread(target=_import_runtime, name="remora-import", daemon=True)
        self.warm.start()

    async def ready(self) -> None:
        if self.warm.is_alive():
            await asyncio.get_running_loop().run_in_executor(None, self.warm.join)

    async def call(self, name: str, params: dict[str, Any]) -> Any:
        """Serve agent request ``name`` (on the host's loop); its result."""
        method = getattr(self, "do_" + name, None)
        if method is None:
            raise AgentHostError(f"unknown agent request {name!r}")
        await self.ready()
        value = method(params)
        if inspect.isawaitable(value):
            value = await value
        return value

    def close(self) -> None:
        for event in self.stops.values():
            event.set()
        for task in list(self.tasks):
            task.cancel()
        self.services.clear()

    # -- services ----------------------------------------------------------------------
    def service(self, params: dict[str, Any]) -> AgentService:
        raw = params.get("root")
        if not isinstance(raw, str) or not raw:
            raise AgentHostError(f"request without a project root (got {raw!r})")
        root = Path(raw).resolve()
        service = self.services.get(root)
        if service is None:
            from remora_core.agents.service import AgentService
            from remora_core.config import load_config

            store = self.store_of(root)
            if store is None:
                raise AgentHostError(f"no index for {str(root)!r} yet: run ':Remora index'")
            config = load_config(root)
            model = StreamingModel(config.llm, lambda trigger, text: self._streamed(root, trigger, text))
            service = AgentService(root, config=config, store=store, model=model)
            service.add_listener(lambda event: self._event(root, event))
            self.services[root] = service
            self.models[root] = model
            self.stops[root] = asyncio.Event()
            self._spawn(service.run_forever(self.stops[root], poll_interval=RUNNER_POLL_S))
        return service

    def _spawn(self, coroutine: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
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

    # -- requests (the host's loop) --------------------------------------------------------
    def do_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service(params)
        correlation_id = service.chat(
            str(params.get("id", "")),
            str(params.get("message", "")),
            new_conversation=bool(params.get("new_conversation")),
        )
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
