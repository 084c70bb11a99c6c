//! The marketplace tables' SQL (search lives in `search.rs`).

use plaza_core::{Currency, ProjectId, ResponseId, Timestamp, UserId};
use sqlx::AnyConnection;

use super::model::{Project, Response, ResponseStatus, Status};

/// The columns [`ProjectRow`] reads.
macro_rules! project_columns {
    () => {
        "id, owner_id, title, description, skills, budget_min, budget_max, currency, deadline, \
         status, responses_count, accepted_response_id, created_at, updated_at"
    };
}
pub(crate) use project_columns;

#[derive(sqlx::FromRow)]
pub struct ProjectRow {
    id: ProjectId,
    owner_id: UserId,
    title: String,
    description: String,
    skills: String,
    budget_min: Option<i64>,
    budget_max: Option<i64>,
    currency: Currency,
    deadline: Option<String>,
    status: String,
    responses_count: i64,
    accepted_response_id: Option<ResponseId>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<ProjectRow> for Project {
    fn from(r: ProjectRow) -> Self {
        Self {
            id: r.id,
            owner_id: r.owner_id,
            title: r.title,
            description: r.description,
            skills: split_skills(&r.skills),
            budget_min: r.budget_min,
            budget_max: r.budget_max,
            currency: r.currency,
            deadline: r.deadline.and_then(|d| d.parse().ok()),
            status: Status::parse(&r.status).unwrap_or(Status::Archived),
            responses_count: r.responses_count,
            accepted_response_id: r.accepted_response_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

fn split_skills(joined: &str) -> Vec<String> {
    joined
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(conn: &mut AnyConnection, p: &Project) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO projects (id, owner_id, title, description, skills, budget_min, budget_max, \
         currency, deadline, status, responses_count, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11, $11)",
    )
    .bind(p.id)
    .bind(p.owner_id)
    .bind(&p.title)
    .bind(&p.description)
    .bind(p.skills.join(","))
    .bind(p.budget_min)
    .bind(p.budget_max)
    .bind(&p.currency)
    .bind(p.deadline.map(|d| d.to_string()))
    .bind(p.status.as_str())
    .bind(p.created_at)
    .execute(&mut *conn)
    .await?;
    set_skills(conn, p.id, &p.skills).await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_skills(
    conn: &mut AnyConnection,
    project: ProjectId,
    skills: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM project_skills WHERE project_id = $1")
        .bind(project)
        .execute(&mut *conn)
        .await?;
    for skill in skills {
        sqlx::query("INSERT INTO project_skills (project_id, skill) VALUES ($1, $2)")
            .bind(project)
            .bind(skill)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find(conn: &mut AnyConnection, id: ProjectId) -> Result<Option<Project>, sqlx::Error> {
    let row: Option<ProjectRow> = sqlx::query_as(concat!(
        "SELECT ",
        project_columns!(),
        " FROM projects WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Into::into))
}

/// Writes an edited project's row (its skills' rows are [`set_skills`]'s);
/// false if its status changed meanwhile from `was` (a concurrent accept).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn update(
    conn: &mut AnyConnection,
    p: &Project,
    was: Status,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE projects SET title = $2, description = $3, skills = $4, budget_min = $5, \
         budget_max = $6, currency = $7, deadline = $8, status = $9, updated_at = $10 \
         WHERE id = $1 AND status = $11",
    )
    .bind(p.id)
    .bind(&p.title)
    .bind(&p.description)
    .bind(p.skills.join(","))
    .bind(p.budget_min)
    .bind(p.budget_max)
    .bind(&p.currency)
    .bind(p.deadline.map(|d| d.to_string()))
    .bind(p.status.as_str())
    .bind(p.updated_at)
    .bind(was.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete(conn: &mut AnyConnection, id: ProjectId) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM projects WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves the project from `from` to `to`; false if it was not at `from`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_status(
    conn: &mut AnyConnection,
    id: ProjectId,
    from: Status,
    to: Status,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE projects SET status = $3, updated_at = $4 WHERE id = $1 AND status = $2",
    )
    .bind(id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Starts the project with `response`: only one accept wins, because only
/// one finds it still open.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn start_with(
    conn: &mut AnyConnection,
    id: ProjectId,
    response: ResponseId,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE projects SET status = 'in_progress', accepted_response_id = $2, updated_at = $3 \
         WHERE id = $1 AND status = 'open'",
    )
    .bind(id)
    .bind(response)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The columns [`ResponseRow`] reads.
macro_rules! response_columns {
    () => {
        "id, project_id, freelancer_id, cover_letter, bid_amount, currency, eta_days, status, \
         created_at, updated_at"
    };
}

#[derive(sqlx::FromRow)]
struct ResponseRow {
    id: ResponseId,
    project_id: ProjectId,
    freelancer_id: UserId,
    cover_letter: String,
    bid_amount: i64,
    currency: Currency,
    eta_days: i64,
    status: String,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<ResponseRow> for Response {
    fn from(r: ResponseRow) -> Self {
        Self {
            id: r.id,
            project_id: r.project_id,
            freelancer_id: r.freelancer_id,
            cover_letter: r.cover_letter,
            bid_amount: r.bid_amount,
            currency: r.currency,
            eta_days: r.eta_days,
            status: ResponseStatus::parse(&r.status).unwrap_or(ResponseStatus::Withdrawn),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Counts a new response on the project if it is open; false if not.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn count_response(
    conn: &mut AnyConnection,
    project: ProjectId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE projects SET responses_count = responses_count + 1 \
         WHERE id = $1 AND status = 'open'",
    )
    .bind(project)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores a response; a unique violation when the freelancer has responded
/// already.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_response(conn: &mut AnyConnection, r: &Response) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO project_responses (id, project_id, freelancer_id, cover_letter, bid_amount, \
         currency, eta_days, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(r.id)
    .bind(r.project_id)
    .bind(r.freelancer_id)
    .bind(&r.cover_letter)
    .bind(r.bid_amount)
    .bind(&r.currency)
    .bind(r.eta_days)
    .bind(r.status.as_str())
    .bind(r.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_response(
    conn: &mut AnyConnection,
    project: ProjectId,
    id: ResponseId,
) -> Result<Option<Response>, sqlx::Error> {
    let row: Option<ResponseRow> = sqlx::query_as(concat!(
        "SELECT ",
        response_columns!(),
        " FROM project_responses WHERE id = $1 AND project_id = $2"
    ))
    .bind(id)
    .bind(project)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Into::into))
}

/// `freelancer`'s response to `project`, if any.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn response_of(
    conn: &mut AnyConnection,
    project: ProjectId,
    freelancer: UserId,
) -> Result<Option<Response>, sqlx::Error> {
    let row: Option<ResponseRow> = sqlx::query_as(concat!(
        "SELECT ",
        response_columns!(),
        " FROM project_responses WHERE project_id = $1 AND freelancer_id = $2"
    ))
    .bind(project)
    .bind(freelancer)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Into::into))
}

/// A page of a project's responses, oldest first (all of them, or only
/// `freelancer`'s), and how many in all.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn responses(
    conn: &mut AnyConnection,
    project: ProjectId,
    freelancer: Option<UserId>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Response>, i64), sqlx::Error> {
    let freelancer = freelancer.map(|f| f.to_string()).unwrap_or_default();
    let rows: Vec<ResponseRow> = sqlx::query_as(concat!(
        "SELECT ",
        response_columns!(),
        " FROM project_responses WHERE project_id = $1 AND ($2 = '' OR freelancer_id = $2) \
         ORDER BY created_at, id LIMIT $3 OFFSET $4"
    ))
    .bind(project)
    .bind(&freelancer)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM project_responses \
         WHERE project_id = $1 AND ($2 = '' OR freelancer_id = $2)",
    )
    .bind(project)
    .bind(&freelancer)
    .fetch_one(conn)
    .await?;
    Ok((rows.into_iter().map(Into::into).collect(), total))
}

/// Writes an edited pending response; false if it is no longer pending.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn update_response(conn: &mut AnyConnection, r: &Response) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE project_responses SET cover_letter = $2, bid_amount = $3, eta_days = $4, \
         updated_at = $5 WHERE id = $1 AND status = 'pending'",
    )
    .bind(r.id)
    .bind(&r.cover_letter)
    .bind(r.bid_amount)
    .bind(r.eta_days)
    .bind(r.updated_at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves a pending response to `to`; false if it was not pending.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn settle_response(
    conn: &mut AnyConnection,
    id: ResponseId,
    to: ResponseStatus,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE project_responses SET status = $2, updated_at = $3 \
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(to.as_str())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Rejects every other pending response to `project`; who they were from.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn reject_others(
    conn: &mut AnyConnection,
    project: ProjectId,
    accepted: ResponseId,
    now: Timestamp,
) -> Result<Vec<(ResponseId, UserId)>, sqlx::Error> {
    let others: Vec<(ResponseId, UserId)> = sqlx::query_as(
        "SELECT id, freelancer_id FROM project_responses \
         WHERE project_id = $1 AND id <> $2 AND status = 'pending'",
    )
    .bind(project)
    .bind(accepted)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE project_responses SET status = 'rejected', updated_at = $3 \
         WHERE project_id = $1 AND id <> $2 AND status = 'pending'",
    )
    .bind(project)
    .bind(accepted)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(others)
}
