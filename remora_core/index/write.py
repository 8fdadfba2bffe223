"""The write transaction of one index pass: nodes, orphans, edges, files and the pass's
``on_changes`` callback (the TopologyChanged emitter) commit together or not at all."""

from __future__ import annotations

from collections.abc import Sequence

from remora_core.index.changes import Batch, FileChange, OnChanges
from remora_core.index.parse_pool import ParseResult
from remora_core.store.store import Store


def edge_diff(
    store: Store,
    wanted: list[tuple[str, str, str, str]],
    changed: set[str],
    deleted: set[str],
    affected: set[str],
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str, str]]]:
    """(edges to delete, edges to insert) so that the produced edges of these files are
    exactly ``wanted``: changed/deleted files own all their edges, affected files their
    calls/imports. Unchanged edges are not rewritten."""
    owned: dict[str, tuple[str, ...]] = {}
    for path in affected:
        owned[path] = ("calls", "imports")
    for path in changed | deleted:
        owned[path] = ("parent_of", "calls", "imports")
    existing = store.edges_of_files(owned)
    wanted_keys = {(source, target, kind): path for source, target, kind, path in wanted}
    # An edge now produced by another file (a moved node) is re-written with its new owner.
    stale = [key for key, path in existing.items() if wanted_keys.get(key) != path]
    fresh = sorted((*key, path) for key, path in wanted_keys.items() if existing.get(key) != path)
    return stale, fresh


def write_pass(
    store: Store,
    batch: Batch,
    orphaned: list[str],
    stale_edges: list[tuple[str, str, str]],
    new_edges: list[tuple[str, str, str, str]],
    deleted: list[str],
    touched: Sequence[ParseResult],
    now: float,
    store_empty: bool,
    final: list[FileChange],
    on_changes: OnChanges | None,
) -> None:
    """Write what ``batch`` collected in one transaction (a cold index drops and rebuilds the
    secondary indexes around the bulk insert)."""
    with store.transaction(check_foreign_keys=not store_empty):
        rebuild = store.drop_secondary_indexes(("nodes", "edges")) if store_empty else []
        store.put_nodes(sorted(batch.node_rows, key=lambda row: row.id))  # key order: B-tree appends
        store.orphan(orphaned, now)
        store.delete_edge_rows(stale_edges)
        store.put_edges(new_edges)
        store.put_files(batch.file_rows)
        store.delete_files(deleted)
        for result in touched:
            store.touch_file(result.path, result.mtime_ns, result.size)
        store.create_indexes(rebuild)
        if on_changes is not None and final:
            on_changes(final)  # same transaction: the index and its events commit together
