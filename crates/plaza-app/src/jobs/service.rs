//! The queue dashboard's use cases (seed 003's Bull board): counts per
//! queue and state, a queue's jobs, and an admin's retry, cancel and delete.

use plaza_core::JobId;
use plaza_platform::jobs::store::{self, Job};

use super::error::JobsError;
use crate::http::AdminUser;
use crate::state::AppState;

/// The states a job can be listed by.
pub const STATES: [&str; 5] = ["waiting", "active", "completed", "dead", "cancelled"];

/// Jobs per queue and dashboard bucket: `(queue, bucket, count)`.
#[tracing::instrument(skip_all)]
pub async fn counts(
    state: &AppState,
    _: AdminUser,
) -> Result<Vec<(String, String, i64)>, JobsError> {
    let mut conn = state.db.reader().acquire().await?;
    Ok(store::counts(&mut conn, state.clock.now()).await?)
}

/// A page of `queue`'s jobs, newest first, only those in `in_state` if given.
#[tracing::instrument(skip(state, _admin))]
pub async fn list(
    state: &AppState,
    _admin: AdminUser,
    queue: &str,
    in_state: Option<&str>,
    (limit, offset): (i64, i64),
) -> Result<Vec<Job>, JobsError> {
    if let Some(s) = in_state
        && !STATES.contains(&s)
    {
        return Err(JobsError::Invalid {
            field: "state",
            reason: format!("one of {}", STATES.join(", ")),
        });
    }
    let mut conn = state.db.reader().acquire().await?;
    let queue = queue.to_ascii_lowercase();
    Ok(store::list(&mut conn, &queue, in_state, limit, offset).await?)
}

/// One job, as of the latest write.
#[tracing::instrument(skip(state, _admin))]
pub async fn get(state: &AppState, _admin: AdminUser, id: JobId) -> Result<Job, JobsError> {
    let mut conn = state.db.writer().acquire().await?;
    store::find(&mut conn, id).await?.ok_or(JobsError::NotFound)
}

/// Deletes a job that is not running.
#[tracing::instrument(skip(state, admin))]
pub async fn delete(state: &AppState, admin: AdminUser, id: JobId) -> Result<(), JobsError> {
    get(state, admin, id).await?;
    let mut conn = state.db.writer().acquire().await?;
    if store::delete(&mut conn, id).await? {
        Ok(())
    } else {
        Err(JobsError::Running)
    }
}

/// A dead or cancelled job waits again, due now; the workers are told.
#[tracing::instrument(skip(state, admin))]
pub async fn retry(state: &AppState, admin: AdminUser, id: JobId) -> Result<Job, JobsError> {
    let job = get(state, admin, id).await?;
    let mut work = state.work_one().await?;
    let now = work.now();
    if !store::retry(&mut work, id, now).await? {
        return Err(wrong_state("only dead or cancelled jobs are retried", job));
    }
    let job = store::find(&mut work, id)
        .await?
        .ok_or(JobsError::NotFound)?;
    work.made_jobs_due();
    work.commit().await?;
    Ok(job)
}

/// A waiting job will not run.
#[tracing::instrument(skip(state, admin))]
pub async fn cancel(state: &AppState, admin: AdminUser, id: JobId) -> Result<Job, JobsError> {
    let job = get(state, admin, id).await?;
    let mut conn = state.db.writer().acquire().await?;
    if !store::cancel(&mut conn, id, state.clock.now()).await? {
        return Err(wrong_state("only waiting jobs are cancelled", job));
    }
    store::find(&mut conn, id).await?.ok_or(JobsError::NotFound)
}

fn wrong_state(refusal: &'static str, job: Job) -> JobsError {
    JobsError::WrongState {
        refusal,
        state: job.state,
    }
}

/// The outbox as the console shows it: events waiting for the bus and
/// (with a broker configured) for export, and how this node's exporter is
/// doing.
#[tracing::instrument(skip_all)]
pub async fn outbox(
    state: &AppState,
    _: AdminUser,
) -> Result<
    (
        plaza_platform::outbox::Backlog,
        Option<plaza_platform::outbox::ExportHealth>,
    ),
    JobsError,
> {
    let mut conn = state.db.reader().acquire().await?;
    let mut backlog = plaza_platform::outbox::backlog(&mut conn).await?;
    let export = state.relay.export_health();
    if export.is_none() {
        // Nothing exports, so nothing is waiting to be.
        backlog.unexported = 0;
        backlog.oldest_unexported = None;
    }
    Ok((backlog, export))
}
