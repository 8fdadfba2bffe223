"""The index commands of ``remora``: ``index``, ``nodes``, ``show``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from remora_core.cli.common import open_engine, print_json, root_option
from remora_core.engine.nodes import node_ref
from remora_core.errors import NodeNotFoundError, ProjectError
from remora_core.project import node_source, relative_path

if TYPE_CHECKING:
    from remora_core.index.indexer import IndexReport


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
    from remora_core.index import parse_pool
    from remora_core.store.db import database_path

    if not database_path(root).exists():  # a cold index parses everything: fork the workers now,
        parse_pool.prestart_workers(parse_pool.worker_count(0))  # while this process is lean
    try:
        report = _index(root, inject=False if args.no_inject else None)
    finally:
        parse_pool.release_workers()
    if args.json:
        print_json(report.as_json())
    else:
        _print_report(report)
    return 0


def _index(root: Path, inject: bool | None) -> IndexReport:
    """What ``Engine.index`` runs, without the engine (the agent runtime and the graph stay
    unimported: ``remora index`` starts faster and its parse workers stay small), and without
    pydantic: the ``[index]`` settings are checked by hand when the config file holds nothing
    else (``config_file.load_index_settings``) and the ``TopologyChanged`` events are written as
    the rows their models would write (``index.topology_rows``)."""
    from remora_core.config_file import load_index_settings
    from remora_core.index.indexer import Indexer
    from remora_core.index.topology_rows import TopologyRowWriter
    from remora_core.store.store import Store

    settings = load_index_settings(root)  # a config error before the database is created
    store = Store.open(root, create=True)
    try:
        indexer = Indexer(root, store, settings)
        return indexer.index(inject=inject, on_changes=TopologyRowWriter(store.connection))
    finally:
        store.close()


def cmd_nodes(args: argparse.Namespace) -> int:
    file = Path(args.file)
    if not file.exists():
        raise ProjectError(f"no such file: {args.file!r}")
    with open_engine(args, file) as engine:
        path = relative_path(engine.root, file)
        rows = engine.nodes(path, active_only=not args.all)
    if not rows:
        raise NodeNotFoundError(f"no nodes indexed for {path!r}: run 'remora index' first")
    if args.json:
        print_json([node_ref(row) for row in rows])
        return 0
    for row in rows:
        lines = f"{row.start_line}-{row.end_line}"
        status = "" if row.status == "active" else f"  [{row.status}]"
        print(f"{row.id}  {row.node_type:<8} {lines:>11}  {row.qualname}{status}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        row = engine.resolve(args.node)
        near = engine.neighbours(row.id)
        source = node_source(engine.root, row)

    if args.json:
        print_json(
            {
                **node_ref(row),
                "source": source,
                "parent": node_ref(near.parent) if near.parent else None,
                "children": [node_ref(node) for node in near.children],
                "callers": [node_ref(node) for node in near.callers],
                "callees": [node_ref(node) for node in near.callees],
            }
        )
        return 0
    print(f"{row.id}  {row.node_type} {row.qualname}  [{row.status}]")
    print(f"{row.file_path}:{row.start_line}-{row.end_line}")
    print(f"parent:  {near.parent.id + ' ' + near.parent.qualname if near.parent else '-'}")
    for label, group in (("callers", near.callers), ("callees", near.callees)):
        listed = ", ".join(f"{node.id} {node.qualname}" for node in group) or "-"
        print(f"{label}: {listed}")
    print()
    sys.stdout.write(source if source.endswith("\n") else source + "\n")
    return 0


def register(commands: Any) -> None:
    """Add ``index``, ``nodes`` and ``show`` to ``remora``'s subparsers."""
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
    root_option(show)
    show.set_defaults(handler=cmd_show)
