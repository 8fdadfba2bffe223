"""Anchor comments: finding them leniently and writing new ones without moving old ones.

Node anchor: ``# rm_xxxxxxxx`` at the end of the line holding the ``def``/``class``
keyword. A formatter may move it to another line of the same header (a wrapped
signature); it is still found there. File anchor: ``# remora-file: rm_xxxxxxxx`` on
line 1 (after a UTF-8 BOM), or right after the shebang / PEP 263 encoding lines. Everything
here works on bytes so that files that are not valid UTF-8 are handled too, and lines end
as Python's tokenizer ends them: at ``\r\n``, ``\n`` or a lone ``\r``.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

NODE_ANCHOR_RE = re.compile(rb"#[ \t]*(rm_[a-z0-9]{8})(?![a-z0-9_])")
FILE_ANCHOR_RE = re.compile(rb"^(?:\xef\xbb\xbf)?[ \t]*#[ \t]*remora-file:[ \t]*(rm_[a-z0-9]{8})[ \t]*\r?$")
# An anchor comment without the blanks before it; those are added by hand (``_strip_spans``):
# a pattern that starts with a literal '#' is ten times faster to scan for than one that
# starts with ``[ \t]*``.
_STRIP_RE = re.compile(rb"#[ \t]*(?:remora-file:[ \t]*)?rm_[a-z0-9]{8}(?![a-z0-9_])")
_ENCODING_RE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
# A line 1 after which CPython still reads a coding declaration on line 2 (PEP 263).
_BLANK_OR_COMMENT_RE = re.compile(rb"^[ \t\f]*(?:#.*)?\r?$")
# A PEP 484 type comment (CPython's tokenizer: '#', blanks, 'type', ':').
TYPE_COMMENT_RE = re.compile(rb"#[ \t]*type[ \t]*:")
_NEWLINE_RE = re.compile(rb"(\r\n|\r|\n)")
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class AnchorSyntax:
    """How one language writes anchor comments: ``prefix`` is its line-comment start (``#``,
    ``//``); node anchor ``<prefix> rm_xxxxxxxx``, file anchor ``<prefix> remora-file: rm_xxxxxxxx``.
    Every function below takes one (default: Python's ``#``)."""

    prefix: str
    node_re: re.Pattern[bytes]  # group 1: the id
    file_re: re.Pattern[bytes]  # a line holding the file anchor (at its end when inline); group 1: the id
    strip_re: re.Pattern[bytes]  # an anchor comment without the blanks before it
    pad: bool = True  # new node anchors right-aligned to the anchor column (else one space: gofmt)
    # The file anchor is appended to the line ``ParsedFile.file_anchor_insert_line`` (Go: the
    # package clause) instead of being inserted as a line of its own before it.
    file_inline: bool = False
    # A new node anchor for a line whose code ends with one of these goes on a line of its own
    # right after it, indented as the next line (JS/TS: ``{``, ``(``, ``[``, ``=>``, where prettier
    # moves a trailing comment to). Such an anchor line is stripped whole (hashes ignore it).
    own_line_after: tuple[bytes, ...] = ()

    def node_text(self, node_id: str) -> str:
        return f"{self.prefix} {node_id}"

    def file_text(self, node_id: str) -> str:
        return f"{self.prefix} remora-file: {node_id}"


@cache
def anchor_syntax(
    prefix: str, pad: bool = True, file_inline: bool = False, own_line_after: tuple[bytes, ...] = ()
) -> AnchorSyntax:
    """The anchor syntax of a language whose line comments start with ``prefix``."""
    if prefix == "#" and pad and not file_inline and not own_line_after:
        return HASH
    quoted = re.escape(prefix.encode("ascii"))
    return AnchorSyntax(
        prefix,
        re.compile(quoted + rb"[ \t]*(rm_[a-z0-9]{8})(?![a-z0-9_])"),
        re.compile(
            (quoted if file_inline else rb"^(?:\xef\xbb\xbf)?[ \t]*" + quoted)
            + rb"[ \t]*remora-file:[ \t]*(rm_[a-z0-9]{8})[ \t]*\r?$"
        ),
        re.compile(quoted + rb"[ \t]*(?:remora-file:[ \t]*)?rm_[a-z0-9]{8}(?![a-z0-9_])"),
        pad,
        file_inline,
        own_line_after,
    )


HASH = AnchorSyntax("#", NODE_ANCHOR_RE, FILE_ANCHOR_RE, _STRIP_RE)  # Python's
SLASHES = anchor_syntax("//")  # C-family languages: Go, JavaScript, TypeScript
# Any language's node anchor: for code that only reads ids out of text (line maps, proposals).
ANY_NODE_ANCHOR_RE = re.compile(rb"(?:#|//)[ \t]*(rm_[a-z0-9]{8})(?![a-z0-9_])")

DEFAULT_ANCHOR_COLUMN = 150
MIN_ANCHOR_GAP = 4
FILE_ANCHOR_SCAN_LINES = 5


def _strip_spans(data: bytes, syntax: AnchorSyntax = HASH) -> list[tuple[int, int]]:
    """(start, end) of every anchor comment with the blanks before it, in order."""
    spans: list[tuple[int, int]] = []
    floor = 0
    for match in syntax.strip_re.finditer(data):
        start = match.start()
        if start > floor and data[start - 1] in b" \t":  # right-aligned anchors follow many blanks
            start = floor + len(data[floor:start].rstrip(b" \t"))
        if syntax.own_line_after and start > floor and data[start - 1] == 0x0A and data[match.end() : match.end() + 1] in (
            b"\n",
            b"\r",
        ):
            start -= 2 if start - 1 > floor and data[start - 2] == 0x0D else 1  # a line of its own: all of it
        spans.append((start, match.end()))
        floor = match.end()
    return spans


def strip_anchors(data: bytes, syntax: AnchorSyntax = HASH) -> bytes:
    """``data`` without its anchor comments (and the blanks before them)."""
    if b"rm_" not in data:
        return data
    pieces: list[bytes] = []
    position = 0
    for start, end in _strip_spans(data, syntax):
        pieces.append(data[position:start])
        position = end
    pieces.append(data[position:])
    return b"".join(pieces)


def source_hash(data: bytes, syntax: AnchorSyntax = HASH) -> str:
    """Hash of source text that ignores anchor comments (adding an anchor keeps the hash)."""
    return hashlib.blake2b(strip_anchors(data, syntax), digest_size=16).hexdigest()


class AnchorFreeText:
    """A file's bytes with every anchor comment removed, computed once, so that the
    anchor-insensitive hash of any span is one slice and one hash (no regex per span)."""

    def __init__(self, data: bytes, syntax: AnchorSyntax = HASH) -> None:
        self.cuts: list[int] = []  # original offset where each removed run starts
        self.removed_before: list[int] = []  # bytes removed before (and including) each run
        if b"rm_" not in data:
            self.text = data
            return
        pieces: list[bytes] = []
        position = 0
        removed = 0
        for start, end in _strip_spans(data, syntax):
            pieces.append(data[position:start])
            removed += end - start
            self.cuts.append(start)
            self.removed_before.append(removed)
            position = end
        pieces.append(data[position:])
        self.text = b"".join(pieces)

    def span_hash(self, start: int, end: int) -> str:
        """``source_hash(data[start:end])`` without re-scanning the span."""
        cuts = self.cuts
        if not cuts:
            return hashlib.blake2b(self.text[start:end], digest_size=16).hexdigest()
        removed = self.removed_before
        # Offsets in the stripped text: minus every removed run that starts before them.
        index = bisect.bisect_left(cuts, start) - 1
        if index >= 0:
            start -= removed[index]
        index = bisect.bisect_left(cuts, end) - 1
        if index >= 0:
            end -= removed[index]
        return hashlib.blake2b(self.text[start:end], digest_size=16).hexdigest()


def find_node_anchor(line: bytes, syntax: AnchorSyntax = HASH) -> str | None:
    """The anchor id in one line's text, if any (the last one when several)."""
    if b"rm_" not in line:
        return None
    found = syntax.node_re.findall(line)
    return found[-1].decode("ascii") if found else None


def file_anchor_insert_line(lines: Sequence[bytes]) -> int:
    """1-based line before which a new file anchor goes: after the shebang and the PEP 263
    encoding declaration wherever Python reads one (line 1, or line 2 when line 1 is blank or
    a comment), so that the declaration never moves. A BOM stays first (``apply_anchor_edits``)."""
    if not lines:
        return 1
    first = lines[0][3:] if lines[0].startswith(BOM) else lines[0]
    if _ENCODING_RE.match(first):
        return 2
    if len(lines) > 1 and _BLANK_OR_COMMENT_RE.match(first) and _ENCODING_RE.match(lines[1]):
        return 3
    return 2 if first.startswith(b"#!") else 1


def declared_encoding(data: bytes) -> str | None:
    """The PEP 263 coding declaration of line 1, or of line 2 after a blank or comment line 1."""
    lines = _NEWLINE_RE.split(data[:4096], 2)[0::2][:2]
    first = lines[0][3:] if lines[0].startswith(BOM) else lines[0]
    match = _ENCODING_RE.match(first)
    if match is None and len(lines) > 1 and _BLANK_OR_COMMENT_RE.match(first):
        match = _ENCODING_RE.match(lines[1])
    return match.group(1).decode("ascii", errors="replace") if match else None


def split_lines(data: bytes) -> tuple[list[bytes], list[bytes]]:
    """(line texts, line endings) as Python's tokenizer splits lines (``\r\n``, ``\r``, ``\n``);
    the last ending is ``b""``."""
    if b"\r" not in data:
        bodies = data.split(b"\n")
        return bodies, [b"\n"] * (len(bodies) - 1) + [b""]
    parts = _NEWLINE_RE.split(data)
    return parts[0::2], [*parts[1::2], b""]


def lone_cr_as_lf(data: bytes) -> bytes:
    """``data`` with every lone ``\r`` (a line end to Python) turned into ``\n``: same length,
    same offsets, and the lines tree-sitter sees are Python's lines."""
    if b"\r" not in data:
        return data
    return re.sub(rb"\r(?!\n)", b"\n", data)


def find_file_anchor(
    lines: Sequence[bytes], syntax: AnchorSyntax = HASH, scan: int = FILE_ANCHOR_SCAN_LINES
) -> tuple[str, int] | None:
    """(id, 1-based line) of the file anchor among the first ``scan`` lines, if present."""
    find = syntax.file_re.search if syntax.file_inline else syntax.file_re.match
    for index, line in enumerate(lines[:scan]):
        match = find(line)
        if match:
            return match.group(1).decode("ascii"), index + 1
    return None


def file_anchor_text(node_id: str, syntax: AnchorSyntax = HASH) -> str:
    """The file anchor line (without its newline): ``# remora-file: rm_xxxxxxxx``."""
    return syntax.file_text(node_id)


def without_anchor(line: str) -> str:
    """``line`` without its anchor comments and the blanks before them (for display)."""
    return strip_anchors(line.encode("utf-8", errors="surrogateescape")).decode("utf-8", errors="surrogateescape")


def anchored_line(
    line: bytes, node_id: str, column: int = DEFAULT_ANCHOR_COLUMN, syntax: AnchorSyntax = HASH
) -> bytes:
    """``line`` (without its newline) with ``# node_id`` appended, right-aligned to ``column``.

    The comment ends at ``column`` characters when the code leaves room for it; otherwise
    it follows the code after ``MIN_ANCHOR_GAP`` spaces. Trailing whitespace is dropped first.
    """
    carriage = line.endswith(b"\r")
    code = line[:-1] if carriage else line
    code = code.rstrip(b" \t")
    comment = syntax.node_text(node_id).encode("ascii")
    width = len(code.decode("utf-8", errors="replace"))
    gap = max(MIN_ANCHOR_GAP, column - width - len(comment)) if syntax.pad else 1
    return code + b" " * gap + comment + (b"\r" if carriage else b"")


def _indent(line: bytes) -> bytes:
    return line[: len(line) - len(line.lstrip(b" \t"))]


def own_anchor_line(line: bytes, following: bytes | None, node_id: str, syntax: AnchorSyntax) -> bytes:
    """The anchor line inserted after ``line``: indented as ``following`` when that is deeper,
    else one step deeper than ``line`` (two spaces, or a tab in a tab-indented file)."""
    indent = _indent(line)
    if following is not None and following.strip() and len(_indent(following)) > len(indent):
        indent = _indent(following)
    else:
        indent += b"\t" if indent.startswith(b"\t") else b"  "
    return indent + syntax.node_text(node_id).encode("ascii")


@dataclass(frozen=True, slots=True)
class AnchorEdit:
    """One change to a file's anchors, on a 1-based ``line``.

    Append ``# node_id`` to the line; or, with ``replaces``, swap that id for ``node_id`` in
    place (a copied or renamed node); or, with ``is_file_anchor``, insert the file-anchor line.
    """

    line: int
    node_id: str
    is_file_anchor: bool = False
    replaces: str | None = None


def inserted_lines(data: bytes, edits: Iterable[AnchorEdit], syntax: AnchorSyntax = HASH) -> list[int]:
    """The line numbers after which ``apply_anchor_edits`` inserts a line (0: before line 1):
    the file anchor's, and own-line node anchors'. Line n of ``data`` becomes line
    ``n + (number of them < n)``."""
    found: list[int] = []
    lines: list[bytes] | None = None
    for edit in edits:
        if edit.replaces is not None:
            continue
        if edit.is_file_anchor:
            if not syntax.file_inline:
                found.append(edit.line - 1)
        elif syntax.own_line_after:
            lines = lines if lines is not None else split_lines(data)[0]
            if 0 < edit.line <= len(lines) and lines[edit.line - 1].rstrip(b" \t\r").endswith(syntax.own_line_after):
                found.append(edit.line)
    return found


def apply_anchor_edits(
    data: bytes, edits: Iterable[AnchorEdit], column: int = DEFAULT_ANCHOR_COLUMN, syntax: AnchorSyntax = HASH
) -> bytes:
    """The file bytes with every edit applied. Existing text is never moved or re-aligned."""
    edits = list(edits)
    if not edits:
        return data
    lines, ends = split_lines(data)
    file_edit: AnchorEdit | None = None
    own_lines: dict[int, bytes] = {}  # line index -> an anchor line inserted after it
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
        if syntax.own_line_after and lines[index].rstrip(b" \t\r").endswith(syntax.own_line_after):
            following = lines[index + 1] if index + 1 < len(lines) else None
            own_lines[index] = own_anchor_line(lines[index], following, edit.node_id, syntax)
            continue
        lines[index] = anchored_line(lines[index], edit.node_id, column, syntax)
    newline = next((end for end in ends if end), b"\n")
    for index in sorted(own_lines, reverse=True):  # after the file anchor's index (line 1 or 2)
        lines.insert(index + 1, own_lines[index])
        ends.insert(index + 1, ends[index])
        ends[index] = ends[index] or newline
    if file_edit is not None and syntax.file_inline and file_edit.line <= len(lines):
        index = file_edit.line - 1
        carriage = lines[index].endswith(b"\r")
        code = (lines[index][:-1] if carriage else lines[index]).rstrip(b" \t")
        text = file_anchor_text(file_edit.node_id, syntax).encode("ascii")
        lines[index] = code + b" " + text + (b"\r" if carriage else b"")
    elif file_edit is not None:
        text = file_anchor_text(file_edit.node_id, syntax).encode("ascii")
        index = min(file_edit.line - 1, len(lines))
        if index == 0 and lines[0].startswith(BOM):
            lines[0] = lines[0][len(BOM) :]
            text = BOM + text  # the BOM stays the first bytes of the file
        if index == len(lines):  # after a last line without a newline: end it first
            ends[-1] = newline
            lines.append(text)
            ends.append(b"")
        else:
            lines.insert(index, text)
            ends.insert(index, newline)
    return b"".join(line + end for line, end in zip(lines, ends, strict=True))
