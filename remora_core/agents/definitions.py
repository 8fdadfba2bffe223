"""Definitions written by a model: read one (strip a code fence, dedent, check it is exactly
one def/class of the expected name and kind), re-indent it, render it at a span's indentation
and put its anchor on its def line. Locating and splicing spans is ``agents.source_edit``.

No database and no file access: text in, text out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Query, QueryCursor

from remora_core.agents.errors import ProposalError
from remora_core.agents.source_edit import split_lines
from remora_core.parsing.anchors import NODE_ANCHOR_RE, anchored_line
from remora_core.parsing.model import ParsedDef, ParsedFile
from remora_core.parsing.python_source import parse_python, python_language, python_parser

_FENCE_RE = re.compile(r"^\s*```[\w+-]*[ \t]*\n(.*?)\n[ \t]*```\s*$", re.DOTALL)
_strings: Query | None = None


def _strings_query() -> Query:
    global _strings
    if _strings is None:
        _strings = Query(python_language(), "(string) @s")
    return _strings


def _string_continuation_lines(source: bytes) -> set[int]:
    """0-based lines that start inside a multi-line string (their text must not be re-indented)."""
    parser, strings = python_parser(), _strings_query()
    tree = parser.parse(source)
    rows: set[int] = set()
    for node in QueryCursor(strings).captures(tree.root_node).get("s", []):
        first, last = node.start_point[0], node.end_point[0]
        rows.update(range(first + 1, last + 1))
    return rows


def unfence(source: str) -> str:
    """``source`` without the Markdown code fence a model may have put around it."""
    text = source.replace("\r\n", "\n")
    fenced = _FENCE_RE.match(text)
    return fenced.group(1) if fenced else text


def indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _strip_anchor(line: str, keep: set[str]) -> str:
    """``line`` without anchor comments whose id is not in ``keep``."""
    if "rm_" not in line:
        return line
    for match in reversed(list(NODE_ANCHOR_RE.finditer(line.encode("utf-8")))):
        node_id = match.group(1).decode("ascii")
        if node_id in keep:
            continue
        encoded = line.encode("utf-8")
        line = (encoded[: match.start()].rstrip(b" \t") + encoded[match.end() :]).decode("utf-8")
    return line


@dataclass(slots=True)
class Definition:
    """A model-written definition, dedented to column 0 and checked."""

    lines: list[str]  # without newlines, column 0 (string continuation lines as written)
    raw_continuations: dict[int, str]  # 0-based index -> line as the model wrote it (inside a string)
    parsed: ParsedDef  # the top-level definition (lines relative to ``lines``)
    file: ParsedFile


def read_definition(source: str, *, expect_name: str, expect_class: bool, what: str) -> Definition:
    """Check that ``source`` is exactly one definition named ``expect_name`` (raises ProposalError)."""
    lines = [line.rstrip() for line in unfence(source).split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise ProposalError(f"{what}: the new source is empty")
    base = indent_of(lines[0])
    dedented = [line[len(base) :] if line.startswith(base) else line.lstrip(" \t") for line in lines]
    data = ("\n".join(dedented) + "\n").encode("utf-8")
    parsed = parse_python(data)
    if parsed.problems:
        raise ProposalError(f"{what}: the new source does not parse: {parsed.problems[0]}")
    top = [d for d in parsed.defs if d.parent == -1]
    kind = "class" if expect_class else "def"
    if not top:
        raise ProposalError(f"{what}: the new source must be one {kind} statement named {expect_name!r}")
    if len(top) > 1:
        names = ", ".join(repr(d.name) for d in top)
        raise ProposalError(
            f"{what}: the new source holds {len(top)} top-level definitions ({names}); give exactly one"
        )
    definition = top[0]
    for number, line in enumerate(dedented, start=1):
        stripped = line.strip()
        if definition.start_line <= number <= definition.end_line or not stripped:
            continue
        if number > definition.end_line and stripped.startswith("#") and line != stripped:
            continue  # an indented trailing comment belongs to the body
        if stripped.startswith("#"):
            raise ProposalError(f"{what}: comment line {number} is outside the definition; put it inside")
        raise ProposalError(
            f"{what}: line {number} ({stripped[:40]!r}) is a statement outside the definition; "
            "the new source must be exactly one definition"
        )
    is_class = definition.node_type == "class"
    if definition.name != expect_name:
        raise ProposalError(
            f"{what}: the definition is named {definition.name!r}, expected {expect_name!r}; renaming creates "
            "a new node, so keep the name (propose a new node instead)"
        )
    if is_class != expect_class:
        found = "a class" if is_class else "a function"
        wanted = "a class" if expect_class else "a function"
        raise ProposalError(f"{what}: the new source is {found}, expected {wanted} named {expect_name!r}")
    continuations = _string_continuation_lines(data)
    raw = {index: lines[index] for index in continuations if index < len(lines)}
    # keep comment lines trailing the definition's last code line
    end = max(
        [definition.end_line]
        + [n for n, line in enumerate(dedented, start=1) if n > definition.end_line and line.strip()]
    )
    first = min(definition.start_line, next(n for n, line in enumerate(dedented, start=1) if line.strip()))
    kept = dedented[first - 1 : end]
    shift = first - 1
    raw = {index - shift: value for index, value in raw.items() if first - 1 <= index < end}
    _normalize_body(kept, raw, definition.header_end_line - first + 1)
    return Definition(kept, raw, definition, parsed)


BODY_STEP = "    "


def _normalize_body(lines: list[str], raw: dict[int, str], body_start: int) -> None:
    """Re-indent a body written deeper than one step below its def (a method returned at column 0
    with an 8-space body) so it is exactly ``BODY_STEP`` deeper; the body's relative structure is
    kept (every line at or under the body's indentation moves by the same amount). Bodies in
    tabs or at a step of 4 or less are left as written. ``body_start``: 0-based first body line."""
    body = [
        index
        for index in range(body_start, len(lines))
        if index not in raw and lines[index].strip() and not lines[index].lstrip().startswith("#")
    ]
    if not body:
        return
    base = indent_of(lines[body[0]])
    if len(base) <= len(BODY_STEP) or base.strip(" "):
        return
    for index in range(body_start, len(lines)):
        if index not in raw and lines[index].startswith(base):
            lines[index] = BODY_STEP + lines[index][len(base) :]


def render(definition: Definition, indent: str, newline: str = "\n") -> list[str]:
    """The definition's lines at ``indent`` (string continuation lines left as the model wrote them)."""
    out = []
    for index, line in enumerate(definition.lines):
        if index in definition.raw_continuations:
            out.append(definition.raw_continuations[index] + newline)
        elif line:
            out.append(indent + line + newline)
        else:
            out.append(newline)
    return out


def reindent(text: str, old: str, new: str) -> str:
    """Move every line of ``text`` from indentation ``old`` to ``new`` (a node that changed depth)."""
    if old == new:
        return text
    out = []
    for line in split_lines(text):
        if line.startswith(old) and line.strip():
            out.append(new + line[len(old) :])
        else:
            out.append(line)
    return "".join(out)


def put_anchor(line: str, node_id: str, column: int, previous: str | None = None) -> str:
    """``line`` (no newline) carrying ``node_id``; ``previous`` (the old def line) is reused verbatim
    when the code of the line did not change, so an existing anchor never moves."""
    code = _strip_anchor(line, set()).rstrip()
    if previous is not None and _strip_anchor(previous, set()).rstrip() == code and node_id in previous:
        return previous.rstrip("\r\n")
    return anchored_line(code.encode("utf-8"), node_id, column).decode("utf-8")


def strip_foreign_anchors(definition: Definition, keep: set[str]) -> None:
    definition.lines = [_strip_anchor(line, keep) for line in definition.lines]
