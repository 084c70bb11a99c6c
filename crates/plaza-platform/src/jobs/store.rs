//! SQL for jobs. Claiming is the one backend-specific statement: on
//! PostgreSQL `FOR UPDATE SKIP LOCKED` lets many workers claim at once
//! without blocking each other; SQLite has one writer, so the claiming
//! `UPDATE … RETURNING` is atomic as it stands.

use plaza_core::{JobId, Timestamp};

use crate::db::{Backend, unique_violation};
use serde_json::Value;
use sqlx::{Any, AnyConnection, Transaction};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    High = 0,
    Normal = 1,
    Low = 2,
}

/// What an enqueue asks for.
#[derive(Clone, Debug)]
pub struct NewJob {
    pub queue: String,
    pub kind: String,
    pub payload: Value,
    pub priority: Priority,
    pub max_attempts: u32,
    pub run_at: Timestamp,
    /// With `unique_until`: a duplicate enqueued before then returns this job.
    pub unique_key: Option<String>,
    pub unique_until: Option<Timestamp>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Job {
    pub id: JobId,
    pub queue: String,
    pub kind: String,
    pub payload: String,
    pub priority: i64,
    pub state: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: Timestamp,
    pub unique_key: Option<String>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
}

macro_rules! job_columns {
    () => {
        "id, queue, kind, payload, priority, state, attempts, max_attempts, run_at, unique_key, \
         last_error, created_at"
    };
}

/// Adds a job (in the caller's transaction, if it is one); with a unique
/// key, returns the job already holding it instead. `true` when added now.
pub async fn enqueue(
    conn: &mut AnyConnection,
    new: &NewJob,
    now: Timestamp,
) -> Result<(Job, bool), sqlx::Error> {
    if let Some(existing) = holder(conn, new, now).await? {
        return Ok((existing, false));
    }
    let id = JobId::new();
    let inserted = sqlx::query(
        "INSERT INTO jobs (id, queue, kind, payload, priority, state, attempts, max_attempts, \
         run_at, unique_key, unique_until, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'waiting', 0, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(&new.queue)
    .bind(&new.kind)
    .bind(new.payload.to_string())
    .bind(new.priority as i64)
    .bind(i64::from(new.max_attempts))
    .bind(new.run_at)
    .bind(&new.unique_key)
    .bind(new.unique_until)
    .bind(now)
    .execute(&mut *conn)
    .await;
    match inserted {
        Ok(_) => {}
        // Enqueued at the same moment by someone else: theirs stands.
        Err(e) if unique_violation(&e).is_some() && new.unique_key.is_some() => {
            if let Some(existing) = holder(conn, new, now).await? {
                return Ok((existing, false));
            }
            return Err(e);
        }
        Err(e) => return Err(e),
    }
    let job = find(conn, id).await?.ok_or(sqlx::Error::RowNotFound)?;
    Ok((job, true))
}

/// The job holding `new`'s unique key: waiting or active, or finished
/// within its window.
async fn holder(
    conn: &mut AnyConnection,
    new: &NewJob,
    now: Timestamp,
) -> Result<Option<Job>, sqlx::Error> {
    let Some(key) = &new.unique_key else {
        return Ok(None);
    };
    sqlx::query_as(concat!(
        "SELECT ",
        job_columns!(),
        " FROM jobs WHERE queue = $1 AND unique_key = $2 AND state <> 'cancelled' \
         AND (state IN ('waiting', 'active') OR (unique_until IS NOT NULL AND unique_until > $3)) \
         ORDER BY created_at DESC LIMIT 1"
    ))
    .bind(&new.queue)
    .bind(key)
    .bind(now)
    .fetch_optional(conn)
    .await
}

pub async fn find(conn: &mut AnyConnection, id: JobId) -> Result<Option<Job>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        job_columns!(),
        " FROM jobs WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// A transaction for the queue's own bookkeeping (claims, completions,
/// failures, leases). On PostgreSQL its commit does not wait for the disk
/// (`synchronous_commit = off`): a crash may lose its last few milliseconds
/// of such commits, which only means a claimed or finished job runs again —
/// the at-least-once the queue promises anyway — while enqueues, part of
/// the domain's transactions, stay durable. Waiting for the disk on every
/// claim and completion capped the queue at ~1 200 jobs/s here.
pub async fn bookkeeping(db: &crate::db::Db) -> Result<Transaction<'static, Any>, sqlx::Error> {
    let mut tx = db.begin().await?;
    if db.backend() == Backend::Postgres {
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *tx)
            .await?;
    }
    Ok(tx)
}

