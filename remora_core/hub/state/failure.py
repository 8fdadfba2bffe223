"""Demo 1, failure context: a pytest report (junit XML from ``--junitxml`` or the text of
``pytest -rA``) -> each failing test's traceback frames mapped to nodes -> one bundle (nodes,
signatures, callers, callees, similar nodes, the failing assertion) under ``.agentfs/context/``."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from remora_core.config import HubConfig
from remora_core.hub.state.files import write_if_changed
from remora_core.hub.state.store import NodeStateStore
from remora_core.hub.state.testing import AGENTFS
from remora_core.hub.state.tools import ToolContext, UpdateTools
from remora_core.store.store import NodeRow, Store

CONTEXT_DIR = f"{AGENTFS}/context"
_FRAME_RES = (
    re.compile(r'^\s*File "(?P<path>[^"]+\.py)", line (?P<line>\d+)'),  # native / Python tracebacks
    re.compile(r"^(?P<path>[^\s:]+\.py):(?P<line>\d+):"),  # pytest long/short: path:line: in f / Error
)
_FAILED_RE = re.compile(r"^(?:FAILED|ERROR) (?P<id>\S+?)(?: - (?P<message>.*))?$")
_SECTION_RE = re.compile(r"^_{3,} (?P<name>.+?) _{3,}$")


@dataclass(slots=True)
class Failure:
    test_id: str
    message: str = ""
    text: str = ""  # the traceback
    assertion: list[str] = field(default_factory=list)


def parse_junit(data: str) -> list[Failure]:
    failures: list[Failure] = []
    root = ElementTree.fromstring(data)
    for case in root.iter("testcase"):
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is None:
            continue
        classname = case.get("classname", "")
        name = case.get("name", "")
        file = case.get("file")
        parts = classname.split(".")
        if file is None:
            file = "/".join(parts) + ".py" if parts else ""
            klass = ""
        else:
            module = file.removesuffix(".py").replace("/", ".")
            klass = classname.removeprefix(module).lstrip(".")
        test_id = f"{file}::{klass + '::' if klass else ''}{name}"
        text = problem.text or ""
        failures.append(
            Failure(test_id, problem.get("message", ""), text, [line[1:].strip() for line in text.splitlines() if line.startswith("E ")])
        )
    return failures


def parse_text(data: str) -> list[Failure]:
    """``pytest -rA`` (or plain) output: the FAILED summary lines and the traceback sections."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in data.splitlines():
        header = _SECTION_RE.match(line)
        if header:
            current = sections.setdefault(header.group("name"), [])
            continue
        if line.startswith("=") and current is not None:
            current = None
            continue
        if current is not None:
            current.append(line)
    failures: list[Failure] = []
    for line in data.splitlines():
        match = _FAILED_RE.match(line.strip())
        if not match:
            continue
        test_id = match.group("id")
        short = test_id.split("::", 1)[-1].replace("::", ".")
        body = sections.get(short) or sections.get(test_id.split("::")[-1]) or []
        text = "\n".join(body)
        failures.append(
            Failure(test_id, match.group("message") or "", text, [item[1:].strip() for item in body if item.startswith("E ")])
        )
    return failures


def parse_report(path: Path) -> list[Failure]:
    data = path.read_text(encoding="utf-8", errors="replace")
    if data.lstrip().startswith("<"):
        return parse_junit(data)
    return parse_text(data)


def _frames(text: str) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for line in text.splitlines():
        for pattern in _FRAME_RES:
            match = pattern.match(line)
            if match:
                item = (match.group("path"), int(match.group("line")))
                if item not in found:
                    found.append(item)
                break
    return found


def _innermost(rows: list[NodeRow], line: int) -> NodeRow | None:
    best: NodeRow | None = None
    for row in rows:
        if row.node_type == "file":
            best = best or row
            continue
        if row.start_line <= line <= row.end_line and (best is None or best.node_type == "file" or row.start_line >= best.start_line):
            best = row
    return best


