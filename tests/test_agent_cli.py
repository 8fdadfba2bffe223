"""The headless agent CLI through real subprocesses (seed 002 Appendix A without Neovim), and two
runner processes racing for the same triggers."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from remora_core.parsing.python_source import parse_python
from remora_core.store.store import Store
from tests.fake_llm import FakeLLM, fake_llm_fixture, indexed_project, node_id_of  # noqa: F401 - fixture
from tests.runner_helpers import REWRITE_TURN

CONFIG_PY = {
    "src/config.py": '''
        import json


        class ConfigLoader:
            """Loads the settings."""

            def __init__(self, path):
                self.path = path

            def load(self):
                with open(self.path) as handle:
                    return json.load(handle)
        ''',
    "src/util.py": """
        def one():
            return 1


        def two():
            return 2
        """,
}

TYPED = '''class ConfigLoader:
    """Loads the settings."""

    def __init__(self, path: str) -> None:
        self.path = path

    def load(self) -> dict[str, object]:
        with open(self.path) as handle:
            return json.load(handle)
'''


def cli(root: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "remora_core.cli", *args],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=timeout,
        check=False,
    )


def parallel(root: Path, *commands: tuple[str, ...]) -> list[subprocess.CompletedProcess[str]]:
    """Run CLI commands at the same time (the machine has few cores; Python start-up dominates)."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "remora_core.cli", *args],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]
    results = []
    for args, process in zip(commands, processes, strict=True):
        out, err = process.communicate(timeout=60)
        results.append(subprocess.CompletedProcess([*args], process.returncode, out, err))
    return results


def write_config(root: Path, base_url: str) -> None:
    (root / ".remora" / "config.toml").write_text(
        f'[llm]\nbase_url = "{base_url}"\nmodel = "fake-model"\nmax_retries = 0\ntimeout = 5.0\n',
        encoding="utf-8",
    )


@pytest.fixture
def proj(tmp_path: Path, fake_llm: FakeLLM) -> Iterator[tuple[Path, Store]]:
    root = tmp_path / "proj"
    store = indexed_project(root, CONFIG_PY)
    write_config(root, fake_llm.base_url)
    yield root, store
    store.close()


def test_appendix_a_headless(proj: tuple[Path, Store], fake_llm: FakeLLM) -> None:
    root, store = proj
    loader = node_id_of(store, "ConfigLoader")
    methods = [node_id_of(store, "ConfigLoader.__init__"), node_id_of(store, "ConfigLoader.load")]
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": TYPED}))
    fake_llm.add_text("I added type hints to all methods.")
    chat = cli(root, "chat", loader, "Add type hints to all methods", "--wait")
    assert chat.returncode == 0, chat.stderr
    assert chat.stdout.startswith("I added type hints to all methods.\n")
    listed = cli(root, "proposals")
    assert listed.returncode == 0, listed.stderr
    proposal_id = listed.stdout.split()[1]
    assert proposal_id.startswith("pr_") and proposal_id in chat.stdout
    assert (
        f"rewrite of {loader} in src/config.py" in listed.stdout
        and "+    def load(self) -> dict[str, object]:" in listed.stdout
    )
    approved = cli(root, "approve", proposal_id)
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout.startswith(f"applied proposal {proposal_id} to src/config.py (lines ")
    text = (root / "src/config.py").read_text()
    assert "def load(self) -> dict[str, object]:" in text and "def __init__(self, path: str) -> None:" in text
    anchors = {d.qualname: d.anchor for d in parse_python(text.encode()).defs}
    assert anchors["ConfigLoader"] == loader
    assert [anchors["ConfigLoader.__init__"], anchors["ConfigLoader.load"]] == methods
    # the same proposal approved twice, while another process reads the log
    again, listed_events = parallel(root, ("approve", proposal_id), ("events", "--json", "--node", loader))
    assert again.returncode == 1 and again.stdout == ""
    assert again.stderr.strip() == f"remora: error: proposal {proposal_id!r} is already applied"
    events = [json.loads(line) for line in listed_events.stdout.splitlines()]
    assert [e["event_type"] for e in events] == [*REWRITE_TURN, "RewriteApplied"]
    assert events[4]["proposal_id"] == proposal_id and events[4]["diff"]
    assert events[2]["tool_calls"][0]["name"] == "rewrite_self"  # the raw model round
    assert all(e["correlation_id"] == events[0]["correlation_id"] for e in events)


