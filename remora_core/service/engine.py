"""The engine facade as the service sees it, plus the ONE place that bridges what the facade
does not offer yet.

COMPAT (remove when the engine facade has them): ``approve(id, hunks=[...])`` is being added to
the facade by the engine; until then a per-hunk approve goes through the editor's
``agent_views.accept`` (the same code the Neovim panel uses), which claims the proposal and
writes only the kept hunks to the file.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from remora_core.agents.service import AgentService

Engine = AgentService  # the engine renames its facade; this alias is the service's only name for it


@dataclass(slots=True)
class Applied:
    proposal_id: str
    status: str
    applied: bool
    message: str
    file_path: str


def _facade_takes_hunks(engine: Engine) -> bool:
    return "hunks" in inspect.signature(engine.approve).parameters


def approve(engine: Engine, proposal_id: str, hunks: list[int] | None) -> Applied:
    """Apply the proposal (or only the 0-based ``hunks`` of its diff) to the file on disk."""
    if hunks is None:
        result = engine.approve(proposal_id)
    elif _facade_takes_hunks(engine):  # pragma: no cover - the engine's new facade
        result = engine.approve(proposal_id, hunks=hunks)  # type: ignore[call-arg,unused-ignore]
    else:
        from remora_core.editor.agent_views import accept  # COMPAT: per-hunk approve of today

        done = accept(engine, proposal_id, None, hunks)
        return Applied(done["proposal"], done["status"], done["applied"], done["message"], done["file"])
    return Applied(result.proposal_id, result.status, result.applied, result.message, result.file_path)
