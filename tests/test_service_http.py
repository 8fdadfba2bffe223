"""``remora serve`` as a real uvicorn subprocess, driven with httpx: routes, auth, limits, CORS, SSE."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from remora_core.store.store import Store
from tests.fake_llm import FakeLLM, indexed_project, node_id_of
from tests.service_helpers import Server, service_config, sse_events, start_server

FILES = {
    "pkg/calc.py": '''
        def add(a, b):
            return a + b


        def twice(x):
            first = add(x, x)
            return first


        def spread(x):
            a = 1
            b = 2
            c = 3
            d = 4
            e = 5
            f = 6
            g = 7
            return a
    ''',
}


def make_project(root: Path, config: str) -> Store:
    store = indexed_project(root, FILES)
    (root / ".remora" / "config.toml").write_text(config, encoding="utf-8")
    return store


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLLM]:
    server = FakeLLM()
    yield server
    server.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, llm: FakeLLM) -> Iterator[tuple[Server, Store]]:
    root = tmp_path_factory.mktemp("served") / "proj"
    store = make_project(root, service_config(llm.base_url))
    server = start_server(root)
    yield server, store
    server.stop()
    store.close()


def test_read_routes_and_error_envelope(served: tuple[Server, Store]) -> None:
    server, store = served
    add = node_id_of(store, "add")
    with server.client(auth=False) as client:
        health = client.get("/v1/health").json()
        assert health["status"] == "ok" and health["runner"]["in_process"] is True
        assert client.get("/v1/files").json() == ["pkg/calc.py"]
        nodes = client.get("/v1/nodes", params={"file": "pkg/calc.py"}).json()
        assert [n["qualname"] for n in nodes] == ["pkg/calc.py", "add", "twice", "spread"]
        detail = client.get(f"/v1/nodes/{add}").json()
        assert detail["source"].startswith("def add(a, b):") and detail["callers"][0]["qualname"] == "twice"
        missing = client.get("/v1/nodes/rm_zzzzzzzz", headers={"X-Request-ID": "abc-1"})
        assert missing.status_code == 404 and missing.headers["X-Request-ID"] == "abc-1"
        assert missing.json() == {
            "error": {"code": "not_found", "message": "no node 'rm_zzzzzzzz' in the index", "status": 404,
                      "request_id": "abc-1", "details": None}
        }
        invalid = client.get("/v1/nodes/x/events", params={"limit": 0})
        assert invalid.status_code == 422 and invalid.json()["error"]["code"] == "invalid"
        config = client.get("/v1/config").json()
        assert config["llm"]["model"] == "fake-model" and config["service"]["port"] == 7777
        assert client.get("/v1/snapshot").json()["proposals"] == {}
        assert client.get("/v1/openapi.json").json()["info"]["title"] == "Remora API"


def test_mutating_routes_need_the_token(served: tuple[Server, Store]) -> None:
    server, store = served
    add = node_id_of(store, "add")
    with server.client(auth=False) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}):
            answer = client.post("/v1/plan", json={}, headers=headers)
            assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer"
            assert answer.json()["error"]["code"] == "unauthorized"
        answer = client.post(f"/v1/nodes/{add}/chat", json={"message": "hi"})
        assert answer.status_code == 401
    with server.client() as client:
        plan = client.post("/v1/plan", json={"target_path": "pkg", "node_type": "function"}).json()
        assert [n["qualname"] for n in plan["nodes"]] == ["add", "twice", "spread"]
        assert client.post("/v1/plan", json={"target_path": "../etc"}).status_code == 400
        assert client.post("/v1/plan", json={"bogus": 1}).status_code == 422


def _read_until(response: httpx.Response, count: int, into: list[dict[str, object]]) -> None:
    for event in sse_events(response.iter_lines()):
        into.append(json.loads(event["data"]) | {"sse_id": event.get("id")})
        if len(into) >= count:
            return


def test_chat_proposal_approve_with_request_ids(served: tuple[Server, Store], llm: FakeLLM) -> None:
    server, store = served
    add = node_id_of(store, "add")
    llm.add_tool_calls(("rewrite_self", {"new_source": "def add(a: int, b: int) -> int:\n    return a + b\n"}))
    llm.add_text("added hints")
    with server.client() as client:
        start = client.get("/v1/health").json()["last_seq"]
        seen: list[dict[str, object]] = []
        with client.stream("GET", "/v1/events", params={"node": add, "after": start}) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            chat = client.post(f"/v1/nodes/{add}/chat", json={"message": "add type hints"},
                               headers={"X-Request-ID": "chat-42"})
            assert chat.status_code == 202, chat.text
            assert chat.json()["request_id"] == "chat-42"
            reader = threading.Thread(target=_read_until, args=(response, 6, seen))
            reader.start()
            reader.join(60)
        kinds = [e["event_type"] for e in seen]
        assert kinds[0] == "HumanChat" and "RewriteProposal" in kinds, kinds
        assert all(e["request_id"] == "chat-42" for e in seen)
        assert all(str(e["seq"]) == e["sse_id"] and e["kind"] for e in seen)
        (proposal,) = client.get("/v1/proposals").json()
        assert proposal["node_id"] == add and len(proposal["hunks"]) == 1
        done = client.post(f"/v1/proposals/{proposal['id']}/approve", headers={"X-Request-ID": "ok-1"}).json()
        assert done["applied"] is True and done["status"] == "applied"
        assert "def add(a: int, b: int) -> int:" in (server.root / "pkg/calc.py").read_text()
        again = client.post(f"/v1/proposals/{proposal['id']}/approve").json()
        assert again["applied"] is False and again["status"] == "applied"
        events = client.get(f"/v1/nodes/{add}/events", params={"after": start}).json()["events"]
        applied = [e for e in events if e["event_type"] == "RewriteApplied"]
        assert applied and applied[0]["request_id"] == "ok-1"
        assert client.post("/v1/proposals/p_nope/approve").status_code == 404
        rejected = client.post(f"/v1/proposals/{proposal['id']}/reject", json={"feedback": ""})
        assert rejected.status_code == 409 and rejected.json()["error"]["code"] == "conflict"


def test_approve_only_some_hunks(served: tuple[Server, Store], llm: FakeLLM) -> None:
    server, store = served
    spread = node_id_of(store, "spread")
    before = (server.root / "pkg/calc.py").read_text()
    old = next(line for line in before.splitlines() if line.startswith("def spread(x):"))
    new_source = (old.replace("def spread(x):", "def spread(x: int) -> int:") + "\n"
                  + "".join(f"    {v} = {i + 1}\n" for i, v in enumerate("abcdefg")) + "    return g\n")
    llm.add_tool_calls(("rewrite_self", {"new_source": new_source}))
    llm.add_text("done")
    with server.client() as client:
        chat = client.post(f"/v1/nodes/{spread}/chat", json={"message": "hints, and return g"})
        assert chat.status_code == 202
        deadline = time.monotonic() + 60
        while not (pending := client.get("/v1/proposals").json()) and time.monotonic() < deadline:
            time.sleep(0.2)
        (proposal,) = pending
        assert len(proposal["hunks"]) == 2
        done = client.post(f"/v1/proposals/{proposal['id']}/approve", json={"hunks": [1]}).json()
        assert done["applied"] is True, done
    after = (server.root / "pkg/calc.py").read_text()
    assert "    return g\n" in after and "def spread(x):" in after  # the second hunk only


def test_sse_resume_across_a_dropped_connection_while_another_process_writes(served: tuple[Server, Store]) -> None:
    server, _ = served
    total = 120
    with server.client() as client:
        start = client.get("/v1/health").json()["last_seq"]
        script = (
            "import sys, time\nfrom pathlib import Path\nfrom remora_core.store.store import Store\n"
            "from remora_core.events.store import EventLog\nfrom remora_core.events.models import HubStartedEvent\n"
            "store = Store.open(Path(sys.argv[1]), create=False)\nlog = EventLog(store.connection)\n"
            f"for i in range({total}):\n    log.append(HubStartedEvent(pid=i, root='x', mode='once'))\n"
            "    time.sleep(0.01)\n"
        )
        writer = subprocess.Popen([sys.executable, "-c", script, str(server.root)])
        try:
            got: list[int] = []
            last_id = str(start)
            for _attempt in range(50):  # read a few, drop the connection, resume from Last-Event-ID
                with client.stream("GET", "/v1/events", headers={"Last-Event-ID": last_id}) as response:
                    for event in sse_events(response.iter_lines()):
                        got.append(int(event["id"]))
                        last_id = event["id"]
                        if len(got) % 17 == 0 or len(got) >= total:
                            break
                if len(got) >= total:
                    break
        finally:
            writer.wait(60)
    assert got == list(range(start + 1, start + total + 1))  # no gap, no duplicate


def test_per_client_rate_limit_and_max_active_turns(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    store = make_project(root, service_config(rate_limit=0.5, rate_burst=4, max_active_turns=1))
    add = node_id_of(store, "add")
    server = start_server(root, "--no-agents")
    try:
        time.sleep(2.5)  # the health polls of start_server took tokens: let the bucket refill one
        with server.client() as client:
            assert client.post(f"/v1/nodes/{add}/chat", json={"message": "one"}).status_code == 202
            busy = client.post(f"/v1/nodes/{add}/chat", json={"message": "two"})
            assert busy.status_code == 429 and busy.json()["error"]["code"] == "too_busy"
            assert int(busy.headers["Retry-After"]) >= 1
            codes = [client.get("/v1/health").status_code for _ in range(6)]
            assert 429 in codes
            limited = client.get("/v1/health")
            assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
            assert limited.json()["error"]["code"] == "rate_limited"
    finally:
        server.stop()
        store.close()


def test_cors_allow_list_and_off_by_default(tmp_path: Path, served: tuple[Server, Store]) -> None:
    default, _ = served
    preflight = {"Origin": "http://ui.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type"}
    with default.client(auth=False) as client:
        answer = client.get("/v1/health", headers={"Origin": "http://ui.example"})
        assert "access-control-allow-origin" not in answer.headers
    root = tmp_path / "proj"
    store = make_project(root, service_config(cors_origins=["http://ui.example"]))
    server = start_server(root, "--no-agents")
    try:
        with server.client(auth=False) as client:
            ok = client.options("/v1/plan", headers=preflight)
            assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "http://ui.example"
            other = client.options("/v1/plan", headers=preflight | {"Origin": "http://evil.example"})
            assert other.headers.get("access-control-allow-origin") is None
            simple = client.get("/v1/health", headers={"Origin": "http://ui.example"})
            assert simple.headers["access-control-allow-origin"] == "http://ui.example"
    finally:
        server.stop()
        store.close()


def test_other_binds_need_the_token_for_every_route(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    store = make_project(root, service_config())
    server = start_server(root, "--no-agents", host="0.0.0.0")
    try:
        with server.client(auth=False) as client:
            assert client.get("/v1/health").status_code == 401
            assert client.get("/").status_code == 200  # the page itself holds no data
        with server.client() as client:
            assert client.get("/v1/health").status_code == 200
    finally:
        output = server.stop()
        store.close()
    assert "every route" in output


def test_a_client_that_stops_reading_is_told_to_resync_and_resumes_without_gap(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    store = make_project(root, service_config(sse_queue=10))
    server = start_server(root, "--no-agents")
    total = 400  # 20 KB each: 8 MB, far beyond the socket buffers and the 10-event queue
    try:
        with server.client() as client:
            start = client.get("/v1/health").json()["last_seq"]
        stalled = socket.create_connection(("127.0.0.1", server.port))
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.sendall(f"GET /v1/events?after={start} HTTP/1.0\r\nHost: t\r\n\r\n".encode())
        script = (
            "import sys\nfrom pathlib import Path\nfrom remora_core.store.store import Store\n"
            "from remora_core.events.store import EventLog\nfrom remora_core.events.models import AgentErrorEvent\n"
            "store = Store.open(Path(sys.argv[1]), create=False)\nlog = EventLog(store.connection)\n"
            f"for i in range({total}):\n    log.append(AgentErrorEvent(agent_id='rm_x', error='e' * 20000))\n"
        )
        subprocess.run([sys.executable, "-c", script, str(root)], check=True, timeout=120)
        with stalled.makefile("rb") as raw:  # now read it all: the head, events, the resync, the end
            while raw.readline() not in (b"\r\n", b""):
                pass
            got: list[int] = []
            resync = None
            for event in sse_events(line.decode().rstrip("\n") for line in raw):
                if event.get("event") == "resync":
                    resync = json.loads(event["data"])
                    break
                got.append(int(event["id"]))
        stalled.close()
        assert resync is not None and resync["last_id"] == (got[-1] if got else start)
        assert len(got) < total
        with server.client() as client, client.stream(
            "GET", "/v1/events", headers={"Last-Event-ID": str(resync["last_id"])}, params={"live": "false"}
        ) as response:
            got.extend(int(event["id"]) for event in sse_events(response.iter_lines()))
        assert got == list(range(start + 1, start + total + 1))
    finally:
        server.stop()
        store.close()


def test_serve_prints_the_token_only_when_it_creates_it(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    make_project(root, service_config()).close()
    outputs = []
    for _ in range(2):
        process = subprocess.Popen(
            [sys.executable, "-m", "remora_core.cli", "serve", str(root), "--port", "0", "--no-agents"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "remora: serving" in line:
                break
        process.terminate()
        process.wait(30)
        outputs.append("".join(lines))
    token = (root / ".remora" / "service.token").read_text().strip()
    assert token in outputs[0] and "printed once" in outputs[0]
    assert token not in outputs[1] and "remora: serving" in outputs[1]
