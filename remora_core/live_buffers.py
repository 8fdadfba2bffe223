"""Live buffers: the editor's unsaved texts, which agents read instead of the files on disk.

With every agent request (chat, reject with feedback, ghost) the editor sends the text of each
modified buffer of the project; ``replace`` makes exactly that set the project's current
version of those files (a buffer saved since is no longer in the set, so the disk wins again).
A node's source, its neighbours' and a proposal's base are then read from here first, so the
agent sees what the user sees and its proposal applies to that buffer.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

from remora_core.graph.hydrate import GraphNode
from remora_core.languages import language_of
from remora_core.store.store import NodeRow

_lock = threading.Lock()
_texts: dict[Path, dict[str, str]] = {}


def replace(root: Path, texts: Mapping[str, str] | None) -> None:
    """The live texts of ``root`` become ``texts`` ({relative path: text}); None or {} clears them."""
    clean = {str(path): str(text) for path, text in (texts or {}).items()}
    with _lock:
        if clean:
            _texts[root.resolve()] = clean
        else:
            _texts.pop(root.resolve(), None)


def text(root: Path, rel_path: str) -> str | None:
    """The live text of ``rel_path`` in ``root``, or None when the file on disk is current."""
    with _lock:
        return _texts.get(root.resolve(), {}).get(rel_path)


def node_source(root: Path, node: NodeRow | GraphNode) -> str | None:
    """``node``'s source in its live buffer (found by its anchor: lines may have moved), or None
    when its file has no live text or the node is not in it."""
    live = text(root, node.file_path)
    if live is None:
        return None
    if node.node_type == "file":
        return live
    parsed = language_of(node.file_path).parse(live.encode("utf-8", errors="surrogateescape"))
    for definition in parsed.defs:
        if definition.anchor == node.id:
            lines = live.splitlines(keepends=True)
            return "".join(lines[definition.start_line - 1 : definition.end_line])
    return None
