-- Group meditation rooms (seed 000, issue 6). A room has a host; it is
-- public or invite-only. `round_id`, `starts_at` and `ends_at` describe the
-- group session under way, if any: the host starts one, and it ends when
-- the host says so or at `ends_at` (a job).
CREATE TABLE meditation_rooms (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    host_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'invite_only')),
    type TEXT NOT NULL CHECK (type IN ('mindfulness', 'breathing', 'body_scan', 'sleep',
        'focus', 'loving_kindness', 'custom')),
    max_participants INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    round_id TEXT,
    starts_at TEXT,
    ends_at TEXT
);
CREATE INDEX meditation_rooms_listed ON meditation_rooms (visibility, created_at);
CREATE INDEX meditation_rooms_host ON meditation_rooms (host_id);

CREATE TABLE meditation_room_invites (
    room_id TEXT NOT NULL REFERENCES meditation_rooms (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX meditation_room_invites_user ON meditation_room_invites (user_id);

-- Who is in a room: one row per socket (`node`, `conn`), kept fresh by its
-- node's heartbeat (`seen_at`); rows of a node that died go stale and are
-- not counted.
CREATE TABLE meditation_room_members (
    room_id TEXT NOT NULL REFERENCES meditation_rooms (id) ON DELETE CASCADE,
    node TEXT NOT NULL,
    conn BIGINT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (room_id, node, conn)
);
CREATE INDEX meditation_room_members_node ON meditation_room_members (node);

-- A session that is part of a room's group session.
ALTER TABLE meditation_sessions ADD COLUMN round_id TEXT;
CREATE INDEX meditation_sessions_round ON meditation_sessions (round_id)
    WHERE round_id IS NOT NULL;

-- Platform-wide analytics read every person's days in a range.
CREATE INDEX meditation_daily_day ON meditation_daily (day);
