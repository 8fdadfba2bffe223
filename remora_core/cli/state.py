"""The node-state commands of ``remora``:

    remora update [PATH ...] [--json]          index, then run the node-state updates (what the hub does on save)
    remora state NODE [--json] [--propose-test] print a node's hub state (and offer its test skeleton)
    remora context --pytest REPORT [--json]     failure context of a pytest run (junit XML or -rA output)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from remora_core.engine.nodes import resolve_node
from remora_core.errors import ProjectError
from remora_core.project import find_root, relative_path
from remora_core.store.store import NodeRow, Store


def _print_json(value: object) -> None:
    json.dump(value, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def _resolve(store: Store, text: str) -> NodeRow:
    return resolve_node(store, text)  # the one node lookup (id, name or qualname)


def _root(args: argparse.Namespace) -> Path:
    return find_root(Path(args.root) if getattr(args, "root", None) else Path.cwd())


# -- remora update ------------------------------------------------------------------------
def cmd_update(args: argparse.Namespace) -> int:
    from remora_core.config import load_config  # pydantic: only for the commands that run
    from remora_core.hub.state.service import update_once

    root = _root(args)
    config = load_config(root)
    paths = [relative_path(root, Path(path)) for path in args.paths] or None
    result = update_once(root, config.hub, config.index, paths)
    if args.json:
        _print_json(
            {
                "changed_files": result.changed_files,
                "built": result.built,
                "orphaned": result.orphaned,
                "updates": [
                    {
                        "node_id": update.node_id,
                        "signals": update.signals,
                        "ran": update.ran,
                        "failed": update.failed,
                        "markdown": update.markdown_path,
                        "impact": update.state.impact.model_dump() if update.state and update.state.impact else None,
                        "tests": [run.model_dump(exclude={"output"}) for run in update.test_runs],
                        "triage_fallback": update.triage_fallback,
                    }
                    for update in result.updates
                ],
            }
        )
        return 0
    print(f"{len(result.changed_files)} file(s) changed, {len(result.updates)} node(s) updated, {result.built} state(s) built")
    for update in result.updates:
        state = update.state
        name = state.qualname if state else update.node_id
        print(f"- {update.node_id} {name}: signals {', '.join(update.signals) or '-'}; ran {', '.join(update.ran) or '-'}")
        for tool_name, error in update.failed.items():
            print(f"    failed {tool_name}: {error}")
        if state is not None and state.impact is not None and "signature_changed" in update.signals:
            print(f"    API change: {state.impact.old_signature} -> {state.impact.new_signature}")
            for site in state.impact.call_sites:
                print(f"      call site {site.file_path}:{site.line} in {site.caller}: {site.text}")
        if state is not None and state.skeleton_path:
            print(f"    test skeleton: {state.skeleton_path}")
        for run in update.test_runs:
            print(f"    test {run.test_id}: {run.outcome} in {run.duration:.2f}s")
        if update.triage_fallback:
            print(f"    triage fell back to every candidate: {update.triage_fallback}")
        if update.markdown_path:
            print(f"    markdown: {update.markdown_path}")
    for path in result.orphaned:
        print(f"- orphaned markdown moved to {path}")
    return 0


# -- remora state -------------------------------------------------------------------------
def cmd_state(args: argparse.Namespace) -> int:
    from remora_core.config import load_config
    from remora_core.hub.state.view import state_view

    root = _root(args)
    store = Store.open(root, create=False)
    try:
        row = _resolve(store, args.node)
        view = state_view(root, store, row.id, load_config(root).hub)
        if args.propose_test:
            view["proposal"] = _propose_test(root, store, row)
    finally:
        store.close()
    if args.json:
        _print_json(view)
        return 0
    print(f"{view['id']}  {view['type']} {view['qualname']}  [{view['freshness']}]")
    print(f"{view['file']}:{view['line']}")
    if view["state"] is None:
        print("no hub state yet (run 'remora update' or let remora-hub build it)")
        return 0
    state: dict[str, Any] = view["state"]
    print(f"signature:  {state['signature'] or '-'}")
    print(f"summary:    {state['summary']}")
    trend = " -> ".join(str(v) for v in view["complexity_trend"]) or "-"
    print(f"complexity: {state['complexity']} (trend {trend})")
    print(f"callers:    {', '.join(c['qualname'] for c in state['callers']) or '-'}")
    print(f"callees:    {', '.join(c['qualname'] for c in state['callees']) or '-'}")
    for test in state["tests"]:
        print(f"test:       {test['test_id']} ({test['how']}): {test['last_result']}")
    if not state["tests"]:
        print("test:       none found")
    print(f"markdown:   {view['markdown'] or '-'}")
    if view.get("proposal"):
        print(f"proposal:   {view['proposal']}")
    return 0


def _propose_test(root: Path, store: Store, row: NodeRow) -> str:
    """Offer the node's skeleton as a proposal: a new test function in an existing test file."""
    from remora_core.hub.state.adopt import propose_skeleton

    return propose_skeleton(root, store, row)


# -- remora context --pytest --------------------------------------------------------------
def cmd_context(args: argparse.Namespace) -> int:
    from remora_core.config import load_config
    from remora_core.hub.state.failure import failure_context

    root = _root(args)
    report = Path(args.pytest)
    if not report.exists():
        raise ProjectError(f"no pytest report at {args.pytest!r}")
    store = Store.open(root, create=False)
    try:
        bundle, path = failure_context(root, store, report, load_config(root).hub)
    finally:
        store.close()
    if args.json:
        _print_json({"path": str(path), "failures": len(bundle["failures"])})
    else:
        print(f"{len(bundle['failures'])} failing test(s); failure context written to {path}")
    return 0


def register(commands: Any) -> None:
    update = commands.add_parser("update", help="index, then refresh node state + markdown (what the hub does on save)")
    update.add_argument("paths", nargs="*", help="files to re-index (default: the whole tree)")
    update.add_argument("--json", action="store_true")
    update.add_argument("--root", help="project root (default: found from the current directory upward)")
    update.set_defaults(handler=cmd_update)

    state = commands.add_parser("state", help="a node's hub state: signature, tests, complexity, freshness")
    state.add_argument("node", help="node id (or an unambiguous name / qualified name)")
    state.add_argument("--json", action="store_true")
    state.add_argument("--propose-test", action="store_true", help="offer the node's test skeleton as a proposal")
    state.add_argument("--root", help="project root (default: found from the current directory upward)")
    state.set_defaults(handler=cmd_state)

    context = commands.add_parser("context", help="failure context of a pytest run, under .agentfs/context/")
    context.add_argument("--pytest", required=True, metavar="REPORT", help="junit XML (--junitxml) or 'pytest -rA' output")
    context.add_argument("--json", action="store_true")
    context.add_argument("--root", help="project root (default: found from the current directory upward)")
    context.set_defaults(handler=cmd_context)
