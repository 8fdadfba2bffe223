"""What the editor shows and does about one node's agent, as plain data: status, conversation,
pending proposals (hunks, stale or not), accept (whole or per hunk), reject.

Every function takes the engine facade and only turns request parameters into its calls and its
results into plain data (it runs on the host's loop, see agent_host.py).
"""

from __future__ import annotations

import time
from typing import Any

from remora_core.agents.hunks import diff_hunks
from remora_core.agents.proposal_model import Proposal
from remora_core.agents.proposals import ApplyResult
from remora_core.engine.facade import Engine as AgentService
from remora_core.parsing.anchors import without_anchor

HISTORY_TYPES = (
    "HumanChat",
    "AgentComplete",
    "AgentError",
    "RewriteProposal",
    "RewriteApplied",
    "RewriteRejected",
    "AgentMessage",  # a caller's request to this node (its agent_id is the receiver)
)
HISTORY_LIMIT = 30


def _display(hunk: dict[str, Any]) -> dict[str, Any]:
    """A hunk for the panel: anchors are kept in the code but not worth 100 columns of diff."""
    hunk["lines"] = [without_anchor(line) for line in hunk["lines"]]
    return hunk


def node_status(service: AgentService, node_id: str) -> dict[str, Any]:
    """idle | running | waiting | error, with when it started (epoch seconds) and the error text."""
    status = service.status(node_id)
    result: dict[str, Any] = {"status": status.state, "now": time.time()}
    if status.state in ("running", "waiting"):
        result["since"] = status.since
    if status.state == "running":
        result["correlation_id"] = status.correlation_id
    if status.state == "error":
        result["error"] = status.error
    return result


def history(service: AgentService, node_id: str, limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
    """The node's conversation, oldest first: what the human said, what the agent answered."""
    items: list[dict[str, Any]] = []
    for event in service.agent_events(node_id, HISTORY_TYPES, limit):
        seq, event_type = event.seq, event.event_type
        role, text = "agent", ""
        if event_type == "HumanChat":
            role, text = "you", getattr(event, "message", "")
            if text.startswith("The human rejected your proposal"):
                continue  # the RewriteRejected item already says it
        elif event_type == "AgentComplete":
            text = getattr(event, "result", "")
        elif event_type == "AgentError":
            role, text = "error", getattr(event, "error", "")
        elif event_type == "RewriteProposal":
            role, text = "proposal", f"{getattr(event, 'proposal_id', '')} proposed"
        elif event_type == "RewriteApplied":
            role, text = "proposal", f"{getattr(event, 'proposal_id', '')} applied"
        elif event_type == "AgentMessage":
            role, text = "caller", f"{getattr(event, 'from_agent', '')} asks: {getattr(event, 'message', '')}"
        else:
            role, text = (
                "you",
                f"rejected {getattr(event, 'proposal_id', '')}: {getattr(event, 'feedback', '')}",
            )
        items.append(
            {
                "seq": seq,
                "role": role,
                "text": text,
                "time": event.timestamp,
                "correlation_id": event.correlation_id,
            }
        )
    return items


def proposal_view(service: AgentService, proposal: Proposal, lines: list[str] | None) -> dict[str, Any]:
    """A proposal as the panel shows it: hunks and, when the current text moved on, why it is stale."""
    stale = service.stale_reason(proposal, lines)
    return {
        "id": proposal.id,
        "node_id": proposal.node_id,
        "agent_id": proposal.agent_id,
        "kind": proposal.kind,
        "status": proposal.status,
        "file": proposal.file_path,
        "correlation_id": proposal.correlation_id,
        "stale": stale,
        "new_ids": proposal.created_node_ids(),
        "hunks": [_display(hunk.as_dict()) for hunk in diff_hunks(proposal.old_source, proposal.new_source)],
    }


def node_panel(service: AgentService, node_id: str, lines: list[str] | None) -> dict[str, Any]:
    pending = service.pending(node_id)
    return {
        "id": node_id,
        "state": node_status(service, node_id),
        "history": history(service, node_id),
        "proposals": [proposal_view(service, p, lines) for p in pending],
    }


def pending_marks(service: AgentService) -> list[dict[str, Any]]:
    """Every pending proposal with where its node's definition line is (for signs and ]r / [r)."""
    marks = []
    for proposal in service.proposals("pending"):
        row = service.store.node(proposal.node_id)
        marks.append(
            {
                "proposal": proposal.id,
                "node_id": proposal.node_id,
                "file": proposal.file_path,
                "line": row.def_line if row is not None else 1,
            }
        )
    return marks


def _result(result: ApplyResult) -> dict[str, Any]:
    return {
        "proposal": result.proposal_id,
        "status": result.status,
        "applied": result.applied,
        "message": result.message,
        "file": result.file_path,
        "start": result.start,
        "old_end": result.old_end,
        "replacement": result.replacement,
    }


def accept(
    service: AgentService, proposal_id: str, lines: list[str] | None, keep: list[int] | None
) -> dict[str, Any]:
    """Accept the whole proposal or only the hunks in ``keep``: into ``lines`` (a loaded buffer; the
    caller sets ``replacement`` over ``[start, old_end)``) or, without lines, into the file on disk."""
    if lines is None:
        return _result(service.approve(proposal_id, keep))
    return _result(service.approve_lines(proposal_id, lines, keep))


async def aaccept(
    service: AgentService, proposal_id: str, lines: list[str] | None, keep: list[int] | None
) -> dict[str, Any]:
    """:func:`accept` from an event loop: the writes run on the engine's db thread."""
    if lines is None:
        return _result(await service.aapprove(proposal_id, keep))
    return _result(await service.aapprove_lines(proposal_id, lines, keep))


async def areject(service: AgentService, proposal_id: str, feedback: str) -> dict[str, Any]:
    """:func:`reject` from an event loop: the writes run on the engine's db thread."""
    rejection = await service.areject(proposal_id, feedback)
    return {"proposal": proposal_id, "correlation_id": rejection.correlation_id}


def reject(service: AgentService, proposal_id: str, feedback: str) -> dict[str, Any]:
    rejection = service.reject(proposal_id, feedback)
    return {"proposal": proposal_id, "correlation_id": rejection.correlation_id}
