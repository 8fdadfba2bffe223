"""Ids and anchors for one buffer's text: the same rules the indexer applies to files.

The buffer is parsed (one file: cheap enough for the editor host), anchors in the text win,
nodes without an anchor are matched to the stored nodes of the same file by (qualname, type)
so the ids written into the buffer are the ones the index already knows; only truly new
nodes get fresh ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from remora_core.index.matching import FileIds, anchor_sites, assign_ids, settle_anchors
from remora_core.languages import language_of
from remora_core.parsing.anchors import (
    DEFAULT_ANCHOR_COLUMN,
    AnchorEdit,
    anchored_line,
    file_anchor_text,
    own_anchor_line,
)
from remora_core.parsing.model import ParsedFile
from remora_core.store.store import NodeRow, Store


class _Taken:
    """Ids a fresh id must avoid: handed out now, anchors in the buffer, then the database."""

    def __init__(self, store: Store | None, initial: set[str]) -> None:
        self.store = store
        self.ids = set(initial)

    def __contains__(self, node_id: object) -> bool:
        if node_id in self.ids:
            return True
        return self.store is not None and isinstance(node_id, str) and self.store.node(node_id) is not None

    def add(self, node_id: str) -> None:
        self.ids.add(node_id)


@dataclass(slots=True)
class BufferIds:
    """A parsed buffer, the id of each definition, and which ids are already in the index."""

    parsed: ParsedFile
    ids: FileIds
    known: set[str]  # ids that exist as nodes in the store
    rel_path: str = ""  # its language's anchor syntax and parser are used for the edits


def buffer_ids(data: bytes, rel_path: str, root: Path, store: Store | None) -> BufferIds:
    """Parse ``data`` (the buffer of ``rel_path`` in project ``root``) and give every node its id."""
    parsed = language_of(rel_path).parse(data)
    file_name = rel_path.rsplit("/", 1)[-1]
    sites = anchor_sites(rel_path, parsed, file_name)
    old_rows: Sequence[NodeRow] = store.nodes_in_file(rel_path) if store is not None else []
    known_rows = store.nodes({site.anchor for site in sites}) if store is not None and sites else {}

    def still_in_file(anchor: str, path: str) -> bool:
        try:
            return anchor.encode("ascii") in (root / path).read_bytes()
        except OSError:
            return False

    verdict = settle_anchors(sites, known_rows, {rel_path}, still_in_file)
    winners = {site.anchor for site in sites if verdict[(site.path, site.index)]}
    taken = _Taken(store, {site.anchor for site in sites})
    ids = assign_ids(rel_path, parsed, old_rows, verdict, set(), taken)  # type: ignore[arg-type]
    del winners
    return BufferIds(parsed, ids, {row.id for row in old_rows} | set(known_rows), rel_path)


@dataclass(frozen=True, slots=True)
class LineEdit:
    """One buffer change: replace line ``line`` (0-based), or insert a new line before it."""

    line: int
    text: str
    insert: bool = False

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "text": self.text, "insert": self.insert}


def _shape(parsed: ParsedFile, inserted: Sequence[int] = ()) -> list[tuple[str, str, int, int]]:
    """Kind, name and lines of each definition, its lines moved down by the lines inserted
    before them (``LineEdit.line`` of each insertion: 1-based lines after it move)."""

    def moved(line: int) -> int:
        return line + sum(1 for at in inserted if at < line)

    return [(d.node_type, d.qualname, moved(d.def_line), moved(d.end_line)) for d in parsed.defs]


def anchor_line_edits(
    lines: Sequence[str],
    rel_path: str,
    root: Path,
    store: Store | None,
    column: int = DEFAULT_ANCHOR_COLUMN,
) -> list[LineEdit]:
    """The line edits that add the anchors the buffer ``lines`` lacks (and re-id copied anchors).

    Existing anchors are never moved. Nothing is returned for a buffer with syntax errors, or
    when the edited text would not parse to the same definitions (the program never changes).
    Replacements come bottom-up first; the file-anchor insertion, if any, comes last.
    """
    data = "\n".join(lines).encode("utf-8")
    return edits_for(buffer_ids(data, rel_path, root, store), lines, column)


def edits_for(result: BufferIds, lines: Sequence[str], column: int = DEFAULT_ANCHOR_COLUMN) -> list[LineEdit]:
    """The anchor edits of an already parsed buffer (``result`` from ``buffer_ids`` of ``lines``):
    the line map computes them with its own parse, so a save needs no parse at all."""
    parsed = result.parsed
    if parsed.syntax_error or not result.ids.edits:
        return []
    language = language_of(result.rel_path)
    syntax = language.anchor
    edits: list[LineEdit] = []
    file_edit: AnchorEdit | None = None
    for edit in sorted(result.ids.edits, key=lambda item: item.line, reverse=True):
        if edit.is_file_anchor and edit.replaces is None:
            file_edit = edit
            continue
        index = edit.line - 1
        if not 0 <= index < len(lines):
            continue
        raw = lines[index].encode("utf-8")
        if edit.replaces is not None:
            at = raw.rfind(edit.replaces.encode("ascii"))
            if at < 0:
                continue
            new = raw[:at] + edit.node_id.encode("ascii") + raw[at + len(edit.replaces) :]
        elif syntax.own_line_after and raw.rstrip(b" \t\r").endswith(syntax.own_line_after):
            following = lines[index + 1].encode("utf-8") if index + 1 < len(lines) else None
            own = own_anchor_line(raw, following, edit.node_id, syntax)  # JS/TS: after an opener
            edits.append(LineEdit(index + 1, own.decode("utf-8"), insert=True))
            continue
        else:
            new = anchored_line(raw, edit.node_id, column, syntax)
        edits.append(LineEdit(index, new.decode("utf-8")))
    if file_edit is not None and syntax.file_inline:  # appended to its line (Go: the package clause)
        index = file_edit.line - 1
        if 0 <= index < len(lines):
            code = lines[index].rstrip(" \t")
            edits.append(LineEdit(index, f"{code} {file_anchor_text(file_edit.node_id, syntax)}"))
        file_edit = None
    if file_edit is not None:
        edits.append(LineEdit(file_edit.line - 1, file_anchor_text(file_edit.node_id, syntax), insert=True))
    new_lines = apply_line_edits(lines, edits)
    reparsed = language.parse("\n".join(new_lines).encode("utf-8"))
    inserted = [edit.line for edit in edits if edit.insert]
    if reparsed.syntax_error or _shape(reparsed) != _shape(parsed, inserted) or len(reparsed.calls) != len(parsed.calls):
        return []
    return edits


def apply_line_edits(lines: Sequence[str], edits: Sequence[LineEdit]) -> list[str]:
    """``lines`` with ``edits`` applied in order (what the Lua side does to the buffer)."""
    out = list(lines)
    for edit in edits:
        if edit.insert:
            out.insert(edit.line, edit.text)
        else:
            out[edit.line] = edit.text
    return out
