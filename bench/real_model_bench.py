"""Figures with a real (small, CPU) model behind an OpenAI-compatible server (issue #12 item 9).

    python bench/real_model_bench.py --base-url http://127.0.0.1:8765/v1 --model MODEL_ID [--runs 10]

(``scripts/local_model.sh serve`` starts one.) Two experiments, each on a fresh copy of a
two-function project per run (``total`` calls ``add_tax``), through the engine facade exactly as
``remora chat ... --wait`` runs it:

- **type hints**: ``total`` is asked "add type hints". A run succeeds when a proposal was made,
  its new source parses, it applies (``approve``), the file parses afterwards with ``total``'s
  anchor on its def line, and ``total`` has at least one more annotation than before.
- **message_node**: ``total`` is asked to ask ``add_tax`` (named by id) to validate its input.
  A run succeeds when an ``AgentMessage`` from ``total`` to ``add_tax`` carries a request
  (``add_tax``'s nested turn ran).

Prints one line per run and a table (successes, median / max turn time, prompt tokens of the
first round, how calls arrived: server-parsed, recovered from text, code-block fallback).
Assert structure (valid, applied, anchors), not taste.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import os
import statistics
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from remora_core.agents.service import AgentService
from remora_core.config import AgentsConfig, IndexConfig, LLMConfig, RemoraConfig
from remora_core.events.models import AgentMessageEvent, ModelResponseEvent
from remora_core.index.indexer import Indexer
from remora_core.store.store import Store

SHOP = textwrap.dedent(
    """\
    def total(prices, tax):
        subtotal = sum(prices)
        return add_tax(subtotal, tax)


    def add_tax(amount, tax):
        return amount * (1 + tax)
    """
)


@dataclass(slots=True)
class Run:
    ok: bool
    seconds: float
    detail: str
    prompt_tokens: int = 0
    how: list[str] = field(default_factory=list)


def annotations(source: str, name: str) -> int:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
            return sum(a.annotation is not None for a in args) + (node.returns is not None)
    return -1


def project(base: Path, config: RemoraConfig) -> tuple[Path, dict[str, str]]:
    root = Path(tempfile.mkdtemp(prefix="remora-real-", dir=base))
    (root / "shop.py").write_text(SHOP, encoding="utf-8")
    store = Store.open(root)
    try:
        Indexer(root, store, config.index).index()
        ids = {row.qualname: row.id for row in store.find_nodes("total") + store.find_nodes("add_tax")}
    finally:
        store.close()
    return root, ids


def how_calls_came(service: AgentService, correlation: str) -> tuple[int, list[str]]:
    rounds = [e for e in service.events(correlation_id=correlation) if isinstance(e, ModelResponseEvent)]
    how: list[str] = []
    for event in rounds:
        how += ["native"] * len(event.tool_calls)
        how += [f"text:{r.get('form')}" for r in event.recovered]
        how += ["fallback"] if event.fallback else []
    first = rounds[0].usage.get("prompt_tokens", 0) if rounds else 0
    return first, how


async def type_hints_run(base: Path, config: RemoraConfig) -> Run:
    root, ids = project(base, config)
    total = ids["total"]
    before = annotations(SHOP, "total")
    service = AgentService(root, config=config)
    try:
        started = time.perf_counter()
        correlation = service.chat(total, "add type hints")
        trigger = await service.wait(correlation)
        seconds = time.perf_counter() - started
        tokens, how = how_calls_came(service, correlation)
        proposals = [p for p in service.proposals() if p.node_id == total]
        if trigger.status != "done" or not proposals:
            return Run(False, seconds, f"no proposal ({trigger.status}: {(trigger.error or trigger.reply or '')[:80]!r})", tokens, how)
        proposal = proposals[-1]
        try:
            ast.parse(textwrap.dedent(proposal.new_source))
        except SyntaxError as error:
            return Run(False, seconds, f"proposal does not parse: {error.msg}", tokens, how)
        result = service.approve(proposal.id)
        if not result.applied:
            return Run(False, seconds, f"not applied: {result.message}", tokens, how)
        text = (root / "shop.py").read_text(encoding="utf-8")
        ast.parse(text)
        def_line = next(line for line in text.splitlines() if line.startswith("def total"))
        if not def_line.rstrip().endswith(f"# {total}"):
            return Run(False, seconds, "anchor lost", tokens, how)
        after = annotations(text, "total")
        if after <= before:
            return Run(False, seconds, "applied but no annotation added", tokens, how)
        return Run(True, seconds, def_line.split("#")[0].strip(), tokens, how)
    finally:
        await service.aclose()


async def message_run(base: Path, config: RemoraConfig) -> Run:
    root, ids = project(base, config)
    total, add_tax = ids["total"], ids["add_tax"]
    service = AgentService(root, config=config)
    try:
        started = time.perf_counter()
        request = f"Ask {add_tax} (add_tax) to validate that tax is not negative."
        correlation = service.chat(total, request)
        trigger = await service.wait(correlation)
        seconds = time.perf_counter() - started
        tokens, how = how_calls_came(service, correlation)
        sent = [
            e
            for e in service.events(correlation_id=correlation)
            if isinstance(e, AgentMessageEvent) and e.from_agent == total and e.to_agent == add_tax and e.message.strip()
        ]
        if not sent:
            return Run(False, seconds, f"no message to add_tax ({trigger.status}: {(trigger.error or trigger.reply or '')[:80]!r})", tokens, how)
        return Run(True, seconds, f"request: {sent[0].message[:70]!r}", tokens, how)
    finally:
        await service.aclose()


def table(name: str, runs: list[Run]) -> str:
    ok = sum(run.ok for run in runs)
    times = [run.seconds for run in runs]
    hows: dict[str, int] = {}
    for run in runs:
        for item in run.how:
            hows[item] = hows.get(item, 0) + 1
    tokens = [run.prompt_tokens for run in runs if run.prompt_tokens]
    return (
        f"| {name} | {ok}/{len(runs)} | {statistics.median(times):.1f} s | {max(times):.1f} s | "
        f"{statistics.median(tokens) if tokens else '-'} | {json.dumps(hows)} |"
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8765/v1")
    parser.add_argument("--model", required=True)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--tool-choice", default="code_block", choices=["auto", "required", "per_step", "code_block"])
    parser.add_argument("--prompt", default="compact", choices=["compact", "full"])
    parser.add_argument("--only", choices=["hints", "message"], default=None)
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--max-rounds", type=int, default=4, help="[llm] max_tool_rounds")
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--check", action="store_true", help="exit 1 below 7/10 hints or 5/10 messages (scaled)")
    args = parser.parse_args()
    config = RemoraConfig(
        index=IndexConfig(),
        llm=LLMConfig(
            base_url=args.base_url,
            model=args.model,
            tool_choice=args.tool_choice,
            max_tokens=args.max_tokens,
            temperature=args.temperature,
            timeout=600.0,
            max_tool_rounds=args.max_rounds,
        ),
        agents=AgentsConfig(turn_timeout=1200.0, prompt=args.prompt),
    )
    results: dict[str, list[Run]] = {}
    with tempfile.TemporaryDirectory(prefix="remora-real-bench-") as tmp:
        base = Path(tmp)
        for name, experiment in (("add type hints", type_hints_run), ("message_node reaches the callee", message_run)):
            if args.only and (args.only == "hints") != (name == "add type hints"):
                continue
            runs: list[Run] = []
            for number in range(1, args.runs + 1):
                run = await experiment(base, config)
                runs.append(run)
                print(f"{name} #{number}: {'ok ' if run.ok else 'NO '} {run.seconds:6.1f} s  {run.how}  {run.detail}", flush=True)
            results[name] = runs
    load = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\nmodel {args.model!r}, tool_choice {args.tool_choice}, prompt {args.prompt}, "
          f"temperature {args.temperature}, load average (1/5/15 min) at the end {load}")
    print("| Experiment | Successes | Median turn | Max turn | Prompt tokens (1st round) | How calls came |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, runs in results.items():
        print(table(name, runs))
    needed = {"add type hints": 0.7, "message_node reaches the callee": 0.5}
    short = [name for name, runs in results.items() if sum(r.ok for r in runs) < needed[name] * len(runs)]
    if args.check and short:
        print(f"below the bar: {', '.join(short)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
