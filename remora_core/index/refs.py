"""The ``files.refs`` column codec: a file's node ids in definition order and its raw references
(imports, calls, class bases, parameters) as compact JSON, and the symbol-table entries read
back from it (a hub or CLI pass loads every unchanged file's symbols from this column)."""

from __future__ import annotations

import json
import re

from remora_core.index.matching import FileIds
from remora_core.index.symbols import FileSymbols, SymbolNode, import_ref, shared_name


def refs_json(ids: FileIds, body: str) -> str:
    """The ``files.refs`` column: the file's node ids in definition order + its raw references."""
    return '{"ids":' + json.dumps(ids.def_ids, separators=(",", ":")) + "," + body + "}"


def symbols_from_refs(
    path: str,
    file_id: str,
    refs: dict,
    nodes: dict[str, SymbolNode],
    shared: dict[tuple[str, ...], tuple[str, ...]] | None = None,
    names: dict[str, str] | None = None,
) -> tuple[FileSymbols, list[SymbolNode]]:
    """A file's symbol-table entries from its ``files.refs`` column and its stored ``nodes``.
    Parameter lists and class bases are tuples shared through ``shared``, definition names
    through ``names`` (``Indexer._param_sets`` / ``_names``, as the cold build shares them),
    imports interned (``symbols.import_ref``): a hub loads every file of the project this way."""
    shared = {} if shared is None else shared
    names = {} if names is None else names
    share = shared.setdefault
    ids: list[str] = refs.get("ids", [])
    bases = {int(index): tuple(value) for index, value in refs.get("bases", {}).items()}
    params = {int(index): tuple(value) for index, value in refs.get("params", {}).items()}
    symbol_nodes: list[SymbolNode] = []
    if file_id in nodes:
        symbol_nodes.append(nodes[file_id])
    for index, node_id in enumerate(ids):
        node = nodes.get(node_id)
        if node is None:
            continue
        found_bases, found_params = bases.get(index, ()), params.get(index, ())
        symbol_nodes.append(
            SymbolNode(
                node.id,
                node.node_type,
                names.get(node.name) or shared_name(names, node.name),
                path if node.file_path == path else node.file_path,
                node.parent_id,
                share(found_bases, found_bases),
                share(found_params, found_params),
            )
        )
    symbols = FileSymbols(
        path=path,
        file_id=file_id,
        imports=[import_ref(*item) for item in refs.get("imports", [])],
        calls=[(ids[caller], callee) for caller, callee, _ in refs.get("calls", []) if caller < len(ids)],
    )
    return symbols, symbol_nodes


# The last element of each import and call entry in a refs column is its line number (no
# other list there ends in an integer, and no name can hold ',' or ']').
REF_LINES_RE = re.compile(r",\d+\]")
