"""Markdown summaries of node state at ``.agentfs/nodes/{relative_file_path}/{node_name}.md``
(methods: ``Class.method.md``, a file's own node: ``__file__.md``). Written atomically and only
when the content changed; an orphaned node's file moves to ``.agentfs/nodes/_orphaned/``."""

from __future__ import annotations

import time
from pathlib import Path

from remora_core.hub.state.files import move_file, write_if_changed
from remora_core.hub.state.model import NodeRef, NodeState
from remora_core.hub.state.testing import AGENTFS

NODES_DIR = f"{AGENTFS}/nodes"
ORPHANED_DIR = f"{NODES_DIR}/_orphaned"
FILE_NODE_NAME = "__file__"


def markdown_path(file_path: str, node_type: str, qualname: str) -> str:
    name = FILE_NODE_NAME if node_type == "file" else qualname
    return f"{NODES_DIR}/{file_path}/{name}.md"


def _link(ref: NodeRef, depth: int) -> str:
    up = "../" * depth
    return f"[`{ref.qualname}`]({up}{ref.file_path}#L{ref.line}) ({ref.file_path}:{ref.line})"


def _when(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp)) if stamp else "-"


def render(state: NodeState) -> str:
    """The markdown of one node. Holds no wall-clock time of its own, so an unchanged state
    renders to the same bytes (and the file is not rewritten)."""
    rel = markdown_path(state.file_path, state.type, state.qualname)
    depth = rel.count("/")  # links are relative to the markdown file's folder
    title = state.file_path if state.type == "file" else state.qualname
    out = [
        f"# {title}",
        "",
        f"`{state.id}` · {state.type} · [{state.file_path}:{state.start_line}-{state.end_line}]"
        f"({'../' * depth}{state.file_path}#L{state.start_line}) · source `{state.source_version[:12]}`"
        + (" · **orphaned**" if state.status == "orphaned" else ""),
        "",
    ]
    if state.signature:
        out += ["## Signature", "", "```python", *[f"@{d}" for d in state.decorators], state.signature, "```", ""]
    out += ["## Summary", "", state.summary or "-", ""]
    if state.exports:
        out += ["## Exports", "", ", ".join(f"`{name}`" for name in state.exports), ""]
    if state.parent is not None:
        out += ["## Parent", "", f"- {_link(state.parent, depth)}", ""]
    for label, refs in (("Callers", state.callers), ("Callees", state.callees)):
        out += [f"## {label}", ""]
        out += [f"- {_link(item, depth)}" for item in refs] or ["- none"]
        out.append("")
    if state.impact is not None:
        impact = state.impact
        out += [
            "## API change impact",
            "",
            f"`{impact.old_signature}` -> `{impact.new_signature}` ({_when(impact.timestamp)})",
            "",
        ]
        out += [
            f"- {site.file_path}:{site.line} in `{site.caller}`" + (f": `{site.text}`" if site.text else "")
            for site in impact.call_sites
        ] or ["- no call sites"]
        out.append("")
    out += ["## Tests", ""]
    if state.tests:
        for test in state.tests:
            result = test.last_result if test.last_run is None else f"{test.last_result} ({_when(test.last_run)}, {test.duration or 0:.2f} s)"
            out.append(f"- `{test.test_id}` ({test.how}): {result}")
    else:
        out.append("- none found")
    if state.skeleton_path:
        out.append(f"- skeleton: [{state.skeleton_path}]({'../' * depth}{state.skeleton_path}) (offered as a proposal)")
    out.append("")
    out += ["## Complexity", ""]
    if state.complexity is not None:
        trend = " -> ".join(str(point.value) for point in state.complexity_history) or str(state.complexity)
        flow = ", ".join(f"{key} {value}" for key, value in state.control_flow.items() if value)
        out += [f"- cyclomatic: {state.complexity} (trend: {trend})", f"- control flow: {flow or 'straight line'}"]
    else:
        out.append("- not computed")
    out.append("")
    if state.similar:
        out += ["## Similar nodes", ""]
        out += [f"- {_link(NodeRef(id=s.id, qualname=s.qualname, file_path=s.file_path, line=s.line), depth)} (score {s.score})" for s in state.similar]
        out.append("")
    out += ["## Last changes", ""]
    out += [
        f"- {_when(change.timestamp)} {change.kind} `{change.source_version[:12]}`"
        + (f" [{', '.join(change.signals)}]" if change.signals else "")
        + (f": {change.summary}" if change.summary else "")
        for change in reversed(state.changes)
    ] or ["- none recorded"]
    out.append("")
    return "\n".join(out)


def write_markdown(root: Path, state: NodeState, rendered: bytes | None = None) -> tuple[str, bool]:
    """(relative path, written?) of the node's markdown (``rendered``: ``render(state)`` made
    beforehand, so that many files are written in one short burst). A node whose path changed
    (a rename or move) leaves no stale file behind."""
    rel = markdown_path(state.file_path, state.type, state.qualname)
    if state.markdown_path and state.markdown_path != rel:
        old = root / state.markdown_path
        if old.exists():
            old.unlink()
    written = write_if_changed(root / rel, rendered if rendered is not None else render(state).encode("utf-8"))
    return rel, written


def orphan_markdown(root: Path, state: NodeState) -> str | None:
    """Move the node's markdown under ``_orphaned/`` (same relative layout); the new path."""
    current = state.markdown_path or markdown_path(state.file_path, state.type, state.qualname)
    if current.startswith(ORPHANED_DIR + "/"):
        return current
    target = ORPHANED_DIR + current.removeprefix(NODES_DIR)
    return target if move_file(root / current, root / target) else None
