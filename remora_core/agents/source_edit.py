"""Pure text operations behind proposals: locate a node by its anchor, validate and normalise
a definition written by a model, re-indent it, splice a span, diff a span.

No database and no file access: text in, text out (lines keep their newlines).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import tree_sitter_python
from tree_sitter import Language, Parser, Query, QueryCursor

from remora_core.agents.errors import ProposalError
from remora_core.parsing.anchors import NODE_ANCHOR_RE, anchored_line
from remora_core.parsing.model import ParsedDef, ParsedFile
from remora_core.parsing.python_source import parse_python

_FENCE_RE = re.compile(r"^\s*```[\w+-]*[ \t]*\n(.*?)\n[ \t]*```\s*$", re.DOTALL)
_HUNK_RE = re.compile(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")
_parser: Parser | None = None
_strings: Query | None = None


@dataclass(frozen=True, slots=True)
class Span:
    """Where a node is in one version of its file. Lines are 1-based and inclusive, whole lines."""

    node_id: str
    node_type: str
    name: str
    start_line: int
    def_line: int
    end_line: int
    source_hash: str
    indent: str
    parsed: ParsedDef | None  # None for the file node


def split_lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def locate(text: str, node_id: str, parsed: ParsedFile | None = None) -> Span | None:
    """The span of the node whose anchor is ``node_id`` in ``text`` (None when it is not there)."""
    parsed = parsed or parse_python(text.encode("utf-8"))
    if parsed.file_anchor == node_id:
        return Span(node_id, "file", "", 1, 1, max(parsed.line_count, 1), parsed.source_hash, "", None)
    lines = None
    for definition in parsed.defs:
        if definition.anchor == node_id:
            lines = lines or split_lines(text)
            first = lines[definition.start_line - 1]
            indent = first[: len(first) - len(first.lstrip(" \t"))]
            return Span(
                node_id,
                definition.node_type,
                definition.name,
                definition.start_line,
                definition.def_line,
                definition.end_line,
                definition.source_hash,
                indent,
                definition,
            )
    return None


def span_text(text: str, span: Span) -> str:
    return "".join(split_lines(text)[span.start_line - 1 : span.end_line])


def splice(text: str, span: Span, replacement: str) -> str:
    lines = split_lines(text)
    return "".join(lines[: span.start_line - 1]) + replacement + "".join(lines[span.end_line :])


def newline_of(text: str) -> str:
    return "\r\n" if "\r\n" in text[:8192] else "\n"


def span_diff(old: str, new: str, file_path: str, first_line: int) -> str:
    """Unified diff of a node's old and new text, hunk line numbers counted in the file."""
    shift = first_line - 1
    out: list[str] = []
    old_lines = [line.rstrip("\r\n") + "\n" for line in split_lines(old)]
    new_lines = [line.rstrip("\r\n") + "\n" for line in split_lines(new)]
    for line in difflib.unified_diff(old_lines, new_lines, f"a/{file_path}", f"b/{file_path}"):
        match = _HUNK_RE.match(line)
        if match:
            old_start = int(match.group(1)) + shift
            new_start = int(match.group(3)) + shift
            line = f"@@ -{old_start}{match.group(2) or ''} +{new_start}{match.group(4) or ''} @@\n"
        out.append(line)
    return "".join(out)


def _string_continuation_lines(source: bytes) -> set[int]:
    """0-based lines that start inside a multi-line string (their text must not be re-indented)."""
    global _parser, _strings
    if _parser is None or _strings is None:
        language = Language(tree_sitter_python.language())
        _parser = Parser(language)
        _strings = Query(language, "(string) @s")
    tree = _parser.parse(source)
    rows: set[int] = set()
    for node in QueryCursor(_strings).captures(tree.root_node).get("s", []):
        first, last = node.start_point[0], node.end_point[0]
        rows.update(range(first + 1, last + 1))
    return rows


def _indent_of(line: str) -> str:
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
    text = source.replace("\r\n", "\n")
    fenced = _FENCE_RE.match(text)
    if fenced:
        text = fenced.group(1)
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise ProposalError(f"{what}: the new source is empty")
    base = _indent_of(lines[0])
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
        raise ProposalError(f"{what}: the new source holds {len(top)} top-level definitions ({names}); give exactly one")
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
    return Definition(kept, raw, definition, parsed)


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
