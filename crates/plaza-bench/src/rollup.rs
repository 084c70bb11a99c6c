//! The meditation roll-up's time for a million sessions, in process: 1 000
//! accounts with 1 000 finished sessions each, spread over 2025, written
//! straight into the database; then one run of plaza's roll-up, timed.

use std::time::Instant;

use plaza_platform::db::Backend;

const USERS: i64 = 1_000;

pub async fn run(sessions: i64) -> anyhow::Result<()> {
    let (state, data) = crate::in_process("rollup", |_| {}).await?;
    let started = Instant::now();
    let (users, made) = match state.db.backend() {
        Backend::Sqlite => (
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $1 - 1) \
             INSERT INTO users (id, email, username, created_at, updated_at) \
             SELECT printf('00000000-0000-7000-8000-%012d', i), printf('u%d@bench.test', i), \
               printf('u%d', i), '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z' FROM n",
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $1 - 1) \
             INSERT INTO meditation_sessions (id, user_id, type, started_at, ended_at, duration_sec, \
               mood_before, mood_after) \
             SELECT printf('00000000-0000-7000-9000-%012d', i), \
               printf('00000000-0000-7000-8000-%012d', i % $2), 'breathing', \
               strftime('%Y-%m-%dT%H:%M:%S', 1735689600 + (i / $2) * 31536, 'unixepoch') || '.000000Z', \
               strftime('%Y-%m-%dT%H:%M:%S', 1735690200 + (i / $2) * 31536, 'unixepoch') || '.000000Z', \
               600, 2, 4 FROM n",
        ),
        Backend::Postgres => (
            "INSERT INTO users (id, email, username, created_at, updated_at) \
             SELECT '00000000-0000-7000-8000-' || lpad(i::text, 12, '0'), 'u' || i || '@bench.test', \
               'u' || i, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z' \
             FROM generate_series(0, $1 - 1) i",
            "INSERT INTO meditation_sessions (id, user_id, type, started_at, ended_at, duration_sec, \
               mood_before, mood_after) \
             SELECT '00000000-0000-7000-9000-' || lpad(i::text, 12, '0'), \
               '00000000-0000-7000-8000-' || lpad((i % $2)::text, 12, '0'), 'breathing', \
               to_char(to_timestamp(1735689600 + (i / $2) * 31536) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || '.000000Z', \
               to_char(to_timestamp(1735690200 + (i / $2) * 31536) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || '.000000Z', \
               600, 2, 4 FROM generate_series(0, $1 - 1) i",
        ),
    };
    sqlx::query(users)
        .bind(USERS)
        .execute(state.db.writer())
        .await?;
    sqlx::query(made)
        .bind(sessions)
        .bind(USERS)
        .execute(state.db.writer())
        .await?;
    let seeded = started.elapsed();
    let started = Instant::now();
    let rolled = plaza_app::meditation::roll_up(&state).await?;
    let took = started.elapsed();
    let days: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM meditation_daily")
        .fetch_one(state.db.reader())
        .await?;
    println!(
        "database={} sessions={rolled} users={USERS} daily_rows={days} seed_seconds={:.1} rollup_seconds={:.2} sessions_per_s={:.0}",
        state.db.backend().name(),
        seeded.as_secs_f64(),
        took.as_secs_f64(),
        rolled as f64 / took.as_secs_f64(),
    );
    state.shutdown.halt();
    let _ = std::fs::remove_dir_all(data);
    Ok(())
}
