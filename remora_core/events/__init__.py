"""The event bus: models, the append-only log in SQLite, cross-process tailing, subscriptions, retention.

The names below are imported on first use (PEP 562): ``remora index`` writes its
``TopologyChanged`` rows through ``events.topology_rows`` without the pydantic models."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from remora_core.events.models import (
        EVENT_CLASSES,
        EVENT_KINDS,
        EVENT_TYPES,
        AgentCompleteEvent,
        AgentErrorEvent,
        AgentMessageEvent,
        AgentStartEvent,
        BaseEvent,
        HubStartedEvent,
        HubStoppedEvent,
        HumanChatEvent,
        ModelResponseEvent,
        RewriteAppliedEvent,
        RewriteProposalEvent,
        RewriteRejectedEvent,
        ToolCallEvent,
        ToolResultEvent,
        TopologyChangedEvent,
        UnknownEventError,
        event_class,
        event_from_json,
    )
    from remora_core.events.retention import RetentionPolicy, prune_events
    from remora_core.events.store import Appended, EventLog, insert_event
    from remora_core.events.subscriptions import (
        Subscription,
        SubscriptionError,
        SubscriptionMatcher,
        SubscriptionPattern,
        subscribe,
        subscriptions,
        unsubscribe,
    )
    from remora_core.events.tail import EventTailer

__all__ = [
    "EVENT_CLASSES",
    "EVENT_KINDS",
    "EVENT_TYPES",
    "AgentCompleteEvent",
    "AgentErrorEvent",
    "AgentMessageEvent",
    "AgentStartEvent",
    "Appended",
    "BaseEvent",
    "EventLog",
    "EventTailer",
    "HubStartedEvent",
    "HubStoppedEvent",
    "HumanChatEvent",
    "ModelResponseEvent",
    "RetentionPolicy",
    "RewriteAppliedEvent",
    "RewriteProposalEvent",
    "RewriteRejectedEvent",
    "Subscription",
    "SubscriptionError",
    "SubscriptionMatcher",
    "SubscriptionPattern",
    "ToolCallEvent",
    "ToolResultEvent",
    "TopologyChangedEvent",
    "UnknownEventError",
    "event_class",
    "event_from_json",
    "insert_event",
    "prune_events",
    "subscribe",
    "subscriptions",
    "unsubscribe",
]

_HOMES = {
    "EVENT_CLASSES": "models",
    "EVENT_KINDS": "models",
    "EVENT_TYPES": "models",
    "AgentCompleteEvent": "models",
    "AgentErrorEvent": "models",
    "AgentMessageEvent": "models",
    "AgentStartEvent": "models",
    "BaseEvent": "models",
    "HubStartedEvent": "models",
    "HubStoppedEvent": "models",
    "HumanChatEvent": "models",
    "ModelResponseEvent": "models",
    "RewriteAppliedEvent": "models",
    "RewriteProposalEvent": "models",
    "RewriteRejectedEvent": "models",
    "ToolCallEvent": "models",
    "ToolResultEvent": "models",
    "TopologyChangedEvent": "models",
    "UnknownEventError": "models",
    "event_class": "models",
    "event_from_json": "models",
    "RetentionPolicy": "retention",
    "prune_events": "retention",
    "Appended": "store",
    "EventLog": "store",
    "insert_event": "store",
    "Subscription": "subscriptions",
    "SubscriptionError": "subscriptions",
    "SubscriptionMatcher": "subscriptions",
    "SubscriptionPattern": "subscriptions",
    "subscribe": "subscriptions",
    "subscriptions": "subscriptions",
    "unsubscribe": "subscriptions",
    "EventTailer": "tail",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"remora_core.events.{home}"), name)
