"""Which id each parsed node gets. Pure functions over parse results and stored rows.

Rules (DESIGN.md, "The anchor"):
1. The anchor in the code is the source of truth: a node whose anchor is known under the
   same name keeps it, wherever it now lives (a moved node keeps its id).
2. When the same anchor appears more than once (copy-paste), the occurrence that stays
   where the database says the node lives keeps it; every other one gets a fresh id.
3. An anchor whose stored node has another name marks a rename: the node gets a fresh id
   and the old node is orphaned (renamed node = new node). Files are the exception: a renamed
   file keeps its file anchor (it moved).
4. A node without a usable anchor is matched to a stored node of the same file by
   (qualified name, type), in document order; otherwise it gets a fresh id.
Stored nodes nobody claimed are orphaned by the caller, never deleted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from remora_core.parsing.anchors import AnchorEdit
from remora_core.parsing.ids import new_node_id, new_node_ids
from remora_core.parsing.model import ParsedFile
from remora_core.store.store import NodeRow

FILE_INDEX = -1  # the file node's position in per-file lists


@dataclass(frozen=True, slots=True)
class AnchorSite:
    """One anchor found in the code: file, definition index (FILE_INDEX for the file anchor)."""

    path: str
    index: int
    anchor: str
    name: str
    line: int


@dataclass(slots=True)
class FileIds:
    """The ids given to one file's nodes and the anchor edits that would write them."""

    file_id: str
    def_ids: list[str]
    superseded: dict[int, str] = field(default_factory=dict)  # index -> anchor left in code
    edits: list[AnchorEdit] = field(default_factory=list)
    claimed: set[str] = field(default_factory=set)


def anchor_sites(path: str, parsed: ParsedFile, file_name: str) -> list[AnchorSite]:
    sites: list[AnchorSite] = []
    if parsed.file_anchor is not None:
        sites.append(AnchorSite(path, FILE_INDEX, parsed.file_anchor, file_name, parsed.file_anchor_line or 1))
    for index, parsed_def in enumerate(parsed.defs):
        if parsed_def.anchor is not None:
            sites.append(AnchorSite(path, index, parsed_def.anchor, parsed_def.name, parsed_def.anchor_line or 0))
    return sites


def settle_anchors(
    sites: Iterable[AnchorSite],
    known: Mapping[str, NodeRow],
    run_paths: set[str],
    still_in_file: Callable[[str, str], bool],
) -> dict[tuple[str, int], bool]:
    """For every anchor site: may it keep the id written in the code?

    ``known`` maps anchor ids to stored rows, ``run_paths`` are the files parsed in this run,
    ``still_in_file(anchor, path)`` tells whether a file outside the run still holds an anchor.
    """
    by_anchor: dict[str, list[AnchorSite]] = defaultdict(list)
    for site in sites:
        by_anchor[site.anchor].append(site)
    verdict: dict[tuple[str, int], bool] = {}
    for anchor, group in by_anchor.items():
        group.sort(key=lambda site: (site.path, site.line))
        row = known.get(anchor)
        winner: AnchorSite | None = None
        if row is None:
            winner = group[0]
        else:
            # A file anchor survives a file rename (the file moved); a definition's anchor does
            # not survive a rename of the definition (renamed node = new node).
            same_name = [site for site in group if site.name == row.name or site.index == FILE_INDEX]
            at_home = [site for site in same_name if site.path == row.file_path]
            if at_home:
                winner = at_home[0]
            elif same_name:
                left_behind = (
                    row.status == "active"
                    and row.file_path not in run_paths
                    and still_in_file(anchor, row.file_path)
                )
                winner = None if left_behind else same_name[0]
        for site in group:
            verdict[(site.path, site.index)] = site is winner
    return verdict


