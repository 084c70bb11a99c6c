-- How far each member has read each thread (replies to a root message).
CREATE TABLE thread_reads (
    root_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    last_read_seq BIGINT NOT NULL,
    PRIMARY KEY (root_id, user_id)
);
