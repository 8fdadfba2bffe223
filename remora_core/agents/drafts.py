"""Turning what a model wrote into a proposal draft: a rewrite of a node, or a new node
inserted into a container. Pure: the current file text in, a ``Proposal`` (not yet stored) out.

Both kinds are the same thing underneath: "replace the span of node X (by its anchor),
whose hash was ``base_hash``, with ``new_source``". A new node is a rewrite of its
container's span (the class body, or the whole file) with the node inserted.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Literal

from remora_core.agents import definitions as defs
from remora_core.agents import source_edit as edit
from remora_core.agents import source_edit_lang as lang_edit
from remora_core.agents.errors import ProposalError
from remora_core.agents.proposal_model import Proposal, ProposalKind
from remora_core.agents.source_edit_lang import other_language
from remora_core.languages import Language
from remora_core.parsing.anchors import DEFAULT_ANCHOR_COLUMN, file_anchor_text
from remora_core.parsing.ids import new_node_id
from remora_core.parsing.python_source import parse_python

NewNodeType = Literal["function", "method", "class"]


def new_proposal_id() -> str:
    return f"pr_{uuid.uuid4().hex[:12]}"


def _check_result(text: str, span: edit.Span, new: str, what: str, path: str = "") -> None:
    """The whole file after the splice still parses (unless it did not before). An incremental
    tree-sitter parse: the new span itself was fully checked already."""
    if not span.file_ok:
        return
    problem = edit.splice_problem(text, span, new, path)
    if problem is not None:
        raise ProposalError(f"{what}: the file would not parse after the change: {problem}")


def _rewrite_definition(text: str, span: edit.Span, new_source: str, column: int, what: str) -> str:
    lines = edit.split_lines(text)
    newline = edit.newline_of(text)
    definition = defs.read_definition(
        new_source, expect_name=span.name, expect_class=span.node_type == "class", what=what
    )
    # anchors of the nested definitions the node had, by qualname relative to the node
    nested = {
        inner.qualname: inner.anchor
        for inner in edit.span_defs(text, span).defs[1:]
        if inner.anchor and inner.anchor != span.node_id
    }
    defs.strip_foreign_anchors(definition, set(nested.values()))
    rendered = defs.render(definition, span.indent, newline)
    shift = 0
    if definition.parsed.start_line == definition.parsed.def_line and span.start_line < span.def_line:
        decorators = lines[span.start_line - 1 : span.def_line - 1]
        rendered = decorators + rendered
        shift = len(decorators)
    used = {anchor for anchor in nested.values() if any(anchor in line for line in rendered)}
    for inner in definition.file.defs:
        if inner is definition.parsed or inner.parent == -1:
            continue
        anchor = nested.get(inner.qualname)
        if anchor is None or anchor in used:
            continue
        index = inner.def_line - 1 + shift
        rendered[index] = defs.put_anchor(rendered[index].rstrip("\r\n"), anchor, column) + newline
        used.add(anchor)
    index = definition.parsed.def_line - 1 + shift
    rendered[index] = (
        defs.put_anchor(rendered[index].rstrip("\r\n"), span.node_id, column, lines[span.def_line - 1])
        + newline
    )
    new = "".join(rendered)
    if not edit.span_text(text, span).endswith("\n"):
        new = new.rstrip("\r\n")
    return new


def _rewrite_file(text: str, span: edit.Span, new_source: str, what: str) -> str:
    newline = edit.newline_of(text)
    body = new_source.replace("\r\n", "\n")
    if body and not body.endswith("\n"):
        body += "\n"
    parsed = parse_python(body.encode("utf-8"))
    if parsed.problems:
        raise ProposalError(f"{what}: the new source does not parse: {parsed.problems[0]}")
    if parsed.file_anchor != span.node_id:
        lines = body.split("\n")
        marker = file_anchor_text(span.node_id)
        if parsed.file_anchor_line is not None:
            lines[parsed.file_anchor_line - 1] = marker
        else:
            lines.insert(parsed.file_anchor_insert_line - 1, marker)
        body = "\n".join(lines)
    return body.replace("\n", newline) if newline != "\n" else body


def draft_rewrite(
    text: str,
    node_id: str,
    file_path: str,
    new_source: str,
    *,
    column: int = DEFAULT_ANCHOR_COLUMN,
    agent_id: str | None = None,
    correlation_id: str | None = None,
) -> Proposal:
    """A rewrite of node ``node_id`` found by its anchor in ``text`` (raises ProposalError with the
    reason the model must see when the new source is not acceptable)."""
    what = f"rewrite of {node_id!r}"
    span = edit.locate(text, node_id, file_path)
    if span is None:
        raise ProposalError(f"{what}: node {node_id!r} is no longer in {file_path!r}")
    language = other_language(file_path)
    if language is not None:  # Go ...: the file's grammar and comment syntax
        body = defs.unfence(new_source)
        new = lang_edit.rewrite(body, node_id, span.node_type, span.name, language, column, what)
    elif span.node_type == "file":
        new = _rewrite_file(text, span, new_source, what)
    else:
        new = _rewrite_definition(text, span, new_source, column, what)
    old = edit.span_text(text, span)
    if new == old:
        raise ProposalError(f"{what}: the new source is identical to the current one")
    _check_result(text, span, new, what, file_path)
    return _proposal("rewrite", node_id, file_path, span, old, new, agent_id, correlation_id)


def _proposal(
    kind: ProposalKind,
    node_id: str,
    file_path: str,
    span: edit.Span,
    old: str,
    new: str,
    agent_id: str | None,
    correlation_id: str | None,
) -> Proposal:
    """A pending proposal replacing ``old`` (the span's text, hashed as its base) by ``new``."""
    return Proposal(
        id=new_proposal_id(),
        node_id=node_id,
        kind=kind,
        file_path=file_path,
        base_hash=span.source_hash,
        old_source=old,
        new_source=new,
        diff=edit.span_diff(old, new, file_path, span.start_line),
        agent_id=agent_id,
        correlation_id=correlation_id,
        created_at=time.time(),
    )


def _body_indent(lines: list[str], span: edit.Span) -> str:
    if span.node_type == "file":
        return ""
    for line in lines[span.header_end_line : span.end_line]:
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return defs.indent_of(line)
    return span.indent + "    "


def _fresh_id(is_taken: Callable[[str], bool]) -> str:
    node_id = new_node_id()
    while is_taken(node_id):
        node_id = new_node_id()
    return node_id


def _new_top_level(
    text: str, file_path: str, language: Language, insert: Callable[[str], str], what: str
) -> tuple[edit.Span, str]:
    """(the file's span, the file with the new definition): ``draft_new_node`` in a file of
    another registry language, whose new nodes are top-level (``insert`` puts it in)."""
    file_id = language.parse(text.encode("utf-8", errors="surrogateescape")).file_anchor
    span = edit.locate(text, file_id, file_path) if file_id is not None else None
    if span is None:
        raise ProposalError(f"{what}: {file_path!r} has no file anchor yet (save it so the hub indexes it)")
    return span, insert(text)


def draft_new_node(
    text: str,
    container_id: str,
    file_path: str,
    node_type: NewNodeType,
    name: str,
    source: str,
    *,
    insert_after: str | None = None,
    is_taken: Callable[[str], bool] = lambda node_id: False,
    column: int = DEFAULT_ANCHOR_COLUMN,
    agent_id: str | None = None,
    correlation_id: str | None = None,
) -> tuple[Proposal, str]:
    """(proposal, new node id): ``source`` inserted into container ``container_id`` after the
    node ``insert_after`` (a direct child of the container) or at the end of its body."""
    what = f"new node {name!r}"
    language = other_language(file_path)
    if language is not None:  # Go, JS/TS: a new top-level definition, the file node's proposal
        node_id = _fresh_id(is_taken)
        body = defs.unfence(source)
        file_span, new = _new_top_level(
            text, file_path, language,
            lambda old: lang_edit.insert_new(
                old, container_id, body, node_id, node_type, name, language, column, insert_after, what
            ),
            what,
        )
        return _proposal(
            "new_node", file_span.node_id, file_path, file_span, text, new, agent_id, correlation_id
        ), node_id
    span = edit.locate(text, container_id)
    if span is None:
        raise ProposalError(f"{what}: container {container_id!r} is no longer in {file_path!r}")
    if span.node_type == "class" and node_type == "function":
        node_type = "method"
    if node_type == "method" and span.node_type != "class":
        raise ProposalError(
            f"{what}: a method can only be added to a class, and {container_id!r} is a {span.node_type}"
        )
    if span.node_type == "file":
        children = [
            (d.name, d.anchor, d.end_line) for d in parse_python(text.encode("utf-8")).defs if d.parent == -1
        ]
    else:
        shift = span.start_line - 1
        children = [
            (d.name, d.anchor, d.end_line + shift) for d in edit.span_defs(text, span).defs if d.parent == 0
        ]
    if any(child_name == name for child_name, _, _ in children):
        raise ProposalError(f"{what}: {container_id!r} already has a definition named {name!r}")
    definition = defs.read_definition(source, expect_name=name, expect_class=node_type == "class", what=what)
    defs.strip_foreign_anchors(definition, set())
    lines = edit.split_lines(text)
    newline = edit.newline_of(text)
    if insert_after is not None:
        after = next((end for _, anchor, end in children if anchor == insert_after), None)
        if after is None:
            raise ProposalError(f"{what}: {insert_after!r} is not a direct child of {container_id!r}")
        at = after
    else:
        at = span.end_line
    indent = _body_indent(lines, span)
    node_id = _fresh_id(is_taken)
    rendered = defs.render(definition, indent, newline)
    index = definition.parsed.def_line - 1
    rendered[index] = defs.put_anchor(rendered[index].rstrip("\r\n"), node_id, column) + newline
    gap = [newline] * (2 if indent == "" else 1)
    if at > 0 and not lines[at - 1].endswith("\n"):
        lines[at - 1] += newline
    following = lines[at] if at < len(lines) else ""
    block = gap + rendered + (gap if following.strip() else [])
    new_lines = lines[:at] + block + lines[at:]
    # the container's span grows by the inserted block (a file spans everything)
    if span.node_type == "file":
        old, new = text, "".join(new_lines)
    else:
        old = edit.span_text(text, span)
        new = "".join(new_lines[span.start_line - 1 : span.end_line + len(block)])
        if at == span.end_line and not old.endswith("\n") and span.end_line == len(lines):
            new = new.rstrip("\r\n")
    _check_result(text, span, new, what)
    proposal = _proposal("new_node", container_id, file_path, span, old, new, agent_id, correlation_id)
    return proposal, node_id
