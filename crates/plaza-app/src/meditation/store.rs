//! The meditation tables' SQL.

use plaza_core::{MeditationId, RoomId, RoundId, Timestamp, UserId};
use sqlx::AnyConnection;

use super::model::{Session, SessionType};

/// The columns [`Row`] reads.
macro_rules! session_columns {
    () => {
        "id, type, planned_duration_sec, room_id, round_id, started_at, ended_at, duration_sec, \
         mood_before, mood_after, notes"
    };
}

#[derive(sqlx::FromRow)]
struct Row {
    id: MeditationId,
    #[sqlx(rename = "type")]
    kind: String,
    planned_duration_sec: Option<i64>,
    room_id: Option<RoomId>,
    round_id: Option<RoundId>,
    started_at: Timestamp,
    ended_at: Option<Timestamp>,
    duration_sec: Option<i64>,
    mood_before: Option<i64>,
    mood_after: Option<i64>,
    notes: Option<String>,
}

/// A session with its owner.
#[derive(sqlx::FromRow)]
struct OwnedRow {
    user_id: UserId,
    #[sqlx(flatten)]
    session: Row,
}

impl From<OwnedRow> for (UserId, Session) {
    fn from(r: OwnedRow) -> Self {
        (r.user_id, r.session.into())
    }
}

impl From<Row> for Session {
    fn from(r: Row) -> Self {
        Self {
            kind: SessionType::parse(&r.kind).unwrap_or(SessionType::Custom),
            id: r.id,
            planned_duration_sec: r.planned_duration_sec,
            room_id: r.room_id,
            round_id: r.round_id,
            started_at: r.started_at,
            ended_at: r.ended_at,
            duration_sec: r.duration_sec,
            mood_before: r.mood_before,
            mood_after: r.mood_after,
            notes: r.notes,
        }
    }
}

/// The insert both starts share: `$1`…`$7` are the session's fields.
macro_rules! insert_session {
    () => {
        "INSERT INTO meditation_sessions \
         (id, user_id, type, planned_duration_sec, room_id, round_id, started_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    };
}

fn bind_insert<'q>(
    sql: &'static str,
    user: UserId,
    s: &'q Session,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(sql)
        .bind(s.id)
        .bind(user)
        .bind(s.kind.as_str())
        .bind(s.planned_duration_sec)
        .bind(s.room_id)
        .bind(s.round_id)
        .bind(s.started_at)
}

/// Starts `s`; a unique violation if `user` has an active session.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(
    conn: &mut AnyConnection,
    user: UserId,
    s: &Session,
) -> Result<(), sqlx::Error> {
    bind_insert(insert_session!(), user, s)
        .execute(conn)
        .await?;
    Ok(())
}

/// Starts `s` unless `user` has an active session (then false), without
/// failing the transaction it runs in.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_if_idle(
    conn: &mut AnyConnection,
    user: UserId,
    s: &Session,
) -> Result<bool, sqlx::Error> {
    let sql = concat!(
        insert_session!(),
        " ON CONFLICT (user_id) WHERE ended_at IS NULL DO NOTHING"
    );
    let done = bind_insert(sql, user, s).execute(conn).await?;
    Ok(done.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn active(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<Option<Session>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(concat!(
        "SELECT ",
        session_columns!(),
        " FROM meditation_sessions WHERE user_id = $1 AND ended_at IS NULL"
    ))
    .bind(user)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Into::into))
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find(
    conn: &mut AnyConnection,
    user: UserId,
    id: MeditationId,
) -> Result<Option<Session>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(concat!(
        "SELECT ",
        session_columns!(),
        " FROM meditation_sessions WHERE id = $1 AND user_id = $2"
    ))
    .bind(id)
    .bind(user)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Into::into))
}

/// The most recently started of someone's finished sessions.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn last_ended(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<Option<Session>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(concat!(
        "SELECT ",
        session_columns!(),
        " FROM meditation_sessions WHERE user_id = $1 AND ended_at IS NOT NULL \
         ORDER BY started_at DESC, id DESC LIMIT 1"
    ))
    .bind(user)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Into::into))
}

