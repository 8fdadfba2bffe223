"""``remora serve [PATH] [--host 127.0.0.1] [--port 7777]``: run the API and the dashboard."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from remora_core.errors import ProjectError
from remora_core.project import find_root


def add_parser(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help="HTTP + SSE API and the live dashboard (doc/api.md)")
    serve.add_argument("path", nargs="?", default=".", help="project root (default: found from .)")
    serve.add_argument("--host", help="bind address (default: [service] host, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: [service] port, 7777; 0: any free port)")
    serve.add_argument("--no-agents", action="store_true", help="do not run agent turns in this process")
    serve.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from remora_core.config import load_config  # imported here: `remora index` never loads them
    from remora_core.service.app import create_app
    from remora_core.service.security import is_loopback, load_or_create_token, token_path

    root = find_root(Path(args.path))
    config = load_config(root)
    settings = config.service
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    if args.no_agents:
        config = config.model_copy(update={"service": settings.model_copy(update={"run_agents": False})})
    token, created = load_or_create_token(root)
    if not is_loopback(host) and not token:
        raise ProjectError(f"binding {host!r} requires a token in {str(token_path(root))!r}")
    if created:
        print(f"remora: API token (printed once, kept in {str(token_path(root))!r}, mode 0600): {token}")
    where = "every route" if not is_loopback(host) else "mutating routes"
    app = create_app(root, token=token, host=host, config=config)

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started:  # listening now: say so (editors and tests wait for this line)
                bound = self.servers[0].sockets[0].getsockname()[1] if self.servers else port
                print(f"remora: serving {str(root)!r} on http://{host}:{bound}/ ({where} need the bearer token)",
                      flush=True)

        async def shutdown(self, sockets: Any = None) -> None:
            app.state.service.end_streams()  # SSE responses never end by themselves
            await super().shutdown(sockets)

    uvicorn_config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, lifespan="on",
        loop="auto", http="auto", timeout_graceful_shutdown=3,  # SSE streams never end by themselves
    )
    Server(uvicorn_config).run()
    sys.stdout.flush()
    return 0
