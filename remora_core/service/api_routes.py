"""The ``/v1`` JSON routes and the ``/v1/events`` SSE stream over ``ServiceHandlers``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Body, FastAPI, Header, Query, Request
from fastapi.responses import StreamingResponse

from remora_core.service import models as m
from remora_core.service.feed import Item, Resync
from remora_core.service.runtime import SSE_HEADERS, Service

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


def request_id(request: Request) -> str:
    return str(request.state.request_id)


def add_api_routes(app: FastAPI, service: Service) -> None:
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

    @app.get("/v1/nodes/{node_id}/state", response_model=m.NodeState, responses=ERRORS, tags=["graph"])
    async def node_state(node_id: str) -> m.NodeState:
        return service.h.node_state(node_id)

    @app.get("/v1/nodes/{node_id}/events", response_model=m.EventList, responses=ERRORS, tags=["events"])
    async def node_events(
        node_id: str, after: int = Query(0, ge=0), limit: int = Query(100, ge=1, le=1000)
    ) -> m.EventList:
        return service.h.events(after=after, node_id=node_id, limit=limit)

    @app.post(
        "/v1/nodes/{node_id}/chat", response_model=m.ChatResponse, status_code=202, responses=ERRORS, tags=["agents"]
    )
    async def chat(node_id: str, body: m.ChatRequest, request: Request) -> m.ChatResponse:
        return service.h.chat(node_id, body, request_id(request), max_active=service.settings.max_active_turns)

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
        return service.h.approve(proposal_id, body or m.ApproveRequest(), request_id(request))

    @app.post("/v1/proposals/{proposal_id}/reject", response_model=m.RejectResponse, responses=ERRORS, tags=["proposals"])
    async def reject(
        proposal_id: str, request: Request, body: Annotated[m.RejectRequest | None, Body()] = None
    ) -> m.RejectResponse:
        return service.h.reject(proposal_id, body or m.RejectRequest(), request_id(request))

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
        return service.h.input(body, request_id(request), max_active=service.settings.max_active_turns)
