-- Single-use secrets sent to a user (email verification, password reset,
-- invitations) or held by a client between steps (MFA challenges, OAuth
-- state). Only their SHA-256 is stored.
CREATE TABLE one_time_tokens (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX one_time_tokens_user ON one_time_tokens (user_id, purpose);
