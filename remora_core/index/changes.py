"""Change detection of one index pass: what changed in each re-indexed file (the
``FileChange`` records every index path turns into ``TopologyChanged`` events), whether a file's
interface or edges changed (``compare_refs``), which rows must be rewritten and which ids are
orphaned. No file access and no writes."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from remora_core.index.refs import REF_LINES_RE
from remora_core.store.store import FileRow, NodeRow


@dataclass(slots=True)
class FileChange:
    """What one indexing pass changed in one file (the hub turns these into events)."""

    path: str
    added: list[str] = field(default_factory=list)  # ids new to this file
    removed: list[str] = field(default_factory=list)  # ids that moved to another file
    orphaned: list[str] = field(default_factory=list)  # ids orphaned (renamed, deleted)
    changed: list[str] = field(default_factory=list)  # ids kept whose source changed
    deleted: bool = False
    content_changed: bool = False  # the file's bytes changed (every re-parsed file)


OnChanges = Callable[[list[FileChange]], None]


@dataclass(slots=True)
class RefsVerdict:
    """How one re-indexed file's nodes and references compare with the stored ones."""

    interface_changed: bool  # what other files' resolution reads changed
    edges_unchanged: bool  # the file's own edges are the stored ones
    # The names whose meaning in this module changed (added, removed or re-bound nodes and
    # imports); None when the change can reach any name (class bases, a star import).
    names: set[str] | None = field(default_factory=set)


def compare_refs(
    old_rows: Sequence[NodeRow], old_refs: str | None, rows: Sequence[NodeRow], refs: str
) -> RefsVerdict:
    """The interface is what other files' resolution reads: the nodes (id, name, place) and
    the file's imports and class bases (re-exports, inheritance). The file's own edges are
    unchanged when the interface is and so is everything its resolution reads: the refs
    column without line numbers (no edge depends on a line)."""

    def nodes(group: Sequence[NodeRow]) -> set[tuple[str, str, str, str | None]]:
        return {(row.id, row.qualname, row.node_type, row.parent_id) for row in group}

    if old_refs is None:
        return RefsVerdict(True, False, None)
    changed_nodes = nodes(old_rows) ^ nodes(rows)
    names: set[str] | None = {
        qualname.rsplit(".", 1)[-1] for _, qualname, node_type, _ in changed_nodes if node_type != "file"
    }
    if any(node_type == "file" for _, _, node_type, _ in changed_nodes):
        names = None  # the module itself got another id
    if old_refs == refs or REF_LINES_RE.sub("]", old_refs) == REF_LINES_RE.sub("]", refs):
        # the usual edits: no JSON to decode
        return RefsVerdict(bool(changed_nodes), not changed_nodes, names)
    old_data, new_data = json.loads(old_refs), json.loads(refs)
    if old_data.get("bases", {}) != new_data.get("bases", {}):
        return RefsVerdict(True, False, None)  # inherited members: any name may resolve anew
    old_imports = [tuple(item[:4]) for item in old_data.get("imports", [])]
    new_imports = [tuple(item[:4]) for item in new_data.get("imports", [])]
    if old_imports != new_imports:
        moved = set(old_imports) ^ set(new_imports)
        if names is None or not moved or any(alias == "*" for *_, alias in moved):
            return RefsVerdict(True, False, None)  # reordered imports or a star import
        names |= {alias for *_, alias in moved}
        return RefsVerdict(True, False, names)
    return RefsVerdict(bool(changed_nodes), False, names)


def changed_rows(rows: list[NodeRow], old_rows: dict[str, list[NodeRow]]) -> list[NodeRow]:
    """Rows whose stored copy differs (timestamps aside): the others are not rewritten."""
    old = {row.id: row for group in old_rows.values() for row in group}

    def same(row: NodeRow) -> bool:
        previous = old.get(row.id)
        return previous is not None and row_key(previous) == row_key(row)

    return [row for row in rows if not same(row)]


def row_key(row: NodeRow) -> tuple[object, ...]:
    return row.values()[1:-2]  # everything but the id and the timestamps


@dataclass(slots=True)
class Batch:
    """What one pass collects file by file before it writes anything."""

    interface_changed: set[str]
    node_rows: list[NodeRow] = field(default_factory=list)
    file_rows: list[FileRow] = field(default_factory=list)
    parent_edges: list[tuple[str, str, str, str]] = field(default_factory=list)
    changes: dict[str, FileChange] = field(default_factory=dict)
    claimed: set[str] = field(default_factory=set)  # stored ids that live on (in any file)
    edges_unchanged: set[str] = field(default_factory=set)  # same nodes and references as stored
    # Names whose meaning changed in the files of interface_changed; None: any name may have.
    changed_names: set[str] | None = field(default_factory=set)
    home: dict[str, str] = field(default_factory=dict)  # id -> the file it now lives in
    anchors_added: int = 0


def orphans(old_rows: dict[str, list[NodeRow]], batch: Batch, deleted: set[str]) -> list[str]:
    """Ids of the stored active nodes nobody claimed (orphaned); ids that moved to another file
    are recorded as removed from their old file."""
    orphaned: list[str] = []
    for path, rows in old_rows.items():
        change = batch.changes.setdefault(path, FileChange(path, deleted=path in deleted))
        for row in rows:
            if row.status != "active":
                continue
            if row.id in batch.claimed:
                if batch.home.get(row.id, path) != path:
                    change.removed.append(row.id)
                continue
            orphaned.append(row.id)
            change.orphaned.append(row.id)
    return orphaned
