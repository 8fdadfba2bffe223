"""Triage: a small model behind its own OpenAI-compatible endpoint picks which candidate updates
to run, through a forced tool call (``tool_choice`` names the function) whose argument follows a
JSON schema. Invalid, empty or unreachable answers fall back to every candidate (and say why)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from remora_core.config import TriageConfig

FUNCTION = "approve_updates"
SYSTEM = (
    "You triage background updates of a code index. Given a node's state, the diff bundle of its "
    f"change and the candidate updates, call {FUNCTION} with the updates worth running now, each "
    "with a short reason. Only use names from the candidate list."
)


@dataclass(slots=True)
class TriageResult:
    approved: list[str]
    reasons: dict[str, str] = field(default_factory=dict)
    fallback: bool = False
    fallback_reason: str = ""


def tool_schema(candidates: list[str]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": FUNCTION,
            "description": "Approve the subset of candidate updates to run, with a reason each.",
            "parameters": {
                "type": "object",
                "properties": {
                    "updates": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "name": {"type": "string", "enum": candidates},
                                "reason": {"type": "string"},
                            },
                            "required": ["name", "reason"],
                        },
                    }
                },
                "required": ["updates"],
            },
        },
    }


class Triage:
    def __init__(self, config: TriageConfig) -> None:
        from openai import OpenAI  # only when triage is enabled

        self.config = config
        self.client = OpenAI(
            base_url=config.base_url,
            api_key=os.environ.get(config.api_key_env) or "none",
            timeout=config.timeout,
            max_retries=0,
        )

    def decide(self, summary: dict[str, Any], bundle: dict[str, Any], candidates: list[str]) -> TriageResult:
        def fall_back(reason: str) -> TriageResult:
            return TriageResult(list(candidates), fallback=True, fallback_reason=reason)

        if not candidates:
            return TriageResult([])
        prompt = json.dumps({"node": summary, "diff_bundle": bundle, "candidates": candidates}, default=str)
        try:
            response = self.client.chat.completions.create(  # type: ignore[call-overload]
                model=self.config.model,
                messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}],
                tools=[tool_schema(candidates)],
                tool_choice={"type": "function", "function": {"name": FUNCTION}},
                temperature=0.0,
            )
        except Exception as error:  # noqa: BLE001 - unreachable, HTTP error, bad body: all fall back
            return fall_back(f"triage model unreachable or failed: {type(error).__name__}: {error}")
        choices = response.choices or []
        calls = (choices[0].message.tool_calls or []) if choices else []
        call = next((item for item in calls if getattr(item, "function", None) and item.function.name == FUNCTION), None)
        if call is None:
            return fall_back(f"triage answer has no {FUNCTION!r} call")
        try:
            arguments = json.loads(call.function.arguments or "")
        except json.JSONDecodeError as error:
            return fall_back(f"triage arguments are not valid JSON: {error.msg}")
        updates = arguments.get("updates") if isinstance(arguments, dict) else None
        if not isinstance(updates, list) or not updates:
            return fall_back("triage approved nothing (empty answer)")
        approved: list[str] = []
        reasons: dict[str, str] = {}
        for item in updates:
            name = item.get("name") if isinstance(item, dict) else None
            if name not in candidates:
                return fall_back(f"triage named an unknown update {name!r}")
            if name not in reasons:
                approved.append(name)
            reasons[name] = str(item.get("reason", ""))
        return TriageResult(approved, reasons)
