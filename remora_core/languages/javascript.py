"""JavaScript, TypeScript and TSX: file extensions, parsing, anchors, syntax check.

``.js .mjs .cjs .jsx`` are JavaScript (the grammar reads JSX), ``.ts .mts .cts`` TypeScript,
``.tsx`` TSX. Declaration files (``.d.ts``, ``.d.mts``, ``.d.cts``) are not indexed: they hold
no bodies (so no agent has code to own) and are usually generated, and a generated file
would lose its anchors each time it is rebuilt.
"""

from __future__ import annotations

from remora_core.languages import js_anchors
from remora_core.languages.js_extract import Dialect, parse_source, parse_tree
from remora_core.parsing.anchors import lone_cr_as_lf
from remora_core.parsing.model import ParsedFile
from remora_core.parsing.python_source import first_syntax_error

EXTENSIONS: dict[str, Dialect] = {
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
}
DECLARATION_SUFFIXES = (".d.ts", ".d.mts", ".d.cts")
# Neovim 'filetype' of each dialect's buffers.
FILETYPES: dict[Dialect, tuple[str, ...]] = {
    "javascript": ("javascript", "javascriptreact"),
    "typescript": ("typescript",),
    "tsx": ("typescriptreact",),
}
COMMENT_PREFIX = "//"


def dialect_for(path: str) -> Dialect | None:
    """The dialect of a file path, or None when it is not an indexed JS/TS file."""
    lowered = path.lower()
    if lowered.endswith(DECLARATION_SUFFIXES):
        return None
    dot = lowered.rfind(".")
    return EXTENSIONS.get(lowered[dot:]) if dot >= 0 else None


def parse_file(path: str, data: bytes) -> ParsedFile:
    """The ParsedFile of one JS/TS/TSX file's bytes (``path`` picks the dialect)."""
    dialect = dialect_for(path)
    if dialect is None:
        raise ValueError(f"not a JavaScript/TypeScript file: {path!r}")
    return parse_source(lone_cr_as_lf(data), dialect)


def syntax_problem(path: str, text: str) -> str | None:
    """Where the first syntax error of ``text`` is (for a proposal to ``path``), or None."""
    dialect = dialect_for(path) or "typescript"
    return first_syntax_error(parse_tree(text.encode("utf-8", errors="surrogateescape"), dialect).root_node)


# The anchor syntax, for the engine's dispatch.
strip_anchors = js_anchors.strip_anchors
apply_anchor_edits = js_anchors.apply_anchor_edits
file_anchor_text = js_anchors.file_anchor_text
find_node_anchor_re = js_anchors.NODE_ANCHOR_RE
