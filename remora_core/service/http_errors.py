"""The one error envelope: ``{"error": {"code", "message", "status", "request_id", "details"}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from remora_core.agents.errors import AgentError, ProposalError
from remora_core.errors import NodeNotFoundError, ProjectError, RemoraError
from remora_core.service.handlers import TooBusyError, proposal_error_status

log = logging.getLogger("remora.service")

CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid", 429: "rate_limited",
    500: "internal",
}


def envelope(
    status: int, message: str, request_id: str | None, *, code: str | None = None,
    details: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {
        "error": {
            "code": code or CODES.get(status, "error"),
            "message": message,
            "status": status,
            "request_id": request_id,
            "details": details,
        }
    }
    all_headers = dict(headers or {})
    if request_id:
        all_headers["X-Request-ID"] = request_id
    return JSONResponse(body, status_code=status, headers=all_headers)


def _rid(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def status_of(error: RemoraError) -> int:
    if isinstance(error, NodeNotFoundError):
        return 404
    if isinstance(error, ProposalError):
        return proposal_error_status(error)
    if isinstance(error, TooBusyError):
        return 429
    if isinstance(error, AgentError):
        return 409
    if isinstance(error, ProjectError):
        return 400
    return 400


def install(app: FastAPI) -> None:
    async def remora_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RemoraError)
        status = status_of(error)
        headers = {"Retry-After": str(error.retry_after)} if isinstance(error, TooBusyError) else None
        code = "too_busy" if isinstance(error, TooBusyError) else None
        return envelope(status, str(error), _rid(request), code=code, headers=headers)

    async def invalid(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        details = [
            {"loc": list(item.get("loc", ())), "msg": item.get("msg", ""), "type": item.get("type", "")}
            for item in error.errors()
        ]
        first = details[0] if details else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(part) for part in first["loc"])
        return envelope(422, f"invalid {where!r}: {first['msg']}", _rid(request), details=jsonable_encoder(details))

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        headers = dict(error.headers or {})
        return envelope(error.status_code, str(error.detail), _rid(request), headers=headers)

    async def crash(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return envelope(500, f"internal error: {type(error).__name__}", _rid(request))

    app.add_exception_handler(RemoraError, remora_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, crash)
