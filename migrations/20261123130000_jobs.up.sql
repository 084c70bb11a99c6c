-- The durable job queue (crates/plaza-app/src/jobs).
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    queue TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    -- 0 high, 1 normal, 2 low: claimed in that order.
    priority INTEGER NOT NULL CHECK (priority IN (0, 1, 2)),
    state TEXT NOT NULL CHECK (state IN ('waiting', 'active', 'completed', 'dead', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at TEXT NOT NULL,
    -- A second enqueue with the same key while this one is waiting or
    -- active (and before unique_until) returns this job instead.
    unique_key TEXT,
    unique_until TEXT,
    locked_by TEXT,
    lease_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
);
CREATE INDEX jobs_ready ON jobs (queue, priority, run_at) WHERE state = 'waiting';
CREATE INDEX jobs_leases ON jobs (lease_until) WHERE state = 'active';
CREATE INDEX jobs_state ON jobs (queue, state);
CREATE UNIQUE INDEX jobs_unique ON jobs (queue, unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('waiting', 'active');
