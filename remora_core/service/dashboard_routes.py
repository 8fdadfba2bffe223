"""The dashboard's routes: the page, the Datastar client file, ``/v1/stream`` and the button actions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response, StreamingResponse

from remora_core.errors import ConfigError
from remora_core.service import dashboard as ui
from remora_core.service import models as m
from remora_core.service.api_routes import SSE_DOC, request_id
from remora_core.service.feed import Resync
from remora_core.service.runtime import SSE_HEADERS, Service


async def _signals(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def add_dashboard_routes(app: FastAPI, service: Service) -> None:
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
        return patches(ui.patch(ui.detail_html(service.h.node(node_id), service.h.node_state(node_id))))

    @app.post("/v1/ui/chat/{node_id}", include_in_schema=False)
    async def ui_chat(node_id: str, request: Request) -> Response:
        message = str((await _signals(request)).get("message") or "").strip()
        if not message:
            return patches(ui.patch('<div id="chat-status">Type a message first.</div>'))
        done = service.h.chat(
            node_id, m.ChatRequest(message=message), request_id(request), max_active=service.settings.max_active_turns
        )
        return patches(
            ui.patch(f'<div id="chat-status">Sent ({done.correlation_id}).</div>'), ui.signals({"message": ""})
        )

    @app.post("/v1/ui/approve/{proposal_id}", include_in_schema=False)
    async def ui_approve(proposal_id: str, request: Request) -> Response:
        done = service.h.approve(proposal_id, m.ApproveRequest(), request_id(request))
        return patches(ui.patch(ui.flash_html(done.message)), ui.patch(ui.proposals_html(service.h.proposals())))

    @app.post("/v1/ui/reject/{proposal_id}", include_in_schema=False)
    async def ui_reject(proposal_id: str, request: Request) -> Response:
        feedback = str((await _signals(request)).get("feedback") or "")
        done = service.h.reject(proposal_id, m.RejectRequest(feedback=feedback), request_id(request))
        return patches(
            ui.patch(ui.flash_html(f"rejected {done.proposal_id}")),
            ui.patch(ui.proposals_html(service.h.proposals())),
            ui.signals({"feedback": ""}),
        )
