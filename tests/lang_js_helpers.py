"""Shared helpers of the JS/TS tests: parse a fixture tree, build the symbol table, inject anchors."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from remora_core.index.symbols import FileSymbols, ImportRef, SymbolNode
from remora_core.languages import language_for_path
from remora_core.languages.base import Language
from remora_core.languages.javascript import JavaScript
from remora_core.languages.js_anchors import apply_anchor_edits
from remora_core.languages.js_extract import parse_tree
from remora_core.languages.js_resolve import JsSymbols
from remora_core.parsing.anchors import AnchorEdit
from remora_core.parsing.ids import new_node_id
from remora_core.parsing.model import ParsedFile

FIXTURES = Path(__file__).parent / "fixtures"


def js_language(path: str) -> JavaScript | None:
    """The JS/TS/TSX language of a path (None for any other file, and for .d.ts files)."""
    language: Language | None = language_for_path(path)
    return language if isinstance(language, JavaScript) else None


def parse_file(path: str, data: bytes) -> ParsedFile:
    language = js_language(path)
    assert language is not None, path
    return language.parse(data)


def js_files(root: Path) -> list[str]:
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "node_modules")
        for name in sorted(files):
            rel = os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
            if js_language(rel) is not None:
                found.append(rel)
    return found


def node_ids(path: str, parsed: ParsedFile) -> list[str]:
    """Readable ids: ``path:qualname`` (``#2`` for a second definition of one qualname)."""
    ids: list[str] = []
    for parsed_def in parsed.defs:
        base = f"{path}:{parsed_def.qualname}"
        node_id, count = base, 1
        while node_id in ids:
            count += 1
            node_id = f"{base}#{count}"
        ids.append(node_id)
    return ids


def build_table(root: Path) -> tuple[JsSymbols, dict[str, ParsedFile]]:
    table = JsSymbols(root)
    parsed_files: dict[str, ParsedFile] = {}
    for path in js_files(root):
        parsed = parse_file(path, (root / path).read_bytes())
        parsed_files[path] = parsed
        ids = node_ids(path, parsed)
        nodes = [SymbolNode(path, "file", path.rsplit("/", 1)[-1], path, None)]
        for index, parsed_def in enumerate(parsed.defs):
            parent = path if parsed_def.parent < 0 else ids[parsed_def.parent]
            nodes.append(
                SymbolNode(
                    ids[index],
                    parsed_def.node_type,
                    parsed_def.name,
                    path,
                    parent,
                    parsed_def.bases,
                    frozenset(parsed_def.params),
                )
            )
        symbols = FileSymbols(
            path, path, [ImportRef(*ref) for ref in parsed.imports], [(ids[c.caller], c.callee) for c in parsed.calls]
        )
        table.add_file(symbols, nodes)
    return table, parsed_files


def inject(path: str, data: bytes) -> bytes:
    """``data`` with an anchor on every definition that can take one, and a file anchor."""
    parsed = parse_file(path, data)
    edits = [AnchorEdit(d.inject_line, new_node_id()) for d in parsed.defs if d.anchor is None and d.inject_line]
    if parsed.file_anchor is None:
        edits.append(AnchorEdit(parsed.file_anchor_insert_line, new_node_id(), is_file_anchor=True))
    return apply_anchor_edits(data, edits)


def code_tokens(path: str, data: bytes) -> list[tuple[str, bytes]]:
    """The tree's leaves without comments: (type, text), in order."""
    language = js_language(path)
    assert language is not None
    tree = parse_tree(data, language.dialect)
    found: list[tuple[str, bytes]] = []
    cursor = [tree.root_node]
    while cursor:
        node = cursor.pop()
        if node.type in ("comment", "html_comment"):
            continue
        if node.child_count == 0:
            found.append((node.type, node.text or b""))
        else:
            cursor.extend(reversed(node.children))
    return found


def prettier() -> str | None:
    """The prettier executable the tests use (``REMORA_PRETTIER``, else on PATH)."""
    configured = os.environ.get("REMORA_PRETTIER")
    if configured and Path(configured).exists():
        return configured
    return shutil.which("prettier")
