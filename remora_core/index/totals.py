"""The totals of an index pass's report (active nodes and edges by type, indexed files) without
counting the whole index again on a pass that changed nothing: counting is a scan of the nodes
and edges tables, most of a no-change re-index of a big tree.

The totals are kept in the ``meta`` table with a fingerprint of every indexed file's path and
content hash (what the index is a function of). They are used only when the fingerprint still
matches, and every pass that writes drops them first, so a stale figure is never reported."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from remora_core.store.store import FileStat, Store

TOTALS_KEY = "index_totals"

Totals = tuple[dict[str, int], dict[str, int], int]  # (active nodes by type, edges by type, files)


def fingerprint(stats: Mapping[str, FileStat]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    digest.update("\n".join(f"{path}\0{stats[path].content_hash}" for path in sorted(stats)).encode())
    return digest.hexdigest()


def count_totals(store: Store) -> Totals:
    nodes, edges, _ = store.counts()
    return nodes, edges, store.file_count()


def unchanged_totals(store: Store, stats: Mapping[str, FileStat]) -> Totals:
    """The totals of an index whose files are ``stats`` (all of them, as stored), from the
    cache when it matches, else counted and cached."""
    key = fingerprint(stats)
    raw = store.meta(TOTALS_KEY)
    if raw:
        try:
            cached = json.loads(raw)
            if cached["fingerprint"] == key:
                return dict(cached["nodes"]), dict(cached["edges"]), int(cached["files"])
        except (ValueError, KeyError, TypeError):
            pass  # not ours, or damaged: counted again below
    nodes, edges, files = count_totals(store)
    with store.transaction():
        store.set_meta(TOTALS_KEY, json.dumps({"fingerprint": key, "nodes": nodes, "edges": edges, "files": files}))
    return nodes, edges, files


def forget_totals(store: Store) -> None:
    """Before a pass writes: the cached totals no longer hold."""
    if store.meta(TOTALS_KEY):
        with store.transaction():
            store.set_meta(TOTALS_KEY, "")
