-- Attachments: any file a user uploads (its name kept for downloads), tied
-- to at most one message.
ALTER TABLE files ADD COLUMN name TEXT;

CREATE TABLE message_attachments (
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    file_id TEXT NOT NULL UNIQUE REFERENCES files (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (message_id, file_id)
);
