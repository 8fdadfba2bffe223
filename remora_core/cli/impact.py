"""``remora impact NODE``: what may break if a node changes (its transitive callers, by file)."""

from __future__ import annotations

import argparse
from typing import Any

from remora_core.cli.common import open_engine, print_json, root_option
from remora_core.errors import RemoraError


def register(commands: Any) -> None:
    impact = commands.add_parser("impact", help="what may break if a node changes: its transitive callers")
    impact.add_argument("node", help="node id (or an unambiguous name / qualified name)")
    impact.add_argument("--depth", type=int, default=None, help="calls away (default: 3)")
    impact.add_argument("--json", action="store_true")
    root_option(impact)
    impact.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from remora_core.graph.impact import DEFAULT_IMPACT_DEPTH  # the graph (rustworkx): only here

    if args.depth is None:
        args.depth = DEFAULT_IMPACT_DEPTH
    if args.depth < 1:
        raise RemoraError(f"--depth must be at least 1, not {args.depth!r}")
    with open_engine(args) as engine:
        node = engine.resolve(args.node)
        data = engine.impact(node.id, args.depth)
    if args.json:
        print_json(data)
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
