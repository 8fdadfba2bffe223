"""One node-state update: diff bundle -> rules -> (triage) -> update tools -> state, markdown,
events. Synchronous; ``StateHub`` runs it on its own thread, the CLI runs it inline."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from remora_core.agents.tools import BoundTool, ToolSet
from remora_core.config import HubConfig
from remora_core.errors import RemoraError
from remora_core.events.models import (
    ApiImpactEvent,
    BaseEvent,
    NodeStateUpdatedEvent,
    TestRunEvent,
    TestSkeletonOfferedEvent,
    TriageDecisionEvent,
)
from remora_core.events.store import EventLog
from remora_core.hub.state.analysis import NodeFacts
from remora_core.hub.state.diffs import DiffBundle, build_bundle
from remora_core.hub.state.drift import Embedder
from remora_core.hub.state.markdown import orphan_markdown, render, write_markdown
from remora_core.hub.state.model import ChangeRecord, ComplexityPoint, ImpactSummary, NodeState, TestRecord
from remora_core.hub.state.rules import evaluate
from remora_core.hub.state.store import NodeStateStore, source_rows, state_rows
from remora_core.hub.state.tools import (
    CalleesResult,
    CallersResult,
    ComplexityResult,
    ExportsResult,
    SignatureResult,
    SimilarResult,
    SkeletonResult,
    TestRunResult,
    TestsResult,
    ToolContext,
    ref,
    update_toolset,
)
from remora_core.hub.state.triage import Triage
from remora_core.parsing.anchors import source_hash
from remora_core.store.db import write_transaction
from remora_core.store.store import NodeRow, Store

# The order updates run in (a later one may use an earlier one's result).
ORDER: tuple[str, ...] = (
    "extract_signature",
    "compute_complexity",
    "find_callees",
    "find_callers",
    "find_tests",
    "list_exports",
    "search_similar",
    "generate_test_skeleton",
    "run_single_test",
)
BUILD_UPDATES = ("extract_signature", "compute_complexity", "find_callees", "find_callers", "find_tests", "list_exports")
TESTABLE = ("function", "method")
Tools = tuple[ToolSet, dict[str, BoundTool]]
FACTS_CACHE = 4096


def _no_hold() -> None:
    return None


class ToolFailedError(RemoraError):
    """An update tool was called with arguments its schema refuses."""


def _change_summary(bundle: DiffBundle, hint: str | None) -> str:
    """One line for a node's change record: lines added / removed, the structural changes."""
    summary = "; ".join(bundle.structural.changes[:4])
    standard = bundle.standard
    if bundle.kind == "changed" and (standard.added_lines or standard.removed_lines):
        summary = f"+{standard.added_lines} -{standard.removed_lines} lines" + (f"; {summary}" if summary else "")
    if hint:
        summary = f"hint: {hint}" + (f"; {summary}" if summary else "")
    return summary


@dataclass(slots=True)
class NodeUpdate:
    """What one node's update did (also what the CLI prints)."""

    node_id: str
    ran: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # update -> why it did not run
    signals: list[str] = field(default_factory=list)
    bundle: DiffBundle | None = None
    state: NodeState | None = None
    markdown_path: str | None = None
    markdown_written: bool = False
    test_runs: list[TestRunResult] = field(default_factory=list)
    triage_fallback: str | None = None
    events: list[BaseEvent] = field(default_factory=list)
    pending_tests: Callable[[], None] | None = None  # the slow phase, when deferred

    def run_pending_tests(self) -> None:
        job, self.pending_tests = self.pending_tests, None
        if job is not None:
            job()


