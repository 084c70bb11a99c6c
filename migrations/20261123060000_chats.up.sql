-- Conversations (issue 4): direct chats (one per pair of users, keyed by
-- `direct_key`), groups, and channels inside a group. Messages carry a
-- per-chat, gapless `seq` taken from `chats.last_seq` in the transaction
-- that stores them; a client-chosen `client_id` makes a retried send
-- return the first message.
CREATE TABLE chats (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('direct', 'group', 'channel')),
    name TEXT,
    visibility TEXT NOT NULL DEFAULT 'private' CHECK (visibility IN ('public', 'private')),
    group_id TEXT REFERENCES chats (id) ON DELETE CASCADE,
    direct_key TEXT UNIQUE,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    last_seq BIGINT NOT NULL DEFAULT 0,
    last_message_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX chats_group ON chats (group_id);

CREATE TABLE chat_members (
    chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'moderator', 'member')),
    last_read_seq BIGINT NOT NULL DEFAULT 0,
    muted_until TEXT,
    joined_at TEXT NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);
CREATE INDEX chat_members_user ON chat_members (user_id);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    sender_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    content TEXT,
    message_type TEXT NOT NULL CHECK (message_type IN ('text', 'image', 'file', 'system')),
    reply_to TEXT REFERENCES messages (id) ON DELETE SET NULL,
    client_id TEXT,
    edited_at TEXT,
    deleted_at TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (chat_id, seq)
);
CREATE UNIQUE INDEX messages_client_id ON messages (chat_id, sender_id, client_id);
CREATE INDEX messages_reply_to ON messages (reply_to);