def assign_ids(
    path: str,
    parsed: ParsedFile,
    old_rows: Sequence[NodeRow],
    verdict: Mapping[tuple[str, int], bool],
    claimed_elsewhere: set[str],
    taken: set[str],
    *,
    with_edits: bool = True,
) -> FileIds:
    """Ids for one file's nodes. ``taken`` grows with every fresh id handed out.
    ``with_edits=False``: no anchor edits (a pass that writes no anchors)."""
    if not old_rows and parsed.file_anchor is None and all(d.anchor is None for d in parsed.defs):
        # A new file without anchors: every file of a first index.
        return _fresh_file(parsed, taken, with_edits)
    claimed: set[str] = set()
    by_superseded: dict[tuple[str, str], NodeRow] = {}
    pools: dict[tuple[str, str], list[NodeRow]] = defaultdict(list)
    orphan_pools: dict[tuple[str, str], list[NodeRow]] = defaultdict(list)
    file_row: NodeRow | None = None
    for row in old_rows:
        if row.node_type == "file":
            if row.status == "active" or file_row is None:
                file_row = row
            continue
        if row.superseded_anchor:
            by_superseded[(row.superseded_anchor, row.name)] = row
        target = pools if row.status == "active" else orphan_pools
        target[(row.qualname, row.node_type)].append(row)

    def fresh() -> str:
        node_id = new_node_id(taken)
        taken.add(node_id)
        return node_id

    def usable(row: NodeRow) -> bool:
        return row.id not in claimed and row.id not in claimed_elsewhere

    def fallback(key: tuple[str, str]) -> str | None:
        if not pools and not orphan_pools:  # a new file (every file of a first index)
            return None
        for pool in (pools, orphan_pools):
            for row in pool.get(key, ()):
                if usable(row):
                    return row.id
        return None

    # The file node.
    file_id: str | None = None
    edits: list[AnchorEdit] = []
    if parsed.file_anchor is not None and verdict.get((path, FILE_INDEX), False):
        file_id = parsed.file_anchor
    elif file_row is not None and usable(file_row):
        file_id = file_row.id
    if file_id is None:
        file_id = fresh()
    claimed.add(file_id)
    if parsed.file_anchor is None:
        edits.append(AnchorEdit(parsed.file_anchor_insert_line, file_id, is_file_anchor=True))
    elif parsed.file_anchor != file_id:
        edits.append(AnchorEdit(parsed.file_anchor_line or 1, file_id, replaces=parsed.file_anchor))

    # Anchored definitions that keep their id first, so fallbacks cannot take them.
    def_ids: list[str | None] = [None] * len(parsed.defs)
    for index, parsed_def in enumerate(parsed.defs):
        if parsed_def.anchor is not None and verdict.get((path, index), False):
            def_ids[index] = parsed_def.anchor
            claimed.add(parsed_def.anchor)
    superseded: dict[int, str] = {}
    for index, parsed_def in enumerate(parsed.defs):
        if def_ids[index] is not None:
            continue
        chosen: str | None = None
        if parsed_def.anchor is not None:
            superseded[index] = parsed_def.anchor
            previous = by_superseded.get((parsed_def.anchor, parsed_def.name))
            if previous is not None and usable(previous):
                chosen = previous.id
        else:
            chosen = fallback((parsed_def.qualname, parsed_def.node_type))
        if chosen is None:
            chosen = fresh()
        def_ids[index] = chosen
        claimed.add(chosen)
        if parsed_def.anchor is not None:
            edits.append(AnchorEdit(parsed_def.anchor_line or parsed_def.def_line, chosen, replaces=parsed_def.anchor))
        elif parsed_def.inject_line is not None:
            edits.append(AnchorEdit(parsed_def.inject_line, chosen))
    return FileIds(
        file_id=file_id,
        def_ids=[node_id for node_id in def_ids if node_id is not None],
        superseded=superseded,
        edits=edits if with_edits else [],
        claimed=claimed,
    )


def _fresh_file(parsed: ParsedFile, taken: set[str], with_edits: bool) -> FileIds:
    """``assign_ids`` of a file with no stored rows and no anchor: a fresh id for every node
    (drawn at once) and an anchor edit for every node that can take one."""
    file_id, *def_ids = new_node_ids(1 + len(parsed.defs), taken)
    claimed = {file_id, *def_ids}
    if isinstance(taken, set):
        taken.update(claimed)
    else:
        for node_id in claimed:
            taken.add(node_id)
    edits: list[AnchorEdit] = []
    if with_edits:
        edits.append(AnchorEdit(parsed.file_anchor_insert_line, file_id, is_file_anchor=True))
        edits.extend(
            AnchorEdit(parsed_def.inject_line, node_id)
            for parsed_def, node_id in zip(parsed.defs, def_ids, strict=True)
            if parsed_def.inject_line is not None
        )
    return FileIds(file_id=file_id, def_ids=def_ids, edits=edits, claimed=claimed)
