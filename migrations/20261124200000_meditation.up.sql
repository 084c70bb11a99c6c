-- Meditation sessions (seed 000, issue 6). One active session per person:
-- a partial unique index settles concurrent starts.
CREATE TABLE meditation_sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type TEXT NOT NULL CHECK (type IN ('mindfulness', 'breathing', 'body_scan', 'sleep',
        'focus', 'loving_kindness', 'custom')),
    planned_duration_sec INTEGER,
    room_id TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    duration_sec INTEGER,
    mood_before INTEGER CHECK (mood_before BETWEEN 1 AND 5),
    mood_after INTEGER CHECK (mood_after BETWEEN 1 AND 5),
    notes TEXT
);
CREATE UNIQUE INDEX meditation_sessions_active ON meditation_sessions (user_id)
    WHERE ended_at IS NULL;
CREATE INDEX meditation_sessions_history ON meditation_sessions (user_id, started_at);
