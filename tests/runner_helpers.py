"""Shared setup of the runner tests: a small project, a service wired to the fake model server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from remora_core.agents.service import AgentService
from remora_core.config import AgentsConfig, LLMConfig, RemoraConfig
from remora_core.events.models import BaseEvent

CODE = {
    "app.py": '''
        import functools


        class Config:
            """Settings."""

            def load(self, path):
                return open(path).read()

            @functools.cache
            @staticmethod
            def parse(text):
                return text.split()


        def a_func(x):
            return b_func(x)


        def b_func(x):
            return c_func(x)


        def c_func(x):
            return x
        ''',
}

# The events of a turn that makes one proposal, in order.
REWRITE_TURN = [
    "HumanChat",
    "AgentStart",
    "ModelResponse",
    "ToolCall",
    "RewriteProposal",
    "ToolResult",
    "ModelResponse",
    "AgentComplete",
]


def config(base_url: str, **agents: Any) -> RemoraConfig:
    llm = LLMConfig(base_url=base_url, model="fake-model", max_retries=0, retry_base_delay=0.01, timeout=5.0)
    return RemoraConfig(llm=llm, agents=AgentsConfig(**agents))


def service(root: Path, base_url: str, **agents: Any) -> AgentService:
    return AgentService(root, config=config(base_url, **agents), heartbeat_seconds=0.05)


async def until(condition: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    """Wait on the running loop until ``condition()`` is true (a real condition: a request the
    fake model server received, an event stored); AssertionError naming ``what`` after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.005)


def types(events: list[BaseEvent]) -> list[str]:
    return [event.event_type for event in events]


def last_tool_message(body: dict[str, Any]) -> str:
    return str(body["messages"][-1]["content"])
