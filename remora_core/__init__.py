"""Remora engine: parsing, anchors, store, graph, events, hub and agents.

Importable and testable without Neovim. See ``doc/remora.txt`` and the README.
"""

__version__ = "0.1.0"
