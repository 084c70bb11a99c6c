-- Uploaded files. The bytes live in object storage under
-- files/<id>/<variant> (original, and for images 256 and 64 px thumbnails);
-- this row says whose they are, what they are and who may read them.
CREATE TABLE files (
    id TEXT PRIMARY KEY,
    owner_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    purpose TEXT NOT NULL,
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
    content_type TEXT NOT NULL,
    byte_size BIGINT NOT NULL,
    width INTEGER,
    height INTEGER,
    variants TEXT NOT NULL DEFAULT 'original',
    created_at TEXT NOT NULL
);
CREATE INDEX files_owner ON files (owner_id, purpose);
