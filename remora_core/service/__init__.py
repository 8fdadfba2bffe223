"""The HTTP + SSE face of the engine and its Datastar dashboard (``remora serve``; doc/api.md).

``handlers`` (framework-agnostic operations over the engine facade), ``models`` (request /
response shapes), ``projector`` (events -> UI state), ``feed`` (one store tailer fanned out
to SSE clients), ``app`` (the FastAPI adapter), ``dashboard`` (Datastar fragments), ``cli``.
"""