/// Open sessions started before `before`, oldest first, with their owners.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn stale(
    conn: &mut AnyConnection,
    before: Timestamp,
    limit: i64,
) -> Result<Vec<(UserId, Session)>, sqlx::Error> {
    let rows: Vec<OwnedRow> = sqlx::query_as(concat!(
        "SELECT user_id, ",
        session_columns!(),
        " FROM meditation_sessions WHERE ended_at IS NULL AND started_at < $1 \
         ORDER BY started_at LIMIT $2"
    ))
    .bind(before)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The open sessions of a room's group session, with their owners.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn open_in_round(
    conn: &mut AnyConnection,
    round: RoundId,
) -> Result<Vec<(UserId, Session)>, sqlx::Error> {
    let rows: Vec<OwnedRow> = sqlx::query_as(concat!(
        "SELECT user_id, ",
        session_columns!(),
        " FROM meditation_sessions WHERE round_id = $1 AND ended_at IS NULL"
    ))
    .bind(round)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Ends the session if it is still open; false if it was not.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn finish(
    conn: &mut AnyConnection,
    user: UserId,
    s: &Session,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE meditation_sessions SET ended_at = $3, duration_sec = $4, mood_before = $5, \
         mood_after = $6, notes = $7 WHERE id = $1 AND user_id = $2 AND ended_at IS NULL",
    )
    .bind(s.id)
    .bind(user)
    .bind(s.ended_at)
    .bind(s.duration_sec)
    .bind(s.mood_before)
    .bind(s.mood_after)
    .bind(&s.notes)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The history's filter: owner `$1`, type `$2`, started in [`$3`, `$4`).
macro_rules! history_filter {
    () => {
        "user_id = $1 AND ($2 IS NULL OR type = $2) AND ($3 IS NULL OR started_at >= $3) \
         AND ($4 IS NULL OR started_at < $4)"
    };
}

/// Filters of the history.
pub struct HistoryFilter<'a> {
    pub kind: Option<&'a str>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

/// A page of someone's sessions, newest first, and how many match in all.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn history(
    conn: &mut AnyConnection,
    user: UserId,
    filter: &HistoryFilter<'_>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Session>, i64), sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(concat!(
        "SELECT ",
        session_columns!(),
        " FROM meditation_sessions WHERE ",
        history_filter!(),
        " ORDER BY started_at DESC, id DESC LIMIT $5 OFFSET $6"
    ))
    .bind(user)
    .bind(filter.kind)
    .bind(filter.from)
    .bind(filter.to)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total: i64 = sqlx::query_scalar(concat!(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM meditation_sessions WHERE ",
        history_filter!()
    ))
    .bind(user)
    .bind(filter.kind)
    .bind(filter.from)
    .bind(filter.to)
    .fetch_one(conn)
    .await?;
    Ok((rows.into_iter().map(Into::into).collect(), total))
}

/// `user`'s finished sessions: when each started, how long, which kind.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn ended_sessions(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<Vec<(Timestamp, Option<i64>, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT started_at, duration_sec, type FROM meditation_sessions \
         WHERE user_id = $1 AND ended_at IS NOT NULL",
    )
    .bind(user)
    .fetch_all(conn)
    .await
}

/// A rolled-up day: `(day, sessions, seconds, mood_delta_sum, mood_count)`.
pub type DayRow = (String, i64, i64, i64, i64);

/// A session not yet rolled up: `(started_at, duration_sec, mood_before,
/// mood_after)`.
pub type UnrolledRow = (Timestamp, i64, Option<i64>, Option<i64>);

/// `user`'s rolled-up days from `first` to `last` (dates as `YYYY-MM-DD`).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn rolled_days(
    conn: &mut AnyConnection,
    user: UserId,
    first: &str,
    last: &str,
) -> Result<Vec<DayRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT day, sessions, seconds, mood_delta_sum, mood_count FROM meditation_daily \
         WHERE user_id = $1 AND day >= $2 AND day <= $3",
    )
    .bind(user)
    .bind(first)
    .bind(last)
    .fetch_all(conn)
    .await
}

/// `user`'s sessions started in `since..until` that ended after `rolled`
/// (the roll-up has not reached them).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn unrolled(
    conn: &mut AnyConnection,
    user: UserId,
    (since, until): (Timestamp, Timestamp),
    rolled: Timestamp,
) -> Result<Vec<UnrolledRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT started_at, duration_sec, mood_before, mood_after FROM meditation_sessions \
         WHERE user_id = $1 AND ended_at > $4 AND started_at >= $2 AND started_at < $3",
    )
    .bind(user)
    .bind(since)
    .bind(until)
    .bind(rolled)
    .fetch_all(conn)
    .await
}
