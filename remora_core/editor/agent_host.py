"""The agent runtime inside the editor host. Agent turns are asyncio tasks on the host's own
loop (Neovim never waits on a model: every model call is awaited), and each project's
``AgentService`` shares the editor service's SQLite connection: one connection per database
per process (a second connection opened later in the same process would lose the first one's
POSIX locks when ``Store.open`` reads the file header; see the report in doc/remora.txt).

The runtime imports ``openai`` (~1 s): a background thread imports it at start, and requests
that arrive before it finished wait for it in an executor, never on the loop.
``push(kind, payload)`` sends streamed model text and runtime errors to the editor
(thread-safe); stored events reach it through the database tail (``events.follow``), once.
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
    from remora_core.graph.live import LiveGraph
    from remora_core.store.store import Store

Push = Callable[[str, Any], None]
StoreOf = Callable[[Path], "Store | None"]
GraphOf = Callable[[Path], "LiveGraph | None"]
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
    def __init__(self, push: Push, store_of: StoreOf, graph_of: GraphOf = lambda root: None) -> None:
        self.push = push
        self.store_of = store_of
        self.graph_of = graph_of
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

    def forget(self, root: Path) -> None:
        """Drop ``root``'s runtime (its configuration changed): the next request builds it again.
        Turns already running finish with the old one."""
        stop = self.stops.pop(root, None)
        if stop is not None:
            stop.set()
        self.services.pop(root, None)
        self.models.pop(root, None)

    async def aclose(self) -> None:
        """:meth:`close`, then wait for the cancelled turns and close each engine's runner (its
        db thread) on this loop, so no database job finishes after the loop is gone."""
        tasks = list(self.tasks)
        services = list(self.services.values())
        self.close()
        await asyncio.gather(*tasks, return_exceptions=True)
        for service in services:
            await service.close_runner()

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
            service = AgentService(root, config=config, store=store, model=model, graph=self.graph_of(root))
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
    def _live(self, service: AgentService, params: dict[str, Any]) -> None:
        """The editor's modified buffers become the project's current text for agents."""
        if "buffers" in params:
            from remora_core import live_buffers

            buffers = params.get("buffers")
            live_buffers.replace(service.root, buffers if isinstance(buffers, dict) else None)

    async def do_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service(params)
        self._live(service, params)
        correlation_id = await service.achat(
            str(params.get("id", "")),
            str(params.get("message", "")),
            new_conversation=bool(params.get("new_conversation")),
        )
        self._run(service, correlation_id)
        return {"correlation_id": correlation_id}

    async def do_stop(self, params: dict[str, Any]) -> dict[str, Any]:
        reports = await self.service(params).astop(str(params.get("id", "")))
        return {"cancelled": [report.correlation_id for report in reports]}

    async def do_cancel(self, params: dict[str, Any]) -> dict[str, Any]:
        report = await self.service(params).acancel(str(params.get("correlation_id", "")))
        return {"cancelled": [report.correlation_id], "proposals": report.proposals}

    def do_panel(self, params: dict[str, Any]) -> dict[str, Any]:
        from remora_core.editor.agent_views import node_panel

        return node_panel(self.service(params), str(params.get("id", "")), params.get("lines"))

    def do_pending(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        from remora_core.editor.agent_views import pending_marks

        return pending_marks(self.service(params))

    async def do_accept(self, params: dict[str, Any]) -> dict[str, Any]:
        from remora_core.editor.agent_views import aaccept

        keep = params.get("hunks")
        return await aaccept(
            self.service(params),
            str(params.get("proposal", "")),
            params.get("lines"),
            [int(index) for index in keep] if isinstance(keep, list) else None,
        )

    async def do_reindex(self, params: dict[str, Any]) -> dict[str, Any]:
        await self.service(params).areindex(str(params.get("file", "")))
        return {"ok": True}

    async def do_reject(self, params: dict[str, Any]) -> dict[str, Any]:
        from remora_core.editor.agent_views import areject

        service = self.service(params)
        self._live(service, params)
        result = await areject(service, str(params.get("proposal", "")), str(params.get("feedback", "")))
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

    def do_ghost_plan(self, params: dict[str, Any]) -> dict[str, Any]:
        """Where a ghost on ``line`` of ``file`` goes (``lines``: the buffer, optional)."""
        lines = params.get("lines")
        plan = self.service(params).ghost_plan(
            str(params.get("file", "")), int(params.get("line", 0)), lines if isinstance(lines, list) else None
        )
        return plan.as_dict()

    async def do_ghost(self, params: dict[str, Any]) -> dict[str, Any]:
        """With ``file`` and ``line`` (and optionally the buffer's ``lines`` and a ``ghost`` id) the
        engine places the new node; the older form names ``target`` / ``container`` /
        ``insert_after`` itself."""
        service = self.service(params)
        self._live(service, params)
        if "target" not in params:
            lines = params.get("lines")
            ghost = await service.aghost(
                str(params.get("file", "")),
                int(params.get("line", 0)),
                str(params.get("instruction", "")),
                lines=lines if isinstance(lines, list) else None,
                ghost_id=str(params["ghost"]) if params.get("ghost") else None,
            )
            self._run(service, ghost.correlation_id)
            return ghost.as_dict()
        from remora_core.engine.ghost import ghost_message

        target = str(params.get("target", ""))
        message = ghost_message(
            str(params.get("ghost", "")),
            str(params.get("instruction", "")),
            params.get("insert_after") or None,
            params.get("container") or None,
        )
        correlation_id = await service.achat(target, message)
        self._run(service, correlation_id)
        return {"correlation_id": correlation_id}
