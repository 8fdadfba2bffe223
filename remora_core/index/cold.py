"""The first index of a project (empty database), streamed: each parsed file is turned into
rows and written while the workers parse the next ones, so neither the time nor the memory of
the parent's part waits for (or holds) the whole tree's parse results.

The result is the general path's (``Indexer._apply``) for an empty database: same nodes, spans,
edges, files rows and change records. Only the anchors in the code need every file before any
id is settled (a copied anchor is kept by the first file by path): files that hold anchors are
kept until the parse is over; files without any are processed as they come. A fresh id is
never an anchor found in the code: one handed out before a file holding that anchor arrived
makes that anchor site lose (it gets a fresh id, as a duplicate would).

Everything is written in one transaction: a crash leaves the database as it was (empty).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat, starmap
from operator import add, attrgetter
from typing import TYPE_CHECKING

from remora_core.errors import StoreError
from remora_core.index.background import SerialWriter
from remora_core.index.changes import FileChange, OnChanges
from remora_core.index.matching import anchor_sites, assign_ids, settle_anchors
from remora_core.index.parse_pool import ParseResult, references_json
from remora_core.index.refs import refs_json
from remora_core.index.symbols import FileSymbols, SymbolNode, import_ref, shared_name
from remora_core.index.totals import Totals
from remora_core.languages import ProjectSymbols
from remora_core.parsing.model import NODE_TYPES, ParsedFile
from remora_core.store.db import bulk_load
from remora_core.store.store import EDGE_TYPES, Store

if TYPE_CHECKING:
    from remora_core.index.indexer import Indexer

_NODE_TYPE = attrgetter("node_type")
# Rows are written every this many files (sorted by key within each flush).
FLUSH_FILES = 64
# SQLite's page cache during the build: the transaction's pages spill to the WAL beyond it
# (the connection's usual 64 MiB would all be dirty pages held until the commit).
COLD_CACHE_KIB = 8192
# Calls and imports handed to the writer thread at a time (~2 MB of JSON).
EDGE_CHUNK = 32_768
_EDGES_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass(slots=True)
class Sink:
    """What the build collects file by file: rows as plain tuples in column order (written and
    dropped every ``FLUSH_FILES`` files), change records and counts."""

    node_values: list[tuple[object, ...]] = field(default_factory=list)
    file_values: list[tuple[object, ...]] = field(default_factory=list)
    changes: dict[str, FileChange] = field(default_factory=dict)
    node_counts: Counter[str] = field(default_factory=Counter)
    files: int = 0
    anchors_added: int = 0


class TakenIds:
    """Ids that a fresh id must avoid: those handed out in this run, then the database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.ids: set[str] = set()
        self.check_store = True

    def __contains__(self, node_id: object) -> bool:
        if node_id in self.ids:
            return True
        return self.check_store and isinstance(node_id, str) and self.store.node(node_id) is not None

    def add(self, node_id: str) -> None:
        self.ids.add(node_id)


def _readable(results: Iterable[ParseResult], errors: list[dict[str, str]]) -> Iterator[ParseResult]:
    """The parsed results; unreadable files and parse problems go to ``errors``."""
    for result in results:
        if result.parsed is None:
            errors.append({"path": result.path, "message": result.error or "unreadable"})
            continue
        errors.extend({"path": result.path, "message": problem} for problem in result.parsed.problems)
        yield result


def _flush(store: Store, sink: Sink) -> None:
    sink.node_values.sort()  # by id (unique): B-tree appends within the flush
    store.insert_node_values(sink.node_values)
    store.insert_file_values(sink.file_values)
    sink.node_values.clear()
    sink.file_values.clear()


