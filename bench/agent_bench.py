"""Agent-turn overhead, model time excluded: hydrate the node (row, source, graph context,
extension), render the prompt, build the tools, dispatch the tool calls (``get_my_callers``,
``read_node``, ``rewrite_self`` with its proposal row). The model is the fake OpenAI server of
the test-suite with zero delay (in its own process), reached through the real ``openai`` client; time spent inside
``chat()`` (HTTP included) is subtracted. Target: p95 <= 15 ms.

    python bench/agent_bench.py [--turns 200] [--cold] [--events | --runner]
      --cold: no parse-tree cache, the file is parsed every turn
      --events: also write the turn's events (AgentStart, ToolCall/ToolResult, RewriteProposal with its
                proposal row, AgentComplete): the issue's definition of the overhead
      --runner: the whole runner path (``AgentService.chat`` + ``wait``: trigger row, claim, activation
                path, every event appended to the log) instead of a bare ``run_turn``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from remora_core.agents.bus import EventBus, EventingProposals, TurnEmitter
from remora_core.agents.context import LocalAgentContext
from remora_core.agents.extensions import discover_extensions
from remora_core.agents.llm import ChatResult, LLMClient
from remora_core.agents.loop import run_turn
from remora_core.agents.node import hydrate_agent
from remora_core.agents.proposals import ProposalStore
from remora_core.config import LLMConfig
from remora_core.events.models import AgentCompleteEvent
from remora_core.store.store import Store
from tests.fake_llm import indexed_project, node_id_of

TARGET_MS = 15.0


def _project_source(functions: int) -> str:
    parts = []
    for index in range(functions):
        callee = f"    value = f{index - 1}(value)\n" if index else ""
        parts.append(f"def f{index}(value):\n{callee}    return value + {index}\n\n\n")
    parts.append("class Service:\n")
    for index in range(20):
        parts.append(f"    def m{index}(self, x):\n        return f{index}(x) * 2\n\n")
    return "".join(parts)


# The fake server runs in its own process so that its threads do not compete for our GIL.
_SERVER = """
import sys, json
sys.path.insert(0, sys.argv[1])
from tests.fake_llm import FakeLLM
turns, reader = int(sys.argv[2]), sys.argv[3]
fake = FakeLLM()
for turn in range(turns):
    fake.add_tool_calls(
        ("get_my_callers", {}),
        ("read_node", {"target_id": reader}),
        ("rewrite_self", {"new_source": "def f100(value):\\n    value = f99(value)\\n    return value + 1000\\n"}),
    )
    fake.add_text("done")
print(fake.base_url, flush=True)
sys.stdin.read()
fake.close()
"""


@contextlib.contextmanager
def _bench_project(turns: int) -> Iterator[tuple[Path, Store, str, str]]:
    """A temp project (a 200-function file), indexed, and the fake model server scripted for
    ``turns`` turns in its own process: yields (root, store, target node id, base URL)."""
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp) / "proj"
        store = indexed_project(
            root, {"app.py": _project_source(200), "other.py": "def g():\n    return 1\n"}
        )
        target = node_id_of(store, "f100")
        reader = node_id_of(store, "f99")
        repo = str(Path(__file__).resolve().parents[1])
        server = subprocess.Popen(
            [sys.executable, "-c", _SERVER, repo, str(turns), reader],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            yield root, store, target, server.stdout.readline().strip() if server.stdout else ""
        finally:
            if server.stdin:
                server.stdin.close()
            server.wait(timeout=10)
            store.close()


async def _bench(turns: int, events: bool = False) -> list[float]:
    overheads: list[float] = []
    with _bench_project(turns) as (root, store, target, base_url):
        registry = discover_extensions(root)
        proposals = ProposalStore(store, root)
        config = LLMConfig(base_url=base_url, model="fake", max_retries=0)
        bus = EventBus(store.connection)
        sink = EventingProposals(proposals, bus) if events else proposals
        async with LLMClient(config) as client:
            for number in range(turns):
                started = time.perf_counter()
                correlation = f"c_bench{number:05d}"
                hydrated = hydrate_agent(root, store, target, registry=registry)
                prompt = hydrated.node.system_prompt()
                context = LocalAgentContext(target, root, store, sink, correlation_id=correlation)
                tools = hydrated.toolset(context)
                emit = TurnEmitter(bus, target, correlation, None) if events else _no_emit
                result = await run_turn(
                    client, prompt, "bench", tools, agent_id=target, correlation_id=correlation, emit=emit
                )
                if events:
                    bus.append(
                        AgentCompleteEvent(agent_id=target, result=result.reply, correlation_id=correlation)
                    )
                total = time.perf_counter() - started
                assert result.reply == "done" and all(call.ok for call in result.tool_calls), (
                    result.tool_calls
                )
                overheads.append((total - result.model_seconds) * 1000)
    return overheads


class _TimedModel:
    """Wraps the model client and adds up the time spent inside ``chat()``."""

    def __init__(self, client: LLMClient) -> None:
        self.client = client
        self.seconds = 0.0

    async def chat(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
    ) -> ChatResult:
        started = time.perf_counter()
        try:
            return await self.client.chat(messages, tools)
        finally:
            self.seconds += time.perf_counter() - started


async def _bench_runner(turns: int) -> list[float]:
    from remora_core.agents.service import AgentService
    from remora_core.config import RemoraConfig

    overheads: list[float] = []
    with _bench_project(turns) as (root, store, target, base_url):
        config = RemoraConfig(llm=LLMConfig(base_url=base_url, model="fake", max_retries=0))
        async with LLMClient(config.llm) as client:
            model = _TimedModel(client)
            service = AgentService(root, config=config, store=store, model=model)
            for _ in range(turns):
                model.seconds = 0.0
                started = time.perf_counter()
                trigger = await service.wait(service.chat(target, "bench"))
                total = time.perf_counter() - started
                assert trigger.status == "done" and trigger.reply == "done", trigger.error
                overheads.append((total - model.seconds) * 1000)
    return overheads


def _no_emit(event_type: str, payload: dict[str, Any]) -> None:
    return


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument(
        "--cold", action="store_true", help="disable the parse-tree cache (every turn parses the file)"
    )
    parser.add_argument(
        "--events",
        action="store_true",
        help="write the turn's events too (AgentStart, ToolCall/ToolResult, RewriteProposal, AgentComplete)",
    )
    parser.add_argument(
        "--runner", action="store_true", help="measure the whole runner path (triggers, activation, events)"
    )
    args = parser.parse_args()
    if args.cold:
        from remora_core.agents import source_edit

        source_edit.TREE_CACHE_SIZE = 0
    overheads = asyncio.run(_bench_runner(args.turns) if args.runner else _bench(args.turns, args.events))
    warm = overheads[5:] or overheads
    ordered = sorted(warm)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    print(
        f"agent-turn overhead{' through the runner' if args.runner else ''}{' with event writes' if args.events else ''} (model time excluded{', cold parse cache' if args.cold else ''}) over {len(warm)} turns: "
        f"p50 {statistics.median(warm):.2f} ms, p95 {p95:.2f} ms, max {ordered[-1]:.2f} ms "
        f"(target p95 <= {TARGET_MS:.0f} ms: {'OK' if p95 <= TARGET_MS else 'MISSED'})"
    )
    return 0 if p95 <= TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
