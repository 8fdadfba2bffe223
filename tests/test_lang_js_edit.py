"""JS/TS in proposals and the editor's buffer anchors: rewrites checked with the file's grammar
(methods inside a wrapper class), anchors kept, and own-line anchors as buffer line inserts."""

from __future__ import annotations

from pathlib import Path

import pytest

from remora_core.agents.drafts import draft_rewrite
from remora_core.agents.errors import ProposalError
from remora_core.editor.buffer_ids import anchor_line_edits, apply_line_edits
from tests.lang_js_helpers import FIXTURES, inject, parse_file

SHAPES = "src/lib/shapes.ts"


@pytest.fixture
def shapes() -> tuple[str, dict[str, str]]:
    text = inject(SHAPES, (FIXTURES / "lang_js" / SHAPES).read_bytes()).decode()
    ids = {d.qualname: d.anchor for d in parse_file(SHAPES, text.encode()).defs if d.anchor is not None}
    return text, ids


def test_rewrite_of_a_method_is_checked_as_a_class_member_and_keeps_its_anchor(
    shapes: tuple[str, dict[str, str]],
) -> None:
    text, ids = shapes
    proposal = draft_rewrite(text, ids["Square.area"], SHAPES, "```ts\narea(): number {\n  return 2 * this.side2;\n}\n```")
    assert proposal.new_source == f"area(): number {{\n  // {ids['Square.area']}\n  return 2 * this.side2;\n}}\n"
    with pytest.raises(ProposalError, match="does not parse as a typescript method"):
        draft_rewrite(text, ids["Square.area"], SHAPES, "area(): number {\n  return (;\n}\n")
    with pytest.raises(ProposalError, match="renaming creates a new node"):
        draft_rewrite(text, ids["Square.area"], SHAPES, "size(): number {\n  return 1;\n}\n")


def test_rewrite_of_a_function_and_of_a_class_with_methods(shapes: tuple[str, dict[str, str]]) -> None:
    text, ids = shapes
    proposal = draft_rewrite(text, ids["sealed"], SHAPES, "function sealed(target: Function): void {\n  Object.freeze(target);\n}\n")
    assert f"// {ids['sealed']}" in proposal.new_source and "Object.freeze" in proposal.new_source
    new_class = "export class Cube extends Square {\n  volume(): number {\n    return 0;\n  }\n}\n"
    proposal = draft_rewrite(text, ids["Cube"], SHAPES, new_class)
    assert proposal.new_source.startswith(f"export class Cube extends Square {{\n  // {ids['Cube']}\n")
    with pytest.raises(ProposalError, match="does not parse as typescript"):
        draft_rewrite(text, ids["sealed"], SHAPES, "function sealed(target: Function): void {\n")


def test_buffer_anchor_edits_insert_own_lines_after_openers() -> None:
    lines = (FIXTURES / "lang_js" / SHAPES).read_text().split("\n")
    edits = anchor_line_edits(lines, SHAPES, Path("/nonexistent"), None)
    inserted = [edit for edit in edits if edit.insert]
    assert len(inserted) == 9  # the file anchor and eight definitions ending their line with "{"
    new_lines = apply_line_edits(lines, edits)
    assert new_lines[0].startswith("// remora-file: rm_")
    assert new_lines[3] == "function sealed(target: Function): void {" and new_lines[4].startswith("  // rm_")
    assert any(line.startswith("  constructor(private side: number) {} // rm_") for line in new_lines)
    reparsed = parse_file(SHAPES, "\n".join(new_lines).encode())
    assert all(d.anchor is not None for d in reparsed.defs)


def test_a_new_function_goes_at_the_top_level_and_a_class_member_is_a_rewrite(
    shapes: tuple[str, dict[str, str]],
) -> None:
    from remora_core.agents.drafts import draft_new_node
    from remora_core.agents.proposals import splice_proposal

    text, ids = shapes
    file_id = parse_file(SHAPES, text.encode()).file_anchor
    assert file_id is not None
    proposal, new_id = draft_new_node(
        text, file_id, SHAPES, "function", "twice", "```ts\nexport function twice(x: number): number {\n  return 2 * x;\n}\n```"
    )
    spliced = splice_proposal(proposal, text)
    assert not isinstance(spliced, str)
    found = {d.qualname: d.anchor for d in parse_file(SHAPES, spliced.text.encode()).defs}
    assert found["twice"] == new_id and {k: v for k, v in found.items() if k != "twice"} == ids
    with pytest.raises(ProposalError, match="written by rewriting the class"):
        draft_new_node(text, ids["Square"], SHAPES, "method", "perimeter", "perimeter(): number {\n  return 4;\n}\n")
