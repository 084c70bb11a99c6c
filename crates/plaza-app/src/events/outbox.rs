//! The outbox table: events waiting to be published, and those published
//! (kept a while for inspection, then deleted by the hourly `events.prune` job).

use plaza_core::{Timestamp, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::AnyConnection;

/// A domain event: `{id, type, occurred_at, actor_id, subject, data}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// UUIDv7, so ids sort by creation time.
    pub id: String,
    /// Dotted, past tense: `user.registered`, `chat.message.created`.
    #[serde(rename = "type")]
    pub kind: String,
    pub occurred_at: Timestamp,
    pub actor_id: Option<UserId>,
    /// What it is about, e.g. `chat:<id>`.
    pub subject: String,
    pub data: Value,
}

impl Event {
    pub fn new(
        kind: &str,
        subject: impl Into<String>,
        actor_id: Option<UserId>,
        data: Value,
        at: Timestamp,
    ) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            kind: kind.to_owned(),
            occurred_at: at,
            actor_id,
            subject: subject.into(),
            data,
        }
    }
}

/// Writes `event` in the caller's transaction; the relay is told after it
/// commits (`state.relay.wake()`), or finds it on its next poll.
pub async fn record(conn: &mut AnyConnection, event: &Event) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox (id, type, occurred_at, actor_id, subject, data) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&event.id)
    .bind(&event.kind)
    .bind(event.occurred_at)
    .bind(event.actor_id)
    .bind(&event.subject)
    .bind(event.data.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// A transaction holding the PostgreSQL advisory lock `key` (one worker of
/// the outbox at a time across nodes), or None when another holds it.
pub(super) async fn exclusive(
    db: &plaza_platform::db::Db,
    key: i64,
) -> Result<Option<sqlx::Transaction<'static, sqlx::Any>>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let ours: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
    Ok(ours.then_some(tx))
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    #[sqlx(rename = "type")]
    kind: String,
    occurred_at: Timestamp,
    actor_id: Option<UserId>,
    subject: String,
    data: String,
}

/// The two things that happen to a recorded event, each with its own
/// column, so a broker outage holds up export and never the bus.
#[derive(Clone, Copy, Debug)]
pub(super) enum Stage {
    /// Sent on the bus (`published_at`).
    Published,
    /// Handed to the configured broker (`exported_at`).
    Exported,
}

impl Stage {
    fn column(self) -> &'static str {
        match self {
            Self::Published => "published_at",
            Self::Exported => "exported_at",
        }
    }
}

/// The oldest events not yet through `stage`, at most `limit`.
pub(super) async fn pending(
    conn: &mut AnyConnection,
    stage: Stage,
    limit: i64,
) -> Result<Vec<Event>, sqlx::Error> {
    let sql: &'static str = match stage {
        Stage::Published => {
            "SELECT id, type, occurred_at, actor_id, subject, data FROM outbox \
             WHERE published_at IS NULL ORDER BY id LIMIT $1"
        }
        Stage::Exported => {
            "SELECT id, type, occurred_at, actor_id, subject, data FROM outbox \
             WHERE exported_at IS NULL ORDER BY id LIMIT $1"
        }
    };
    let rows: Vec<Row> = sqlx::query_as(sql).bind(limit).fetch_all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|r| Event {
            data: serde_json::from_str(&r.data).unwrap_or(Value::Null),
            id: r.id,
            kind: r.kind,
            occurred_at: r.occurred_at,
            actor_id: r.actor_id,
            subject: r.subject,
        })
        .collect())
}

/// Marks exactly these events through `stage` (not "everything up to the
/// last": an older id may commit later and must still go through).
pub(super) async fn mark(
    conn: &mut AnyConnection,
    stage: Stage,
    ids: &[&str],
    at: Timestamp,
) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE outbox SET {} = $1 WHERE id IN ({})",
        stage.column(),
        plaza_platform::db::placeholders(2, ids.len())
    );
    // Only a fixed column name and numbered placeholders are spliced in;
    // the ids are bound.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(at);
    for id in ids {
        query = query.bind(*id);
    }
    query.execute(conn).await?;
    Ok(())
}

/// Deletes published events older than `before` (and, while export is on,
/// only those exported too); how many.
pub(super) async fn prune(
    conn: &mut AnyConnection,
    before: Timestamp,
    exporting: bool,
) -> Result<u64, sqlx::Error> {
    let sql = if exporting {
        "DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < $1 \
         AND exported_at IS NOT NULL"
    } else {
        "DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < $1"
    };
    let done = sqlx::query(sql).bind(before).execute(conn).await?;
    Ok(done.rows_affected())
}
