"""What a running agent's tools may touch: ``AgentContext`` (a protocol the runner implements)
and ``LocalAgentContext``, the plain implementation used by tests, the CLI and the runner."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from remora_core.agents.errors import AgentError
from remora_core.agents.proposal_model import Proposal
from remora_core.engine.ghost import GhostPlacement
from remora_core.graph.live import GraphReader
from remora_core.graph.topology import TopologyGraph
from remora_core.parsing.anchors import DEFAULT_ANCHOR_COLUMN
from remora_core.store.store import Store

SendMessage = Callable[[str, str], Awaitable[str]]


class ProposalSink(Protocol):
    """Receives every proposal an agent makes; returns it as stored (``ProposalStore`` is one)."""

    def submit(self, proposal: Proposal) -> Proposal: ...


@runtime_checkable
class AsyncProposalSink(Protocol):
    """A sink whose writes must not run on the caller's loop (the runner's: see ``store.aio``)."""

    def submit(self, proposal: Proposal) -> Proposal: ...

    async def asubmit(self, proposal: Proposal) -> Proposal: ...


class AgentContext(Protocol):
    node_id: str
    root: Path
    store: Store
    proposals: ProposalSink
    correlation_id: str | None
    anchor_column: int

    @property
    def graph(self) -> GraphReader:
        """Callers, callees, impact: the topology graph (the process's ``LiveGraph``)."""
        ...

    async def send_message(self, target_id: str, request: str) -> str:
        """Activate ``target_id`` with ``request`` and return its reply (the runner checks cycles)."""
        ...


async def _no_runner(target_id: str, request: str) -> str:
    raise AgentError(f"cannot message {target_id!r}: no agent runner is attached to this session")


@dataclass(slots=True)
class LocalAgentContext:
    node_id: str
    root: Path
    store: Store
    proposals: ProposalSink
    correlation_id: str | None = None
    anchor_column: int = DEFAULT_ANCHOR_COLUMN
    messenger: SendMessage = _no_runner
    live_graph: GraphReader | None = None  # the process's LiveGraph, when it keeps one
    placement: GhostPlacement | None = None  # a ghost turn: where propose_new_node inserts
    _view: GraphReader | None = field(default=None, init=False, repr=False)

    @property
    def graph(self) -> GraphReader:
        """``live_graph``, or (a test, a one-shot CLI turn) a lazily hydrated view of the store
        made for this context, so in step with the index."""
        if self.live_graph is not None:
            return self.live_graph
        if self._view is None:
            self._view = TopologyGraph(self.store.connection)
        return self._view

    async def send_message(self, target_id: str, request: str) -> str:
        return await self.messenger(target_id, request)
