"""The hub's node state: per-node facts (signature, complexity, relations, tests, exports),
diff bundles, rules, update tools, triage, markdown summaries and the agents' hub context.

Runs inside ``remora-hub`` on its own thread (``StateHub``), off the indexing path.
"""
