"""Spans and rewrites for files of a registry language other than the default (Python), whose
definitions are all top-level or found by the language's own ``parse`` (Go): locate a node by its
anchor, check a rewrite parses with the file's grammar, put the anchor back with the file's
comment syntax. The Python path (decorators, nested definitions, indentation) is
``agents.source_edit`` / ``agents.definitions``.

No database and no file access: text in, text out.
"""

from __future__ import annotations

from remora_core.agents.errors import ProposalError
from remora_core.languages import Language, language_for_path, languages
from remora_core.parsing.anchors import AnchorEdit, apply_anchor_edits, source_hash
from remora_core.parsing.model import ParsedDef


def other_language(path: str) -> Language | None:
    """The language of ``path`` when it is not the default one (None: the Python tools apply)."""
    language = language_for_path(path) if path else None
    return language if language is not None and language is not languages()[0] else None


def span_fields(text: str, node_id: str, language: Language) -> tuple[object, ...] | None:
    """(node_id, node_type, name, start_line, def_line, header_end_line, end_line, source_hash,
    indent, file_ok) of the node anchored ``node_id`` in ``text``, or None."""
    data = text.encode("utf-8", errors="surrogateescape")
    parsed = language.parse(data)
    file_ok = not parsed.syntax_error
    if parsed.file_anchor == node_id:
        line_count = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
        return (node_id, "file", "", 1, 1, 1, max(line_count, 1), source_hash(data, language.anchor), "", file_ok)
    for definition in parsed.defs:
        if definition.anchor == node_id:
            lines = text.splitlines()
            first = lines[definition.start_line - 1] if definition.start_line <= len(lines) else ""
            return (
                node_id,
                definition.node_type,
                definition.name,
                definition.start_line,
                definition.def_line,
                definition.header_end_line,
                definition.end_line,
                definition.source_hash,
                first[: len(first) - len(first.lstrip(" \t"))],
                file_ok,
            )
    return None


def rewrite(
    body: str, node_id: str, node_type: str, name: str, language: Language, column: int, what: str
) -> str:
    """``body`` (what the model wrote, fence removed) checked with the file's grammar and carrying
    the node's anchor (raises ProposalError with the reason the model must see)."""
    body = body.replace("\r\n", "\n").strip("\n") + "\n"
    if node_type == "method" and language.member_wrapper is not None:
        return _rewrite_member(body, node_id, name, language, column, what)
    data = body.encode("utf-8")
    parsed = language.parse(data)
    if parsed.syntax_error:
        raise ProposalError(f"{what}: the new source does not parse as {language.name}: {parsed.problems[0]}")
    if node_type == "file":
        if parsed.file_anchor == node_id:
            return body
        edit = AnchorEdit(
            parsed.file_anchor_line or parsed.file_anchor_insert_line,
            node_id,
            is_file_anchor=True,
            replaces=parsed.file_anchor,
        )
        return apply_anchor_edits(data, [edit], column, language.anchor).decode("utf-8")
    definition = _only_definition(parsed.defs, -1, name, node_type, what)
    return _with_anchor(data, definition, node_id, language, column).decode("utf-8")


def _only_definition(found: list[ParsedDef], parent: int, name: str, node_type: str, what: str) -> ParsedDef:
    """The one definition under ``parent`` (nested ones, such as a class's methods, may follow)."""
    top = [d for d in found if d.parent == parent]
    if len(top) != 1:
        names = ", ".join(repr(d.qualname) for d in top) or "none"
        raise ProposalError(f"{what}: the new source must be exactly one definition named {name!r} (found {names})")
    definition = top[0]
    if definition.name != name or definition.node_type != node_type:
        raise ProposalError(
            f"{what}: the definition is the {definition.node_type} {definition.name!r}, expected the {node_type} "
            f"{name!r}; renaming creates a new node, so keep the name"
        )
    return definition


def _with_anchor(data: bytes, definition: ParsedDef, node_id: str, language: Language, column: int) -> bytes:
    """``data`` with ``node_id`` as ``definition``'s anchor (in place of another id, or added
    where the language puts a new one: JS/TS may put it on a line of its own)."""
    if definition.anchor == node_id:
        return data
    if definition.anchor is not None and definition.anchor_line is not None:
        edit = AnchorEdit(definition.anchor_line, node_id, replaces=definition.anchor)
    else:
        edit = AnchorEdit(definition.inject_line or definition.def_line, node_id)
    return apply_anchor_edits(data, [edit], column, language.anchor)


def _rewrite_member(body: str, node_id: str, name: str, language: Language, column: int, what: str) -> str:
    """A method (JS/TS: not a statement of its own) checked inside the language's wrapper class."""
    assert language.member_wrapper is not None
    prefix, suffix = language.member_wrapper
    data = (prefix + body + suffix).encode("utf-8")
    parsed = language.parse(data)
    if parsed.syntax_error:
        raise ProposalError(f"{what}: the new source does not parse as a {language.name} method: {parsed.problems[0]}")
    if not parsed.defs or parsed.defs[0].parent != -1:
        raise ProposalError(f"{what}: the new source must be exactly one method named {name!r}")
    definition = _only_definition(parsed.defs, 0, name, "method", what)
    anchored = _with_anchor(data, definition, node_id, language, column).decode("utf-8")
    return anchored[len(prefix) : len(anchored) - len(suffix)]


def insert_new(
    text: str,
    container_id: str,
    source: str,
    node_id: str,
    node_type: str,
    name: str,
    language: Language,
    column: int,
    insert_after: str | None,
    what: str,
) -> str:
    """The whole file ``text`` with a new top-level definition (``source``, anchored ``node_id``)
    inserted after the top-level definition ``insert_after``, else after the container when it is
    a top-level definition (Go: a method goes after its type), else at the end of the file.
    Definitions nested in a class (JS/TS methods) are not inserted here: rewrite the class."""
    data = text.encode("utf-8", errors="surrogateescape")
    parsed = language.parse(data)
    top = [d for d in parsed.defs if d.parent == -1]
    container = next((d for d in parsed.defs if d.anchor == container_id), None)
    if container is not None and container.parent != -1:
        raise ProposalError(f"{what}: new {language.name} nodes go at the top level of the file, not inside {container_id!r}")
    if container is not None and language.member_wrapper is not None:
        raise ProposalError(
            f"{what}: a new member of the {language.name} class {container.name!r} is written by rewriting the class "
            f"(rewrite_self on {container_id!r})"
        )
    if node_type != "method" and any(d.name == name for d in top):
        raise ProposalError(f"{what}: the file already has a definition named {name!r}")
    anchored = rewrite(source, node_id, node_type, name, language, column, what)
    lines = text.splitlines(keepends=True)
    if insert_after is not None:
        after = next((d for d in top if d.anchor == insert_after), None)
        if after is None:
            raise ProposalError(f"{what}: {insert_after!r} is not a top-level definition of this file")
        at = after.end_line
    else:
        at = container.end_line if container is not None else len(lines)
    if at > 0 and not lines[at - 1].endswith("\n"):
        lines[at - 1] += "\n"
    following = lines[at] if at < len(lines) else ""
    block = ["\n", *anchored.splitlines(keepends=True), *(["\n"] if following.strip() else [])]
    new = "".join(lines[:at] + block + lines[at:])
    problem = language.syntax_error(new.encode("utf-8", errors="surrogateescape"))
    if problem is not None:
        raise ProposalError(f"{what}: the file would not parse after the insertion: {problem}")
    return new
