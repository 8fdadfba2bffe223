"""The tools every agent has, bound to one ``AgentContext``. Callers, callees, impact and the
nodes they name are read from the topology graph (``context.graph``), not from SQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from remora_core import live_buffers
from remora_core.agents.context import AgentContext, AsyncProposalSink
from remora_core.agents.drafts import draft_new_node, draft_rewrite
from remora_core.agents.errors import AgentError, ProposalError
from remora_core.agents.proposal_model import Proposal
from remora_core.agents.tools import tool
from remora_core.engine.ghost import GhostPlacement
from remora_core.errors import NodeNotFoundError
from remora_core.graph.hydrate import GraphNode
from remora_core.graph.impact import DEFAULT_IMPACT_DEPTH
from remora_core.project import node_source
from remora_core.store.store import NodeRow

CORE_TOOL_NAMES: tuple[str, ...] = (
    "rewrite_self",
    "message_node",
    "ask_parent",
    "get_my_callers",
    "get_my_callees",
    "get_my_impact",
    "read_node",
    "propose_new_node",
)
MAX_IMPACT_DEPTH = 6


def describe_node(row: NodeRow | GraphNode) -> str:
    """One line naming a node for a model: id, type, qualified name, place."""
    where = row.file_path if row.node_type == "file" else f"{row.file_path}:{row.start_line}-{row.end_line}"
    return f"{row.id} ({row.node_type} {row.qualname or row.name}, {where})"


class CoreTools:
    def __init__(self, context: AgentContext) -> None:
        self.context = context

    # -- helpers -----------------------------------------------------------------------
    def _node(self, node_id: str) -> NodeRow:
        row = self.context.store.node(node_id)
        if row is None:
            raise NodeNotFoundError(f"no node {node_id!r} in the index")
        return row

    def _file_text(self, row: NodeRow) -> str:
        live = live_buffers.text(self.context.root, row.file_path)  # the editor's unsaved buffer
        if live is not None:
            return live
        path = self.context.root / row.file_path
        try:
            return path.read_bytes().decode("utf-8")
        except OSError as error:
            raise ProposalError(f"cannot read {str(path)!r}: {error.strerror}") from None
        except UnicodeDecodeError:
            raise ProposalError(
                f"{str(path)!r} is not valid UTF-8; it cannot be edited by an agent"
            ) from None

    def _submit(self, proposal: Proposal, reply: Callable[[Proposal], str]) -> str | Awaitable[str]:
        """Hand ``proposal`` to the sink; through its async face when it has one (the runner's
        writes on a db thread: the tool result is then awaited by the tool call)."""
        sink = self.context.proposals
        if isinstance(sink, AsyncProposalSink):

            async def submitted() -> str:
                return reply(await sink.asubmit(proposal))

            return submitted()
        return reply(sink.submit(proposal))

    def _list(self, ids: list[str], empty: str) -> str:
        graph = self.context.graph
        lines = [describe_node(graph.node(node_id)) for node_id in ids]
        return "\n".join(lines) if lines else empty

    # -- tools -------------------------------------------------------------------------
    @tool
    def rewrite_self(self, new_source: str) -> str | Awaitable[str]:
        """Propose a rewrite of your own source code.

        The new source is checked (it must parse and stay one definition with the same name and
        type; decorators you leave out are kept). A diff is shown to the human, who approves or
        rejects it with feedback.

        Args:
            new_source: The complete new source code of this node. Do NOT include the remora ID
                comment; it is preserved.
        """
        context = self.context
        row = self._node(context.node_id)
        proposal = draft_rewrite(
            self._file_text(row),
            row.id,
            row.file_path,
            new_source,
            column=context.anchor_column,
            agent_id=row.id,
            correlation_id=context.correlation_id,
        )
        return self._submit(
            proposal,
            lambda stored: f"proposal {stored.id!r} created; the human will approve or reject it.\ndiff:\n{stored.diff}",
        )

    @tool
    async def message_node(self, target_id: str, request: str) -> str:
        """Send a request to another agent of the swarm and get its reply.

        Use this when another node must change itself, or when you need information that
        another node controls.

        Args:
            target_id: The remora ID of the target node (e.g. "rm_a1b2c3d4").
            request: What you are asking the other agent to do.
        """
        if target_id == self.context.node_id:
            raise AgentError(f"{target_id!r} is yourself; use rewrite_self to change your own code")
        target = self.context.graph.node(target_id)  # NodeNotFoundError names an unknown target
        if target.status != "active":  # the graph decides who can be asked; the path, cycles
            raise AgentError(f"{target_id!r} is {target.status}; it has no agent to answer")
        return await self.context.send_message(target_id, request)

    @tool
    async def ask_parent(self, request: str) -> str:
        """Escalate a request to the node that contains you (your class, or your file).

        Use this when you need permissions you do not have, need to coordinate with siblings,
        or are stuck and need guidance.

        Args:
            request: What you need from your parent.
        """
        parent = self.context.graph.parent(self.context.node_id)
        if parent is None:
            raise AgentError(f"{self.context.node_id!r} has no parent node")
        return await self.context.send_message(parent, request)

    @tool
    def get_my_callers(self) -> str:
        """List the nodes that call you (id, type, name, place)."""
        return self._list(self.context.graph.callers(self.context.node_id), "no known callers")

    @tool
    def get_my_callees(self) -> str:
        """List the nodes you call (id, type, name, place)."""
        return self._list(self.context.graph.callees(self.context.node_id), "no known callees")

    @tool
    def get_my_impact(self, depth: int = DEFAULT_IMPACT_DEPTH) -> str:
        """List what may break if you change: the nodes that call you, directly or through other
        callers, up to ``depth`` calls away, grouped by file (nearest first).

        Args:
            depth: How many calls away to look (1 = direct callers only; at most 6).
        """
        depth = max(1, min(int(depth), MAX_IMPACT_DEPTH))
        graph = self.context.graph
        impact = graph.impact(self.context.node_id, depth)
        if not impact.callers:
            return f"no known callers within {depth} call(s)"
        lines = [f"{len(impact.callers)} caller(s) in {len(impact.files())} file(s) within {depth} call(s):"]
        for path, ids in impact.files().items():
            lines.append(f"{path}:")
            lines.extend(
                f"  {describe_node(graph.node(node_id))} [distance {impact.distance[node_id]}]" for node_id in ids
            )
        return "\n".join(lines)

    @tool
    def read_node(self, target_id: str) -> str:
        """Read the current source code of another node. Read-only: to request changes, use
        message_node.

        Args:
            target_id: The remora ID of the node to read.
        """
        node = self.context.graph.node(target_id)
        return f"{describe_node(node)}\n{node_source(self.context.root, node)}"

    @tool
    def propose_new_node(
        self,
        node_type: Literal["function", "method", "class"],
        name: str,
        source: str,
        insert_after: str | None = None,
    ) -> str | Awaitable[str]:
        """Propose creating a new sibling node, inserted into your parent's body (into the file
        itself when you are a file). The human must approve the insertion; the new node gets a
        fresh ID.

        Args:
            node_type: What the new node is.
            name: The name of the new function, method or class.
            source: Its complete source code (one definition).
            insert_after: ID of a sibling to insert after; omit to append at the end of the parent.
        """
        context = self.context
        row = self._node(context.node_id)
        container = row if row.node_type == "file" or row.parent_id is None else self._node(row.parent_id)
        placement = getattr(context, "placement", None)
        if isinstance(placement, GhostPlacement):  # a ghost turn: the engine's place, not the model's
            container = self._node(placement.container)
            insert_after = placement.insert_after
        proposal, new_id = draft_new_node(
            self._file_text(container),
            container.id,
            container.file_path,
            node_type,
            name,
            source,
            insert_after=insert_after,
            is_taken=lambda node_id: context.store.node(node_id) is not None,
            column=context.anchor_column,
            agent_id=row.id,
            correlation_id=context.correlation_id,
        )
        return self._submit(
            proposal,
            lambda stored: (
                f"proposal {stored.id!r} created: new {node_type} {name!r} with id {new_id!r} in {container.id!r}; "
                f"the human will approve or reject it.\ndiff:\n{stored.diff}"
            ),
        )
