-- Full-text search over message text: a generated tsvector ('simple'
-- configuration: no stemming, so every language is treated alike) and a
-- GIN index on it.
ALTER TABLE messages ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', coalesce(content, ''))) STORED;
CREATE INDEX messages_search ON messages USING GIN (search);
