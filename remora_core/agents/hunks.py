"""Hunks of a proposal's diff, and the source with only some of them applied (per-hunk accept)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

CONTEXT = 3


@dataclass(slots=True)
class Hunk:
    """One hunk: its ``@@`` header and its lines, each prefixed with ' ', '-' or '+'."""

    index: int
    header: str
    lines: list[str] = field(default_factory=list)
    opcodes: list[tuple[str, int, int, int, int]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "header": self.header, "lines": self.lines}


def _lines(source: str) -> list[str]:
    return source.split("\n")


def diff_hunks(old: str, new: str, context: int = CONTEXT) -> list[Hunk]:
    """The hunks turning ``old`` into ``new`` (unified-diff grouping, ``context`` lines around)."""
    a, b = _lines(old), _lines(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    hunks: list[Hunk] = []
    for group in matcher.get_grouped_opcodes(context):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        hunk = Hunk(len(hunks), f"@@ -{i1 + 1},{i2 - i1} +{j1 + 1},{j2 - j1} @@")
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                hunk.lines.extend(" " + line for line in a[a1:a2])
                continue
            hunk.opcodes.append((tag, a1, a2, b1, b2))
            hunk.lines.extend("-" + line for line in a[a1:a2])
            hunk.lines.extend("+" + line for line in b[b1:b2])
        hunks.append(hunk)
    return hunks


def partial_source(old: str, new: str, keep: set[int], context: int = CONTEXT) -> str:
    """``old`` with only the hunks whose index is in ``keep`` applied."""
    a, b = _lines(old), _lines(new)
    out: list[str] = []
    position = 0
    for hunk in diff_hunks(old, new, context):
        for _tag, a1, a2, b1, b2 in hunk.opcodes:
            out.extend(a[position:a1])
            out.extend(b[b1:b2] if hunk.index in keep else a[a1:a2])
            position = a2
    out.extend(a[position:])
    return "\n".join(out)