/// Claims the next due job of `queue` for `worker` (see [`claim_many`]).
pub async fn claim(
    conn: &mut AnyConnection,
    backend: Backend,
    queue: &str,
    worker: &str,
    lease_until: Timestamp,
    now: Timestamp,
) -> Result<Option<Job>, sqlx::Error> {
    let mut jobs = claim_many(conn, backend, queue, worker, lease_until, now, 1).await?;
    Ok(jobs.pop())
}

/// Claims up to `limit` due jobs of `queue` for `worker` in one statement:
/// highest priority first, then the earliest `run_at`; each attempt is
/// counted and leased until `lease_until`. Returned in that order.
/// PostgreSQL skips rows other claimers hold (`FOR UPDATE SKIP LOCKED`);
/// SQLite's single writer makes the statement atomic.
pub async fn claim_many(
    conn: &mut AnyConnection,
    backend: Backend,
    queue: &str,
    worker: &str,
    lease_until: Timestamp,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<Job>, sqlx::Error> {
    let sql = match backend {
        Backend::Postgres => concat!(
            "UPDATE jobs SET state = 'active', attempts = attempts + 1, locked_by = $2, \
             lease_until = $3, started_at = $4 WHERE id IN (SELECT id FROM jobs \
             WHERE queue = $1 AND state = 'waiting' AND run_at <= $4 \
             ORDER BY priority, run_at, id LIMIT $5 FOR UPDATE SKIP LOCKED) RETURNING ",
            job_columns!()
        ),
        Backend::Sqlite => concat!(
            "UPDATE jobs SET state = 'active', attempts = attempts + 1, locked_by = $2, \
             lease_until = $3, started_at = $4 WHERE id IN (SELECT id FROM jobs \
             WHERE queue = $1 AND state = 'waiting' AND run_at <= $4 \
             ORDER BY priority, run_at, id LIMIT $5) RETURNING ",
            job_columns!()
        ),
    };
    let mut jobs: Vec<Job> = sqlx::query_as(sql)
        .bind(queue)
        .bind(worker)
        .bind(lease_until)
        .bind(now)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    // RETURNING promises no order.
    jobs.sort_by(|a, b| (a.priority, a.run_at, &a.id).cmp(&(b.priority, b.run_at, &b.id)));
    Ok(jobs)
}

/// Extends `worker`'s lease on a job it holds; false if it holds it no more.
pub async fn extend(
    conn: &mut AnyConnection,
    id: JobId,
    worker: &str,
    lease_until: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE jobs SET lease_until = $3 WHERE id = $1 AND locked_by = $2 AND state = 'active'",
    )
    .bind(id)
    .bind(worker)
    .bind(lease_until)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks a job `worker` holds done; false if it holds it no more (see
/// [`complete_many`]).
pub async fn complete(
    conn: &mut AnyConnection,
    id: JobId,
    worker: &str,
    now: Timestamp,
    purge: Purge,
) -> Result<bool, sqlx::Error> {
    Ok(!complete_many(conn, &[id], worker, now, purge)
        .await?
        .is_empty())
}

/// Marks these jobs `worker` holds done, in one statement; the ids it
/// still held (the others' leases were lost).
pub async fn complete_many(
    conn: &mut AnyConnection,
    ids: &[JobId],
    worker: &str,
    now: Timestamp,
    purge: Purge,
) -> Result<Vec<JobId>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "UPDATE jobs SET state = 'completed', finished_at = $1, locked_by = NULL, \
         lease_until = NULL, payload = CASE WHEN $3 = 1 THEN '{{}}' ELSE payload END \
         WHERE locked_by = $2 AND state = 'active' AND id IN ({}) RETURNING id",
        crate::db::placeholders(4, ids.len())
    );
    // Only numbered placeholders are spliced in; the ids are bound.
    let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(now)
        .bind(worker)
        .bind(purge as i64);
    for id in ids {
        query = query.bind(*id);
    }
    query.fetch_all(conn).await
}

