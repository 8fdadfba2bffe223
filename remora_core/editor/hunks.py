"""Re-export: the hunks of a proposal live in the engine (``remora_core.agents.hunks``)."""

from remora_core.agents.hunks import CONTEXT, Hunk, diff_hunks, partial_source

__all__ = ["CONTEXT", "Hunk", "diff_hunks", "partial_source"]
