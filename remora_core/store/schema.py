"""The SQLite schema as ordered migrations. ``PRAGMA user_version`` holds the applied count."""

from __future__ import annotations

# 'RMRA': marks a database file as Remora's (PRAGMA application_id).
APPLICATION_ID = 0x524D5241

MIGRATIONS: tuple[str, ...] = (
    # 1: the index, the event log, activation chains, subscriptions and proposals.
    """
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE files (
        path TEXT PRIMARY KEY,             -- relative to the project root, '/'-separated
        file_id TEXT NOT NULL,             -- id of the file's node
        mtime_ns INTEGER NOT NULL,
        size INTEGER NOT NULL,
        content_hash TEXT NOT NULL,        -- exact bytes
        refs TEXT NOT NULL DEFAULT '{}',   -- JSON: imports, class bases, call sites (for edge resolution)
        problems TEXT NOT NULL DEFAULT '[]',
        indexed_at REAL NOT NULL
    );
    CREATE TABLE nodes (
        id TEXT PRIMARY KEY,               -- rm_xxxxxxxx
        node_type TEXT NOT NULL CHECK (node_type IN ('file', 'class', 'function', 'method')),
        name TEXT NOT NULL,
        qualname TEXT NOT NULL,
        file_path TEXT NOT NULL,
        start_line INTEGER NOT NULL,       -- first line of the span (decorators included)
        def_line INTEGER NOT NULL,         -- line of the def/class keyword (the anchor line)
        end_line INTEGER NOT NULL,
        parent_id TEXT,
        source_hash TEXT NOT NULL,         -- hash of the span, anchor comments excluded
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'orphaned')),
        superseded_anchor TEXT,            -- anchor left in the code by a renamed node (no-inject mode)
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX nodes_by_file ON nodes (file_path, status);
    CREATE INDEX nodes_by_name ON nodes (name);
    CREATE TABLE edges (
        from_id TEXT NOT NULL REFERENCES nodes (id),
        to_id TEXT NOT NULL REFERENCES nodes (id),
        edge_type TEXT NOT NULL CHECK (edge_type IN ('parent_of', 'calls', 'imports')),
        file_path TEXT NOT NULL,           -- the file whose code produced the edge
        PRIMARY KEY (from_id, to_id, edge_type)
    ) WITHOUT ROWID;
    CREATE INDEX edges_by_target ON edges (to_id, edge_type);
    CREATE INDEX edges_by_file ON edges (file_path);
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- resumption point for tailers
        event_id TEXT NOT NULL UNIQUE,
        event_type TEXT NOT NULL,
        kind TEXT NOT NULL,
        timestamp REAL NOT NULL,
        correlation_id TEXT,
        agent_id TEXT,
        file_path TEXT,
        payload TEXT NOT NULL               -- JSON
    );
    CREATE INDEX events_by_correlation ON events (correlation_id);
    CREATE INDEX events_by_type ON events (event_type);
    CREATE INDEX events_by_agent ON events (agent_id);
    CREATE TABLE activation_chain (
        correlation_id TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        depth INTEGER NOT NULL,
        timestamp REAL NOT NULL,
        PRIMARY KEY (correlation_id, agent_id)
    );
    CREATE TABLE subscriptions (
        agent_id TEXT NOT NULL,
        event_pattern TEXT NOT NULL,        -- JSON: {"event_types": [...], "from_agents": [...], "file_paths": [...]}
        created_at REAL NOT NULL,
        PRIMARY KEY (agent_id, event_pattern)
    );
    CREATE TABLE proposals (
        id TEXT PRIMARY KEY,
        node_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('rewrite', 'new_node')),
        file_path TEXT NOT NULL,
        base_hash TEXT NOT NULL,
        old_source TEXT NOT NULL,
        new_source TEXT NOT NULL,
        diff TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'applied', 'rejected', 'stale', 'cancelled')),
        agent_id TEXT,
        correlation_id TEXT,
        feedback TEXT,
        event_seq INTEGER,
        created_at REAL NOT NULL,
        resolved_at REAL
    );
    CREATE INDEX proposals_by_node ON proposals (node_id, status);
    """,
    # 2: activation edges (who activated whom within a correlation) and event retention indexes.
    """
    CREATE TABLE activation_edges (
        correlation_id TEXT NOT NULL,
        from_id TEXT NOT NULL,
        to_id TEXT NOT NULL,
        timestamp REAL NOT NULL,
        PRIMARY KEY (correlation_id, from_id, to_id)
    ) WITHOUT ROWID;
    CREATE INDEX events_by_timestamp ON events (timestamp);
    CREATE INDEX proposals_by_event ON proposals (event_seq);
    """,
    # 3: durable agent triggers (claimed atomically by runners, with a lease).
    """
    CREATE TABLE triggers (
        id TEXT PRIMARY KEY,
        agent_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('human_chat', 'agent_message', 'subscription', 'feedback')),
        message TEXT NOT NULL,
        correlation_id TEXT NOT NULL,
        parent_id TEXT,                     -- the caller's trigger (agent_message: a nested turn)
        source_agent TEXT,
        trigger_event_id TEXT,              -- the event that caused it (HumanChat, AgentMessage, ...)
        depth INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'queued'
            CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
        attempts INTEGER NOT NULL DEFAULT 0,
        claimed_by TEXT,
        lease_until REAL,
        cancel_requested INTEGER NOT NULL DEFAULT 0,
        reply TEXT,
        error TEXT,
        created_at REAL NOT NULL,
        finished_at REAL
    );
    CREATE INDEX triggers_by_status ON triggers (status, created_at);
    CREATE INDEX triggers_by_correlation ON triggers (correlation_id);
    """,
    # 4: the hub's node state (key node:{id}:state), the last source of each node, and a
    # full-text index over node names and sources (search_similar).
    """
    CREATE TABLE node_state (
        key TEXT PRIMARY KEY,               -- node:{id}:state
        node_id TEXT NOT NULL UNIQUE,
        source_version TEXT NOT NULL,       -- hash of the source the state was computed from
        state TEXT NOT NULL,                -- JSON (NodeState)
        updated_at REAL NOT NULL
    );
    CREATE TABLE node_sources (
        node_id TEXT PRIMARY KEY,
        source_hash TEXT NOT NULL,
        source TEXT NOT NULL,
        saved_at REAL NOT NULL
    );
    CREATE VIRTUAL TABLE node_fts USING fts5(node_id UNINDEXED, name, body);
    """,
    # 5: a file's events by type (the panel's topology history of a node): without it, a
    # project-wide TopologyChanged scan per panel refresh (1.25 ms at 1,789 events, linear).
    """
    CREATE INDEX events_by_file ON events (file_path, event_type);
    """,
    # 6: the stat columns of every file row without its refs (a no-change re-index reads only
    # these; indexed_at sits after refs in the row, behind its overflow pages).
    """
    CREATE INDEX files_by_stat ON files (path, mtime_ns, size, content_hash, indexed_at);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
