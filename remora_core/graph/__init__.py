"""The topology graph (rustworkx over SQLite, hydrated lazily, kept live by events) and the
activation cycle check."""

from remora_core.graph.activation import (
    ActivationCycleError,
    activation_edges,
    clear_activations,
    closes_cycle,
    record_activation,
    would_create_cycle,
)
from remora_core.graph.hydrate import GraphNode
from remora_core.graph.live import GraphReader, LiveGraph
from remora_core.graph.topology import EDGE_TYPES, Impact, Neighbourhood, TopologyGraph

__all__ = [
    "EDGE_TYPES",
    "ActivationCycleError",
    "GraphNode",
    "GraphReader",
    "Impact",
    "LiveGraph",
    "Neighbourhood",
    "TopologyGraph",
    "activation_edges",
    "clear_activations",
    "closes_cycle",
    "record_activation",
    "would_create_cycle",
]
