"""The HTTP adapter: FastAPI routes over ``ServiceHandlers``, the SSE streams and the dashboard.

FastAPI (on Starlette, served by uvicorn) because it derives ``/v1/openapi.json`` from the
pydantic request / response models the service layer already has: the contract test and the
schemathesis fuzz read that document, so the schema can never drift from the code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, FastAPI, Header, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from starlette.middleware.cors import CORSMiddleware

from remora_core import __version__
from remora_core.config import RemoraConfig, load_config
from remora_core.errors import ConfigError
from remora_core.service import dashboard as ui
from remora_core.service import http_errors
from remora_core.service import models as m
from remora_core.service.engine import Engine
from remora_core.service.feed import EventFeed, Item, Resync
from remora_core.service.handlers import ServiceHandlers
from remora_core.service.middleware import ServiceMiddleware
from remora_core.service.security import RateLimiter, is_loopback

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}
NODE_ID = r"^[A-Za-z0-9_.:\-]{1,200}$"
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": m.ErrorEnvelope, "description": text}
    for status, text in (
        (400, "Bad request"), (401, "Missing or wrong bearer token"), (404, "Not found"),
        (409, "Conflict"), (422, "Invalid request"), (429, "Rate limited / too busy (see Retry-After)"),
    )
}
SSE_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}, "description": "An SSE stream"},
    **ERRORS,
}


def sse_chunk(items: list[Item]) -> bytes:
    return b"".join(item.sse for item in items)


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


def create_app(root: Path, *, token: str, host: str = "127.0.0.1", config: RemoraConfig | None = None) -> FastAPI:
    """The ASGI app of the project at ``root`` (its engine starts with the app's lifespan)."""
    root = root.resolve()
    config = config or load_config(root)
    service = Service(root, config, token=token, host=host)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.close()

    app = FastAPI(
        title="Remora API", version=__version__, lifespan=lifespan,
        openapi_url="/v1/openapi.json", docs_url="/v1/docs", redoc_url=None,
        description="HTTP + SSE face of the Remora engine. Contract: doc/api.md.",
    )
    app.state.service = service
    http_errors.install(app)
    _routes(app, service)
    _dashboard_routes(app, service)
    app.add_middleware(
        ServiceMiddleware,
        token=token,
        limiter=RateLimiter(config.service.rate_limit, config.service.rate_burst),
        token_for_reads=not is_loopback(host),
    )
    if config.service.cors_origins:  # outermost: preflights and error answers get CORS headers too
        app.add_middleware(
            CORSMiddleware,
            allow_origins=config.service.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID", "Last-Event-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    return app


def _rid(request: Request) -> str:
    return str(request.state.request_id)


def _routes(app: FastAPI, service: Service) -> None:
    @app.get("/v1/health", response_model=m.Health, responses=ERRORS, tags=["service"])
    async def health() -> m.Health:
        return service.h.health()

    @app.get("/v1/files", response_model=list[str], responses=ERRORS, tags=["graph"])
    async def files() -> list[str]:
        return service.h.files()

    @app.get("/v1/nodes", response_model=list[m.NodeSummary], responses=ERRORS, tags=["graph"])
    async def nodes(file: str = Query(..., min_length=1, max_length=4096, description="Path relative to the root.")) -> list[m.NodeSummary]:
        return service.h.nodes(file)

    @app.get("/v1/nodes/{node_id}", response_model=m.NodeDetail, responses=ERRORS, tags=["graph"])
    async def node(node_id: str) -> m.NodeDetail:
        return service.h.node(node_id)

    @app.get("/v1/nodes/{node_id}/events", response_model=m.EventList, responses=ERRORS, tags=["events"])
    async def node_events(
        node_id: str, after: int = Query(0, ge=0), limit: int = Query(100, ge=1, le=1000)
    ) -> m.EventList:
        return service.h.events(after=after, node_id=node_id, limit=limit)

    @app.post(
        "/v1/nodes/{node_id}/chat", response_model=m.ChatResponse, status_code=202, responses=ERRORS, tags=["agents"]
    )
    async def chat(node_id: str, body: m.ChatRequest, request: Request) -> m.ChatResponse:
        return service.h.chat(node_id, body, _rid(request), max_active=service.settings.max_active_turns)

    @app.get("/v1/events", response_class=StreamingResponse, responses=SSE_DOC, tags=["events"])
    async def events(
        node: str | None = Query(None, max_length=200, description="Only events about this node."),
        after: int | None = Query(None, ge=0, description="Replay from here (Last-Event-ID wins)."),
        live: bool = Query(True, description="false: replay what is stored, then end the stream."),
        last_event_id: str | None = Header(None, alias="Last-Event-ID"),
    ) -> StreamingResponse:
        start = after if after is not None else service.h.engine.last_seq()
        if last_event_id is not None and last_event_id.strip().isdigit():
            start = int(last_event_id.strip())
        if node is not None:
            service.h.events(node_id=node, limit=1)  # 404 for an unknown node before streaming

        async def body() -> AsyncIterator[bytes]:
            yield b"retry: 1000\n\n"
            try:
                async for batch in service.f.events(start, node=node, live=live):
                    if batch:
                        yield sse_chunk(batch)
                    else:
                        yield b": keepalive\n\n"
            except Resync as resync:
                data = json.dumps({"last_id": resync.last_id, "reason": "client too slow; reconnect"})
                yield f"event: resync\ndata: {data}\n\n".encode()

        return StreamingResponse(body(), media_type="text/event-stream", headers=SSE_HEADERS)

    @app.get("/v1/proposals", response_model=list[m.ProposalOut], responses=ERRORS, tags=["proposals"])
    async def proposals(
        status: Annotated[m.ProposalStatusFilter, Query(description="Which proposals ('all': every one).")] = "pending",
    ) -> list[m.ProposalOut]:
        return service.h.proposals(None if status == "all" else status)

    @app.get("/v1/proposals/{proposal_id}", response_model=m.ProposalOut, responses=ERRORS, tags=["proposals"])
    async def proposal(proposal_id: str) -> m.ProposalOut:
        return service.h.proposal(proposal_id)

    @app.post("/v1/proposals/{proposal_id}/approve", response_model=m.ApplyResponse, responses=ERRORS, tags=["proposals"])
    async def approve(
        proposal_id: str, request: Request, body: Annotated[m.ApproveRequest | None, Body()] = None
    ) -> m.ApplyResponse:
        return service.h.approve(proposal_id, body or m.ApproveRequest(), _rid(request))

    @app.post("/v1/proposals/{proposal_id}/reject", response_model=m.RejectResponse, responses=ERRORS, tags=["proposals"])
    async def reject(
        proposal_id: str, request: Request, body: Annotated[m.RejectRequest | None, Body()] = None
    ) -> m.RejectResponse:
        return service.h.reject(proposal_id, body or m.RejectRequest(), _rid(request))

    @app.get("/v1/config", response_model=dict[str, Any], responses=ERRORS, tags=["service"])
    async def config() -> dict[str, Any]:
        return service.h.config()

    @app.post("/v1/plan", response_model=m.PlanResponse, responses=ERRORS, tags=["agents"])
    async def plan(body: m.RunRequest) -> m.PlanResponse:
        return service.h.plan(body)

    @app.get("/v1/snapshot", response_model=m.Snapshot, responses=ERRORS, tags=["events"])
    async def snapshot() -> m.Snapshot:
        return service.h.snapshot()

    @app.post("/v1/input", response_model=m.ChatResponse, status_code=202, responses=ERRORS, tags=["agents"])
    async def human_input(body: m.InputResponse, request: Request) -> m.ChatResponse:
        return service.h.input(body, _rid(request), max_active=service.settings.max_active_turns)


async def _signals(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _dashboard_routes(app: FastAPI, service: Service) -> None:
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse(ui.page(service.datastar_script()))

    @app.get("/static/datastar.js", include_in_schema=False)
    async def datastar_js() -> Response:
        path = service.datastar_file()
        if path is None or not path.is_file():
            raise ConfigError(f"[service] datastar_js {service.settings.datastar_js!r} is not a file")
        return FileResponse(path, media_type="text/javascript")

    def full_render() -> str:
        h = service.h
        events = h.engine.events(max(0, h.engine.last_seq() - ui.LOG_ROWS), limit=ui.LOG_ROWS)
        return "".join(
            (
                ui.patch(ui.status_html(h.health(), service.viewers)),
                ui.patch(ui.tree_html(h.engine.store.active_nodes())),
                ui.patch(ui.proposals_html(h.proposals())),
                ui.patch(ui.log_html([h.envelope(e) for e in events])),
            )
        )

    @app.get("/v1/stream", response_class=StreamingResponse, responses=SSE_DOC, tags=["dashboard"])
    async def stream(live: bool = Query(True, description="false: the first full render only.")) -> StreamingResponse:
        """Datastar ``datastar-merge-fragments`` patches that keep the dashboard current."""

        async def body() -> AsyncIterator[bytes]:
            service.viewers += 1
            try:
                while True:
                    after = service.h.engine.last_seq()
                    yield full_render().encode()
                    if not live:
                        return
                    try:
                        async for batch in service.f.events(after):
                            if not batch:
                                yield b": keepalive\n\n"
                                continue
                            parts = [ui.patch("".join(ui.log_row(i.envelope) for i in batch), "#log", "append")]
                            kinds = {i.envelope["kind"] for i in batch}
                            if kinds & {"agent", "human"}:
                                parts.append(ui.patch(ui.proposals_html(service.h.proposals())))
                            if "topology" in kinds:
                                parts.append(ui.patch(ui.tree_html(service.h.engine.store.active_nodes())))
                            parts.append(ui.patch(ui.status_html(service.h.health(), service.viewers)))
                            yield "".join(parts).encode()
                    except Resync:
                        continue  # fell behind: render everything again from the current end
                    return  # the server is shutting down
            finally:
                service.viewers -= 1

        return StreamingResponse(body(), media_type="text/event-stream", headers=SSE_HEADERS)

    def patches(*parts: str) -> Response:
        return Response("".join(parts), media_type="text/event-stream", headers=SSE_HEADERS)

    @app.get("/v1/ui/node/{node_id}", include_in_schema=False)
    async def ui_node(node_id: str) -> Response:
        return patches(ui.patch(ui.detail_html(service.h.node(node_id))))

    @app.post("/v1/ui/chat/{node_id}", include_in_schema=False)
    async def ui_chat(node_id: str, request: Request) -> Response:
        message = str((await _signals(request)).get("message") or "").strip()
        if not message:
            return patches(ui.patch('<div id="chat-status">Type a message first.</div>'))
        done = service.h.chat(
            node_id, m.ChatRequest(message=message), _rid(request), max_active=service.settings.max_active_turns
        )
        return patches(
            ui.patch(f'<div id="chat-status">Sent ({done.correlation_id}).</div>'), ui.signals({"message": ""})
        )

    @app.post("/v1/ui/approve/{proposal_id}", include_in_schema=False)
    async def ui_approve(proposal_id: str, request: Request) -> Response:
        done = service.h.approve(proposal_id, m.ApproveRequest(), _rid(request))
        return patches(ui.patch(ui.flash_html(done.message)), ui.patch(ui.proposals_html(service.h.proposals())))

    @app.post("/v1/ui/reject/{proposal_id}", include_in_schema=False)
    async def ui_reject(proposal_id: str, request: Request) -> Response:
        feedback = str((await _signals(request)).get("feedback") or "")
        done = service.h.reject(proposal_id, m.RejectRequest(feedback=feedback), _rid(request))
        return patches(
            ui.patch(ui.flash_html(f"rejected {done.proposal_id}")),
            ui.patch(ui.proposals_html(service.h.proposals())),
            ui.signals({"feedback": ""}),
        )

