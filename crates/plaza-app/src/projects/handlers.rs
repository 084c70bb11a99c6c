//! `POST /api/projects`, `GET/PUT/DELETE /api/projects/{id}` (seed 001).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use plaza_core::{Currency, UserId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::model::{self, Project, Status};
use super::store;
use crate::http::{ApiError, ErrorBody, ValidJson};
use crate::http::{AuthUser, MaybeAuthUser};
use crate::state::AppState;
use crate::users::fields::nullable;
use plaza_platform::outbox::Event;

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectBody {
    pub project: Project,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProject {
    /// 3–200 characters.
    pub title: String,
    /// 1–20 000 characters.
    pub description: String,
    /// At most 20; lower-cased.
    #[serde(default)]
    pub skills: Vec<String>,
    /// Minor units, positive, at most `budget_max`.
    pub budget_min: Option<i64>,
    pub budget_max: Option<i64>,
    /// ISO 4217, e.g. `USD`.
    #[schema(value_type = String, example = "USD")]
    pub currency: Currency,
    /// A date, today or later.
    #[schema(value_type = Option<String>, format = Date)]
    pub deadline: Option<String>,
    /// `draft` (default) or `open`.
    pub status: Option<Status>,
}

/// A date field, today (UTC) or later.
fn deadline(state: &AppState, value: &str) -> Result<jiff::civil::Date, ApiError> {
    let date: jiff::civil::Date = value
        .parse()
        .map_err(|_| ApiError::invalid_field("deadline", "a date such as 2026-12-31"))?;
    let today = state.clock.now().date_in(&jiff::tz::TimeZone::UTC);
    if date < today {
        return Err(ApiError::invalid_field(
            "deadline",
            "must not be in the past",
        ));
    }
    Ok(date)
}

pub fn event(kind: &str, project: &Project, actor: UserId, data: Value, state: &AppState) -> Event {
    Event::new(
        kind,
        format!("project:{}", project.id),
        Some(actor),
        data,
        state.clock.now(),
    )
}

/// `POST /api/projects` — post a project (a draft, or open at once).
#[utoipa::path(post, path = "/api/projects", tag = "projects", security(("bearer" = [])),
    request_body = CreateProject,
    responses((status = 201, body = ProjectBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    me: AuthUser,
    ValidJson(req): ValidJson<CreateProject>,
) -> Result<(StatusCode, Json<ProjectBody>), ApiError> {
    let status = req.status.unwrap_or(Status::Draft);
    if !matches!(status, Status::Draft | Status::Open) {
        return Err(ApiError::invalid_field("status", "draft or open"));
    }
    model::budget(req.budget_min, req.budget_max)?;
    let now = state.clock.now();
    let project = Project {
        id: uuid::Uuid::now_v7().to_string(),
        owner_id: me.user_id,
        title: model::text("title", &req.title, 3, 200)?,
        description: model::text("description", &req.description, 1, 20_000)?,
        skills: model::skills("skills", &req.skills)?,
        budget_min: req.budget_min,
        budget_max: req.budget_max,
        currency: req.currency,
        deadline: req
            .deadline
            .as_deref()
            .map(|d| deadline(&state, d))
            .transpose()?,
        status,
        responses_count: 0,
        accepted_response_id: None,
        created_at: now,
        updated_at: now,
    };
    let mut tx = state.work().await?;
    store::insert(&mut tx, &project).await?;
    let data = json!({"project_id": project.id, "status": project.status, "title": project.title});
    tx.record(&event(
        "project.created",
        &project,
        me.user_id,
        data,
        &state,
    ))
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(ProjectBody { project })))
}

/// Who may see a project: anyone while it is listed; a draft its owner;
/// an archived one its owner and the people who responded; admins all.
pub async fn visible(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    me: Option<&AuthUser>,
) -> Result<Project, ApiError> {
    let missing = || ApiError::not_found("no such project");
    let project = store::find(conn, id).await?.ok_or_else(missing)?;
    let Some(me) = me else {
        return match project.status {
            Status::Draft | Status::Archived => Err(missing()),
            _ => Ok(project),
        };
    };
    let seen = match project.status {
        _ if me.is_admin() || project.owner_id == me.user_id => true,
        Status::Draft => false,
        Status::Archived => store::response_of(conn, id, me.user_id).await?.is_some(),
        _ => true,
    };
    if seen { Ok(project) } else { Err(missing()) }
}