async def _proposal_in_process(root: Path, node_id: str, new_source: str) -> str:
    """Set-up without a subprocess: one chat turn through the service makes a pending proposal."""
    from remora_core.agents.service import AgentService

    with AgentService(root) as service:
        await service.chat_and_wait(node_id, "change")
        (proposal,) = service.proposals()
        return proposal.id


async def test_reject_with_feedback_and_wait_retries(proj: tuple[Path, Store], fake_llm: FakeLLM) -> None:
    root, store = proj
    one = node_id_of(store, "one")
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": "def one():\n    return 1.0\n"}))
    fake_llm.add_text("done")
    proposal_id = await _proposal_in_process(root, one, "def one():\n    return 1.0\n")
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": "def one() -> int:\n    return 1\n"}))
    fake_llm.add_text("kept the int, added a hint")
    rejected = cli(root, "reject", proposal_id, "--feedback", "keep it an int", "--wait")
    assert rejected.returncode == 0, rejected.stderr
    assert "kept the int, added a hint" in rejected.stdout and "+def one() -> int:" in rejected.stdout
    all_proposals = json.loads(cli(root, "proposals", "--json", "--all").stdout)
    assert [p["status"] for p in all_proposals] == ["rejected", "pending"]
    assert all_proposals[0]["correlation_id"] != all_proposals[1]["correlation_id"]


def test_queued_chat_then_run_once_and_events_follow(proj: tuple[Path, Store], fake_llm: FakeLLM) -> None:
    root, store = proj
    two = node_id_of(store, "two")
    fake_llm.add_text("two says hi")
    queued = cli(root, "chat", two, "hello")
    assert queued.returncode == 0 and "queued chat" in queued.stdout
    follower = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "remora_core.cli",
            "events",
            "--follow",
            "--json",
            "--timeout",
            "8",
            "--node",
            two,
        ],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ran = cli(root, "run", "--once")
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.endswith("ran 1 trigger\n") and f"{two} done: two says hi" in ran.stdout
        assert follower.stdout is not None
        seen = []
        for line in follower.stdout:
            seen.append(json.loads(line)["event_type"])
            if seen[-1] == "AgentComplete":
                break
        assert seen == ["HumanChat", "AgentStart", "ModelResponse", "AgentComplete"]
    finally:
        follower.kill()
        follower.wait()


async def test_errors_are_one_line(proj: tuple[Path, Store], fake_llm: FakeLLM) -> None:
    root, store = proj
    one = node_id_of(store, "one")
    fake_llm.add_tool_calls(("rewrite_self", {"new_source": "def one():\n    return 11\n"}))
    fake_llm.add_text("done")
    proposal_id = await _proposal_in_process(root, one, "def one():\n    return 11\n")
    path = root / "src/util.py"
    path.write_text(path.read_text().replace("return 1\n", "return 100\n"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    write_config(root, f"http://127.0.0.1:{port}/v1")
    missing, stale, down = parallel(
        root, ("chat", "rm_zzzzzzzz", "hi"), ("approve", proposal_id), ("chat", one, "hi", "--wait")
    )
    for result in (missing, stale, down):
        assert result.returncode == 1 and result.stdout == "" and len(result.stderr.splitlines()) == 1, (
            result.stderr
        )
    assert missing.stderr == "remora: error: no node 'rm_zzzzzzzz' in the index\n"
    assert stale.stderr.startswith(f"remora: error: proposal {proposal_id!r} is stale: ")
    assert f"'http://127.0.0.1:{port}/v1' is not reachable" in down.stderr


@pytest.mark.parametrize("count", [1, 6])
def test_two_runner_processes_never_run_the_same_trigger(
    proj: tuple[Path, Store], fake_llm: FakeLLM, count: int
) -> None:
    root, store = proj
    one = node_id_of(store, "one")
    fake_llm.default_text = "ok"
    from remora_core.agents.service import AgentService

    with AgentService(root) as service:
        correlations = [service.chat(one, f"message {index}") for index in range(count)]
    runners = [
        subprocess.Popen(
            [sys.executable, "-m", "remora_core.cli", "run", "--once"],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [runner.communicate(timeout=60) for runner in runners]
    assert [runner.returncode for runner in runners] == [0, 0], outputs
    ran = [int(out.strip().splitlines()[-1].split()[1]) for out, _ in outputs]
    assert sum(ran) == count
    with AgentService(root) as service:
        for correlation in correlations:
            (trigger,) = service.triggers(correlation)
            assert trigger.status == "done" and trigger.attempts == 1
        starts = [e for e in service.events() if e.event_type == "AgentStart"]
        assert len(starts) == count
    assert len(fake_llm.chat_requests()) == count
