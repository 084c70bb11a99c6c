-- Daily roll-ups of finished meditation sessions (seed 000's "batch
-- processing for analytics"), per person and local day (the profile's time
-- zone when rolled up). The meditation.rollup job adds sessions that ended
-- after `rolled_through` and moves it on; analytics read these rows plus
-- the sessions that ended since, so nothing is counted twice or missed.
CREATE TABLE meditation_daily (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    sessions INTEGER NOT NULL,
    seconds INTEGER NOT NULL,
    mood_delta_sum INTEGER NOT NULL,
    mood_count INTEGER NOT NULL,
    PRIMARY KEY (user_id, day)
);
CREATE TABLE meditation_rollup (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    rolled_through TEXT NOT NULL
);
INSERT INTO meditation_rollup (id, rolled_through) VALUES (1, '1970-01-01T00:00:00.000000Z');
CREATE INDEX meditation_sessions_ended ON meditation_sessions (ended_at) WHERE ended_at IS NOT NULL;
