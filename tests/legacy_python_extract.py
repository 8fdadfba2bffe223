"""The Python extraction as it was before the fast path of issue #15: the oracle that
``tests/test_extract_equivalence.py`` compares ``remora_core.parsing.python_source`` with.

It is the general path, which ``python_source`` keeps for trees with syntax errors: the old query,
every definition through ``Extractor.add_defs`` (node by node), and the old call loop on nodes
(kept here verbatim), with the old ordering of captures.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from tree_sitter import Node, Query, QueryCursor, Tree

from remora_core.parsing.model import ParsedCall
from remora_core.parsing.python_source import Extraction, Extractor, python_language

_QUERY = """
[(function_definition) (class_definition)] @def
[(import_statement) (import_from_statement)] @import
(call function: [(identifier) (attribute)] @callee)
"""
_SUPER_ARGS_RE = re.compile(r"^super\([^()]*\)")
_CALLEE_RE = re.compile(r"(?:super\(\)|[^\W\d]\w*)(?:\.[^\W\d]\w*)*")
_query: Query | None = None


def _in_order(nodes: list[Node]) -> list[Node]:
    previous_start = previous_end = -1
    for node in nodes:
        start = node.start_byte
        if start < previous_start:
            break
        if start == previous_start:
            end = node.end_byte
            if end < previous_end:
                break
            previous_end = end
        else:
            previous_start, previous_end = start, node.end_byte
    else:
        return nodes
    return sorted(nodes, key=lambda node: (node.start_byte, node.end_byte))


class LegacyExtractor(Extractor):
    def add_parts(self, captures: dict[str, list[Node]]) -> None:
        self.add_defs(captures.get("def", []))
        for node in captures.get("import", []):
            self.add_import(node)
        self.add_node_calls(captures.get("callee", []))

    def add_node_calls(self, nodes: list[Node]) -> None:
        defs = self.defs
        if not defs:
            return
        starts = [parsed.def_byte for parsed in defs]
        body_starts = self.body_starts
        data = self.data
        found = self.found_calls
        positions = self.call_bytes
        first_body = body_starts[0]
        for node in nodes:
            position = node.start_byte
            if position < first_body:
                continue
            index = bisect_right(starts, position) - 1
            while index >= 0 and not (body_starts[index] <= position < defs[index].end_byte):
                index = defs[index].parent
            if index < 0 or defs[index].node_type == "class":
                continue
            raw = data[position : node.end_byte].decode("utf-8", errors="replace")
            if node.type == "attribute":
                if " " in raw or "\n" in raw or "\t" in raw:
                    raw = "".join(raw.split())
                if raw.startswith("super(") and not raw.startswith("super()"):
                    raw = _SUPER_ARGS_RE.sub("super()", raw, count=1)  # super(Cls, self).m
                if _CALLEE_RE.fullmatch(raw) is None:
                    continue
            found.append(ParsedCall(index, raw, node.start_point[0] + 1))
            positions.append(position)


def query_captures(node: Node) -> dict[str, list[Node]]:
    global _query
    if _query is None:
        _query = Query(python_language(), _QUERY)
    return {name: _in_order(nodes) for name, nodes in QueryCursor(_query).captures(node).items()}


def extract(data: bytes, tree: Tree, problems: list[str] | None = None) -> Extraction:
    extractor = LegacyExtractor(data, tree.root_node)
    extractor.add_parts(query_captures(tree.root_node))
    parsed = extractor.finish(problems or [])
    return Extraction(data, tree, parsed, extractor.body_starts, extractor.import_bytes, extractor.call_bytes)
