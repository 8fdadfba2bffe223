"""``remora``: the command-line face. Holds no business logic; every command is a thin call
into ``remora_core``. User errors are one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

from remora_core import __version__
from remora_core.config import load_config
from remora_core.errors import NodeNotFoundError, ProjectError, RemoraError
from remora_core.index.indexer import Indexer, IndexReport
from remora_core.project import find_root, node_source, relative_path
from remora_core.store.store import NodeRow, Store

EXIT_ERROR = 1


def _print_json(value: object) -> None:
    json.dump(value, sys.stdout, indent=2)
    sys.stdout.write("\n")


def _node_summary(row: NodeRow) -> dict[str, object]:
    return {
        "id": row.id,
        "type": row.node_type,
        "name": row.name,
        "qualname": row.qualname,
        "file": row.file_path,
        "start_line": row.start_line,
        "def_line": row.def_line,
        "end_line": row.end_line,
        "parent_id": row.parent_id,
        "status": row.status,
    }


def _print_report(report: IndexReport) -> None:
    nodes = report.nodes
    edges = report.edges
    print(f"indexed {report.files} files in {report.seconds:.2f} s ({report.changed_files} changed)")
    print(
        f"nodes: {nodes['file']} files, {nodes['class']} classes, "
        f"{nodes['function']} functions, {nodes['method']} methods"
    )
    print(f"edges: {edges['parent_of']} parent_of, {edges['calls']} calls, {edges['imports']} imports")
    print(f"anchors added: {report.anchors_added}, orphaned: {report.orphaned}")
    if report.errors:
        print(f"problems: {len(report.errors)}")
        for error in report.errors[:20]:
            print(f"  {error['path']}: {error['message']}")
        if len(report.errors) > 20:
            print(f"  ... and {len(report.errors) - 20} more (use --json for all)")


def cmd_index(args: argparse.Namespace) -> int:
    root = Path(args.path).resolve()
    if not root.is_dir():
        raise ProjectError(f"{args.path!r} is not a directory")
    config = load_config(root)
    store = Store.open(root)
    try:
        report = Indexer(root, store, config.index).index(inject=False if args.no_inject else None)
    finally:
        store.close()
    if args.json:
        _print_json(report.as_json())
    else:
        _print_report(report)
    return 0


def _open_existing(start: Path) -> tuple[Path, Store]:
    root = find_root(start)
    return root, Store.open(root, create=False)


def cmd_nodes(args: argparse.Namespace) -> int:
    file = Path(args.file)
    if not file.exists():
        raise ProjectError(f"no such file: {args.file!r}")
    root, store = _open_existing(Path(args.root) if args.root else file)
    try:
        path = relative_path(root, file)
        rows = store.nodes_in_file(path, active_only=not args.all)
    finally:
        store.close()
    if not rows:
        raise NodeNotFoundError(f"no nodes indexed for {path!r}: run 'remora index' first")
    if args.json:
        _print_json([_node_summary(row) for row in rows])
        return 0
    for row in rows:
        lines = f"{row.start_line}-{row.end_line}"
        status = "" if row.status == "active" else f"  [{row.status}]"
        print(f"{row.id}  {row.node_type:<8} {lines:>11}  {row.qualname}{status}")
    return 0


def _resolve_node(store: Store, text: str) -> NodeRow:
    row = store.node(text)
    if row is not None:
        return row
    matches = store.find_nodes(text)
    if len(matches) == 1:
        return matches[0]
    if matches:
        listed = ", ".join(f"{m.id} ({m.file_path}:{m.def_line})" for m in matches[:5])
        raise NodeNotFoundError(f"{text!r} names {len(matches)} nodes: {listed}")
    raise NodeNotFoundError(f"no node {text!r} in the index")


def cmd_show(args: argparse.Namespace) -> int:
    root, store = _open_existing(Path(args.root) if args.root else Path.cwd())
    try:
        row = _resolve_node(store, args.node)
        parent = store.node(row.parent_id) if row.parent_id else None
        callers = store.nodes(store.edge_sources(row.id, "calls"))
        callees = store.nodes(store.edge_targets(row.id, "calls"))
        children = store.nodes(store.edge_targets(row.id, "parent_of"))
    finally:
        store.close()
    source = node_source(root, row)

    def brief(node: NodeRow) -> dict[str, object]:
        return {"id": node.id, "type": node.node_type, "qualname": node.qualname, "file": node.file_path, "line": node.def_line}

    if args.json:
        _print_json(
            {
                **_node_summary(row),
                "source": source,
                "parent": brief(parent) if parent else None,
                "children": [brief(node) for node in children.values()],
                "callers": [brief(node) for node in callers.values()],
                "callees": [brief(node) for node in callees.values()],
            }
        )
        return 0
    print(f"{row.id}  {row.node_type} {row.qualname}  [{row.status}]")
    print(f"{row.file_path}:{row.start_line}-{row.end_line}")
    print(f"parent:  {parent.id + ' ' + parent.qualname if parent else '-'}")
    for label, group in (("callers", callers), ("callees", callees)):
        listed = ", ".join(f"{node.id} {node.qualname}" for node in group.values()) or "-"
        print(f"{label}: {listed}")
    print()
    sys.stdout.write(source if source.endswith("\n") else source + "\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="remora", description="Every Python definition as an agent with a stable ID.")
    parser.add_argument("--version", action="version", version=f"remora {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    index = commands.add_parser("index", help="index a project and write anchors")
    index.add_argument("path", nargs="?", default=".", help="project root (default: current directory)")
    index.add_argument("--no-inject", action="store_true", help="do not write anchors into files")
    index.add_argument("--json", action="store_true", help="print one JSON object")
    index.set_defaults(handler=cmd_index)

    nodes = commands.add_parser("nodes", help="list the nodes of one file")
    nodes.add_argument("file")
    nodes.add_argument("--json", action="store_true")
    nodes.add_argument("--all", action="store_true", help="include orphaned nodes")
    nodes.add_argument("--root", help="project root (default: found from FILE upward)")
    nodes.set_defaults(handler=cmd_nodes)

    show = commands.add_parser("show", help="one node with its source, parent, callers and callees")
    show.add_argument("node", help="node id (or an unambiguous name / qualified name)")
    show.add_argument("--json", action="store_true")
    show.add_argument("--root", help="project root (default: found from the current directory upward)")
    show.set_defaults(handler=cmd_show)

    from remora_core.agent_cli import register as register_agent_commands  # handlers import lazily

    register_agent_commands(commands)
    from remora_core.agents.doctor import add_parser as add_doctor

    add_doctor(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except RemoraError as error:
        print(f"remora: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except sqlite3.DatabaseError as error:
        print(f"remora: error: the project database is damaged or locked: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("remora: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
