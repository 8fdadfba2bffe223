"""The hub's update tools: plain methods with ``@tool`` schemas (the agents' mechanism), so the
Neovim tool forms and the triage model see the same JSON schemas. Each takes a node id and
returns a pydantic result; the updater merges results into the node's state."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from remora_core.agents.tools import BoundTool, ToolSet, collect_tools, tool
from remora_core.config import HubConfig
from remora_core.errors import NodeNotFoundError
from remora_core.hub.state.analysis import FileFacts, NodeFacts, facts, identifiers
from remora_core.hub.state.drift import Embedder, cosine
from remora_core.hub.state.model import CallSite, NodeRef, SimilarNode, TestRecord
from remora_core.hub.state.store import NodeStateStore
from remora_core.hub.state.testing import (
    is_test_file,
    is_test_node,
    project_python,
    pytest_id,
    run_test,
    write_skeleton,
)
from remora_core.store.store import NodeRow, Store


class SignatureResult(BaseModel):
    signature: str | None
    decorators: list[str] = Field(default_factory=list)
    docstring: str | None = None


class ComplexityResult(BaseModel):
    complexity: int | None
    control_flow: dict[str, int] = Field(default_factory=dict)


class CallersResult(BaseModel):
    callers: list[NodeRef] = Field(default_factory=list)
    call_sites: list[CallSite] = Field(default_factory=list)


class CalleesResult(BaseModel):
    callees: list[NodeRef] = Field(default_factory=list)


class TestsResult(BaseModel):
    __test__ = False
    tests: list[TestRecord] = Field(default_factory=list)


class SimilarResult(BaseModel):
    method: str = "fts5"
    similar: list[SimilarNode] = Field(default_factory=list)


class ExportsResult(BaseModel):
    file_path: str
    origin: str  # "__all__" | "public names"
    exports: list[str] = Field(default_factory=list)


class SkeletonResult(BaseModel):
    path: str  # relative to the root, under .agentfs/tests/
    test_id: str
    target_path: str  # where adopting it would put it in the project's tests


class TestRunResult(BaseModel):
    __test__ = False
    test_id: str
    outcome: str
    duration: float
    returncode: int | None
    output: str


@dataclass(slots=True)
class ToolContext:
    root: Path
    store: Store
    states: NodeStateStore
    config: HubConfig
    embedder: Embedder | None = None
    texts: dict[str, list[str]] = field(default_factory=dict)  # file lines, per update run
    parsed: dict[str, FileFacts] = field(default_factory=dict)  # one parse per file, per update run
    whole_files: bool = False  # many nodes per file (a build): parse each file once for all
    rows: dict[str, NodeRow] = field(default_factory=dict)  # index rows read once (a build's batch)

    def file_facts(self, path: str) -> FileFacts:
        found = self.parsed.get(path)
        if found is None:
            found = self.parsed[path] = FileFacts.parse("".join(self.lines(path)))
        return found

    def lines(self, path: str) -> list[str]:
        cached = self.texts.get(path)
        if cached is None:
            try:
                text = (self.root / path).read_bytes().decode("utf-8", errors="replace")
            except OSError:
                text = ""
            cached = self.texts[path] = text.splitlines(keepends=True)
        return cached

    def source(self, row: NodeRow) -> str:
        lines = self.lines(row.file_path)
        if row.node_type == "file":
            return "".join(lines)
        return "".join(lines[row.start_line - 1 : row.end_line])


def ref(row: NodeRow) -> NodeRef:
    return NodeRef(id=row.id, qualname=row.qualname, file_path=row.file_path, line=row.def_line)


class UpdateTools:
    """The update tools over one project (bound to a ``ToolContext``)."""

    def __init__(self, context: ToolContext) -> None:
        self.context = context

    # -- helpers -----------------------------------------------------------------------
    def _row(self, node_id: str) -> NodeRow:
        row = self.context.rows.get(node_id) or self.context.store.node(node_id)
        if row is None:
            raise NodeNotFoundError(f"no node {node_id!r} in the index")
        return row

    def facts_of(self, row: NodeRow) -> NodeFacts:
        """Facts of the node's current text: from one parse of its file, else of its own text."""
        if self.context.whole_files or row.node_type == "file":
            found = self.context.file_facts(row.file_path).of(row.node_type, row.def_line)
            if found is not None:
                return found
        return facts(self.context.source(row), row.node_type)

    def _refs(self, ids: list[str]) -> list[NodeRef]:
        rows = self.context.store.nodes(ids)
        refs = [ref(rows[node_id]) for node_id in ids if node_id in rows and rows[node_id].status == "active"]
        return sorted(refs, key=lambda item: (item.file_path, item.line))

    # -- tools -------------------------------------------------------------------------
    @tool
    def extract_signature(self, node_id: str) -> SignatureResult:
        """The node's signature (def/class line with parameters, annotations, return type), its
        decorators and the first line of its docstring.

        Args:
            node_id: The node's id (rm_xxxxxxxx).
        """
        row = self._row(node_id)
        found = self.facts_of(row)
        return SignatureResult(signature=found.signature, decorators=found.decorators, docstring=found.docstring)

    @tool
    def compute_complexity(self, node_id: str) -> ComplexityResult:
        """Cyclomatic complexity and control-flow counts (branches, loops, try, returns, raises,
        yields, awaits, deepest nesting) of the node's source.

        Args:
            node_id: The node's id (rm_xxxxxxxx).
        """
        found = self.facts_of(self._row(node_id))
        if not found.parsed:
            return ComplexityResult(complexity=None)
        return ComplexityResult(complexity=found.complexity, control_flow=found.control_flow)

    @tool
    def find_callers(self, node_id: str) -> CallersResult:
        """Every node that calls this one, with the file:line of each call site.

        Args:
            node_id: The node's id (rm_xxxxxxxx).
        """
        row = self._row(node_id)
        store = self.context.store
        callers = store.nodes(store.edge_sources(node_id, "calls"))
        pattern = re.compile(rf"\b{re.escape(row.name)}\s*\(") if callers else None
        sites: list[CallSite] = []
        for caller in sorted(callers.values(), key=lambda item: (item.file_path, item.start_line)):
            if caller.status != "active":
                continue
            lines = self.context.lines(caller.file_path)
            start = caller.start_line if caller.node_type != "file" else 1
            end = caller.end_line if caller.node_type != "file" else len(lines)
            found = False
            for number in range(start, min(end, len(lines)) + 1):
                text = lines[number - 1]
                if row.name in text and pattern is not None and pattern.search(text) and not text.lstrip().startswith(("def ", "async def ", "#")):
                    sites.append(
                        CallSite(
                            caller_id=caller.id,
                            caller=caller.qualname,
                            file_path=caller.file_path,
                            line=number,
                            text=text.strip()[:160],
                        )
                    )
                    found = True
            if not found:
                sites.append(
                    CallSite(caller_id=caller.id, caller=caller.qualname, file_path=caller.file_path, line=caller.def_line)
                )
        return CallersResult(callers=self._refs(list(callers)), call_sites=sites)

    @tool
    def find_callees(self, node_id: str) -> CalleesResult:
        """Every node this one calls (resolved call edges of the index).

        Args:
            node_id: The node's id (rm_xxxxxxxx).
        """
        self._row(node_id)
        return CalleesResult(callees=self._refs(self.context.store.edge_targets(node_id, "calls")))

    @tool
    def find_tests(self, node_id: str) -> TestsResult:
        """Tests of the node: test functions named after it (test_NAME, test_NAME_*, class
        TestNAME) and test functions in test files that call it.

        Args:
            node_id: The node's id (rm_xxxxxxxx).
        """
        row = self._row(node_id)
        store = self.context.store
        names = [f"test_{row.name}", f"test_{row.name.lstrip('_')}"]
        found: dict[str, TestRecord] = {}
        connection = store.connection
        candidates: list[NodeRow] = []
        for name in dict.fromkeys(names):
            # name = 'test_x' or name starts with 'test_x_' (a range query on the name index)
            ids = [
                item[0]
                for item in connection.execute(
                    "SELECT id FROM nodes WHERE status = 'active' AND (name = ? OR (name >= ? AND name < ?))",
                    (name, name + "_", name + "`"),
                )
            ]
            candidates.extend(store.nodes(ids).values())
        class_name = "Test" + row.name[:1].upper() + row.name[1:]
        classes = connection.execute(  # by the name index (find_nodes also matches qualname: a table scan)
            "SELECT id, file_path FROM nodes WHERE name = ? AND node_type = 'class' AND status = 'active'",
            (class_name,),
        ).fetchall()
        for class_id, class_file in classes:
            if is_test_file(class_file):
                candidates.extend(store.nodes(store.edge_targets(class_id, "parent_of")).values())
        stored = self.context.states.get(node_id)
        previous = {test.test_id: test for test in stored.tests} if stored is not None else {}
        for candidate in candidates:
            if is_test_node(candidate):
                test_id = pytest_id(candidate)
                found[test_id] = _record(test_id, candidate, "name", previous)
        for caller in store.nodes(store.edge_sources(node_id, "calls")).values():
            if caller.status == "active" and is_test_node(caller):
                test_id = pytest_id(caller)
                found.setdefault(test_id, _record(test_id, caller, "calls", previous))
        return TestsResult(tests=sorted(found.values(), key=lambda item: item.test_id))

    @tool
    def search_similar(self, node_id: str, limit: int = 5) -> SimilarResult:
        """Nodes whose names and sources are most like this one (SQLite FTS5 full-text search;
        re-ranked by embeddings when [hub] embeddings_url is set).

        Args:
            node_id: The node's id (rm_xxxxxxxx).
            limit: How many similar nodes to return.
        """
        row = self._row(node_id)
        source = self.context.source(row)
        words = [word for word, _ in identifiers(f"{row.name} {source}").most_common(24)]
        hits = self.context.states.search(words, limit=max(limit * 4, 20), exclude=node_id)
        rows = self.context.store.nodes([node_id for node_id, _ in hits])
        active = [(rows[item], score) for item, score in hits if item in rows and rows[item].status == "active"]
        if self.context.embedder is not None and active:
            texts = [source, *(self.context.source(other) for other, _ in active)]
            try:
                vectors = self.context.embedder.embed(texts)
            except Exception:  # noqa: BLE001 - fall back to the FTS ranking
                vectors = []
            if vectors:
                scored = [(other, round(cosine(vectors[0], vector), 4)) for (other, _), vector in zip(active, vectors[1:], strict=False)]
                scored.sort(key=lambda item: -item[1])
                return SimilarResult(method="embedding", similar=[_similar(other, score) for other, score in scored[:limit]])
        return SimilarResult(similar=[_similar(other, round(-score, 4)) for other, score in active[:limit]])

    @tool
    def list_exports(self, node_id: str) -> ExportsResult:
        """The names the node's module exports: its ``__all__``, or else its public top-level names.

        Args:
            node_id: The id of a file node, or of any node in the file.
        """
        row = self._row(node_id)
        found = self.context.file_facts(row.file_path).of("file", 0) or facts(self.context.source(row), "file")
        text = "".join(self.context.lines(row.file_path))
        origin = "__all__" if "__all__" in text else "public names"
        return ExportsResult(file_path=row.file_path, origin=origin, exports=found.exports)

    @tool
    def generate_test_skeleton(self, node_id: str) -> SkeletonResult:
        """Write a runnable pytest skeleton that imports the node, under .agentfs/tests/ (never in
        the project's own tree; adopting it is a proposal the human approves).

        Args:
            node_id: The id of a function or method.
        """
        row = self._row(node_id)
        path, test_id = write_skeleton(self.context.root, row, self.facts_of(row).signature)
        module = row.file_path.removesuffix(".py").split("/")[-1]
        return SkeletonResult(path=path, test_id=test_id, target_path=f"tests/test_{module}.py")

    @tool
    def run_single_test(self, test_id: str, timeout: float | None = None) -> TestRunResult:
        """Run one pytest test id alone in a subprocess with the project's interpreter; its output
        is captured and a test running past the timeout is killed.

        Args:
            test_id: A pytest node id, e.g. tests/test_mod.py::test_name.
            timeout: Seconds before the test is killed (default: [hub] test_timeout).
        """
        config = self.context.config
        run = run_test(
            self.context.root,
            test_id,
            python=project_python(self.context.root, config.test_python),
            timeout=timeout or config.test_timeout,
        )
        return TestRunResult(
            test_id=run.test_id, outcome=run.outcome, duration=run.duration, returncode=run.returncode, output=run.output
        )


def _record(test_id: str, row: NodeRow, how: Any, previous: dict[str, TestRecord]) -> TestRecord:
    old = previous.get(test_id)
    record = TestRecord(test_id=test_id, file_path=row.file_path, line=row.def_line, how=how)
    if old is not None:
        record.last_result, record.last_run, record.duration = old.last_result, old.last_run, old.duration
    return record


def _similar(row: NodeRow, score: float) -> SimilarNode:
    return SimilarNode(id=row.id, qualname=row.qualname, file_path=row.file_path, line=row.def_line, score=score)


def update_toolset(context: ToolContext) -> tuple[UpdateTools, ToolSet, dict[str, BoundTool]]:
    """The tools, a ``ToolSet`` over them (validation by their schemas) and the bound tools by name."""
    tools = UpdateTools(context)
    bound = collect_tools(tools)
    return tools, ToolSet(bound), {item.spec.name: item for item in bound}


def update_tool_list(context: ToolContext) -> list[BoundTool]:
    """The bound update tools (for a face that shows them as forms)."""
    return collect_tools(UpdateTools(context))