/// Whether a finished job's payload is erased (kinds whose payload holds
/// secrets, e.g. mails with reset links); a purged dead job cannot be retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Purge {
    Keep = 0,
    Erase = 1,
}

/// Records a failed attempt: the job waits until `retry_at`, or is dead
/// when it has no attempts left (or `retry_at` is None).
pub async fn fail(
    conn: &mut AnyConnection,
    id: JobId,
    worker: &str,
    error: &str,
    retry_at: Option<Timestamp>,
    now: Timestamp,
    purge: Purge,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE jobs SET \
           state = CASE WHEN $4 IS NOT NULL AND attempts < max_attempts THEN 'waiting' ELSE 'dead' END, \
           run_at = COALESCE($4, run_at), last_error = $3, locked_by = NULL, lease_until = NULL, \
           finished_at = CASE WHEN $4 IS NOT NULL AND attempts < max_attempts THEN NULL ELSE $5 END, \
           payload = CASE WHEN $6 = 1 AND NOT ($4 IS NOT NULL AND attempts < max_attempts) \
                          THEN '{}' ELSE payload END \
         WHERE id = $1 AND locked_by = $2 AND state = 'active'",
    )
    .bind(id)
    .bind(worker)
    .bind(error)
    .bind(retry_at)
    .bind(now)
    .bind(purge as i64)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Returns jobs whose lease ran out (their worker died) to the queue, or
/// to the dead when that was their last attempt; how many.
pub async fn reclaim(conn: &mut AnyConnection, now: Timestamp) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE jobs SET \
           state = CASE WHEN attempts < max_attempts THEN 'waiting' ELSE 'dead' END, \
           last_error = 'the worker stopped answering (lease expired)', \
           locked_by = NULL, lease_until = NULL, \
           finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE $1 END \
         WHERE state = 'active' AND lease_until < $1",
    )
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Hands a job back to the queue unfinished (its worker is shutting down),
/// not counting the attempt.
pub async fn release(
    conn: &mut AnyConnection,
    id: JobId,
    worker: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'waiting', attempts = attempts - 1, locked_by = NULL, \
         lease_until = NULL WHERE id = $1 AND locked_by = $2 AND state = 'active'",
    )
    .bind(id)
    .bind(worker)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Jobs per queue and dashboard bucket: `waiting` (due), `delayed` (not
/// yet due), `failed` (waiting for a retry after a failed attempt),
/// `active`, `completed`, `dead`, `cancelled`.
pub async fn counts(
    conn: &mut AnyConnection,
    now: Timestamp,
) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT queue, CASE \
           WHEN state = 'waiting' AND attempts > 0 THEN 'failed' \
           WHEN state = 'waiting' AND run_at > $1 THEN 'delayed' \
           ELSE state END AS bucket, CAST(COUNT(*) AS BIGINT) AS n \
         FROM jobs GROUP BY 1, 2",
    )
    .bind(now)
    .fetch_all(conn)
    .await
}

/// A page of `queue`'s jobs, newest first, in `state` if given.
pub async fn list(
    conn: &mut AnyConnection,
    queue: &str,
    state: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Job>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        job_columns!(),
        " FROM jobs WHERE queue = $1 AND ($2 IS NULL OR state = $2) \
         ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    ))
    .bind(queue)
    .bind(state)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await
}

/// Puts a dead or cancelled job back to wait, due now, with its attempts
/// starting over; false when it is in another state.
pub async fn retry(
    conn: &mut AnyConnection,
    id: JobId,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'waiting', attempts = 0, run_at = $2, finished_at = NULL \
         WHERE id = $1 AND state IN ('dead', 'cancelled')",
    )
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Cancels a waiting job; false when it is in another state.
pub async fn cancel(
    conn: &mut AnyConnection,
    id: JobId,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'cancelled', finished_at = $2 WHERE id = $1 AND state = 'waiting'",
    )
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes a job that is not running; false when it is running.
pub async fn delete(conn: &mut AnyConnection, id: JobId) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM jobs WHERE id = $1 AND state <> 'active'")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
