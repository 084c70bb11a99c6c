//! SQL for the outbox table: events waiting to be published or exported,
//! and those done (kept a while for inspection, then deleted by the hourly
//! `events.prune` job).

use plaza_core::{EventId, Timestamp, UserId};
use serde_json::Value;
use sqlx::AnyConnection;

use super::Event;

/// A transaction holding the PostgreSQL advisory lock `key` (one worker of
/// the outbox at a time across nodes), or None when another holds it.
pub(super) async fn exclusive(
    db: &crate::db::Db,
    key: i64,
) -> Result<Option<sqlx::Transaction<'static, sqlx::Any>>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let ours: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
    Ok(ours.then_some(tx))
}

/// Events not yet on the bus, and not yet exported, with the oldest of each.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Backlog {
    pub unpublished: i64,
    pub oldest_unpublished: Option<Timestamp>,
    pub unexported: i64,
    pub oldest_unexported: Option<Timestamp>,
}

/// The outbox's backlog (each count served by its partial index).
pub async fn backlog(conn: &mut AnyConnection) -> Result<Backlog, sqlx::Error> {
    let (unpublished, oldest_unpublished): (i64, Option<Timestamp>) =
        sqlx::query_as("SELECT COUNT(*), MIN(occurred_at) FROM outbox WHERE published_at IS NULL")
            .fetch_one(&mut *conn)
            .await?;
    let (unexported, oldest_unexported): (i64, Option<Timestamp>) =
        sqlx::query_as("SELECT COUNT(*), MIN(occurred_at) FROM outbox WHERE exported_at IS NULL")
            .fetch_one(&mut *conn)
            .await?;
    Ok(Backlog {
        unpublished,
        oldest_unpublished,
        unexported,
        oldest_unexported,
    })
}

#[derive(sqlx::FromRow)]
struct Row {
    id: EventId,
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
    ids: &[EventId],
    at: Timestamp,
) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE outbox SET {} = $1 WHERE id IN ({})",
        stage.column(),
        crate::db::placeholders(2, ids.len())
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
