"""``Service``: what one running server shares: the engine facade, the handlers, the event feed."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from remora_core.config import RemoraConfig
from remora_core.engine.facade import Engine
from remora_core.service.feed import EventFeed
from remora_core.service.handlers import ServiceHandlers

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}


class Service:
    """Everything one running server shares: engine facade, handlers, event feed, limits."""

    def __init__(self, root: Path, config: RemoraConfig, *, token: str, host: str) -> None:
        self.root = root
        self.config = config
        self.settings = config.service
        self.token = token
        self.host = host
        self.engine: Engine | None = None
        self.handlers: ServiceHandlers | None = None
        self.feed: EventFeed | None = None
        self.stop = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.viewers = 0

    @property
    def h(self) -> ServiceHandlers:
        assert self.handlers is not None, "the service is not started"
        return self.handlers

    @property
    def f(self) -> EventFeed:
        assert self.feed is not None, "the service is not started"
        return self.feed

    async def start(self) -> None:
        self.stop = asyncio.Event()
        self.engine = Engine(self.root, config=self.config)
        self.handlers = ServiceHandlers(self.engine, run_agents=self.settings.run_agents)
        engine = self.engine
        self.feed = EventFeed(
            self.root,
            self.handlers.envelope,
            lambda after, node, limit: engine.events(after, node_id=node, limit=limit),
            queue_size=self.settings.sse_queue,
        )
        self.tasks.append(asyncio.create_task(self.feed.run(self.stop)))
        if self.settings.run_agents:
            self.tasks.append(asyncio.create_task(engine.run_forever(self.stop)))

    def end_streams(self) -> None:
        """Let every SSE response finish (called first on shutdown: the server then exits at once)."""
        if self.feed is not None:
            self.feed.close()

    async def close(self) -> None:
        self.end_streams()
        self.stop.set()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()
        if self.engine is not None:
            await self.engine.aclose()

    def datastar_script(self) -> str:
        source = self.settings.datastar_js
        return source if source.startswith(("http://", "https://", "//")) else "/static/datastar.js"

    def datastar_file(self) -> Path | None:
        source = self.settings.datastar_js
        if source.startswith(("http://", "https://", "//")):
            return None
        path = Path(source).expanduser()
        return path if path.is_absolute() else self.root / path
