"""Stored proposals: submit, approve (to the file or to an editor buffer), reject, cancel.

Approving re-finds the node by its anchor in the *current* text, refuses a stale base (the
node's current source hash differs from ``base_hash``: status ``stale``), splices exactly
that node's span (the anchor is inside the new source) and is idempotent: the
pending -> applied transition is claimed in a write transaction, so approving twice (from
two processes even) applies once.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from remora_core.agents import definitions as defs
from remora_core.agents import source_edit as edit
from remora_core.agents.errors import ProposalError
from remora_core.agents.hunks import diff_hunks, partial_source
from remora_core.agents.proposal_model import PROPOSAL_COLUMNS, Proposal, ProposalStatus
from remora_core.fileio import bytes_hash, inside_root, replace_checked
from remora_core.store.store import Store

_COLUMNS = ", ".join(PROPOSAL_COLUMNS)


@dataclass(slots=True)
class ApplyResult:
    """What approving did. ``start``/``old_end``/``replacement`` are what ``nvim_buf_set_lines``
    needs (0-based start, exclusive end of the replaced lines, new lines without newlines)."""

    proposal_id: str
    status: ProposalStatus
    applied: bool
    message: str
    file_path: str = ""
    start: int = 0
    old_end: int = 0
    replacement: list[str] = field(default_factory=list)
    lines: list[str] | None = None  # the whole new buffer (apply_to_lines only)

    @property
    def changed_range(self) -> tuple[int, int]:
        """1-based inclusive first and last line of the new text."""
        return self.start + 1, self.start + len(self.replacement)


@dataclass(slots=True)
class Spliced:
    text: str
    start: int
    old_end: int
    replacement: list[str]


def splice_proposal(proposal: Proposal, text: str) -> Spliced | str:
    """``text`` with the proposal applied, or the reason it is stale."""
    span = edit.locate(text, proposal.node_id, proposal.file_path)
    if span is None:
        return f"node {proposal.node_id!r} is no longer in {proposal.file_path!r}"
    if span.source_hash != proposal.base_hash:
        return (
            f"node {proposal.node_id!r} changed since proposal {proposal.id!r} was made "
            "(stale base); ask the agent again"
        )
    old_indent = defs.indent_of(proposal.old_source.split("\n", 1)[0])
    new_source = proposal.new_source
    if span.node_type != "file" and old_indent != span.indent:
        new_source = defs.reindent(new_source, old_indent, span.indent)
    new_text = edit.splice(text, span, new_source)
    replacement = [line.rstrip("\r\n") for line in edit.split_lines(new_source)]
    return Spliced(new_text, span.start_line - 1, span.end_line, replacement)


def _with_hunks(proposal: Proposal, hunks: Collection[int] | None) -> tuple[Proposal, str]:
    """``proposal`` with only ``hunks`` of its diff kept (None or every hunk: unchanged), and a
    note for the result message."""
    if hunks is None:
        return proposal, ""
    count = len(diff_hunks(proposal.old_source, proposal.new_source))
    keep = set(hunks)
    unknown = sorted(index for index in keep if not 0 <= index < count)
    if unknown:
        raise ProposalError(
            f"proposal {proposal.id!r} has {count} hunks; no hunk {', '.join(str(i + 1) for i in unknown)}"
        )
    if not keep:
        raise ProposalError(f"no hunk of proposal {proposal.id!r} is kept: reject it instead")
    if len(keep) == count:
        return proposal, ""
    partial = proposal.model_copy(
        update={"new_source": partial_source(proposal.old_source, proposal.new_source, keep)}
    )
    return partial, f" (hunks {', '.join(str(i + 1) for i in sorted(keep))} of {count})"


class ProposalStore:
    """The ``proposals`` table of one project. Also the default proposal sink of agents."""

    def __init__(self, store: Store, root: Path) -> None:
        self.store = store
        self.root = root

    # -- reading -----------------------------------------------------------------------
    def get(self, proposal_id: str) -> Proposal:
        row = self.store.connection.execute(
            f"SELECT {_COLUMNS} FROM proposals WHERE id = ?", (proposal_id,)
        ).fetchone()
        if row is None:
            raise ProposalError(f"no proposal {proposal_id!r}")
        return Proposal.from_row(row)

    def list(self, *, node_id: str | None = None, status: ProposalStatus | None = None) -> list[Proposal]:
        query = f"SELECT {_COLUMNS} FROM proposals WHERE 1 = 1"
        args: list[object] = []
        if node_id is not None:
            query += " AND node_id = ?"
            args.append(node_id)
        if status is not None:
            query += " AND status = ?"
            args.append(status)
        query += " ORDER BY created_at"
        return [Proposal.from_row(row) for row in self.store.connection.execute(query, args)]

    # -- writing -----------------------------------------------------------------------
    def submit(self, proposal: Proposal) -> Proposal:
        marks = ", ".join("?" * len(PROPOSAL_COLUMNS))
        with self.store.transaction() as connection:
            connection.execute(f"INSERT INTO proposals ({_COLUMNS}) VALUES ({marks})", proposal.row())
        return proposal

    def set_event_seq(self, proposal_id: str, seq: int) -> None:
        with self.store.transaction():
            self.set_event_seq_in_transaction(proposal_id, seq)

    def set_event_seq_in_transaction(self, proposal_id: str, seq: int) -> None:
        """Record the seq of the proposal's RewriteProposal event (the caller's transaction)."""
        self.store.connection.execute("UPDATE proposals SET event_seq = ? WHERE id = ?", (seq, proposal_id))

    def _resolve(self, proposal_id: str, status: ProposalStatus, feedback: str | None = None) -> Proposal:
        with self.store.transaction() as connection:
            current = self.get(proposal_id)
            if current.status != "pending":
                raise ProposalError(f"proposal {proposal_id!r} is already {current.status}")
            connection.execute(
                "UPDATE proposals SET status = ?, feedback = coalesce(?, feedback), resolved_at = ? WHERE id = ?",
                (status, feedback, time.time(), proposal_id),
            )
        return self.get(proposal_id)

    def reject(self, proposal_id: str, feedback: str = "") -> Proposal:
        """Mark rejected and keep the human's feedback (the runner routes it back to the agent)."""
        return self._resolve(proposal_id, "rejected", feedback)

    def cancel(self, proposal_id: str) -> Proposal:
        return self._resolve(proposal_id, "cancelled")

    def _not_pending(self, proposal: Proposal) -> ApplyResult:
        return ApplyResult(
            proposal.id,
            proposal.status,
            False,
            f"proposal {proposal.id!r} is already {proposal.status}",
            proposal.file_path,
        )

    def approve(self, proposal_id: str, hunks: Collection[int] | None = None) -> ApplyResult:
        """Apply the proposal to its file on disk (atomic write that refuses a concurrent change).
        ``hunks``: apply only these hunks (0-based indices of :func:`diff_hunks`); None: all."""
        with self.store.transaction() as connection:
            proposal = self.get(proposal_id)
            if proposal.status != "pending":
                return self._not_pending(proposal)
            proposal, note = _with_hunks(proposal, hunks)
            path = inside_root(self.root, proposal.file_path)  # never outside the root, never through a link
            try:
                data = path.read_bytes()
            except OSError as error:
                raise ProposalError(f"cannot read {str(path)!r}: {error.strerror}") from None
            result = splice_proposal(proposal, data.decode("utf-8", errors="surrogateescape"))
            if isinstance(result, str):
                connection.execute(
                    "UPDATE proposals SET status = 'stale', resolved_at = ? WHERE id = ?",
                    (time.time(), proposal_id),
                )
                return ApplyResult(proposal_id, "stale", False, result, proposal.file_path)
            replace_checked(path, result.text.encode("utf-8", errors="surrogateescape"), bytes_hash(data), root=self.root)
            connection.execute(
                "UPDATE proposals SET status = 'applied', resolved_at = ? WHERE id = ?",
                (time.time(), proposal_id),
            )
        return ApplyResult(
            proposal_id,
            "applied",
            True,
            f"applied to {proposal.file_path!r}{note}",
            proposal.file_path,
            result.start,
            result.old_end,
            result.replacement,
        )

    def apply_to_lines(
        self, proposal_id: str, lines: builtins.list[str], hunks: Collection[int] | None = None
    ) -> ApplyResult:  # (a method is named list)
        """Apply the proposal to an editor buffer (lines without newlines) instead of the file.

        The claim is the same as ``approve``: a second call returns ``applied=False``. The caller
        sets ``replacement`` over ``[start, old_end)`` in the buffer (one undo step) and saves it.
        ``hunks`` as for :meth:`approve`.
        """
        text = "\n".join(lines) + "\n"
        with self.store.transaction() as connection:
            proposal = self.get(proposal_id)
            if proposal.status != "pending":
                return self._not_pending(proposal)
            proposal, note = _with_hunks(proposal, hunks)
            result = splice_proposal(proposal, text)
            if isinstance(result, str):
                connection.execute(
                    "UPDATE proposals SET status = 'stale', resolved_at = ? WHERE id = ?",
                    (time.time(), proposal_id),
                )
                return ApplyResult(proposal_id, "stale", False, result, proposal.file_path)
            connection.execute(
                "UPDATE proposals SET status = 'applied', resolved_at = ? WHERE id = ?",
                (time.time(), proposal_id),
            )
        new_lines = lines[: result.start] + result.replacement + lines[result.old_end :]
        return ApplyResult(
            proposal_id,
            "applied",
            True,
            f"applied to the buffer of {proposal.file_path!r}{note}",
            proposal.file_path,
            result.start,
            result.old_end,
            result.replacement,
            new_lines,
        )
