"""Prompt size before / after the compact prompt (issue #12 item 4), with the scripted server.

    python bench/prompt_bench.py [--count-with http://127.0.0.1:8765/v1 --model MODEL_ID]

For ``[agents] prompt = "full"`` (every tool, whole docstrings: the prompt as it was, minus the
anchor padding) and ``"compact"``, and for an edit request ("add type hints") and a question,
the first request the scripted server receives is measured: characters of the system prompt, of
the tool schemas, and the whole body. ``--count-with`` sends each recorded request to a real
server with ``max_tokens = 1`` and reports its ``usage.prompt_tokens`` (exact for that model);
without it tokens are estimated at 4 characters each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from remora_core.agents.service import AgentService
from remora_core.config import AgentsConfig, LLMConfig, RemoraConfig
from tests.fake_llm import FakeLLM, indexed_project, node_id_of

CODE = {
    "shop.py": """
        def total(prices, tax):
            subtotal = sum(prices)
            return add_tax(subtotal, tax)


        def add_tax(amount, tax):
            return amount * (1 + tax)
        """,
}
REQUESTS = {"edit": "add type hints", "question": "what do you compute?"}


def first_request(prompt: str, request: str) -> dict[str, Any]:
    fake = FakeLLM()
    fake.default_text = "ok"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            store = indexed_project(root, CODE)
            total = node_id_of(store, "total")
            config = RemoraConfig(
                llm=LLMConfig(base_url=fake.base_url, model="fake-model", max_retries=0),
                agents=AgentsConfig(prompt=prompt),  # type: ignore[arg-type]
            )
            service = AgentService(root, config=config, store=store)

            async def turn() -> None:
                await service.wait(service.chat(total, request))
                await service.runner.aclose()

            asyncio.run(turn())
            store.close()
        return fake.chat_requests()[0]
    finally:
        fake.close()


def count(body: dict[str, Any], base_url: str, model: str) -> int:
    data = json.dumps({**body, "model": model, "max_tokens": 1, "stream": False}).encode("utf-8")
    request = urllib.request.Request(f"{base_url}/chat/completions", data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as response:
        return int(json.loads(response.read())["usage"]["prompt_tokens"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count-with", default=None, help="base URL of a real server that counts tokens")
    parser.add_argument("--model", default="")
    args = parser.parse_args()
    print("| Prompt | Request | System chars | Tools | Tool-schema chars | Body chars | Prompt tokens |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for prompt in ("full", "compact"):
        for kind, request in REQUESTS.items():
            body = first_request(prompt, request)
            system = body["messages"][0]["content"]
            tools = body.get("tools") or []
            tokens = (
                str(count(body, args.count_with.rstrip("/"), args.model))
                if args.count_with
                else f"~{len(json.dumps(body)) // 4} (est.)"
            )
            print(
                f"| {prompt} | {kind} | {len(system)} | {len(tools)} | {len(json.dumps(tools))} | "
                f"{len(json.dumps(body))} | {tokens} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