def failure_context(root: Path, store: Store, report: Path, config: HubConfig) -> tuple[dict[str, Any], Path]:
    """Build and write the bundle; (bundle, path of its markdown)."""
    tools = UpdateTools(ToolContext(root, store, NodeStateStore(store.connection), config))
    failures = parse_report(report)
    described: dict[str, dict[str, Any]] = {}
    out: list[dict[str, Any]] = []
    for failure in failures:
        frames: list[dict[str, Any]] = []
        candidates = _frames(failure.text)
        test_file = failure.test_id.split("::")[0]
        if not any(path.endswith(test_file) for path, _ in candidates):
            candidates.insert(0, (test_file, -1))
        for raw_path, line in candidates:
            rel = _relative(root, raw_path)
            if rel is None:
                continue
            rows = store.nodes_in_file(rel, active_only=True)
            if line == -1:
                name = failure.test_id.split("::")[-1]
                row = next((r for r in rows if r.name == name), None)
            else:
                row = _innermost(rows, line)
            if row is None:
                continue
            if row.id not in described:
                described[row.id] = _describe(tools, row)
            frames.append({"file": rel, "line": line if line > 0 else row.def_line, "node_id": row.id, "qualname": row.qualname})
        under_test: list[str] = []  # what the failing test calls: the code an assertion in the test is about
        for frame in frames[:1]:
            for callee in store.nodes(store.edge_targets(frame["node_id"], "calls")).values():
                if callee.status == "active" and callee.id not in under_test:
                    under_test.append(callee.id)
                    if callee.id not in described:
                        described[callee.id] = _describe(tools, callee)
        out.append(
            {
                "test_id": failure.test_id,
                "message": failure.message,
                "assertion": failure.assertion,
                "frames": frames,
                "under_test": under_test,
            }
        )
    bundle = {"report": str(report), "created": time.time(), "failures": out, "nodes": described}
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = root / CONTEXT_DIR / f"failure-{stamp}"
    write_if_changed(base.with_suffix(".json"), json.dumps(bundle, indent=2).encode("utf-8"))
    markdown = base.with_suffix(".md")
    write_if_changed(markdown, _render(bundle).encode("utf-8"))
    return bundle, markdown


def _relative(root: Path, raw: str) -> str | None:
    path = Path(raw)
    if path.is_absolute():
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return None  # a frame in the stdlib or site-packages
    return path.as_posix()


def _describe(tools: UpdateTools, row: NodeRow) -> dict[str, Any]:
    data: dict[str, Any] = {"id": row.id, "type": row.node_type, "qualname": row.qualname, "file": row.file_path, "line": row.def_line}
    for key, job in (
        ("signature", lambda: tools.extract_signature(row.id).signature),
        ("callers", lambda: [c.model_dump() for c in tools.find_callers(row.id).call_sites]),
        ("callees", lambda: [c.model_dump() for c in tools.find_callees(row.id).callees]),
        ("similar", lambda: [s.model_dump() for s in tools.search_similar(row.id).similar]),
    ):
        try:
            data[key] = job()
        except Exception as error:  # noqa: BLE001 - one missing fact does not drop the bundle
            data[key] = f"error: {error}"
    return data


def _render(bundle: dict[str, Any]) -> str:
    out = [f"# Failure context ({len(bundle['failures'])} failing test(s))", "", f"Report: `{bundle['report']}`", ""]
    nodes = bundle["nodes"]
    for failure in bundle["failures"]:
        out += [f"## {failure['test_id']}", ""]
        if failure["message"]:
            out += [f"**{failure['message']}**", ""]
        if failure["assertion"]:
            out += ["```", *failure["assertion"], "```", ""]
        out.append("Frames (outermost first):")
        for frame in failure["frames"]:
            node = nodes[frame["node_id"]]
            out.append(f"- {frame['file']}:{frame['line']} in `{frame['qualname']}` ({frame['node_id']}): `{node.get('signature') or '-'}`")
        if failure["under_test"]:
            out.append("")
            out.append("Called by the test:")
            for node_id in failure["under_test"]:
                node = nodes[node_id]
                out.append(f"- `{node['qualname']}` ({node['file']}:{node['line']}): `{node.get('signature') or '-'}`")
        out.append("")
    out += ["## Nodes", ""]
    for node in nodes.values():
        out += [f"### {node['qualname']} ({node['id']}, {node['file']}:{node['line']})", ""]
        out.append(f"- signature: `{node.get('signature') or '-'}`")
        callers = node.get("callers")
        if isinstance(callers, list):
            out.append("- callers: " + (", ".join(f"{c['caller']} ({c['file_path']}:{c['line']})" for c in callers) or "none"))
        callees = node.get("callees")
        if isinstance(callees, list):
            out.append("- callees: " + (", ".join(f"{c['qualname']} ({c['file_path']}:{c['line']})" for c in callees) or "none"))
        similar = node.get("similar")
        if isinstance(similar, list):
            out.append("- similar: " + (", ".join(f"{s['qualname']} ({s['file_path']}:{s['line']})" for s in similar) or "none"))
        out.append("")
    return "\n".join(out)
