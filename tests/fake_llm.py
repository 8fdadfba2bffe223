"""A scriptable OpenAI-compatible model server for tests (stdlib ``http.server`` in a thread).

Tests start it on 127.0.0.1 (port 0), queue the responses it must give, point the real
``openai`` client at ``fake.base_url`` and afterwards assert on ``fake.requests`` (every
request body, in order). Each queued response is one of: tool calls (name + JSON
arguments), a plain text answer, an HTTP error, or tool calls with malformed JSON
arguments, a tool call written only as text in one of the formats small models use
(``TEXT_FORMS``), or a raw body (not JSON, ``"message": null``); each may carry a delay.
``/v1/chat/completions`` answers both non-streaming and streaming (SSE chunks with tool-call
deltas) requests; ``/v1/models`` lists ``model_ids``. ``refuse_tool_choice`` / ``refuse_tools``
make it answer 400 like a server without those features.

Import the fixture explicitly: ``from tests.fake_llm import fake_llm_fixture`` (it is named ``fake_llm``).
"""

from __future__ import annotations

import json
import textwrap
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from remora_core.config import IndexConfig
from remora_core.index.indexer import Indexer
from remora_core.store.store import Store

FAKE_MODEL = "fake-model"
TOOLS_NOT_SUPPORTED = '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'


@dataclass(slots=True)
class ScriptedCall:
    """One tool call the fake model makes. ``raw_arguments`` wins over ``arguments`` (malformed JSON)."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    raw_arguments: str | None = None

    def argument_text(self) -> str:
        return self.raw_arguments if self.raw_arguments is not None else json.dumps(self.arguments)


@dataclass(slots=True)
class ScriptedResponse:
    text: str | None = None
    calls: list[ScriptedCall] = field(default_factory=list)
    status: int = 200
    error_message: str = ""
    delay: float = 0.0
    raw_body: bytes | None = None  # sent as is (a reply that is not JSON, "message": null, ...)


TextForm = str  # one of TEXT_FORMS
TEXT_FORMS: tuple[str, ...] = (
    "tool_call_tag",  # <tool_call>{"name", "arguments"}</tool_call> (Qwen's documented format)
    "json_fence",  # ```json {"name", "arguments": {...}} ```
    "json_bare",  # a bare line {"name", "arguments": {...}}
    "json_string_args",  # {"name", "arguments": "<the object as a JSON string>"}
    "functions_prefix",  # functions.NAME: {...} (llama-cpp-python's chatml-function-calling)
)


def text_call(name: str, arguments: dict[str, Any], form: TextForm) -> str:
    """A tool call written as text the way small models write it (see ``TEXT_FORMS``)."""
    if form == "tool_call_tag":
        return f"<tool_call>\n{json.dumps({'name': name, 'arguments': arguments})}\n</tool_call>"
    if form == "json_fence":
        return f"```json\n{json.dumps({'name': name, 'arguments': arguments}, indent=2)}\n```"
    if form == "json_bare":
        return json.dumps({"name": name, "arguments": arguments})
    if form == "json_string_args":
        return json.dumps({"name": name, "arguments": json.dumps(arguments)})
    if form == "functions_prefix":
        return f"functions.{name}:\n{json.dumps(arguments)}"
    raise ValueError(f"unknown text form {form!r}")


@dataclass(slots=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: dict[str, Any]


class FakeLLM:
    """The server. Thread-safe: handlers run in their own threads."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._queue: deque[ScriptedResponse] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.requests: list[RecordedRequest] = []
        self.default_text: str | None = None  # answer when the queue is empty (None: HTTP 400)
        self.model_ids: list[str] = [FAKE_MODEL]  # what /v1/models lists
        self.refuse_tool_choice: set[str] = set()  # "required" / "named": answered with HTTP 400
        self.refuse_tools = False  # every request with tools gets vLLM's "no tool parser" 400
        self._counter = 0
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="fake-llm", daemon=True
        )
        self._thread.start()

    # -- scripting -------------------------------------------------------------------
    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def push(self, response: ScriptedResponse) -> None:
        with self._lock:
            self._queue.append(response)

    def add_text(self, text: str, *, delay: float = 0.0) -> None:
        self.push(ScriptedResponse(text=text, delay=delay))

    def add_tool_calls(
        self, *calls: tuple[str, dict[str, Any]], delay: float = 0.0, text: str | None = None
    ) -> None:
        self.push(
            ScriptedResponse(text=text, calls=[ScriptedCall(name, args) for name, args in calls], delay=delay)
        )

    def add_malformed_tool_call(
        self, name: str, raw_arguments: str = '{"new_source": "def f(:', *, delay: float = 0.0
    ) -> None:
        self.push(ScriptedResponse(calls=[ScriptedCall(name, raw_arguments=raw_arguments)], delay=delay))

    def add_text_call(self, name: str, arguments: dict[str, Any], form: TextForm, *, prefix: str = "") -> None:
        """A reply whose tool call is only in the text (no ``tool_calls``), in ``form``."""
        self.push(ScriptedResponse(text=prefix + text_call(name, arguments, form)))

    def add_raw(self, body: bytes | str, *, status: int = 200) -> None:
        """A reply whose body is sent as is (``application/json`` header, any content)."""
        raw = body.encode("utf-8") if isinstance(body, str) else body
        self.push(ScriptedResponse(status=status, raw_body=raw))

    def add_error(self, status: int, message: str = "fake error", *, delay: float = 0.0) -> None:
        self.push(ScriptedResponse(status=status, error_message=message, delay=delay))

    def add_tools_not_supported(self) -> None:
        self.add_error(400, TOOLS_NOT_SUPPORTED)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def chat_requests(self) -> list[dict[str, Any]]:
        """Bodies of the chat-completion requests received, in order."""
        return [r.body for r in self.requests if r.path.endswith("/chat/completions")]

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- serving (handler threads) ---------------------------------------------------
    def _next(self) -> ScriptedResponse:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self.default_text is not None:
            return ScriptedResponse(text=self.default_text)
        return ScriptedResponse(status=400, error_message="fake_llm: no scripted response left")

    def _wait(self, delay: float) -> None:
        if delay > 0:
            self._closing.wait(delay)

    def _new_id(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}-{self._counter}"


