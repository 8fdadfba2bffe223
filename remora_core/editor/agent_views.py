"""What the editor shows and does about one node's agent, as plain data: status, conversation,
pending proposals (hunks, stale or not), accept (whole or per hunk), reject, tools.

Every function takes an ``AgentService`` and runs on the agent thread (see agent_host.py).
"""

from __future__ import annotations

import re
import time
from typing import Any

from remora_core.agents.errors import ProposalError
from remora_core.agents.proposal_model import Proposal
from remora_core.agents.proposals import ApplyResult, splice_proposal
from remora_core.agents.service import AgentService
from remora_core.editor.hunks import diff_hunks, partial_source
from remora_core.events.models import event_from_json
from remora_core.fileio import bytes_hash, inside_root, replace_checked

HISTORY_TYPES = (
    "HumanChat",
    "AgentComplete",
    "AgentError",
    "RewriteProposal",
    "RewriteApplied",
    "RewriteRejected",
)
HISTORY_LIMIT = 30
_ANCHOR_TAIL = re.compile(r"\s+# rm_[a-z0-9]{8}\s*$")


def _display(hunk: dict[str, Any]) -> dict[str, Any]:
    """A hunk for the panel: anchors are kept in the code but not worth 100 columns of diff."""
    hunk["lines"] = [_ANCHOR_TAIL.sub("", line) for line in hunk["lines"]]
    return hunk


def _text_of(service: AgentService, proposal: Proposal, lines: list[str] | None) -> str | None:
    if lines is not None:
        return "\n".join(lines) + "\n"
    try:
        return (service.root / proposal.file_path).read_bytes().decode("utf-8", errors="surrogateescape")
    except OSError:
        return None


def node_status(service: AgentService, node_id: str, pending: list[Proposal]) -> dict[str, Any]:
    """idle | running | waiting | error, with when it started (epoch seconds) and the error text."""
    row = service.store.connection.execute(
        "SELECT status, created_at, error, correlation_id FROM triggers WHERE agent_id = ? AND parent_id IS NULL"
        " ORDER BY created_at DESC LIMIT 1",
        (node_id,),
    ).fetchone()
    if row is not None and row[0] in ("queued", "running"):
        return {"status": "running", "since": row[1], "correlation_id": row[3], "now": time.time()}
    if pending:
        return {"status": "waiting", "since": pending[-1].created_at, "now": time.time()}
    if row is not None and row[0] == "failed":
        return {"status": "error", "error": row[2] or "failed", "now": time.time()}
    return {"status": "idle", "now": time.time()}


def history(service: AgentService, node_id: str, limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
    """The node's conversation, oldest first: what the human said, what the agent answered."""
    marks = ", ".join("?" * len(HISTORY_TYPES))
    rows = service.store.connection.execute(
        f"SELECT seq, event_type, payload FROM events WHERE agent_id = ? AND event_type IN ({marks})"
        " ORDER BY seq DESC LIMIT ?",
        (node_id, *HISTORY_TYPES, limit),
    ).fetchall()
    items: list[dict[str, Any]] = []
    for seq, event_type, payload in reversed(rows):
        event = event_from_json(event_type, payload, seq)
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
    stale: str | None = None
    if proposal.status == "stale":
        stale = "the node changed since the proposal was made"
    elif proposal.status == "pending":
        text = _text_of(service, proposal, lines)
        if text is None:
            stale = f"cannot read {proposal.file_path!r}"
        else:
            spliced = splice_proposal(proposal, text)
            stale = spliced if isinstance(spliced, str) else None
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


def pending_for(service: AgentService, node_id: str) -> list[Proposal]:
    return [p for p in service.proposals("pending") if node_id in (p.node_id, p.agent_id)]


def node_panel(service: AgentService, node_id: str, lines: list[str] | None) -> dict[str, Any]:
    pending = pending_for(service, node_id)
    return {
        "id": node_id,
        "state": node_status(service, node_id, pending),
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
    proposal = service.proposal(proposal_id)
    count = len(diff_hunks(proposal.old_source, proposal.new_source))
    partial = keep is not None and set(keep) != set(range(count))
    if partial and not keep:
        raise ProposalError(f"no hunk of proposal {proposal_id!r} is kept: reject it instead")
    if not partial:
        if lines is None:
            return _result(service.approve(proposal_id))
        return _result(service.apply_to_lines(proposal_id, lines))
    text = _text_of(service, proposal, lines)
    if text is None:
        raise ProposalError(f"cannot read {proposal.file_path!r}")
    chosen = proposal.model_copy(
        update={"new_source": partial_source(proposal.old_source, proposal.new_source, set(keep or []))}
    )
    spliced = splice_proposal(chosen, text)
    claim = service.apply_to_lines(
        proposal_id, text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
    )
    if not claim.applied or isinstance(spliced, str):
        return _result(claim)
    claim.start, claim.old_end, claim.replacement = spliced.start, spliced.old_end, spliced.replacement
    claim.message += f" (hunks {', '.join(str(i + 1) for i in sorted(keep or []))} of {count})"
    if lines is None:
        path = inside_root(service.root, proposal.file_path)
        data = text.encode("utf-8", errors="surrogateescape")
        replace_checked(path, spliced.text.encode("utf-8", errors="surrogateescape"), bytes_hash(data), root=service.root)
        service.reindex(proposal.file_path)
    return _result(claim)


def reject(service: AgentService, proposal_id: str, feedback: str) -> dict[str, Any]:
    rejection = service.reject(proposal_id, feedback)
    return {"proposal": proposal_id, "correlation_id": rejection.correlation_id}
