-- Second factors: a TOTP secret per user (pending until confirmed with a
-- code; `last_step` refuses a code twice), codes by email, and single-use
-- recovery codes stored hashed.
CREATE TABLE user_totp (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    enabled_at TEXT,
    last_step BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

ALTER TABLE users ADD COLUMN mfa_email INTEGER NOT NULL DEFAULT 0;

CREATE TABLE recovery_codes (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);
