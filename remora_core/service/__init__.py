"""The HTTP + SSE face of the engine and its Datastar dashboard (``remora serve``; doc/api.md).

Framework-agnostic: ``handlers`` (operations over the engine facade), ``models`` (request /
response shapes), ``projector`` (events -> UI state), ``feed`` (one store tailer fanned out to
stream clients), ``security`` (token, rate limit, request ids); the facade is
``remora_core.engine.Engine``. The FastAPI adapter: ``app`` (the app), ``runtime`` (what a
running server shares), ``api_routes``, ``dashboard_routes`` + ``dashboard`` (Datastar fragments), ``middleware``,
``http_errors`` (the error envelope). ``cli``: ``remora serve``.
"""
