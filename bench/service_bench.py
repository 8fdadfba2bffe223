"""SSE fan-out benchmark of ``remora serve``: delivery latency, loss, a never-reading client, RSS.

    python bench/service_bench.py [--clients 100] [--events 1000] [--rate 500] [--workers 4]

A real server (uvicorn subprocess, ``--no-agents``) on a small indexed project. ``--clients``
SSE clients (``GET /v1/events``, spread over ``--workers`` processes, raw asyncio sockets so
the clients cost little CPU) each must receive every one of ``--events`` events that another
process appends at ``--rate`` per second. Latency = receive time - the event's ``timestamp``
(set by the writer before its commit). Rounds:

  A. the clients alone;
  B. the same plus one client that connects and never reads a byte;
  C. A again (RSS after A, B and C must stay flat: the slow client's memory is bounded).

Targets (issue #14): p95 <= 50 ms, no loss, B's p95 <= A's p95 * 1.10 (+ noise floor), RSS flat.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.service_helpers import Server, service_config, start_server

FIELDS = re.compile(rb'\{"seq":(\d+),.*?"timestamp":([0-9.eE+-]+)')
WRITER = """
import sys, time
from pathlib import Path
from remora_core.events.models import AgentErrorEvent
from remora_core.events.store import EventLog
from remora_core.store.store import Store
store = Store.open(Path(sys.argv[1]), create=False)
log = EventLog(store.connection)
count, pause = int(sys.argv[2]), 1.0 / float(sys.argv[3])
for i in range(count):
    log.append(AgentErrorEvent(agent_id="rm_bench00", error="x" * 120))
    time.sleep(pause)
"""


async def _client(port: int, after: int, count: int, ready: asyncio.Event, latencies: list[float]) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /v1/events?after={after} HTTP/1.0\r\nHost: bench\r\n\r\n".encode())
    await writer.drain()
    await reader.readuntil(b"\r\n\r\n")  # response head
    await reader.readuntil(b"\n\n")  # retry: 1000
    ready.set()
    got, last = 0, after
    buffer = b""
    while got < count:
        chunk = await reader.read(65536)
        if not chunk:
            break
        now = time.time()
        buffer += chunk
        *messages, buffer = buffer.split(b"\n\n")
        for message in messages:
            for line in message.split(b"\n"):
                if line.startswith(b"data: "):
                    match = FIELDS.match(line, 6)  # cheaper than json.loads: clients share the CPU
                    if match is None:
                        raise AssertionError(f"not an event envelope: {line[:100]!r}")
                    seq = int(match.group(1))
                    if seq != last + 1:
                        raise AssertionError(f"gap or duplicate: {last} then {seq}")
                    last = seq
                    latencies.append(now - float(match.group(2)))
                    got += 1
    writer.close()
    return got


def _worker(port: int, after: int, count: int, clients: int, connected: object, go: object, out: object) -> None:
    async def main() -> tuple[list[float], list[int]]:
        latencies: list[float] = []
        readies = [asyncio.Event() for _ in range(clients)]
        tasks = [asyncio.create_task(_client(port, after, count, r, latencies)) for r in readies]
        for ready in readies:
            await ready.wait()
        connected.set()  # type: ignore[attr-defined]
        got = await asyncio.gather(*tasks)
        return latencies, list(got)

    latencies, got = asyncio.run(main())
    out.send((latencies, got))  # type: ignore[attr-defined]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def last_seq(server: Server) -> int:
    with server.client() as client:
        return int(client.get("/v1/health").json()["last_seq"])


def one_round(server: Server, args: argparse.Namespace, *, slow: bool) -> dict[str, float]:
    after = last_seq(server)
    stalled = None
    if slow:  # connects, asks for the stream, never reads
        stalled = socket.create_connection(("127.0.0.1", server.port))
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.sendall(f"GET /v1/events?after={after} HTTP/1.0\r\nHost: slow\r\n\r\n".encode())
    context = multiprocessing.get_context("fork")
    per = [args.clients // args.workers + (1 if i < args.clients % args.workers else 0) for i in range(args.workers)]
    pipes, procs, flags = [], [], []
    for clients in per:
        connected = context.Event()
        receive, send = context.Pipe(duplex=False)
        proc = context.Process(target=_worker, args=(server.port, after, args.events, clients, connected, None, send))
        proc.start()
        pipes.append(receive)
        procs.append(proc)
        flags.append(connected)
    for flag in flags:
        flag.wait(120)
    time.sleep(0.5)
    started = time.monotonic()
    cpu_before = cpu_seconds(server.process.pid)
    subprocess.run([sys.executable, "-c", WRITER, str(server.root), str(args.events), str(args.rate)], check=True)
    latencies: list[float] = []
    received: list[int] = []
    for pipe in pipes:
        lat, got = pipe.recv()
        latencies.extend(lat)
        received.extend(got)
    for proc in procs:
        proc.join(60)
    seconds = time.monotonic() - started
    cpu = cpu_seconds(server.process.pid) - cpu_before
    if stalled is not None:
        stalled.close()
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    return {
        "p50": p(0.50), "p95": p(0.95), "p99": p(0.99), "max": latencies[-1] * 1000 if latencies else 0.0,
        "mean": statistics.fmean(latencies) * 1000 if latencies else 0.0,
        "lost": float(args.clients * args.events - sum(received)), "seconds": seconds,
        "cpu_us": cpu * 1e6 / max(1, sum(received)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=500.0, help="events per second written")
    parser.add_argument("--workers", type=int, default=4, help="client processes")
    args = parser.parse_args()
    from tests.fake_llm import indexed_project

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "proj"
        indexed_project(root, {"m.py": "def f():\n    return 1\n"}).close()
        (root / ".remora" / "config.toml").write_text(
            service_config(rate_limit=100_000.0, rate_burst=100_000), encoding="utf-8"
        )
        server = start_server(root, "--no-agents")
        try:
            rss = [rss_kib(server.process.pid)]
            rounds = {}
            for name, slow in (("A", False), ("B (+1 never-reading client)", True), ("C", False)):
                rounds[name] = one_round(server, args, slow=slow)
                rss.append(rss_kib(server.process.pid))
        finally:
            server.stop()
    print(f"{args.clients} SSE clients x {args.events} events written at {args.rate:.0f}/s by another process "
          f"({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")
    for name, r in rounds.items():
        print(f"  round {name}: p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, p99 {r['p99']:.1f} ms, "
              f"max {r['max']:.0f} ms, lost {int(r['lost'])}, {r['seconds']:.1f} s, "
              f"server CPU {r['cpu_us']:.0f} us per delivery")
    print(f"  server RSS (MiB): start {rss[0] / 1024:.1f}, after A {rss[1] / 1024:.1f}, "
          f"after B {rss[2] / 1024:.1f}, after C {rss[3] / 1024:.1f}")
    a, b = rounds["A"]["p95"], rounds["B (+1 never-reading client)"]["p95"]
    print(f"  slow client effect on p95: {100 * (b - a) / a:+.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
