"""The ``files.refs`` column codec: a file's node ids in definition order and its raw references
(imports, calls, class bases, parameters) as compact JSON, and the symbol-table entries read
back from it (a hub or CLI pass loads every unchanged file's symbols from this column)."""

from __future__ import annotations

import json
import re

from remora_core.index.matching import FileIds
from remora_core.index.symbols import FileSymbols, ImportRef, SymbolNode


def refs_json(ids: FileIds, body: str) -> str:
    """The ``files.refs`` column: the file's node ids in definition order + its raw references."""
    return '{"ids":' + json.dumps(ids.def_ids, separators=(",", ":")) + "," + body + "}"


def symbols_from_refs(
    path: str, file_id: str, refs: dict, nodes: dict[str, SymbolNode]
) -> tuple[FileSymbols, list[SymbolNode]]:
    ids: list[str] = refs.get("ids", [])
    bases = {int(index): tuple(value) for index, value in refs.get("bases", {}).items()}
    params = {int(index): frozenset(value) for index, value in refs.get("params", {}).items()}
    symbol_nodes: list[SymbolNode] = []
    if file_id in nodes:
        symbol_nodes.append(nodes[file_id])
    for index, node_id in enumerate(ids):
        node = nodes.get(node_id)
        if node is None:
            continue
        if index in bases or index in params:
            node = SymbolNode(
                node.id,
                node.node_type,
                node.name,
                node.file_path,
                node.parent_id,
                bases.get(index, ()),
                params.get(index, frozenset()),
            )
        symbol_nodes.append(node)
    symbols = FileSymbols(
        path=path,
        file_id=file_id,
        imports=[ImportRef(*item) for item in refs.get("imports", [])],
        calls=[(ids[caller], callee) for caller, callee, _ in refs.get("calls", []) if caller < len(ids)],
    )
    return symbols, symbol_nodes


# The last element of each import and call entry in a refs column is its line number (no
# other list there ends in an integer, and no name can hold ',' or ']').
REF_LINES_RE = re.compile(r",\d+\]")
