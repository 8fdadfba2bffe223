"""Anchor comments in JavaScript / TypeScript: ``// rm_xxxxxxxx`` at the end of a definition
line, ``// remora-file: rm_xxxxxxxx`` as the file anchor line.

The same rules as Python's ``#`` anchors (``remora_core.parsing.anchors``), with ``//``: the
anchor-insensitive hash ignores them, a new node anchor follows the code after ONE space (what
prettier prints for a trailing line comment, so a prettier-clean file stays clean) and the file
anchor goes on line 1, or line 2 after a ``#!`` line. A comment before a ``"use strict"`` /
``'use client'`` directive keeps it a directive (ECMA-262: the directive prologue is the
leading string-literal statements; comments are not statements).
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterable, Sequence

from remora_core.parsing.anchors import BOM, AnchorEdit, split_lines

NODE_ANCHOR_RE = re.compile(rb"//[ \t]*(rm_[a-z0-9]{8})(?![a-z0-9_])")
FILE_ANCHOR_RE = re.compile(rb"^(?:\xef\xbb\xbf)?[ \t]*//[ \t]*remora-file:[ \t]*(rm_[a-z0-9]{8})[ \t]*\r?$")
# An anchor comment after a definition's last token (only blanks, ';' or ',' between).
TRAILING_ANCHOR_RE = re.compile(rb"[ \t;,]*(//[ \t]*(rm_[a-z0-9]{8}))(?![a-z0-9_])")
# A line whose code ends with one of these opens a block: the anchor goes on its own line
# after it (a trailing comment there is moved to the next line by prettier).
OPENERS = (b"{", b"(", b"[", b"=>")
_STRIP_RE = re.compile(rb"//[ \t]*(?:remora-file:[ \t]*)?rm_[a-z0-9]{8}(?![a-z0-9_])")
FILE_ANCHOR_SCAN_LINES = 5


def strip_spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every anchor comment with the blanks before it, in order."""
    spans: list[tuple[int, int]] = []
    floor = 0
    for match in _STRIP_RE.finditer(data):
        start = match.start()
        if start > floor and data[start - 1] in b" \t":
            start = floor + len(data[floor:start].rstrip(b" \t"))
        if start > floor and data[start - 1] == 0x0A and data[match.end() : match.end() + 1] in (b"\n", b"\r"):
            start -= 2 if start - 1 > floor and data[start - 2] == 0x0D else 1  # a line of its own: all of it
        spans.append((start, match.end()))
        floor = match.end()
    return spans


def strip_anchors(data: bytes) -> bytes:
    """``data`` without its ``//`` anchor comments (and the blanks before them)."""
    if b"rm_" not in data:
        return data
    pieces: list[bytes] = []
    position = 0
    for start, end in strip_spans(data):
        pieces.append(data[position:start])
        position = end
    pieces.append(data[position:])
    return b"".join(pieces)


class AnchorFreeText:
    """A file's bytes without anchor comments, for the hash of any span (see the Python one)."""

    def __init__(self, data: bytes) -> None:
        self.cuts: list[int] = []
        self.removed_before: list[int] = []
        if b"rm_" not in data:
            self.text = data
            return
        pieces: list[bytes] = []
        position = removed = 0
        for start, end in strip_spans(data):
            pieces.append(data[position:start])
            removed += end - start
            self.cuts.append(start)
            self.removed_before.append(removed)
            position = end
        pieces.append(data[position:])
        self.text = b"".join(pieces)

    def _map(self, offset: int) -> int:
        index = bisect.bisect_left(self.cuts, offset) - 1
        return offset - (self.removed_before[index] if index >= 0 else 0)

    def span_hash(self, start: int, end: int) -> str:
        if not self.cuts:
            return hashlib.blake2b(self.text[start:end], digest_size=16).hexdigest()
        return hashlib.blake2b(self.text[self._map(start) : self._map(end)], digest_size=16).hexdigest()

    def file_hash(self) -> str:
        return hashlib.blake2b(self.text, digest_size=16).hexdigest()


