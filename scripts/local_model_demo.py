"""Seed 002 Appendix A, headless, against a local OpenAI-compatible server (``local_model.sh demo``).

A fresh copy of ``scripts/fixtures/appendix_a`` (``src/config.py``: ``ConfigLoader`` calling
``src/parsing.py``'s ``parse_line``) is indexed, its ``.remora/config.toml`` points at the server,
and then, through the ``remora`` command line exactly as a user would type it:

1. ``remora doctor``;
2. ``remora chat <ConfigLoader> "Add type hints to all methods" --wait`` -> a proposal;
3. ``remora approve`` it -> applied, anchors kept;
4. ``remora chat <ConfigLoader.load> "ask <parse_line> to add type hints" --wait`` -> the load
   agent calls ``message_node``; parse_line's agent proposes its own rewrite; approved too;
5. the raw model rounds (``ModelResponse`` events) are summarised.

Prints each step and a final line ``demo: N/5 steps ok``; exit 0 when the mechanics worked
(steps 1, 2 reach the model and every applied file still parses with its anchors).
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "appendix_a"


def remora(root: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "remora_core.cli", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def node_id(root: Path, file: str, qualname: str) -> str:
    listed = json.loads(remora(root, "nodes", file, "--json").stdout)
    return next(node["id"] for node in listed if node["qualname"] == qualname)


def write_config(root: Path, base_url: str, model: str, tool_choice: str) -> None:
    (root / ".remora").mkdir(exist_ok=True)
    (root / ".remora" / "config.toml").write_text(
        f'[llm]\nbase_url = "{base_url}"\nmodel = "{model}"\ntool_choice = "{tool_choice}"\n'
        "max_tokens = 768\ntemperature = 0.0\ntimeout = 600.0\nmax_tool_rounds = 4\n"
        "[agents]\nturn_timeout = 1200.0\n",
        encoding="utf-8",
    )


def pending(root: Path, correlation_hint: str | None = None) -> list[dict[str, object]]:
    return list(json.loads(remora(root, "proposals", "--json").stdout))


def anchors_ok(root: Path) -> bool:
    for path in (root / "src").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        ast.parse(text)
        for line in text.splitlines():
            if re.match(r"\s*(async\s+)?(def|class)\s", line) and not re.search(r"#\s*rm_[a-z0-9]{8}\s*$", line):
                return False
    return True


def approve_all(root: Path) -> int:
    applied = 0
    for proposal in pending(root):
        done = remora(root, "approve", str(proposal["id"]))
        print(f"  approve {proposal['id']}: {(done.stdout or done.stderr).strip()}")
        applied += done.returncode == 0
    return applied


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8765/v1")
    parser.add_argument("--model", required=True, help="the model id the server lists")
    parser.add_argument("--tool-choice", default="code_block", choices=["auto", "required", "per_step", "code_block"])
    parser.add_argument("--keep", action="store_true", help="keep the project copy")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="remora-demo-"))
    root = work / "project"
    shutil.copytree(FIXTURE, root)
    write_config(root, args.base_url, args.model, args.tool_choice)
    ok = 0
    try:
        print(f"project copy: {root}")
        print(remora(root, "index").stdout.strip())
        doctor = remora(root, "doctor")
        print("1. remora doctor\n" + doctor.stdout.strip())
        ok += doctor.returncode == 0
        loader = node_id(root, "src/config.py", "ConfigLoader")
        load = node_id(root, "src/config.py", "ConfigLoader.load")
        parse_line = node_id(root, "src/parsing.py", "parse_line")
        started = time.perf_counter()
        chat = remora(root, "chat", loader, "Add type hints to all methods", "--wait")
        print(f"2. remora chat {loader} 'Add type hints to all methods' --wait ({time.perf_counter() - started:.0f} s)")
        print("  " + (chat.stdout or chat.stderr).strip().replace("\n", "\n  "))
        ok += chat.returncode == 0 and bool(pending(root))
        print("3. remora approve")
        ok += approve_all(root) > 0 and anchors_ok(root)
        started = time.perf_counter()
        request = f"Ask {parse_line} (parse_line) to add type hints to its parameters and return value."
        chat = remora(root, "chat", load, request, "--wait")
        print(f"4. remora chat {load} {request!r} --wait ({time.perf_counter() - started:.0f} s)")
        print("  " + (chat.stdout or chat.stderr).strip().replace("\n", "\n  "))
        events = [json.loads(line) for line in remora(root, "events", "--json").stdout.splitlines() if line.strip()]
        reached = any(e["event_type"] == "AgentMessage" and e.get("to_agent") == parse_line for e in events)
        print(f"  message_node reached parse_line: {reached}")
        approve_all(root)
        ok += reached and anchors_ok(root)
        rounds = [e for e in events if e["event_type"] == "ModelResponse"]
        recovered = sum(len(e["recovered"]) for e in rounds)
        fallbacks = sum(1 for e in rounds if e["fallback"])
        native = sum(len(e["tool_calls"]) for e in rounds)
        print(f"5. events: {len(rounds)} model rounds, {native} server-parsed calls, {recovered} recovered from text, {fallbacks} code-block fallbacks")
        ok += bool(rounds)
        print("final files:")
        for path in sorted((root / "src").glob("*.py")):
            print(f"--- {path.relative_to(root)}\n{path.read_text(encoding='utf-8')}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"demo: {ok}/5 steps ok")
    return 0 if ok >= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
