"""The hub's node state: per-node facts (signature, complexity, relations, tests, exports),
diff bundles, rules, update tools, triage, markdown summaries and the agents' hub context.

Runs in a niced child process of ``remora-hub`` (``child.py``: a ``StateHub`` thread), off the
indexing path: the hub pauses it during index passes (``process.py``).
"""
