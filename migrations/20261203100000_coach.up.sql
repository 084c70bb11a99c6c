-- The AI coach's requests (issue 18): one per enhanced-chat message or
-- plan asked for, run on the `ai` queue at its priority.
CREATE TABLE ai_requests (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- chat | workout_plan | meal_plan
    kind TEXT NOT NULL,
    -- high | normal | low
    priority TEXT NOT NULL,
    -- queued | running | done | failed (retrying will not help) |
    -- unavailable (the model was down or overloaded; try again later)
    status TEXT NOT NULL,
    -- A chat's thread, and its question.
    conversation_id TEXT REFERENCES ai_conversations (id) ON DELETE CASCADE,
    question_id TEXT,
    -- What it made: the coach's answer, or a plan.
    answer_id TEXT,
    plan_id TEXT,
    -- A plan's instructions and the app's context, as JSON.
    input TEXT NOT NULL,
    error TEXT,
    -- Unavailable: when asking again may help, if the model said.
    retry_at TEXT,
    -- Who answered (offline, or the model) and what it cost: a chat's
    -- answer carries the same in ai_messages.
    provider TEXT,
    tokens_in INTEGER NOT NULL DEFAULT 0,
    tokens_out INTEGER NOT NULL DEFAULT 0,
    cost_micros INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
);
CREATE INDEX ai_requests_user ON ai_requests (user_id, created_at);
