//! The notification tables' SQL.

use plaza_core::{NotificationId, TemplateId, Timestamp, UserId};
use serde_json::Value;
use sqlx::AnyConnection;

use super::model::{Channel, Notification, Recipient};
use super::render::Source;

/// The columns [`Row`] reads.
macro_rules! notification_columns {
    () => {
        "id, type, title, body, data, read_at, created_at"
    };
}

/// The columns [`TemplateRow`] reads.
macro_rules! template_columns {
    () => {
        "id, type, channel, locale, subject, body, html, created_at, updated_at"
    };
}

#[derive(sqlx::FromRow)]
struct Row {
    id: NotificationId,
    #[sqlx(rename = "type")]
    kind: String,
    title: String,
    body: String,
    data: String,
    read_at: Option<Timestamp>,
    created_at: Timestamp,
}

impl From<Row> for Notification {
    fn from(r: Row) -> Self {
        Self {
            data: serde_json::from_str(&r.data).unwrap_or(Value::Null),
            read: r.read_at.is_some(),
            id: r.id,
            kind: r.kind,
            title: r.title,
            body: r.body,
            read_at: r.read_at,
            created_at: r.created_at,
        }
    }
}

/// Stores a notification; false if this delivery already stored it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(
    conn: &mut AnyConnection,
    user: UserId,
    n: &Notification,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO notifications (id, user_id, type, title, body, data, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
    )
    .bind(n.id)
    .bind(user)
    .bind(&n.kind)
    .bind(&n.title)
    .bind(&n.body)
    .bind(n.data.to_string())
    .bind(n.created_at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A page of someone's notifications, newest first, one more than `limit`
/// to tell whether more follow.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(
    conn: &mut AnyConnection,
    user: UserId,
    unread_only: bool,
    before: Option<NotificationId>,
    limit: i64,
) -> Result<Vec<Notification>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(concat!(
        "SELECT ",
        notification_columns!(),
        " FROM notifications WHERE user_id = $1 AND ($2 = 0 OR read_at IS NULL) \
             AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
    ))
    .bind(user)
    .bind(i64::from(unread_only))
    .bind(before)
    .bind(limit + 1)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn unread_count(conn: &mut AnyConnection, user: UserId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM notifications WHERE user_id = $1 AND read_at IS NULL",
    )
    .bind(user)
    .fetch_one(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find(
    conn: &mut AnyConnection,
    user: UserId,
    id: NotificationId,
) -> Result<Option<Notification>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(concat!(
        "SELECT ",
        notification_columns!(),
        " FROM notifications WHERE id = $1 AND user_id = $2"
    ))
    .bind(id)
    .bind(user)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Into::into))
}

/// Marks one notification read (keeping the first time) or unread.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_read(
    conn: &mut AnyConnection,
    user: UserId,
    id: NotificationId,
    read: bool,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let sql = if read {
        "UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND user_id = $2"
    } else {
        "UPDATE notifications SET read_at = NULL WHERE id = $1 AND user_id = $2 AND $3 IS NOT NULL"
    };
    let done = sqlx::query(sql)
        .bind(id)
        .bind(user)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks all of someone's notifications read; how many were unread.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn read_all(
    conn: &mut AnyConnection,
    user: UserId,
    now: Timestamp,
) -> Result<u64, sqlx::Error> {
    let done =
        sqlx::query("UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL")
            .bind(user)
            .bind(now)
            .execute(conn)
            .await?;
    Ok(done.rows_affected())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete(
    conn: &mut AnyConnection,
    user: UserId,
    id: NotificationId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM notifications WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Someone's explicit choices: (type, channel, enabled).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn subscriptions(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<Vec<(String, String, bool)>, sqlx::Error> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT type, channel, enabled FROM notification_subscriptions WHERE user_id = $1 \
         ORDER BY type, channel",
    )
    .bind(user)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(t, c, e)| (t, c, e != 0)).collect())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_subscription(
    conn: &mut AnyConnection,
    user: UserId,
    kind: &str,
    channel: Channel,
    enabled: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO notification_subscriptions (user_id, type, channel, enabled) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, type, channel) DO UPDATE SET enabled = excluded.enabled",
    )
    .bind(user)
    .bind(kind)
    .bind(channel.as_str())
    .bind(i64::from(enabled))
    .execute(conn)
    .await?;
    Ok(())
}

