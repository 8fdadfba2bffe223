"""One ASGI middleware in front of every route: request id, bearer token, rate limit.

Pure ASGI (not ``BaseHTTPMiddleware``) so that SSE responses stream untouched.
"""

from __future__ import annotations

import math

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from remora_core.service.http_errors import envelope
from remora_core.service.security import RateLimiter, bearer_ok, request_id

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_PATHS = frozenset({"/", "/favicon.ico", "/static/datastar.js"})


class ServiceMiddleware:
    def __init__(self, app: ASGIApp, *, token: str, limiter: RateLimiter, token_for_reads: bool) -> None:
        self.app = app
        self.token = token
        self.limiter = limiter
        self.token_for_reads = token_for_reads  # a non-loopback bind: every /v1 route needs the token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        rid = request_id(headers.get("x-request-id"))
        scope.setdefault("state", {})["request_id"] = rid
        method = scope["method"]
        path: str = scope["path"]
        authorised = bearer_ok(headers.get("authorization"), self.token)
        needs_token = method not in SAFE_METHODS or (self.token_for_reads and path not in PUBLIC_PATHS)
        if method == "OPTIONS":
            needs_token = False  # CORS preflight (answered by the CORS middleware when enabled)
        if needs_token and not authorised:
            message = (
                "missing bearer token (Authorization: Bearer <token> from .remora/service.token)"
                if not headers.get("authorization")
                else "wrong bearer token"
            )
            response = envelope(401, message, rid, headers={"WWW-Authenticate": "Bearer"})
            await response(scope, receive, send)
            return
        client = scope.get("client")
        key = ("token:" if authorised else "ip:") + (client[0] if client else "?")
        wait = self.limiter.check(key)
        if wait > 0:
            retry = max(1, math.ceil(wait))
            response = envelope(
                429, f"rate limit: retry after {retry} s", rid, code="rate_limited",
                headers={"Retry-After": str(retry)},
            )
            await response(scope, receive, send)
            return

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).setdefault("X-Request-ID", rid)
            await send(message)

        await self.app(scope, receive, tagged)
