"""The node-state hub's event models (samples reused by the event-model round-trip tests)."""

from __future__ import annotations

from remora_core.events.models import (
    ApiImpactEvent,
    BaseEvent,
    HubContextUsedEvent,
    HubUpdateHintEvent,
    NodeStateUpdatedEvent,
    TestRunEvent,
    TestSkeletonOfferedEvent,
    TriageDecisionEvent,
    event_from_json,
)


def node_state_samples() -> list[BaseEvent]:
    return [
        NodeStateUpdatedEvent(agent_id="rm_cccccccc", file_path="a.py", source_version="h", updates=["find_callers"]),
        TriageDecisionEvent(agent_id="rm_cccccccc", candidates=["a"], approved=["a"], fallback=True, fallback_reason="x"),
        TestRunEvent(agent_id="rm_cccccccc", test_id="t.py::test_a", outcome="passed", duration=0.1),
        ApiImpactEvent(agent_id="rm_cccccccc", file_path="a.py", old_signature="def a()", new_signature="def a(b)"),
        TestSkeletonOfferedEvent(agent_id="rm_cccccccc", skeleton_path=".agentfs/tests/t.py", target_path="tests/t.py"),
        HubContextUsedEvent(agent_id="rm_cccccccc", hub_state_key="node:rm_cccccccc:state", freshness="missing"),
        HubUpdateHintEvent(agent_id="rm_cccccccc", node_id="rm_bbbbbbbb", note="callers changed"),
    ]


def test_node_state_events_round_trip() -> None:
    for event in node_state_samples():
        back = event_from_json(event.event_type, event.to_json())
        assert back == event
        assert event.kind == "hub"
