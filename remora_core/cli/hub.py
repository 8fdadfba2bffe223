"""``remora-hub``: the background indexer of one project root.

    remora-hub --once PATH       index PATH, emit its TopologyChanged events, exit
    remora-hub --watch PATH      index PATH, then follow its changes until SIGTERM/SIGINT
    remora-hub start PATH        ensure a detached hub runs for PATH (log in .remora/hub.log)
    remora-hub status PATH       report the running hub (exit 0 running, 3 not running)
    remora-hub stop PATH         stop the running hub (SIGTERM, SIGKILL after --timeout)

A second ``--watch`` for a root that already has a hub reports the running one and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from remora_core.config import load_config
from remora_core.errors import RemoraError
from remora_core.events.retention import RetentionPolicy
from remora_core.hub.control import ensure_hub, stop_hub
from remora_core.hub.daemon import HubDaemon, HubOptions
from remora_core.hub.indexing import HubIndexer
from remora_core.hub.parent import die_with_parent
from remora_core.hub.priority import lower_priority
from remora_core.hub.status import HubStatus, hub_status
from remora_core.store.store import Store

COMMANDS = ("start", "status", "stop")
NOT_RUNNING = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="remora-hub", description="Keep a project's Remora index fresh.")
    parser.add_argument("command", nargs="?", choices=COMMANDS, help="start | status | stop the hub of PATH")
    parser.add_argument("path", nargs="?", help="project root of the command")
    parser.add_argument("--once", metavar="PATH", help="index PATH once and exit")
    parser.add_argument("--watch", metavar="PATH", help="index PATH, then follow its changes until stopped")
    parser.add_argument("--json", action="store_true", help="print status as JSON")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds 'stop' waits before SIGKILL")
    parser.add_argument(
        "--keep-days", type=float, default=30.0, help="event retention in days (0 = no age limit)"
    )
    parser.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)  # a hub's catch-up child
    parser.add_argument(
        "--keep-events", type=int, default=200_000, help="event retention count (0 = no limit)"
    )
    return parser


def _print_status(status: HubStatus, as_json: bool) -> None:
    print(json.dumps(status.as_json()) if as_json else status.describe())


def _once(root: Path) -> int:
    config = load_config(root)
    lower_priority(config.hub.nice)
    store = Store.open(root)
    try:
        result = HubIndexer(root, store, config.index).run(None)
    finally:
        store.close()
    json.dump(result.report.as_json(), sys.stdout)
    sys.stdout.write("\n")
    return 0


def _watch(root: Path, args: argparse.Namespace) -> int:
    retention = RetentionPolicy(max_age_days=args.keep_days or None, max_events=args.keep_events or None)
    lower_priority(load_config(root).hub.nice)
    daemon = HubDaemon(root, HubOptions(retention=retention))
    code = asyncio.run(daemon.run())
    if code == -1:
        print(hub_status(root).describe(), flush=True)
        return 0
    return code


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    modes = [bool(args.once), bool(args.watch), bool(args.command)]
    if sum(modes) != 1:
        parser.error(
            "give exactly one of --once PATH, --watch PATH, or a command (start | status | stop) PATH"
        )
    if args.command and not args.path:
        parser.error(f"{args.command!r} needs a project PATH")
    try:
        root = Path(args.once or args.watch or args.path).resolve()
        if not root.is_dir():
            raise RemoraError(f"project root {str(root)!r} is not a directory")
        if args.once:
            if args.parent_pid:
                die_with_parent(args.parent_pid)
            return _once(root)
        if args.watch:
            return _watch(root, args)
        if args.command == "status":
            status = hub_status(root)
            _print_status(status, args.json)
            return 0 if status.running else NOT_RUNNING
        if args.command == "stop":
            before = hub_status(root)
            status = stop_hub(root, timeout=args.timeout)
            if args.json:
                _print_status(status, True)
            elif before.running:
                print(f"remora-hub for {str(root)!r} stopped (was pid {before.pid})")
            else:
                print(status.describe())
            return 0
        status = ensure_hub(root)
        _print_status(status, args.json)
        return 0
    except RemoraError as error:
        print(f"remora-hub: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
