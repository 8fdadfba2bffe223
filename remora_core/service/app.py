"""The HTTP adapter: one FastAPI app = middleware + ``api_routes`` + ``dashboard_routes`` over ``Service``.

FastAPI (on Starlette, served by uvicorn) because it derives ``/v1/openapi.json`` from the
pydantic request / response models the service layer already has: the contract test and the
schemathesis fuzz read that document, so the schema can never drift from the code.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from remora_core import __version__
from remora_core.config import RemoraConfig, load_config
from remora_core.service import http_errors
from remora_core.service.api_routes import add_api_routes
from remora_core.service.dashboard_routes import add_dashboard_routes
from remora_core.service.middleware import ServiceMiddleware
from remora_core.service.runtime import Service
from remora_core.service.security import RateLimiter, is_loopback


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
    add_api_routes(app, service)
    add_dashboard_routes(app, service)
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
