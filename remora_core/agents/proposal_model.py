"""The proposal record: one pending edit of one node's span, as stored in the ``proposals`` table."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from remora_core.parsing.anchors import ANY_NODE_ANCHOR_RE

ProposalKind = Literal["rewrite", "new_node"]
ProposalStatus = Literal["pending", "applied", "rejected", "stale", "cancelled"]
PROPOSAL_COLUMNS: tuple[str, ...] = (
    "id",
    "node_id",
    "kind",
    "file_path",
    "base_hash",
    "old_source",
    "new_source",
    "diff",
    "status",
    "agent_id",
    "correlation_id",
    "feedback",
    "event_seq",
    "created_at",
    "resolved_at",
)


class Proposal(BaseModel):
    """Replace the span of ``node_id`` (found by its anchor), whose source hash was ``base_hash``,
    with ``new_source``. For ``new_node`` the node is the container the new node goes into."""

    id: str
    node_id: str
    kind: ProposalKind
    file_path: str
    base_hash: str
    old_source: str
    new_source: str
    diff: str
    status: ProposalStatus = "pending"
    agent_id: str | None = None
    correlation_id: str | None = None
    feedback: str | None = None
    event_seq: int | None = None
    created_at: float = 0.0
    resolved_at: float | None = None

    def row(self) -> tuple[object, ...]:
        return tuple(getattr(self, column) for column in PROPOSAL_COLUMNS)

    @classmethod
    def from_row(cls, row: tuple[object, ...]) -> Proposal:
        return cls.model_validate(dict(zip(PROPOSAL_COLUMNS, row, strict=True)))

    def created_node_ids(self) -> list[str]:
        """Anchors in the new source that the old one did not have (the id of a new node)."""
        old = {m.group(1) for m in ANY_NODE_ANCHOR_RE.finditer(self.old_source.encode("utf-8"))}
        new = [m.group(1) for m in ANY_NODE_ANCHOR_RE.finditer(self.new_source.encode("utf-8"))]
        return [anchor.decode("ascii") for anchor in new if anchor not in old]