def _headers(handler: BaseHTTPRequestHandler) -> dict[str, str]:
    """Request headers with lower-case names."""
    return {name.lower(): value for name, value in handler.headers.items()}


def _error_body(status: int, message: str) -> dict[str, Any]:
    kind = (
        "rate_limit_error" if status == 429 else "invalid_request_error" if status < 500 else "server_error"
    )
    return {"error": {"message": message, "type": kind, "param": None, "code": status}}


def _make_handler(fake: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _raw(self, status: int, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            fake.requests.append(RecordedRequest("GET", self.path, _headers(self), {}))
            if self.path.rstrip("/").endswith("/v1/models"):
                models = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in fake.model_ids]
                self._json(200, {"object": "list", "data": models})
            else:
                self._json(404, _error_body(404, f"no route {self.path!r}"))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            try:
                body = json.loads(raw)
            except json.JSONDecodeError:
                body = {"_raw": raw.decode("utf-8", "replace")}
            fake.requests.append(RecordedRequest("POST", self.path, _headers(self), body))
            if self.path.rstrip("/").endswith("/embeddings"):
                self._json(200, _embeddings(body))
                return
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._json(404, _error_body(404, f"no route {self.path!r}"))
                return
            refused = _refusal(fake, body)
            if refused is not None:
                self._json(400, _error_body(400, refused))
                return
            scripted = fake._next()
            fake._wait(scripted.delay)
            if fake._closing.is_set():
                return
            try:
                if scripted.raw_body is not None:
                    self._raw(scripted.status, scripted.raw_body)
                elif scripted.status != 200:
                    self._json(scripted.status, _error_body(scripted.status, scripted.error_message))
                elif body.get("stream"):
                    self._stream(body, scripted)
                else:
                    self._json(200, _completion(body, scripted, fake._new_id("chatcmpl")))
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client went away (a cancelled request)

        def _stream(self, body: dict[str, Any], scripted: ScriptedResponse) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            completion_id = fake._new_id("chatcmpl")
            for delta, finish in _deltas(scripted):
                chunk = {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": body.get("model", FAKE_MODEL),
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                }
                self.wfile.write(b"data: " + json.dumps(chunk).encode("utf-8") + b"\n\n")
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

    return Handler


def _embeddings(body: dict[str, Any]) -> dict[str, Any]:
    """Deterministic ``/v1/embeddings``: a 64-dimension bag of word hashes per input."""
    inputs = body.get("input") or []
    if isinstance(inputs, str):
        inputs = [inputs]
    data = []
    for index, text in enumerate(inputs):
        vector = [0.0] * 64
        for word in str(text).replace("(", " ").replace(")", " ").split():
            vector[zlib.crc32(word.encode("utf-8")) % 64] += 1.0
        data.append({"object": "embedding", "index": index, "embedding": vector})
    usage = {"prompt_tokens": 0, "total_tokens": 0}
    return {"object": "list", "data": data, "model": body.get("model", FAKE_MODEL), "usage": usage}


def _refusal(fake: FakeLLM, body: dict[str, Any]) -> str | None:
    """The 400 message a real server gives this request, or None (see ``refuse_*``)."""
    if not body.get("tools"):
        return None
    if fake.refuse_tools:
        return TOOLS_NOT_SUPPORTED
    choice = body.get("tool_choice", "auto")
    kind = "named" if isinstance(choice, dict) else str(choice)
    if kind in fake.refuse_tool_choice:
        return f"tool_choice {kind!r} is not supported by this server"
    return None


def _completion(body: dict[str, Any], scripted: ScriptedResponse, completion_id: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": scripted.text}
    finish = "stop"
    if scripted.calls:
        finish = "tool_calls"
        message["tool_calls"] = [
            {
                "id": f"call_{index}",
                "type": "function",
                "function": {"name": call.name, "arguments": call.argument_text()},
            }
            for index, call in enumerate(scripted.calls)
        ]
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", FAKE_MODEL),
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def _deltas(scripted: ScriptedResponse) -> Iterator[tuple[dict[str, Any], str | None]]:
    yield {"role": "assistant", "content": ""}, None
    text = scripted.text or ""
    for start in range(0, len(text), 8):
        yield {"content": text[start : start + 8]}, None
    for index, call in enumerate(scripted.calls):
        arguments = call.argument_text()
        half = len(arguments) // 2
        yield (
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": f"call_{index}",
                        "type": "function",
                        "function": {"name": call.name, "arguments": ""},
                    }
                ]
            },
            None,
        )
        for part in (arguments[:half], arguments[half:]):
            yield {"tool_calls": [{"index": index, "function": {"arguments": part}}]}, None
    yield {}, "tool_calls" if scripted.calls else "stop"


@pytest.fixture(name="fake_llm")
def fake_llm_fixture() -> Iterator[FakeLLM]:
    """A running fake model server; shut down after the test."""
    server = FakeLLM()
    try:
        yield server
    finally:
        server.close()


def indexed_project(root: Path, files: dict[str, str]) -> Store:
    """Write ``files`` (dedented) under ``root``, index them (anchors are written) and return the open store."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    store = Store.open(root)
    Indexer(root, store, IndexConfig()).index()
    return store


def node_id_of(store: Store, qualname: str) -> str:
    rows = [row for row in store.find_nodes(qualname) if row.qualname == qualname or row.node_type == "file"]
    assert rows, f"no node {qualname!r}"
    return rows[0].id
