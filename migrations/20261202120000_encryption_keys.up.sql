-- The key that seals TOTP secrets when `auth.encryption_key` is not set
-- (made on first use, shared by every node), like `signing_keys`.
CREATE TABLE encryption_keys (
    kid TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL
);
