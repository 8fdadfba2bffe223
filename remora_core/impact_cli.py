"""``remora impact NODE``: what may break if a node changes (its transitive callers, by file).

The command's logic lives here (``add_parser`` + ``run``); ``remora_core.cli`` registers it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from remora_core.errors import RemoraError
from remora_core.graph.impact import DEFAULT_IMPACT_DEPTH, impact_data
from remora_core.graph.topology import TopologyGraph


def add_parser(commands: Any) -> None:
    impact = commands.add_parser("impact", help="what may break if a node changes: its transitive callers")
    impact.add_argument("node", help="node id (or an unambiguous name / qualified name)")
    impact.add_argument("--depth", type=int, default=DEFAULT_IMPACT_DEPTH, help="calls away (default: 3)")
    impact.add_argument("--json", action="store_true")
    impact.add_argument("--root", help="project root (default: found from the current directory upward)")
    impact.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from remora_core.cli import _open_existing, _print_json, _resolve_node  # the CLI's own helpers

    if args.depth < 1:
        raise RemoraError(f"--depth must be at least 1, not {args.depth!r}")
    _, store = _open_existing(Path(args.root) if args.root else Path.cwd())
    try:
        node = _resolve_node(store, args.node)
        data = impact_data(TopologyGraph(store.connection), node.id, args.depth)
    finally:
        store.close()
    if args.json:
        _print_json(data)
        return 0
    callers = {caller["id"]: caller for caller in data["callers"]}
    print(
        f"{node.id} {node.qualname}: {len(callers)} caller(s) in {len(data['files'])} file(s) "
        f"within {args.depth} call(s)"
    )
    for group in data["files"]:
        print(group["path"])
        for caller_id in group["callers"]:
            caller = callers[caller_id]
            print(f"  {caller_id}  {caller['qualname']}  line {caller['start_line']}  (distance {caller['distance']})")
    return 0