def add_file_symbols(
    indexer: Indexer,
    path: str,
    parsed: ParsedFile,
    file_id: str,
    def_ids: Sequence[str],
    parents: Sequence[str | None],
) -> None:
    """Put a parsed file in the indexer's symbol table: its imports and calls, and its nodes
    (the file, then each definition with ``parents[i]`` as the parent of ``parsed.defs[i]``)."""
    symbols = indexer.symbols
    assert symbols is not None
    name = path.rsplit("/", 1)[-1]
    # Parameter lists and class bases as shared tuples (``Indexer._param_sets``), names through
    # a bounded cache (``__init__``, ``setUp`` ... repeat by the thousand: a string each as
    # unpickled).
    shared, names = indexer._param_sets.setdefault, indexer._names
    symbols.add_file(
        FileSymbols(
            path,
            file_id,
            list(starmap(import_ref, parsed.imports)),
            [(def_ids[c.caller], c.callee) for c in parsed.calls],  # packed by the table (CallPairs)
        ),
        [
            SymbolNode(file_id, "file", name, path, None),
            *(
                SymbolNode(
                    node_id,
                    d.node_type,
                    names.get(d.name) or shared_name(names, d.name),
                    path,
                    parent,
                    shared(d.bases, d.bases),
                    shared(d.params, d.params),
                )
                for d, node_id, parent in zip(parsed.defs, def_ids, parents, strict=True)
            ),
        ],
    )


def index_new_file(
    indexer: Indexer,
    result: ParseResult,
    verdict: dict[tuple[str, int], bool],
    winners: set[str],
    taken: TakenIds,
    inject: bool,
    errors: list[dict[str, str]],
    sink: Sink,
    now: float,
) -> None:
    """``Indexer._index_file`` of a file with no stored rows, into ``sink``: ids, anchors, rows,
    symbols and change record."""
    parsed = result.parsed
    assert parsed is not None
    path = result.path
    # Nothing is stored: the ids to avoid are this run's (a plain set, no query).
    ids = assign_ids(path, parsed, (), verdict, winners, taken.ids, with_edits=inject)
    result, parsed, added = indexer._anchor_step(result, parsed, ids, inject, errors)
    sink.anchors_added += added
    file_id, def_ids, superseded, defs = ids.file_id, ids.def_ids, ids.superseded, parsed.defs
    parents = [file_id if d.parent < 0 else def_ids[d.parent] for d in defs]
    name = path.rsplit("/", 1)[-1]
    sink.node_values.append(
        (file_id, "file", name, path, path, 1, 1, max(parsed.line_count, 1), None, parsed.source_hash, "active", None, now, now)
    )
    sink.node_values.extend(
        (
            node_id, d.node_type, d.name, d.qualname, path, d.start_line, d.def_line, d.end_line, parent,
            d.source_hash, "active", superseded.get(index) if d.anchor != node_id else None, now, now,
        )
        for index, (d, node_id, parent) in enumerate(zip(defs, def_ids, parents, strict=True))
    )  # fmt: skip
    refs = refs_json(ids, result.refs_body or references_json(parsed))
    sink.file_values.append(
        (path, file_id, result.mtime_ns, result.size, result.content_hash, refs, json.dumps(parsed.problems), now)
    )
    sink.files += 1
    sink.node_counts["file"] += 1
    sink.node_counts.update(map(_NODE_TYPE, defs))
    sink.changes[path] = FileChange(path, added=sorted([file_id, *def_ids]), content_changed=True)
    add_file_symbols(indexer, path, parsed, file_id, def_ids, parents)


def cold_build(
    indexer: Indexer,
    results: Iterable[ParseResult],
    inject: bool,
    errors: list[dict[str, str]],
    on_changes: OnChanges | None,
) -> tuple[int, list[FileChange], Totals]:
    """Index ``results`` (every file of the tree, in any order) into an empty database;
    returns (anchors added, change records, the index's totals for the report)."""
    with bulk_load(indexer.store.connection, COLD_CACHE_KIB):
        return _build(indexer, indexer.store, results, inject, errors, on_changes)


