//! The SQL of reminders and weekly reports: who has a profile, when they
//! asked to be reminded, and what was last sent.

use plaza_core::UserId;
use sqlx::AnyConnection;

/// A person the reminder and report jobs look at.
#[derive(sqlx::FromRow)]
pub struct Reminded {
    pub user_id: UserId,
    pub reminder_time: Option<String>,
    pub reminded_on: Option<String>,
    pub reported_on: Option<String>,
    pub timezone: String,
}

/// The next `limit` live people with a profile after `after`, by id.
pub async fn page(
    conn: &mut AnyConnection,
    after: Option<UserId>,
    limit: i64,
) -> Result<Vec<Reminded>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.user_id, p.reminder_time, p.reminded_on, p.reported_on, u.timezone \
         FROM fitness_profiles p JOIN users u ON u.id = p.user_id \
         WHERE u.deleted_at IS NULL AND u.banned_at IS NULL AND ($1 IS NULL OR p.user_id > $1) \
         ORDER BY p.user_id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await
}

/// Marks `user` reminded on `day` (a local date); false if they already were.
pub async fn mark_reminded(
    conn: &mut AnyConnection,
    user: UserId,
    day: &str,
) -> Result<bool, sqlx::Error> {
    mark(
        conn,
        "UPDATE fitness_profiles SET reminded_on = $1 \
         WHERE user_id = $2 AND (reminded_on IS NULL OR reminded_on <> $1)",
        user,
        day,
    )
    .await
}

/// Marks `user`'s week of `monday` reported; false if it already was.
pub async fn mark_reported(
    conn: &mut AnyConnection,
    user: UserId,
    monday: &str,
) -> Result<bool, sqlx::Error> {
    mark(
        conn,
        "UPDATE fitness_profiles SET reported_on = $1 \
         WHERE user_id = $2 AND (reported_on IS NULL OR reported_on <> $1)",
        user,
        monday,
    )
    .await
}

/// Sets a "last sent on" date unless it already is that date.
async fn mark(
    conn: &mut AnyConnection,
    sql: &'static str,
    user: UserId,
    date: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(sql)
        .bind(date)
        .bind(user)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
