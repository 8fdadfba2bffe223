"""The per-buffer line map the Lua side resolves the node under the cursor from.

One entry per node, in document order (parents before children): 1-based start line
(decorators included), def line, end line, id (``None`` for a new node that has no anchor
and no stored match yet), type, name, qualname, parent index. Plus the anchor comments'
positions so the UI can dim or conceal them without searching the buffer itself, the index
problems (syntax errors) as diagnostics, and the anchor edits a save must apply.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from remora_core.editor.buffer_ids import buffer_ids, edits_for
from remora_core.parsing.anchors import (
    ANY_NODE_ANCHOR_RE,
    DEFAULT_ANCHOR_COLUMN,
    FILE_ANCHOR_RE,
    NODE_ANCHOR_RE,
)
from remora_core.store.store import Store

_WHERE = re.compile(r"at line (\d+), column (\d+)")
ANY_FILE_ANCHOR_RE = re.compile(rb"(?:#|//)[ \t]*remora-file:[ \t]*rm_[a-z0-9]{8}")


def problem_entries(problems: Sequence[str]) -> list[dict[str, Any]]:
    """Index problems as diagnostics: 1-based line, 0-based column, message (line 1 when unknown)."""
    entries: list[dict[str, Any]] = []
    for problem in problems:
        found = _WHERE.search(problem)
        line, col = (int(found.group(1)), int(found.group(2)) - 1) if found else (1, 0)
        entries.append({"line": line, "col": col, "message": problem})
    return entries


def _anchor_span(line: str, file_anchor: bool) -> tuple[int, int] | None:
    """Byte columns [start, end) of the anchor comment on ``line`` (with the spaces before it)."""
    raw = line.encode("utf-8")
    if file_anchor:
        match = FILE_ANCHOR_RE.match(raw)
        if match is None and b"remora-file:" in raw:  # appended to a line (Go's package clause)
            inline = ANY_FILE_ANCHOR_RE.search(raw)
            return (len(raw[: inline.start()].rstrip(b" \t")), inline.end()) if inline else None
        return (0, len(raw.rstrip(b"\r"))) if match else None
    found = list((NODE_ANCHOR_RE if b"//" not in raw else ANY_NODE_ANCHOR_RE).finditer(raw))
    if not found:
        return None
    start = len(raw[: found[-1].start()].rstrip(b" \t"))  # the padding goes too (~130 blanks)
    return start, found[-1].end()


def line_map(
    lines: Sequence[str], rel_path: str, root: Path, store: Store | None, column: int = DEFAULT_ANCHOR_COLUMN
) -> dict[str, Any]:
    """The line map of a buffer (see the module docstring); plain data, ready for msgpack. Also the
    anchor edits the buffer lacks (``edits``), so BufWritePre applies them without a parse."""
    data = "\n".join(lines).encode("utf-8")
    result = buffer_ids(data, rel_path, root, store)
    parsed, ids, known = result.parsed, result.ids, result.known
    nodes: list[dict[str, Any]] = []
    anchors: list[list[int]] = []
    file_known = parsed.file_anchor is not None or ids.file_id in known
    nodes.append(
        {
            "s": 1,
            "d": 1,
            "e": max(len(lines), 1),
            "id": ids.file_id if file_known else None,
            "type": "file",
            "name": rel_path.rsplit("/", 1)[-1],
            "qualname": rel_path,
            "parent": 0,
        }
    )
    if parsed.file_anchor_line is not None:
        span = _anchor_span(lines[parsed.file_anchor_line - 1], True)
        if span is not None:
            anchors.append([parsed.file_anchor_line, span[0], span[1]])
    for index, parsed_def in enumerate(parsed.defs):
        node_id = ids.def_ids[index]
        real = parsed_def.anchor == node_id or node_id in known
        nodes.append(
            {
                "s": parsed_def.start_line,
                "d": parsed_def.def_line,
                "e": parsed_def.end_line,
                "id": node_id if real else None,
                "type": parsed_def.node_type,
                "name": parsed_def.name,
                "qualname": parsed_def.qualname,
                "parent": parsed_def.parent + 2,  # 1-based Lua index; the file node is 1
            }
        )
        if parsed_def.anchor_line is not None and 0 < parsed_def.anchor_line <= len(lines):
            span = _anchor_span(lines[parsed_def.anchor_line - 1], False)
            if span is not None:
                anchors.append([parsed_def.anchor_line, span[0], span[1]])
    return {
        "path": rel_path,
        "line_count": len(lines),
        "nodes": nodes,
        "anchors": anchors,
        "syntax_error": parsed.syntax_error,
        "problems": problem_entries(parsed.problems),
        "edits": [edit.as_dict() for edit in edits_for(result, lines, column)],
    }