/// Quiet hours as stored: ("22:00", "07:00").
#[tracing::instrument(level = "debug", skip_all)]
pub async fn quiet_hours(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<Option<(String, String)>, sqlx::Error> {
    let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT quiet_start, quiet_end FROM notification_settings WHERE user_id = $1",
    )
    .bind(user)
    .fetch_optional(conn)
    .await?;
    Ok(row.and_then(|(s, e)| s.zip(e)))
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_quiet_hours(
    conn: &mut AnyConnection,
    user: UserId,
    hours: Option<(&str, &str)>,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO notification_settings (user_id, quiet_start, quiet_end, updated_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET \
         quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end, \
         updated_at = excluded.updated_at",
    )
    .bind(user)
    .bind(hours.map(|h| h.0))
    .bind(hours.map(|h| h.1))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn recipient(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<Option<Recipient>, sqlx::Error> {
    let row: Option<(String, String, Option<String>, String, String)> = sqlx::query_as(
        "SELECT email, username, display_name, locale, timezone FROM users \
         WHERE id = $1 AND deleted_at IS NULL AND banned_at IS NULL",
    )
    .bind(user)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(
        |(email, username, display_name, locale, timezone)| Recipient {
            id: user,
            email,
            username,
            display_name,
            locale,
            timezone,
        },
    ))
}

/// A stored template.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TemplateRow {
    pub id: TemplateId,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub channel: String,
    pub locale: String,
    pub subject: String,
    pub body: String,
    pub html: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl TemplateRow {
    pub fn source(&self) -> Source {
        Source {
            subject: self.subject.clone(),
            body: self.body.clone(),
            html: self.html.clone(),
        }
    }
}

/// The templates of `kind` for any of `channels` and `locales`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn templates_for(
    conn: &mut AnyConnection,
    kind: &str,
) -> Result<Vec<TemplateRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        template_columns!(),
        " FROM notification_templates WHERE type = $1"
    ))
    .bind(kind)
    .fetch_all(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_templates(
    conn: &mut AnyConnection,
    kind: Option<&str>,
) -> Result<Vec<TemplateRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        template_columns!(),
        " FROM notification_templates WHERE ($1 IS NULL OR type = $1) \
             ORDER BY type, channel, locale"
    ))
    .bind(kind)
    .fetch_all(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_template(
    conn: &mut AnyConnection,
    id: TemplateId,
) -> Result<Option<TemplateRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        template_columns!(),
        " FROM notification_templates WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_template(conn: &mut AnyConnection, t: &TemplateRow) -> Result<(), sqlx::Error> {
    sqlx::query(concat!(
        "INSERT INTO notification_templates (",
        template_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(t.id)
    .bind(&t.kind)
    .bind(&t.channel)
    .bind(&t.locale)
    .bind(&t.subject)
    .bind(&t.body)
    .bind(&t.html)
    .bind(t.created_at)
    .bind(t.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn update_template(conn: &mut AnyConnection, t: &TemplateRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE notification_templates SET type = $2, channel = $3, locale = $4, subject = $5, \
         body = $6, html = $7, updated_at = $8 WHERE id = $1",
    )
    .bind(t.id)
    .bind(&t.kind)
    .bind(&t.channel)
    .bind(&t.locale)
    .bind(&t.subject)
    .bind(&t.body)
    .bind(&t.html)
    .bind(t.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete_template(
    conn: &mut AnyConnection,
    id: TemplateId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM notification_templates WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Types some template exists for.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn templated_types(conn: &mut AnyConnection) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT DISTINCT type FROM notification_templates ORDER BY type")
        .fetch_all(conn)
        .await
}
