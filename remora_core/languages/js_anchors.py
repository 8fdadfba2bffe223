"""Anchor comments in JavaScript / TypeScript: ``// rm_xxxxxxxx`` and ``// remora-file: rm_xxxxxxxx``.

The rules are Python's (``remora_core.parsing.anchors``) with ``//`` and prettier's layout:

* a new node anchor follows the code after ONE space (what prettier prints for a trailing
  comment), or, when the line's code ends with an opener (``{``, ``(``, ``[``, ``=>``), goes on a
  line of its own right after it, indented as the body: prettier moves a comment written after
  an opener there, so a prettier-clean file stays clean;
* an anchor is found at the end of a header line, on the line of its own after the header, or
  right after the definition's last token (where prettier moves the anchor of a definition that
  fitted on one line);
* the file anchor is line 1, or line 2 after a ``#!`` line. A comment before ``"use strict"`` /
  ``'use client'`` keeps it a directive (ECMA-262: the directive prologue is the leading
  string-literal statements; comments are not statements).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from remora_core.parsing import anchors
from remora_core.parsing.anchors import BOM, AnchorEdit

OPENERS = (b"{", b"(", b"[", b"=>")
SYNTAX = anchors.anchor_syntax("//", pad=False, own_line_after=OPENERS)
NODE_ANCHOR_RE = SYNTAX.node_re
# An anchor comment after a definition's last token (only blanks, ';' or ',' between).
TRAILING_ANCHOR_RE = re.compile(rb"[ \t;,]*(//[ \t]*(rm_[a-z0-9]{8}))(?![a-z0-9_])")
FILE_ANCHOR_SCAN_LINES = anchors.FILE_ANCHOR_SCAN_LINES


def strip_anchors(data: bytes) -> bytes:
    return anchors.strip_anchors(data, SYNTAX)


class AnchorFreeText(anchors.AnchorFreeText):
    """``anchors.AnchorFreeText`` with the ``//`` syntax."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data, SYNTAX)


def find_file_anchor(lines: Sequence[bytes]) -> tuple[str, int] | None:
    return anchors.find_file_anchor(lines, SYNTAX)


def file_anchor_insert_line(lines: Sequence[bytes]) -> int:
    """1-based line before which a new file anchor goes: 2 after a ``#!`` line, else 1."""
    if not lines:
        return 1
    first = lines[0][3:] if lines[0].startswith(BOM) else lines[0]
    return 2 if first.startswith(b"#!") else 1


def apply_anchor_edits(data: bytes, edits: Iterable[AnchorEdit]) -> bytes:
    return anchors.apply_anchor_edits(data, edits, anchors.DEFAULT_ANCHOR_COLUMN, SYNTAX)
