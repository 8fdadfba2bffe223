"""A definition written with a body deeper than one step below its def (a method returned at
column 0 with an 8-space body) is re-indented consistently when drafted: body 4 deeper than the
def, relative structure kept."""

from __future__ import annotations

from remora_core.agents.definitions import read_definition, render
from remora_core.agents.drafts import draft_new_node
from remora_core.parsing.anchors import anchored_line

METHOD_8 = '''def perimeter(self, sides):
        """Sum of the sides.
    kept as written"""
        total = 0
        for side in sides:
            if side:
                total += side
        # trailing comment
        return total
'''


def _read(source: str) -> list[str]:
    definition = read_definition(source, expect_name="perimeter", expect_class=False, what="test")
    return [line.rstrip("\n") for line in render(definition, "    ")]


def test_eight_space_body_is_four_deeper_than_its_def() -> None:
    assert _read(METHOD_8) == [
        "    def perimeter(self, sides):",
        '        """Sum of the sides.',
        "    kept as written\"\"\"",  # inside a string: as the model wrote it
        "        total = 0",
        "        for side in sides:",
        "            if side:",
        "                total += side",
        "        # trailing comment",
        "        return total",
    ]


def test_regular_bodies_and_tabs_are_left_as_written() -> None:
    assert _read("def perimeter(self):\n    return 4\n") == ["    def perimeter(self):", "        return 4"]
    assert _read("def perimeter(self):\n  return 4\n") == ["    def perimeter(self):", "      return 4"]
    assert _read("def perimeter(self):\n\treturn 4\n") == ["    def perimeter(self):", "    \treturn 4"]
    assert _read("def perimeter(self): return 4\n") == ["    def perimeter(self): return 4"]


def test_method_drafted_into_a_class_is_reindented() -> None:
    lines = [
        anchored_line(b"class Shape:", "rm_class000", 60).decode(),
        anchored_line(b"    def area(self):", "rm_area0000", 60).decode(),
        "        return 0",
    ]
    text = "\n".join(lines) + "\n"
    proposal, _ = draft_new_node(
        text, "rm_class000", "shapes.py", "method", "perimeter",
        "def perimeter(self):\n        if self:\n            return 4\n        return 0\n",
        column=60,
    )
    new = [line.split("  # rm_")[0].rstrip() for line in proposal.new_source.split("\n")]
    at = new.index("    def perimeter(self):")
    assert new[at + 1 : at + 4] == ["        if self:", "            return 4", "        return 0"]
