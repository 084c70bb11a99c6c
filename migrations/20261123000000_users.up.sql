-- Accounts: the one table the foundation needs (`plaza admin create-user`).
-- Types are kept to TEXT/BIGINT/INTEGER so one SQL path serves SQLite and
-- PostgreSQL (docs/database.md): ids are UUIDv7 text, times RFC 3339 text.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    username TEXT NOT NULL,
    display_name TEXT,
    password_hash TEXT,
    role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