/// `GET /api/projects/{id}` — a project (a draft only to its owner).
#[utoipa::path(get, path = "/api/projects/{id}", tag = "projects",
    params(("id" = String, Path)),
    responses((status = 200, body = ProjectBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    MaybeAuthUser(me): MaybeAuthUser,
    Path(id): Path<String>,
) -> Result<Json<ProjectBody>, ApiError> {
    let mut conn = state.db.reader().acquire().await?;
    let project = visible(&mut conn, &id, me.as_ref()).await?;
    Ok(Json(ProjectBody { project }))
}

/// Only the fields given change; `null` clears the budget bounds and the
/// deadline.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProject {
    pub title: Option<String>,
    pub description: Option<String>,
    pub skills: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub budget_min: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub budget_max: Option<Option<i64>>,
    #[schema(value_type = Option<String>)]
    pub currency: Option<Currency>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date)]
    pub deadline: Option<Option<String>>,
    /// A move: `draft → open`, `open | in_progress → cancelled`,
    /// `in_progress → completed` (`open → in_progress` is by accepting a
    /// response).
    pub status: Option<Status>,
}

/// `PUT /api/projects/{id}` — the owner edits or moves a project.
#[utoipa::path(put, path = "/api/projects/{id}", tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = UpdateProject,
    responses((status = 200, body = ProjectBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "A move that is not allowed (the allowed ones in `details.allowed`), or a budget edit after a response was accepted", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
    ValidJson(req): ValidJson<UpdateProject>,
) -> Result<Json<ProjectBody>, ApiError> {
    let mut tx = state.work().await?;
    let was = visible(&mut tx, &id, Some(&me)).await?;
    if was.owner_id != me.user_id {
        return Err(ApiError::forbidden("only the project's owner edits it"));
    }
    if was.status == Status::Archived {
        return Err(ApiError::conflict("an archived project cannot change"));
    }
    let mut project = edited(&state, &was, &req)?;
    project.updated_at = state.clock.now();
    if !store::update(&mut tx, &project, was.status).await? {
        return Err(ApiError::conflict(
            "the project changed meanwhile; read it and try again",
        ));
    }
    if project.skills != was.skills {
        store::set_skills(&mut tx, &project.id, &project.skills).await?;
    }
    if project.status != was.status {
        let data = json!({"project_id": project.id, "from": was.status, "to": project.status});
        tx.record(&event(
            "project.status_changed",
            &project,
            me.user_id,
            data,
            &state,
        ))
        .await?;
    }
    tx.commit().await?;
    Ok(Json(ProjectBody { project }))
}

/// `was` with `req`'s changes, checked.
fn edited(state: &AppState, was: &Project, req: &UpdateProject) -> Result<Project, ApiError> {
    let mut project = was.clone();
    if let Some(title) = &req.title {
        project.title = model::text("title", title, 3, 200)?;
    }
    if let Some(description) = &req.description {
        project.description = model::text("description", description, 1, 20_000)?;
    }
    if let Some(skills) = &req.skills {
        project.skills = model::skills("skills", skills)?;
    }
    if let Some(d) = &req.deadline {
        project.deadline = d.as_deref().map(|d| deadline(state, d)).transpose()?;
    }
    let money = req.budget_min.is_some() || req.budget_max.is_some() || req.currency.is_some();
    if money {
        if was.accepted_response_id.is_some() {
            return Err(ApiError::conflict(
                "the budget is settled once a response is accepted",
            ));
        }
        if let Some(min) = req.budget_min {
            project.budget_min = min;
        }
        if let Some(max) = req.budget_max {
            project.budget_max = max;
        }
        model::budget(project.budget_min, project.budget_max)?;
        if let Some(currency) = &req.currency
            && *currency != was.currency
            && was.responses_count > 0
        {
            return Err(ApiError::conflict(
                "the currency cannot change once there are responses (their bids are in it)",
            ));
        }
        if let Some(currency) = &req.currency {
            project.currency = currency.clone();
        }
    }
    if let Some(to) = req.status
        && to != was.status
    {
        was.status.check_move(to)?;
        if to == Status::InProgress {
            return Err(ApiError::conflict(
                "a project moves to in_progress when its owner accepts a response",
            )
            .with_details(json!({"from": was.status, "to": to, "allowed": ["cancelled"]})));
        }
        project.status = to;
    }
    Ok(project)
}

/// `DELETE /api/projects/{id}` — the owner or an admin removes a project:
/// erased when nobody responded, archived (kept for those who did)
/// otherwise.
#[utoipa::path(delete, path = "/api/projects/{id}", tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let mut tx = state.work().await?;
    let project = visible(&mut tx, &id, Some(&me)).await?;
    if project.owner_id != me.user_id && !me.is_admin() {
        return Err(ApiError::forbidden(
            "only the project's owner or an admin deletes it",
        ));
    }
    let archived = project.responses_count > 0;
    if archived {
        if project.status == Status::Archived {
            return Ok(StatusCode::NO_CONTENT);
        }
        let now = state.clock.now();
        if !store::set_status(&mut tx, &id, project.status, Status::Archived, now).await? {
            return Err(ApiError::conflict(
                "the project changed meanwhile; try again",
            ));
        }
    } else {
        store::delete(&mut tx, &id).await?;
    }
    let data = json!({"project_id": project.id, "archived": archived});
    tx.record(&event(
        "project.deleted",
        &project,
        me.user_id,
        data,
        &state,
    ))
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
