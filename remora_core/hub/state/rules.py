"""The rules engine: deterministic signals of a diff bundle -> candidate updates, as data
(``[hub.rules]``: signal name -> list of update tools)."""

from __future__ import annotations

from dataclasses import dataclass, field

from remora_core.config import HubConfig
from remora_core.hub.state.diffs import DiffBundle

SIGNALS: tuple[str, ...] = (
    "added",
    "body_changed",
    "signature_changed",
    "public_api_changed",
    "complexity_changed",
    "control_flow_changed",
    "semantic_drift",
    "missing_test",
    "exports_changed",
)
TESTABLE_TYPES = ("function", "method")


@dataclass(slots=True)
class RuleOutcome:
    signals: list[str] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)  # in rule order, no duplicates
    because: dict[str, list[str]] = field(default_factory=dict)  # update -> signals that asked for it


def signals_of(bundle: DiffBundle, config: HubConfig, *, has_tests: bool) -> list[str]:
    """The signals a bundle raises. ``has_tests``: some test already names or calls the node."""
    found: list[str] = []
    if bundle.kind == "added":
        found.append("added")
    else:
        found.append("body_changed")
        if bundle.structural.signature_changed:
            found.append("signature_changed")
            if bundle.public and bundle.node_type in ("function", "method", "class"):
                found.append("public_api_changed")
        if abs(bundle.ast.complexity_delta) >= config.complexity_threshold:
            found.append("complexity_changed")
        if bundle.ast.control_flow_delta:
            found.append("control_flow_changed")
        if bundle.semantic.distance >= config.drift_threshold:
            found.append("semantic_drift")
    if bundle.node_type in TESTABLE_TYPES and not has_tests and not bundle.qualname.split(".")[-1].startswith("test"):
        found.append("missing_test")
    if bundle.node_type == "file" and bundle.kind == "changed" and bundle.old_exports != bundle.new_exports:
        found.append("exports_changed")
    return found


def evaluate(bundle: DiffBundle, config: HubConfig, *, has_tests: bool) -> RuleOutcome:
    """Signals and the candidate updates ``[hub.rules]`` maps them to."""
    outcome = RuleOutcome(signals=signals_of(bundle, config, has_tests=has_tests))
    for signal in outcome.signals:
        for update in getattr(config.rules, signal):
            if update not in outcome.because:
                outcome.candidates.append(update)
            outcome.because.setdefault(update, []).append(signal)
    return outcome