class StateUpdater:
    """Updates node state for one project through its own connection (``store``)."""

    def __init__(self, root: Path, store: Store, config: HubConfig) -> None:
        self.root = root
        self.store = store
        self.config = config
        self.states = NodeStateStore(store.connection)
        self.log = EventLog(store.connection)
        self.embedder = Embedder(config) if config.embeddings_url else None
        self.triage = Triage(config.triage) if config.triage.enabled else None
        self.runs = 0  # node updates done (coalescing is measured on it)
        self.test_budget: int | None = None  # test runs left in this batch (None: no limit)
        self.build_errors: list[str] = []  # the latest failures of full-build tools
        self._facts: dict[tuple[str, str], NodeFacts] = {}  # (node id, source hash) -> facts
        # Called between two steps (tools, nodes): ``StateHub`` holds still there while an index
        # pass runs.
        self.hold: Callable[[], None] = _no_hold

    # -- helpers -----------------------------------------------------------------------
    def _context(self) -> ToolContext:
        return ToolContext(self.root, self.store, self.states, self.config, self.embedder)

    def _run(self, tools: Tools, name: str, arguments: dict[str, Any]) -> BaseModel:
        """Run one tool synchronously through its schema; raises on a failure."""
        toolset, by_name = tools
        checked = toolset.validate(name, arguments)
        if not isinstance(checked, BaseModel):
            raise ToolFailedError(checked.text)
        result = by_name[name].call(**{key: getattr(checked, key) for key in type(checked).model_fields})
        assert isinstance(result, BaseModel)
        return result

    def _fresh_state(self, row: NodeRow, version: str, previous: NodeState | None) -> NodeState:
        base = previous.model_dump() if previous is not None else {}
        base.update(
            id=row.id,
            type=row.node_type,
            name=row.name,
            qualname=row.qualname,
            file_path=row.file_path,
            start_line=row.start_line,
            end_line=row.end_line,
            source_version=version,
            status="active",
        )
        state = NodeState.model_validate(base)
        state.parent = None
        if row.parent_id:
            parent = self.store.node(row.parent_id)
            if parent is not None and parent.node_type != "file":
                state.parent = ref(parent)
        return state

    @staticmethod
    def _merge(state: NodeState, name: str, result: BaseModel, now: float) -> None:
        if isinstance(result, SignatureResult):
            state.signature, state.decorators, state.docstring = result.signature, result.decorators, result.docstring
        elif isinstance(result, ComplexityResult):
            state.complexity, state.control_flow = result.complexity, result.control_flow
        elif isinstance(result, CallersResult):
            state.callers, state.call_sites = result.callers, result.call_sites
        elif isinstance(result, CalleesResult):
            state.callees = result.callees
        elif isinstance(result, TestsResult):
            skeleton = [test for test in state.tests if test.how == "skeleton"]
            state.tests = result.tests + [test for test in skeleton if test.test_id not in {t.test_id for t in result.tests}]
        elif isinstance(result, SimilarResult):
            state.similar = result.similar
        elif isinstance(result, ExportsResult):
            state.exports = result.exports if state.type == "file" else state.exports
        elif isinstance(result, SkeletonResult):
            state.skeleton_path = result.path
            if result.test_id not in {test.test_id for test in state.tests}:
                file_path, _, _ = result.test_id.partition("::")
                state.tests.append(TestRecord(test_id=result.test_id, file_path=file_path, line=1, how="skeleton"))
        state.updated[name] = now

    def _summary(self, state: NodeState, lines: int) -> str:
        lead = state.docstring or ""
        facts = [f"{lines} line(s)"]
        if state.complexity is not None:
            facts.append(f"complexity {state.complexity}")
        facts.append(f"called by {len(state.callers)}")
        facts.append(f"calls {len(state.callees)}")
        facts.append(f"{len(state.tests)} test(s)")
        text = f"{state.type} `{state.qualname or state.file_path}`: " + ", ".join(facts) + "."
        return f"{lead} ({text})" if lead else text

    def _finish(self, state: NodeState, source: str, now: float) -> None:
        limit = self.config.history
        if state.complexity is not None and (
            not state.complexity_history or state.complexity_history[-1].source_version != state.source_version
        ):
            state.complexity_history.append(
                ComplexityPoint(timestamp=now, source_version=state.source_version, value=state.complexity)
            )
        state.complexity_history = state.complexity_history[-limit:]
        state.changes = state.changes[-limit:]
        state.summary = self._summary(state, len(source.splitlines()))
        state.last_updated = now

    def _write(self, state: NodeState) -> tuple[str | None, bool]:
        if not self.config.markdown:
            return None, False
        path, written = write_markdown(self.root, state)
        state.markdown_path = path
        return path, written

    def _write_burst(self, states: list[NodeState]) -> None:
        """The markdown of a build step, rendered first, then written in one short burst: the
        hub's file watcher (which sees ``.agentfs/`` writes before filtering them out) wakes for a
        burst, not for every file, and never during an index pass."""
        if not self.config.markdown:
            return
        rendered = [render(state).encode("utf-8") for state in states]
        self.hold()
        for state, data in zip(states, rendered, strict=True):
            state.markdown_path, _ = write_markdown(self.root, state, data)

    def _approved(
        self,
        update: NodeUpdate,
        state: NodeState,
        bundle: DiffBundle,
        candidates: list[str],
        hint: str | None,
        hinted: Sequence[str],
    ) -> list[str]:
        """The candidate updates to run: all of them, plus the hinted ones for a hint, or what
        the triage model approves (recorded as an event on ``update``)."""
        if hint is not None:
            return [*dict.fromkeys([*candidates, *(h for h in hinted if h in ORDER), "find_callers", "find_tests"])]
        if self.triage is None or not candidates:
            return list(candidates)
        decision = self.triage.decide(self._brief(state), bundle.brief(), candidates)
        update.triage_fallback = decision.fallback_reason if decision.fallback else None
        update.events.append(
            TriageDecisionEvent(
                agent_id=update.node_id,
                candidates=candidates,
                approved=decision.approved,
                reasons=decision.reasons,
                fallback=decision.fallback,
                fallback_reason=decision.fallback_reason,
            )
        )
        return list(decision.approved)

    def _take_test_run(self) -> bool:
        """Spend one test run of this batch's budget; False when none is left."""
        if self.test_budget is None:
            return True
        if self.test_budget <= 0:
            return False
        self.test_budget -= 1
        return True

    # -- updates -----------------------------------------------------------------------
    def update_node(
        self, node_id: str, *, hint: str | None = None, hinted: Sequence[str] = (), defer_tests: bool = False
    ) -> NodeUpdate | None:
        """Refresh one node after a change (or a hint). None when the node is gone or unchanged.
        ``defer_tests``: leave its test runs in ``update.pending_tests`` (run after a whole batch)."""
        row = self.store.node(node_id)
        if row is None or row.status != "active":
            return None
        context = self._context()
        tools, toolset, by_name = update_toolset(context)
        runner = (toolset, by_name)
        source = context.source(row)
        version = source_hash(source.encode("utf-8"))
        last = self.states.last_source(node_id)
        if last is not None and last[0] == version and hint is None:
            return None  # the index saw a change, but not in this node's text (e.g. anchors)
        self.runs += 1
        now = time.time()
        update = NodeUpdate(node_id)
        previous = self.states.get(node_id)
        state = self._fresh_state(row, version, previous)
        old_source = last[1] if last is not None else None
        new_facts = tools.facts_of(row)
        bundle = build_bundle(
            row.id, row.node_type, row.qualname, row.name, old_source, source,
            embedder=self.embedder, new_facts=new_facts,
            old_facts=self._facts.pop((node_id, last[0]), None) if last is not None else None,
        )
        if len(self._facts) >= FACTS_CACHE:
            self._facts.clear()
        self._facts[(node_id, version)] = new_facts  # the next diff's "before", without a re-parse
        update.bundle = bundle
        try:
            has_tests = bool(tools.find_tests(node_id).tests)
        except Exception:  # noqa: BLE001
            has_tests = False
        # A skeleton already offered counts: it is not regenerated and re-run on every save.
        has_tests = has_tests or state.skeleton_path is not None
        outcome = evaluate(bundle, self.config, has_tests=has_tests)
        update.signals = outcome.signals
        candidates = [name for name in outcome.candidates if name not in self.config.always]
        approved = self._approved(update, state, bundle, candidates, hint, hinted)
        wanted = set(self.config.always) | set(approved)
        if row.node_type not in TESTABLE:
            wanted -= {"generate_test_skeleton", "run_single_test"}
        if "run_single_test" in wanted and not self._take_test_run():
            wanted.discard("run_single_test")
            update.skipped["run_single_test"] = (
                f"more than [hub] max_test_runs = {self.config.max_test_runs} test runs in one batch; "
                "run it from the tool form or on the next change"
            )
        results: dict[str, BaseModel] = {}
        for name in ORDER:
            if name not in wanted or name == "run_single_test":
                continue
            self.hold()  # an index pass that started meanwhile runs first
            try:
                results[name] = self._run(runner, name, {"node_id": node_id})
            except Exception as error:  # noqa: BLE001 - recorded; the other tools still run
                update.failed[name] = f"{type(error).__name__}: {error}"
                continue
            self._merge(state, name, results[name], now)
            update.ran.append(name)
        kind = "added" if bundle.kind == "added" else ("hint" if hint is not None else "changed")
        summary = _change_summary(bundle, hint)
        state.changes.append(
            ChangeRecord(timestamp=now, source_version=version, kind=kind, signals=outcome.signals, summary=summary)
        )
        if "signature_changed" in outcome.signals and "find_callers" in results:
            callers = results["find_callers"]
            assert isinstance(callers, CallersResult)
            state.impact = ImpactSummary(
                timestamp=now,
                old_signature=bundle.structural.old_signature,
                new_signature=bundle.structural.new_signature,
                call_sites=callers.call_sites,
            )
            if "public_api_changed" in outcome.signals:
                update.events.append(
                    ApiImpactEvent(
                        agent_id=node_id,
                        file_path=row.file_path,
                        old_signature=state.impact.old_signature,
                        new_signature=state.impact.new_signature,
                        call_sites=[site.model_dump() for site in callers.call_sites],
                    )
                )
        skeleton = results.get("generate_test_skeleton")
        if isinstance(skeleton, SkeletonResult):
            update.events.append(
                TestSkeletonOfferedEvent(agent_id=node_id, skeleton_path=skeleton.path, target_path=skeleton.target_path)
            )
        self._finish(state, source, now)
        update.markdown_path, update.markdown_written = self._write(state)
        update.events.insert(
            0,
            NodeStateUpdatedEvent(
                agent_id=node_id,
                file_path=row.file_path,
                source_version=version,
                signals=outcome.signals,
                updates=update.ran,
                failed=update.failed,
                skipped=update.skipped,
                markdown_path=update.markdown_path,
                bundle=bundle.brief(),
            ),
        )
        self._store(state, row, source, update.events)
        update.state = state
        if "run_single_test" in wanted:
            update.pending_tests = lambda: self._run_tests(update, runner, state, row, source, results)
            if not defer_tests:
                update.run_pending_tests()
        return update

    def _brief(self, state: NodeState) -> dict[str, Any]:
        return {
            "id": state.id,
            "type": state.type,
            "qualname": state.qualname,
            "signature": state.signature,
            "complexity": state.complexity,
            "callers": len(state.callers),
            "tests": [test.test_id for test in state.tests],
        }

    def _run_tests(
        self, update: NodeUpdate, runner: Tools, state: NodeState, row: NodeRow, source: str, results: dict[str, BaseModel]
    ) -> None:
        """The slow phase, after the state and markdown are written: run the node's test(s)."""
        skeleton = results.get("generate_test_skeleton")
        if isinstance(skeleton, SkeletonResult):
            ids = [skeleton.test_id]
        else:
            ids = [test.test_id for test in state.tests if test.how != "skeleton"][:3]
        if not ids:
            return
        events: list[BaseEvent] = []
        for test_id in ids:
            try:
                run = self._run(runner, "run_single_test", {"test_id": test_id})
            except Exception as error:  # noqa: BLE001
                update.failed["run_single_test"] = f"{type(error).__name__}: {error}"
                continue
            assert isinstance(run, TestRunResult)
            update.test_runs.append(run)
            now = time.time()
            for test in state.tests:
                if test.test_id == test_id:
                    test.last_result = run.outcome  # type: ignore[assignment]
                    test.last_run, test.duration = now, run.duration
            state.updated["run_single_test"] = now
            events.append(
                TestRunEvent(agent_id=row.id, test_id=test_id, outcome=run.outcome, duration=run.duration, output=run.output)
            )
        if "run_single_test" not in update.ran and update.test_runs:
            update.ran.append("run_single_test")
        self._write(state)
        self._store(state, row, source, events, save_source=False)

    def _store(self, state: NodeState, row: NodeRow, source: str, events: Iterable[BaseEvent], *, save_source: bool = True) -> None:
        states = state_rows([state])
        sources = source_rows([(row.id, state.source_version, source, row.qualname)]) if save_source else []
        self.hold()  # the write lock is never taken while an index pass runs
        with write_transaction(self.store.connection):
            self.states.put_state_rows(states)
            self.states.put_source_rows(sources)
            self.log.append_in_transaction(list(events))

    def orphan(self, node_ids: Iterable[str]) -> list[str]:
        """Mark the states of removed/orphaned nodes and move their markdown under _orphaned/."""
        moved: list[str] = []
        states = self.states.get_many(node_ids)
        for state in states.values():
            if self.config.markdown:
                target = orphan_markdown(self.root, state)
                if target is not None:
                    moved.append(target)
                    state.markdown_path = target
            state.status = "orphaned"
        with write_transaction(self.store.connection):
            self.states.set_many(states.values())
            self.states.forget_sources(states)
        return moved

    # -- full build ------------------------------------------------------------------
    def stale_nodes(self) -> list[str]:
        """Active nodes whose state is missing or was computed from another source."""
        rows = self.store.connection.execute(
            "SELECT id FROM nodes WHERE status = 'active' ORDER BY file_path, start_line"
        ).fetchall()
        hashes = dict(self.store.connection.execute("SELECT node_id, source_hash FROM node_sources").fetchall())
        return [node_id for (node_id,) in rows if node_id not in hashes] + self._changed_since(hashes)

    def _changed_since(self, hashes: dict[str, str]) -> list[str]:
        """Nodes with a stored source whose file changed since (their text may differ)."""
        rows = self.store.connection.execute(
            "SELECT n.id FROM nodes n JOIN node_state s ON s.node_id = n.id "
            "WHERE n.status = 'active' AND n.updated_at > s.updated_at"
        ).fetchall()
        return [node_id for (node_id,) in rows if node_id in hashes]

    def refresh_file(self, file_path: str) -> int:
        """Rebuild the states of a file's nodes whose index row moved since (line shifts)."""
        rows = self.store.connection.execute(
            "SELECT n.id FROM nodes n JOIN node_state s ON s.node_id = n.id "
            "WHERE n.file_path = ? AND n.status = 'active' AND n.updated_at > s.updated_at",
            (file_path,),
        ).fetchall()
        return self.build([node_id for (node_id,) in rows]) if rows else 0

    def build(self, node_ids: Sequence[str]) -> int:
        """Baseline state of ``node_ids`` (no rules, no triage, no tests run): the full build.
        Returns how many states were written."""
        context = self._context()
        context.whole_files = True
        tools, toolset, by_name = update_toolset(context)
        runner = (toolset, by_name)
        rows = context.rows = self.store.nodes(node_ids)
        previous = self.states.get_many(node_ids)
        states: list[NodeState] = []
        sources: list[tuple[str, str, str, str]] = []
        now = time.time()
        for node_id in node_ids:
            row = rows.get(node_id)
            if row is None or row.status != "active":
                continue
            self.hold()  # the build never runs against an index pass
            source = context.source(row)
            version = source_hash(source.encode("utf-8"))
            state = self._fresh_state(row, version, previous.get(node_id))
            for name in BUILD_UPDATES:
                if name == "list_exports" and row.node_type != "file":
                    continue
                try:
                    result = self._run(runner, name, {"node_id": node_id})
                except Exception as error:  # noqa: BLE001 - a build keeps going; the next change retries
                    state.updated[f"{name}_failed"] = now
                    self.build_errors = [*self.build_errors[-99:], f"{node_id} {name}: {type(error).__name__}: {error}"]
                    continue
                self._merge(state, name, result, now)
            if not state.changes or state.changes[-1].source_version != version:
                state.changes.append(ChangeRecord(timestamp=now, source_version=version, kind="build"))
            self._finish(state, source, now)
            states.append(state)
            sources.append((row.id, version, source, row.qualname))
        self._write_burst(states)
        state_data, source_data = state_rows(states), source_rows(sources)
        self.hold()
        with write_transaction(self.store.connection):
            self.states.put_state_rows(state_data)
            self.states.put_source_rows(source_data)
        del tools
        return len(states)
