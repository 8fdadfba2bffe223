"""Index a project: discover, parse (in processes), assign ids, write anchors, store nodes and edges.

This module orchestrates one pass; change detection is ``index.changes``, the ``files.refs``
codec ``index.refs``, the write transaction ``index.write``.

Unchanged files (same mtime and size, or same bytes) are skipped, so a re-index of an
unchanged tree does no parsing at all. One ``Indexer`` can be kept alive (the hub does) so
that its symbol table is loaded from the database only once.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from remora_core.config_file import IndexOptions, IndexSettings
from remora_core.errors import FileChangedError, WriteRefusedError
from remora_core.fileio import bytes_hash, link_on_path, replace_checked, sweep_stale_temps
from remora_core.index.changes import Batch, FileChange, OnChanges, changed_rows, compare_refs, orphans
from remora_core.index.cold import TakenIds, add_file_symbols, cold_build
from remora_core.index.discovery import FoundFile, IgnoreRules, discover, is_skipped_dir
from remora_core.index.gcpause import GC_PAUSE_MIN_FILES, paused_gc
from remora_core.index.lock import index_lock
from remora_core.index.matching import FileIds, anchor_sites, assign_ids, settle_anchors
from remora_core.index.parse_pool import (
    ParseResult,
    SourceParser,
    parse_files,
    parse_one,
    references_json,
    worker_count,
)
from remora_core.index.refs import refs_json, symbols_from_refs
from remora_core.index.symbols import SymbolNode
from remora_core.index.totals import Totals, count_totals, forget_totals, unchanged_totals
from remora_core.index.write import edge_diff, write_pass
from remora_core.languages import ProjectSymbols, is_source, language_of, parse_source
from remora_core.parsing.anchors import apply_anchor_edits, inserted_lines
from remora_core.parsing.model import ParsedFile
from remora_core.store.store import FileRow, FileStat, NodeRow, Store

__all__ = ["FileChange", "IndexReport", "Indexer", "OnChanges"]  # FileChange / OnChanges: from changes

REEXPORT_HOPS = 5
# Timestamps are coarse (a few ms on Linux, 2 s on FAT): a file whose mtime is this close to the
# moment it was indexed is compared by content, not by mtime and size.
RACY_WINDOW_S = 2.0


@dataclass(slots=True)
class IndexReport:
    files: int
    nodes: dict[str, int]
    edges: dict[str, int]
    anchors_added: int
    orphaned: int
    errors: list[dict[str, str]]
    seconds: float
    changed_files: int = 0
    changes: list[FileChange] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "files": self.files,
            "nodes": self.nodes,
            "edges": self.edges,
            "anchors_added": self.anchors_added,
            "orphaned": self.orphaned,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "changed_files": self.changed_files,
        }


def _shape(parsed: ParsedFile, inserted: Sequence[int] = ()) -> list[tuple[str, str, int, int, int]]:
    """What anchors must not change: each definition's kind, name, parent and span (its lines
    moved down by the lines inserted before them: ``anchors.inserted_lines``)."""

    def moved(line: int) -> int:
        return line + sum(1 for at in inserted if at < line)

    return [(d.node_type, d.qualname, d.parent, moved(d.start_line), moved(d.end_line)) for d in parsed.defs]


def adopt_parents(batch: Batch, parents: dict[str, str]) -> None:
    """Give the rows and ``parent_of`` edges of ``batch`` the parents decided at resolution time."""
    if not parents:
        return
    for row in batch.node_rows:
        if row.id in parents:
            row.parent_id = parents[row.id]
    batch.parent_edges = [
        (parents.get(child, parent), child, kind, path) for parent, child, kind, path in batch.parent_edges
    ]


def _sort_results(
    results: list[ParseResult], known: dict[str, FileRow], errors: list[dict[str, str]]
) -> tuple[list[ParseResult], list[ParseResult]]:
    """(touched: same bytes as stored, only the file's stat changed; changed), by path; the
    parse problems and unreadable files go to ``errors``."""
    touched: list[ParseResult] = []
    changed: list[ParseResult] = []
    for result in sorted(results, key=lambda item: item.path):
        if result.parsed is None:
            errors.append({"path": result.path, "message": result.error or "unreadable"})
            continue
        errors.extend({"path": result.path, "message": problem} for problem in result.parsed.problems)
        if (row := known.get(result.path)) is not None and row.content_hash == result.content_hash:
            touched.append(result)
        else:
            changed.append(result)
    return touched, changed


class Indexer:
    """Keeps one project's index in step with its files."""

    def __init__(self, root: Path, store: Store, config: IndexOptions | None = None) -> None:
        self.root = root.resolve()
        self.store = store
        self.config: IndexOptions = config or IndexSettings()
        self.symbols: ProjectSymbols | None = None
        # Replaces Python's parser for files parsed in this process: the hub sets an
        # IncrementalParser's ``parse``, which reuses the previous parse of an edited file.
        self.source_parser: SourceParser | None = None
        # A first index (empty database) streams each parsed file into the database as it
        # arrives (``index.cold``); False: the general path (kept to compare the two in tests).
        self.stream_cold = True
        # One shared tuple per distinct parameter list (``(self,)`` is most methods'): a tuple
        # of names costs a quarter of a frozenset's memory and reads as fast for a handful.
        self._param_sets: dict[tuple[str, ...], tuple[str, ...]] = {}  # class bases too
        self._names: dict[str, str] = {}  # definition names shared by the symbol table (cold.py)

    # -- public ------------------------------------------------------------------------
    def index(
        self,
        *,
        inject: bool | None = None,
        paths: Iterable[str] | None = None,
        totals: bool = True,
        on_changes: OnChanges | None = None,
    ) -> IndexReport:
        """Bring the index up to date. ``paths`` limits the pass to those files (the hub's
        changed files, relative to the root); otherwise the whole tree is discovered.
        ``totals=False`` skips counting the whole index for the report (the hub's hot path).
        ``on_changes`` runs inside the pass's write transaction with the changed files, so
        whatever it writes (the hub's events) commits atomically with the index.
        Holds the project's index lock for the whole pass."""
        with index_lock(self.root):
            return self._index(inject, paths, totals, on_changes)

    def load_symbols(self) -> None:
        """Load the symbol table now (seconds on a big tree) instead of on the first change."""
        if self.symbols is None:
            self.symbols = self._load_symbols(set())

    def _index(
        self, inject: bool | None, paths: Iterable[str] | None, totals: bool, on_changes: OnChanges | None
    ) -> IndexReport:
        started = time.perf_counter()
        inject = self.config.inject if inject is None else inject
        sweep_stale_temps(self.root)  # of a pass killed while writing anchors
        store_empty = not self.store.has_files()
        verified: list[FoundFile] = []  # racy rows whose bytes were hashed and found unchanged
        pass_time = time.time()
        stats: dict[str, FileStat] = {}
        if paths is None:
            # The stat columns of every row; the whole rows (their refs are most of the table)
            # only of the files that changed or went.
            stats = self.store.file_stats()
            found = discover(self.root, self.config.exclude)
            found_paths = {item.path for item in found}
            deleted = sorted(path for path in stats if path not in found_paths)
            to_parse = [item for item in found if self._maybe_changed(item, stats.get(item.path), verified)]
            reread = [item.path for item in to_parse if item.path in stats] + deleted
            known = self.store.file_rows(reread) if reread else {}
        else:
            wanted = sorted(set(paths))
            known = self.store.file_rows(wanted)
            found, deleted = self._check_paths(wanted, known)
            to_parse = [item for item in found if self._maybe_changed(item, known.get(item.path), verified)]
        self._mark_verified(verified, pass_time)
        errors: list[dict[str, str]] = []
        changes: list[FileChange] = []
        anchors_added = 0
        orphaned_count = 0
        cold_totals: Totals | None = None  # a first index counts its rows as it writes them
        if to_parse or deleted:
            with paused_gc(len(to_parse) >= GC_PAUSE_MIN_FILES):
                results = parse_files(
                    str(self.root),
                    [item.path for item in to_parse],
                    [item.size for item in to_parse],
                    worker_count(self.config.workers),
                    self.source_parser,
                    inject,
                )
                if store_empty and not deleted and self.stream_cold and not self.store.has_nodes():
                    anchors_added, changes, cold_totals = cold_build(self, results, inject, errors, on_changes)
                else:
                    anchors_added, orphaned_count, changes = self._apply(
                        list(results), deleted, known, store_empty, inject, errors, on_changes
                    )
        nodes: dict[str, int] = {}
        edges: dict[str, int] = {}
        total_files = 0
        if totals and paths is None and not to_parse and not deleted:
            nodes, edges, total_files = unchanged_totals(self.store, stats)  # every row as it was
        elif totals and cold_totals is not None and paths is None:
            nodes, edges, total_files = cold_totals
        elif totals:
            nodes, edges, total_files = count_totals(self.store)
        return IndexReport(
            files=total_files,
            nodes=nodes,
            edges=edges,
            anchors_added=anchors_added,
            orphaned=orphaned_count,
            errors=sorted(errors, key=lambda item: (item["path"], item["message"])),
            seconds=time.perf_counter() - started,
            changed_files=len(changes),
            changes=changes,
        )

    # -- steps -------------------------------------------------------------------------
    def _maybe_changed(self, item: FoundFile, row: FileRow | FileStat | None, verified: list[FoundFile]) -> bool:
        """Whether a file must be re-read. Same mtime and size means unchanged, except when the
        mtime is so close to the moment it was indexed that a second write within the file
        system's timestamp granularity could hide behind it ("racy clean", as in git): then the
        bytes are hashed and compared; unchanged ones go to ``verified``."""
        if row is None or row.mtime_ns != item.mtime_ns or row.size != item.size:
            return True
        if item.mtime_ns < (row.indexed_at - RACY_WINDOW_S) * 1e9:
            return False
        try:
            data = (self.root / item.path).read_bytes()
        except OSError:
            return True
        if bytes_hash(data) != row.content_hash:
            return True
        verified.append(item)
        return False

    def _mark_verified(self, verified: list[FoundFile], pass_time: float) -> None:
        """A racy row stays racy until its file is indexed again: a file saved just before it was
        indexed, or whose anchors the pass wrote, would be hashed by every later pass. Its
        bytes were just found unchanged, after ``pass_time``: when its mtime is older than that
        by more than the racy window, no later write can hide behind it, so the row is marked
        as checked at ``pass_time`` (the next pass trusts its mtime and size)."""
        settled = [item.path for item in verified if item.mtime_ns < (pass_time - RACY_WINDOW_S) * 1e9]
        if not settled:
            return
        with self.store.transaction():
            self.store.set_indexed_at(settled, pass_time)

    def _check_paths(
        self, paths: Iterable[str], known: dict[str, FileRow]
    ) -> tuple[list[FoundFile], list[str]]:
        rules = IgnoreRules(self.root, self.config.exclude)
        found: list[FoundFile] = []
        deleted: list[str] = []
        for path in sorted(set(paths)):
            parts = path.split("/")
            skipped = any(
                is_skipped_dir(part, os.path.join(self.root, *parts[: depth + 1]))
                for depth, part in enumerate(parts[:-1])
            )
            full = self.root / path
            if (
                skipped
                or not is_source(path)
                or rules.ignored(path, False)
                or link_on_path(self.root, path) is not None  # a link is never followed
                or not full.is_file()
            ):
                if path in known:
                    deleted.append(path)
                continue
            stat = full.stat()
            found.append(FoundFile(path, stat.st_mtime_ns, stat.st_size))
        return found, deleted

    def _load_symbols(self, skip: set[str]) -> ProjectSymbols:
        table = ProjectSymbols(self.root)
        nodes = {
            node_id: SymbolNode(node_id, node_type, name, file_path, parent_id)
            for node_id, node_type, name, file_path, parent_id in self.store.active_nodes()
        }
        for path, file_id, refs in self.store.file_refs():
            if path in skip:
                continue
            symbols, symbol_nodes = symbols_from_refs(
                path, file_id, json.loads(refs), nodes, self._param_sets, self._names
            )
            table.add_file(symbols, symbol_nodes)
        return table

    def _apply(
        self,
        results: list[ParseResult],
        deleted: list[str],
        known: dict[str, FileRow],
        store_empty: bool,
        inject: bool,
        errors: list[dict[str, str]],
        on_changes: OnChanges | None = None,
    ) -> tuple[int, int, list[FileChange]]:
        now = time.time()
        store = self.store
        touched, changed = _sort_results(results, known, errors)
        changed = self._with_package_siblings(changed, deleted, known)
        if not changed and not deleted:
            with store.transaction():
                for result in touched:
                    store.touch_file(result.path, result.mtime_ns, result.size)
            return 0, 0, []

        changed_paths = {result.path for result in changed}
        if self.symbols is None:
            self.symbols = ProjectSymbols(self.root) if store_empty else self._load_symbols(changed_paths | set(deleted))
        symbols = self.symbols

        # Anchors: who keeps the id written in the code.
        sites = [
            site
            for result in changed
            for site in anchor_sites(result.path, result.parsed, result.path.rsplit("/", 1)[-1])  # type: ignore[arg-type]
        ]
        # Old state, for anchors, orphans and importer lookups, read before anything is written.
        no_nodes = store_empty and not store.has_nodes()
        old_rows = {result.path: [] if no_nodes else store.nodes_in_file(result.path) for result in changed}
        for path in deleted:
            old_rows[path] = store.nodes_in_file(path)
        # The stored rows of the anchors found: mostly this file's own rows (read above).
        wanted = {site.anchor for site in sites}
        known_rows = {row.id: row for rows in old_rows.values() for row in rows if row.id in wanted}
        if not no_nodes and len(known_rows) < len(wanted):
            known_rows.update(store.nodes(wanted - known_rows.keys()))

        def still_in_file(anchor: str, path: str) -> bool:
            try:
                return anchor.encode("ascii") in (self.root / path).read_bytes()
            except OSError:
                return False

        verdict = settle_anchors(sites, known_rows, changed_paths, still_in_file)
        winners = {site.anchor for site in sites if verdict[(site.path, site.index)]}
        taken = TakenIds(store)
        taken.check_store = not no_nodes  # orphaned rows outlive their files: never reuse their ids
        taken.ids.update(site.anchor for site in sites)

        batch = Batch(interface_changed=set(deleted))
        for result in changed:
            self._index_file(
                result,
                old_rows[result.path],
                known,
                store_empty,
                verdict,
                winners,
                taken,
                inject,
                errors,
                batch,
                now,
            )
        adopt_parents(batch, symbols.parents(changed_paths))  # Go: receiver types in other files
        orphaned = orphans(old_rows, batch, set(deleted))
        for path in deleted:
            symbols.remove_file(path)

        importers: set[str] = set()
        if batch.interface_changed and not store_empty:
            importers = self._affected_importers(batch, known, old_rows, changed_paths, deleted)

        # Edges: parent_of for changed files, calls/imports for every affected file. A file whose
        # nodes and references are as stored keeps its edges, unless some file's interface
        # changed (its names may resolve differently now): the usual edit inside a body.
        unchanged = set() if batch.interface_changed else batch.edges_unchanged
        edge_owners = changed_paths - unchanged
        affected = (edge_owners | importers) - set(deleted)
        if deleted or any(path not in known for path in changed_paths):
            came_or_went = {*deleted, *(p for p in changed_paths if p not in known)}
            affected |= self._module_dependents(came_or_went)
            if any(path.rsplit("/", 1)[-1] == "__init__.py" for path in came_or_went):
                # A package became a namespace package or back: the module names of everything
                # below it changed, and any file may have spelled one of them.
                affected |= set(symbols.files)
        affected &= set(symbols.files)
        resolved: list[tuple[str, str, str, str]] = []
        for path in sorted(affected):
            calls, imports = symbols.resolve_file(path)
            resolved.extend((source, target, "calls", path) for source, target in calls)
            resolved.extend((source, target, "imports", path) for source, target in imports)

        if store_empty:
            stale_edges: list[tuple[str, str, str]] = []
            new_edges = sorted(batch.parent_edges + resolved)
        else:
            batch.node_rows = changed_rows(batch.node_rows, old_rows)
            parent_edges = [edge for edge in batch.parent_edges if edge[3] not in unchanged]
            stale_edges, new_edges = edge_diff(store, parent_edges + resolved, edge_owners, set(deleted), affected)
        final = [
            change
            for _, change in sorted(batch.changes.items())
            if change.content_changed or change.added or change.removed or change.orphaned or change.deleted
        ]
        forget_totals(store)
        write_pass(
            store, batch, orphaned, stale_edges, new_edges, deleted, touched, now, store_empty, final, on_changes
        )
        return batch.anchors_added, len(orphaned), final

    def _with_package_siblings(
        self, changed: list[ParseResult], deleted: list[str], known: dict[str, FileRow]
    ) -> list[ParseResult]:
        """``changed`` and the unchanged files of each directory where a file whose methods may
        belong to types of other files (``Language.parents_across_files``: Go) gained, lost or
        renamed a type, or came or went: parsed again (their rows put in ``known``), so that
        the parents of their methods follow the types."""
        directories: set[str] = set()
        for result in changed:
            if not language_of(result.path).parents_across_files or result.parsed is None:
                continue
            stored = self.store.nodes_in_file(result.path, active_only=True)
            old = {row.qualname for row in stored if row.node_type == "class"}
            new = {parsed.qualname for parsed in result.parsed.defs if parsed.node_type == "class"}
            if old != new:
                directories.add(os.path.dirname(result.path))
        directories.update(os.path.dirname(path) for path in deleted if language_of(path).parents_across_files)
        if not directories:
            return changed
        taken = {result.path for result in changed} | set(deleted)
        paths = sorted(
            path
            for path in self.store.file_stats()
            if os.path.dirname(path) in directories and path not in taken and language_of(path).parents_across_files
        )
        if not paths:
            return changed
        known.update(self.store.file_rows(paths))
        # Never through a link, and only files whose bytes are still the stored ones (one that
        # changed meanwhile is indexed by its own pass, with the checks a changed file gets).
        results = [
            parse_one(str(self.root), path, self.source_parser)
            for path in paths
            if path in known and link_on_path(self.root, path) is None
        ]
        siblings = [
            result
            for result in results
            if result.parsed is not None and result.content_hash == known[result.path].content_hash
        ]
        return sorted(changed + siblings, key=lambda item: item.path)

    def _affected_importers(
        self,
        batch: Batch,
        known: dict[str, FileRow],
        old_rows: dict[str, list[NodeRow]],
        changed_paths: set[str],
        deleted: list[str],
    ) -> set[str]:
        """Files that may resolve differently now: importers of and callers into every file
        whose interface (nodes, imports, bases) changed. A body-only edit affects no other file."""
        store, symbols = self.store, self.symbols
        assert symbols is not None
        mentioning: set[str] | None = None
        if batch.changed_names is not None and not deleted and all(path in known for path in changed_paths):
            # Resolving a name in another module looks up each segment of what the caller
            # wrote (and the bases of the classes it goes through): a file whose calls,
            # imports and bases name none of the changed names, nor a class inheriting from
            # one, resolves exactly as before (adding a function to a module imported everywhere).
            # Those files are found first (an inverted index): when there are none, or all of
            # them import the changed files directly, the import closure is not walked further.
            mentioning = symbols.mentioning(symbols.through_bases(batch.changed_names))
            if not mentioning:
                return set()
        importers = self._importers((path for path in batch.interface_changed if path in known), mentioning)
        if mentioning is None or not mentioning <= importers:
            importers |= store.caller_files(
                row.id
                for path in batch.interface_changed
                for row in old_rows.get(path, ())
                if row.status == "active"
            )
        return importers if mentioning is None else importers & mentioning

    def _index_file(
        self,
        result: ParseResult,
        old_rows: list[NodeRow],
        known: dict[str, FileRow],
        store_empty: bool,
        verdict: dict[tuple[str, int], bool],
        winners: set[str],
        taken: TakenIds,
        inject: bool,
        errors: list[dict[str, str]],
        batch: Batch,
        now: float,
    ) -> None:
        """Ids, anchors, rows, symbols and change record of one re-parsed file, into ``batch``."""
        parsed = result.parsed
        assert parsed is not None and self.symbols is not None
        ids = assign_ids(result.path, parsed, old_rows, verdict, winners, taken, with_edits=inject)  # type: ignore[arg-type]
        result, parsed, added = self._anchor_step(result, parsed, ids, inject, errors)
        batch.anchors_added += added
        batch.claimed |= ids.claimed
        rows = self._rows_for(result.path, parsed, ids, old_rows, now)
        batch.node_rows.extend(rows)
        batch.parent_edges.extend(
            (row.parent_id, row.id, "parent_of", result.path) for row in rows if row.parent_id is not None
        )
        refs = refs_json(ids, result.refs_body or references_json(parsed))
        batch.file_rows.append(
            FileRow(
                result.path,
                ids.file_id,
                result.mtime_ns,
                result.size,
                result.content_hash,
                refs,
                json.dumps(parsed.problems),
                now,
            )
        )
        old_active = [row for row in old_rows if row.status == "active"]
        old_hashes = {row.id: row.source_hash for row in old_active}
        change = batch.changes.setdefault(result.path, FileChange(result.path, content_changed=True))
        change.added = sorted(row.id for row in rows if row.id not in old_hashes)
        change.changed = sorted(
            row.id for row in rows if row.id in old_hashes and old_hashes[row.id] != row.source_hash
        )
        old_refs = known[result.path].refs if result.path in known else None
        if not store_empty:
            refs_verdict = compare_refs(old_active, old_refs, rows, refs)
            if refs_verdict.interface_changed:
                batch.interface_changed.add(result.path)
                if batch.changed_names is not None:
                    batch.changed_names = None if refs_verdict.names is None else batch.changed_names | refs_verdict.names
            elif refs_verdict.edges_unchanged:
                batch.edges_unchanged.add(result.path)
        add_file_symbols(self, result.path, parsed, ids.file_id, ids.def_ids, [row.parent_id for row in rows[1:]])
        for row in rows:
            batch.home[row.id] = result.path

    def _anchor_step(
        self, result: ParseResult, parsed: ParsedFile, ids: FileIds, inject: bool, errors: list[dict[str, str]]
    ) -> tuple[ParseResult, ParsedFile, int]:
        """With ``inject``: the definitions that cannot take an anchor go to ``errors`` and the
        anchors of ``ids`` are written to the file; (result, parse) of the file as it now is,
        anchors added."""
        if not inject or parsed.syntax_error:
            return result, parsed, 0
        errors.extend(
            {
                "path": result.path,
                "message": f"{d.qualname!r} (line {d.def_line}): no line of its header can take an anchor "
                "without changing the program (type comment, backslash or string); matched by name",
            }
            for d in parsed.defs
            if d.anchor is None and d.inject_line is None
        )
        if not ids.edits:
            return result, parsed, 0
        written = self._write_anchors(result, parsed, ids, errors)
        if written is None:
            return result, parsed, 0
        return written[1], written[0], sum(1 for edit in ids.edits if edit.replaces is None)

    def _importers(self, paths: Iterable[str], wanted: set[str] | None = None) -> set[str]:
        """Files that import (directly or through up to REEXPORT_HOPS re-exports) these files:
        by their stored ``imports`` edges, and by module name, because ``from pkg import sub``
        links to the submodule's file yet reads ``pkg``'s namespace (a name bound there later
        shadows the submodule). With ``wanted``, the walk stops once it found all of those (the
        caller keeps only them)."""
        found: set[str] = set()
        frontier = set(paths)
        for _ in range(REEXPORT_HOPS):
            if not frontier or (wanted is not None and wanted <= found):
                break
            file_ids = [file_id for path in frontier if (file_id := self._file_id(path)) is not None]
            frontier = (self.store.importer_files(file_ids) | self._module_dependents(frontier)) - found
            found |= frontier
        return found

    def _file_id(self, path: str) -> str | None:
        """A file's id: from the symbol table when loaded (no query), else from the store."""
        if self.symbols is not None and path in self.symbols.files:
            return self.symbols.files[path].file_id
        row = self.store.file_row(path)
        return row.file_id if row is not None else None

    def _module_dependents(self, paths: set[str]) -> set[str]:
        """Files whose import statements could name one of ``paths`` (Python: any dotted segment of
        the imported module, or the imported name, is one of their module names' last parts; each
        language decides: ``Resolver.dependents``)."""
        assert self.symbols is not None
        return self.symbols.dependents(paths)

    def _write_anchors(
        self, result: ParseResult, parsed: ParsedFile, ids: FileIds, errors: list[dict[str, str]]
    ) -> tuple[ParsedFile, ParseResult] | None:
        full = self.root / result.path
        try:
            data = full.read_bytes()
            if bytes_hash(data) != result.content_hash:
                raise FileChangedError(
                    f"{str(full)!r} changed on disk while it was indexed; anchors not written"
                )
            language = language_of(result.path)
            if parsed.compiles is None and not language.compiles(parsed, data):
                errors.append({"path": result.path, "message": parsed.problems[0]})
                return None
            new_data = language.after_anchors(
                data, apply_anchor_edits(data, ids.edits, self.config.anchor_column, language.anchor)
            )
            # Python: the hub's incremental parser, when set: anchors only touch comments, and the
            # pass the hub runs on seeing this write then finds these bytes already parsed.
            reparsed = parse_source(result.path, new_data, self.source_parser)
            inserted = inserted_lines(data, ids.edits, language.anchor)
            if _shape(reparsed) != _shape(parsed, inserted) or len(reparsed.calls) != len(parsed.calls):
                raise FileChangedError(
                    f"{str(full)!r}: writing anchors would change its structure; not written"
                )
            stat = replace_checked(full, new_data, result.content_hash, root=self.root)
        except (FileChangedError, WriteRefusedError, OSError) as error:
            message = f"cannot write anchors: {error}" if isinstance(error, OSError) else str(error)
            errors.append({"path": result.path, "message": message})
            return None
        return reparsed, ParseResult(
            result.path, bytes_hash(new_data), stat.st_mtime_ns, stat.st_size, reparsed
        )

    def _rows_for(
        self, path: str, parsed: ParsedFile, ids: FileIds, old: Sequence[NodeRow], now: float
    ) -> list[NodeRow]:
        created = {row.id: row.created_at for row in old}
        rows = [
            NodeRow(
                id=ids.file_id,
                node_type="file",
                name=path.rsplit("/", 1)[-1],
                qualname=path,
                file_path=path,
                start_line=1,
                def_line=1,
                end_line=max(parsed.line_count, 1),
                parent_id=None,
                source_hash=parsed.source_hash,
                status="active",
                superseded_anchor=None,
                created_at=created.get(ids.file_id, now),
                updated_at=now,
            )
        ]
        for index, parsed_def in enumerate(parsed.defs):
            node_id = ids.def_ids[index]
            rows.append(
                NodeRow(
                    id=node_id,
                    node_type=parsed_def.node_type,
                    name=parsed_def.name,
                    qualname=parsed_def.qualname,
                    file_path=path,
                    start_line=parsed_def.start_line,
                    def_line=parsed_def.def_line,
                    end_line=parsed_def.end_line,
                    parent_id=ids.file_id if parsed_def.parent < 0 else ids.def_ids[parsed_def.parent],
                    source_hash=parsed_def.source_hash,
                    status="active",
                    superseded_anchor=ids.superseded.get(index) if parsed_def.anchor != node_id else None,
                    created_at=created.get(node_id, now),
                    updated_at=now,
                )
            )
        return rows