def _build(
    indexer: Indexer,
    store: Store,
    results: Iterable[ParseResult],
    inject: bool,
    errors: list[dict[str, str]],
    on_changes: OnChanges | None,
) -> tuple[int, list[FileChange], Totals]:
    now = time.time()
    symbols = indexer.symbols = ProjectSymbols(indexer.root)
    taken = TakenIds(store)
    taken.check_store = False  # no rows at all: nothing to avoid but this run's ids
    sink = Sink()
    held: list[ParseResult] = []  # files holding anchors, settled once every file is parsed

    def index_file(result: ParseResult, verdict: dict[tuple[str, int], bool], winners: set[str]) -> None:
        index_new_file(indexer, result, verdict, winners, taken, inject, errors, sink, now)
        if len(sink.file_values) >= FLUSH_FILES:
            _flush(store, sink)

    with store.transaction(check_foreign_keys=False):
        rebuild = store.drop_secondary_indexes(("nodes", "edges"))
        for result in _readable(results, errors):
            parsed = result.parsed
            assert parsed is not None
            if parsed.file_anchor is not None or any(d.anchor is not None for d in parsed.defs):
                held.append(result)
            else:
                index_file(result, {}, set())
        held.sort(key=lambda item: item.path)
        sites = [
            site
            for result in held
            for site in anchor_sites(result.path, result.parsed, result.path.rsplit("/", 1)[-1])  # type: ignore[arg-type]
        ]
        verdict = settle_anchors(sites, {}, {result.path for result in held}, lambda anchor, path: False)
        for site in sites:
            if site.anchor in taken.ids:  # handed out as a fresh id before this anchor's file came
                verdict[(site.path, site.index)] = False
        winners = {site.anchor for site in sites if verdict[(site.path, site.index)]}
        taken.ids.update(site.anchor for site in sites)
        held.reverse()
        while held:  # popped: each file's parse result is dropped once it is written
            index_file(held.pop(), verdict, winners)
        _flush(store, sink)
        unknown = set(sink.node_counts) - set(NODE_TYPES)
        if unknown:  # what the nodes table's CHECK constraint (off during the load) refuses
            raise StoreError(f"node types {sorted(unknown)!r} are not in the nodes table's {NODE_TYPES!r}")
        # Parents decided at resolution time (Go: a method's receiver type in another file).
        parents = symbols.parents(set(symbols.files))
        if parents:
            store.set_parents(parents)
        # A helper thread runs the SQL while this one resolves calls and imports: first the
        # nodes' indexes and the parent_of edges (read from the nodes table), then the calls and
        # imports, a chunk at a time, each sorted by key (one statement each, which SQLite runs
        # without Python's lock); the queue is short: the tree's edges are never all in memory.
        edge_counts = dict.fromkeys(EDGE_TYPES, 0)  # every edge is unique: its source is in its file
        edge_counts["parent_of"] = sum(sink.node_counts.values()) - sink.node_counts["file"]
        node_indexes = [sql for sql in rebuild if _table_of(sql) == "nodes"]
        writer = SerialWriter()
        writer.submit(_write_known, store, node_indexes)
        try:
            chunk: list[tuple[str, str, str, str]] = []
            for path in sorted(symbols.files):
                calls, imports = symbols.resolve_file(path)
                edge_counts["calls"] += len(calls)
                edge_counts["imports"] += len(imports)
                chunk.extend(map(add, calls, repeat(("calls", path))))  # (source, target, kind, path)
                chunk.extend(map(add, imports, repeat(("imports", path))))
                if len(chunk) >= EDGE_CHUNK:
                    writer.submit(store.insert_edges_json, _EDGES_JSON(chunk))
                    chunk = []
            if chunk:
                writer.submit(store.insert_edges_json, _EDGES_JSON(chunk))
            del chunk
        finally:
            writer.finish()
        store.create_indexes([sql for sql in rebuild if sql not in node_indexes])
        final = [change for _, change in sorted(sink.changes.items())]
        if on_changes is not None and final:
            on_changes(final)  # same transaction: the index and its events commit together
    nodes: dict[str, int] = {node_type: sink.node_counts.get(node_type, 0) for node_type in NODE_TYPES}
    return sink.anchors_added, final, (nodes, edge_counts, sink.files)


def _table_of(index_sql: str) -> str:
    """The table of a ``CREATE INDEX name ON table (...)`` statement."""
    return index_sql.split(" ON ", 1)[1].split("(", 1)[0].strip().strip('"')


def _write_known(store: Store, node_indexes: list[str]) -> None:
    store.create_indexes(node_indexes)
    store.insert_parent_edges()
