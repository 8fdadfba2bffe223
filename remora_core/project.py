"""Finding a project's root and the source text of its nodes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from remora_core.errors import NodeNotFoundError, ProjectError
from remora_core.store.db import database_path
from remora_core.store.store import NodeRow

if TYPE_CHECKING:  # the graph package imports rustworkx and the event models
    from remora_core.graph.hydrate import GraphNode


def find_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` that holds a Remora index."""
    start = start.resolve()
    if start.is_file():
        start = start.parent
    for candidate in (start, *start.parents):
        if database_path(candidate).exists():
            return candidate
    raise ProjectError(f"no Remora index at or above {str(start)!r}: run 'remora index' there first")


def relative_path(root: Path, file: Path) -> str:
    """``file`` as stored in the index: relative to ``root``, '/'-separated."""
    try:
        return file.resolve().relative_to(root).as_posix()
    except ValueError:
        raise ProjectError(f"{str(file)!r} is not inside the project {str(root)!r}") from None


def node_source(root: Path, node: NodeRow | GraphNode) -> str:
    """The node's current text (its span, decorators included): from the editor's live buffer
    when it has one (``remora_core.live_buffers``), else from the file on disk."""
    from remora_core import live_buffers

    live = live_buffers.node_source(root, node)
    if live is not None:
        return live
    path = root / node.file_path
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as error:
        raise NodeNotFoundError(f"cannot read {str(path)!r} for node {node.id!r}: {error.strerror}") from None
    lines = text.splitlines(keepends=True)
    if node.node_type == "file":
        return text
    return "".join(lines[node.start_line - 1 : node.end_line])
