"""The topology graph (rustworkx over SQLite, hydrated lazily, kept live by events). (The
activation cycle rule is ``remora_core.agents.activation``: one module, the design's path rule.)"""

from remora_core.graph.hydrate import GraphNode
from remora_core.graph.live import GraphReader, LiveGraph
from remora_core.graph.topology import EDGE_TYPES, Impact, Neighbourhood, TopologyGraph

__all__ = [
    "EDGE_TYPES",
    "GraphNode",
    "GraphReader",
    "Impact",
    "LiveGraph",
    "Neighbourhood",
    "TopologyGraph",
]