def find_file_anchor(lines: Sequence[bytes]) -> tuple[str, int] | None:
    """(id, 1-based line) of the file anchor among the first lines, if present."""
    for index, line in enumerate(lines[:FILE_ANCHOR_SCAN_LINES]):
        match = FILE_ANCHOR_RE.match(line)
        if match:
            return match.group(1).decode("ascii"), index + 1
    return None


def file_anchor_insert_line(lines: Sequence[bytes]) -> int:
    """1-based line before which a new file anchor goes: 2 after a ``#!`` line, else 1."""
    if not lines:
        return 1
    first = lines[0][3:] if lines[0].startswith(BOM) else lines[0]
    return 2 if first.startswith(b"#!") else 1


def file_anchor_text(node_id: str) -> str:
    return f"// remora-file: {node_id}"


def _indent(line: bytes) -> bytes:
    return line[: len(line) - len(line.lstrip(b" \t"))]


def own_line(line: bytes, following: bytes | None, node_id: str) -> bytes:
    """The anchor line to insert after ``line`` (which ends with an opener): indented as the
    next line when that one is deeper, else one step (2 spaces) deeper than ``line``."""
    indent = _indent(line)
    if following is not None and following.strip() and len(_indent(following)) > len(indent):
        indent = _indent(following)
    else:
        indent += b"\t" if indent.startswith(b"\t") else b"  "
    return indent + b"// " + node_id.encode("ascii")


def anchored_line(line: bytes, node_id: str) -> bytes:
    """``line`` with `` // node_id`` appended after one space (trailing blanks dropped)."""
    carriage = line.endswith(b"\r")
    code = (line[:-1] if carriage else line).rstrip(b" \t")
    comment = b"// " + node_id.encode("ascii")
    return (code + b" " + comment if code else comment) + (b"\r" if carriage else b"")


def apply_anchor_edits(data: bytes, edits: Iterable[AnchorEdit]) -> bytes:
    """The file bytes with every edit applied; existing text is never moved. A node anchor goes
    at the end of its line, or on a line of its own right after it when the line ends with an
    opener (``{``, ``(``, ``[``, ``=>``): where prettier puts a comment written after one."""
    edits = list(edits)
    if not edits:
        return data
    lines, ends = split_lines(data)
    file_edit: AnchorEdit | None = None
    inserted: dict[int, bytes] = {}  # line index -> own anchor line inserted after it
    for edit in edits:
        if edit.is_file_anchor and edit.replaces is None:
            file_edit = edit
            continue
        index = edit.line - 1
        if edit.replaces is not None:
            line = lines[index]
            at = line.rfind(edit.replaces.encode("ascii"))
            if at >= 0:
                lines[index] = line[:at] + edit.node_id.encode("ascii") + line[at + len(edit.replaces) :]
            continue
        if lines[index].rstrip(b" \t\r").endswith(OPENERS):
            following = lines[index + 1] if index + 1 < len(lines) else None
            inserted[index] = own_line(lines[index], following, edit.node_id)
        else:
            lines[index] = anchored_line(lines[index], edit.node_id)
    newline = next((end for end in ends if end), b"\n")
    for index in sorted(inserted, reverse=True):
        lines.insert(index + 1, inserted[index])
        ends.insert(index + 1, ends[index])
        ends[index] = ends[index] or newline
    if file_edit is not None:
        text = file_anchor_text(file_edit.node_id).encode("ascii")
        index = min(file_edit.line - 1, len(lines))
        if index == 0 and lines[0].startswith(BOM):
            lines[0] = lines[0][len(BOM) :]
            text = BOM + text
        if index == len(lines):
            ends[-1] = newline
            lines.append(text)
            ends.append(b"")
        else:
            lines.insert(index, text)
            ends.insert(index, newline)
    return b"".join(line + end for line, end in zip(lines, ends, strict=True))
