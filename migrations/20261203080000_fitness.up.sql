-- FitSync (seed 003, issue 18): a fitness profile per account, workout and
-- meal plans (generated or written), what was done and eaten, body
-- measurements, and AI conversations. Weights are grams and lengths
-- millimetres, as integers; a plan's days are its JSON document.
CREATE TABLE fitness_profiles (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- beginner | intermediate | advanced
    level TEXT NOT NULL,
    -- Comma-joined: lose_weight, build_muscle, endurance, strength, mobility, health
    goals TEXT NOT NULL,
    -- Comma-joined: none, dumbbells, barbell, kettlebell, bands, pullup_bar, bench, machines, bike, treadmill
    equipment TEXT NOT NULL,
    days_per_week INTEGER NOT NULL CHECK (days_per_week BETWEEN 1 AND 7),
    minutes_per_session INTEGER NOT NULL CHECK (minutes_per_session BETWEEN 10 AND 240),
    height_mm INTEGER CHECK (height_mm IS NULL OR height_mm BETWEEN 500 AND 2600),
    -- female | male | unspecified (Mifflin–St Jeor differs by sex)
    sex TEXT NOT NULL,
    birth_year INTEGER,
    -- Free text the planner and the model are told to respect.
    limitations TEXT NOT NULL,
    -- metric | imperial: how answers are written; storage is metric.
    units TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- A workout or meal plan: made by the offline planner, a model, or by
-- hand; the week itself is a JSON document (`WorkoutWeek`, `MealWeek`).
CREATE TABLE fitness_plans (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- workout | meal
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    -- offline | manual | the model's name
    provider TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX fitness_plans_user ON fitness_plans (user_id, kind, created_at);

-- A workout done.
CREATE TABLE workout_logs (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    plan_id TEXT,
    -- strength | cardio | hiit | mobility | sport
    kind TEXT NOT NULL,
    performed_at TEXT NOT NULL,
    duration_min INTEGER NOT NULL CHECK (duration_min BETWEEN 1 AND 600),
    -- Rate of perceived exertion, 1–10.
    effort INTEGER CHECK (effort IS NULL OR effort BETWEEN 1 AND 10),
    -- From MET × body weight × hours, with the weight of the day.
    calories INTEGER NOT NULL,
    notes TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX workout_logs_user ON workout_logs (user_id, performed_at);

-- Each set of a logged workout: the personal records are read from these.
CREATE TABLE workout_sets (
    log_id TEXT NOT NULL REFERENCES workout_logs (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    exercise TEXT NOT NULL,
    reps INTEGER,
    weight_g INTEGER,
    duration_sec INTEGER,
    PRIMARY KEY (log_id, position)
);
CREATE INDEX workout_sets_records ON workout_sets (user_id, exercise, weight_g);

-- A meal eaten.
CREATE TABLE meal_logs (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    eaten_at TEXT NOT NULL,
    name TEXT NOT NULL,
    calories INTEGER NOT NULL CHECK (calories BETWEEN 0 AND 10000),
    protein_g INTEGER NOT NULL CHECK (protein_g BETWEEN 0 AND 1000),
    carbs_g INTEGER NOT NULL CHECK (carbs_g BETWEEN 0 AND 1000),
    fat_g INTEGER NOT NULL CHECK (fat_g BETWEEN 0 AND 1000),
    created_at TEXT NOT NULL
);
CREATE INDEX meal_logs_user ON meal_logs (user_id, eaten_at);

-- Body weight and measurements over time.
CREATE TABLE body_measurements (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    measured_at TEXT NOT NULL,
    weight_g INTEGER CHECK (weight_g IS NULL OR weight_g BETWEEN 20000 AND 400000),
    waist_mm INTEGER,
    hips_mm INTEGER,
    chest_mm INTEGER,
    -- Tenths of a percent.
    body_fat_permille INTEGER CHECK (body_fat_permille IS NULL OR body_fat_permille BETWEEN 10 AND 700),
    created_at TEXT NOT NULL
);
CREATE INDEX body_measurements_user ON body_measurements (user_id, measured_at);

-- AI conversations (seed 003's enhanced chat): threads per user by topic,
-- and their messages with the model's usage and cost.
CREATE TABLE ai_conversations (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- workout | nutrition | progress | general
    topic TEXT NOT NULL,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX ai_conversations_user ON ai_conversations (user_id, updated_at);

CREATE TABLE ai_messages (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES ai_conversations (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    -- user | assistant
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    -- offline | the model's name (assistant messages)
    provider TEXT,
    tokens_in INTEGER NOT NULL DEFAULT 0,
    tokens_out INTEGER NOT NULL DEFAULT 0,
    -- Millionths of a US dollar, from the configured price table.
    cost_micros INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX ai_messages_conversation ON ai_messages (conversation_id, created_at);
CREATE INDEX ai_messages_user ON ai_messages (user_id, created_at);
