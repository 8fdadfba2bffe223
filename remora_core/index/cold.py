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

import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from remora_core.index.changes import Batch, FileChange, OnChanges
from remora_core.index.matching import anchor_sites, settle_anchors
from remora_core.index.parse_pool import ParseResult
from remora_core.languages import ProjectSymbols
from remora_core.store.db import set_cache_size
from remora_core.store.store import Store

if TYPE_CHECKING:
    from remora_core.index.indexer import Indexer

# Rows are written every this many files (sorted by key within each flush).
FLUSH_FILES = 64
# SQLite's page cache during the build: the transaction's pages spill to the WAL beyond it
# (the connection's usual 64 MiB would all be dirty pages held until the commit).
COLD_CACHE_KIB = 8192


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


def _flush(store: Store, batch: Batch) -> None:
    store.put_nodes(sorted(batch.node_rows, key=lambda row: row.id))
    store.put_files(batch.file_rows)
    batch.node_rows.clear()
    batch.file_rows.clear()
    batch.home.clear()  # only orphan detection reads these: nothing is orphaned in a first index
    batch.claimed.clear()


def cold_build(
    indexer: Indexer,
    results: Iterable[ParseResult],
    inject: bool,
    errors: list[dict[str, str]],
    on_changes: OnChanges | None,
) -> tuple[int, list[FileChange]]:
    """Index ``results`` (every file of the tree, in any order) into an empty database;
    returns (anchors added, change records)."""
    store = indexer.store
    cache_kib = -int(store.connection.execute("PRAGMA cache_size").fetchone()[0])
    set_cache_size(store.connection, COLD_CACHE_KIB)
    try:
        return _build(indexer, store, results, inject, errors, on_changes)
    finally:
        if cache_kib > 0:
            set_cache_size(store.connection, cache_kib)


def _build(
    indexer: Indexer,
    store: Store,
    results: Iterable[ParseResult],
    inject: bool,
    errors: list[dict[str, str]],
    on_changes: OnChanges | None,
) -> tuple[int, list[FileChange]]:
    now = time.time()
    symbols = indexer.symbols = ProjectSymbols(indexer.root)
    taken = TakenIds(store)
    taken.check_store = False  # no rows at all: nothing to avoid but this run's ids
    batch = Batch(interface_changed=set())
    held: list[ParseResult] = []  # files holding anchors, settled once every file is parsed

    def index_file(result: ParseResult, verdict: dict[tuple[str, int], bool], winners: set[str]) -> None:
        indexer._index_file(result, [], {}, True, verdict, winners, taken, inject, errors, batch, now)
        if len(batch.file_rows) >= FLUSH_FILES:
            _flush(store, batch)

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
        handed_out = set(taken.ids)
        verdict = settle_anchors(sites, {}, {result.path for result in held}, lambda anchor, path: False)
        for site in sites:
            if site.anchor in handed_out:
                verdict[(site.path, site.index)] = False
        winners = {site.anchor for site in sites if verdict[(site.path, site.index)]}
        taken.ids.update(site.anchor for site in sites)
        held.reverse()
        while held:  # popped: each file's parse result is dropped once it is written
            index_file(held.pop(), verdict, winners)
        _flush(store, batch)
        # Parents decided at resolution time (Go: a method's receiver type in another file).
        parents = symbols.parents(set(symbols.files))
        if parents:
            store.set_parents(parents)
            batch.parent_edges = [
                (parents.get(child, parent), child, kind, path) for parent, child, kind, path in batch.parent_edges
            ]
        # Edges go in last and in key order: inserts at random places of the edges B-tree
        # cost 5x more once it outgrows the page cache.
        edges = batch.parent_edges
        for path in sorted(symbols.files):
            calls, imports = symbols.resolve_file(path)
            edges.extend((source, target, "calls", path) for source, target in calls)
            edges.extend((source, target, "imports", path) for source, target in imports)
        edges.sort()
        store.put_edges(edges)
        edges.clear()
        store.create_indexes(rebuild)
        final = [change for _, change in sorted(batch.changes.items())]
        if on_changes is not None and final:
            on_changes(final)  # same transaction: the index and its events commit together
    return batch.anchors_added, final
