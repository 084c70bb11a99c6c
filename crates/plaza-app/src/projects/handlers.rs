//! Seed 001's project service over REST: `GET/POST /api/projects`,
//! `GET/PUT/DELETE /api/projects/{id}`, and a project's responses.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use plaza_core::{Currency, ProjectId, ResponseId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{Project, Response, ResponseStatus, Status};
use super::responses::{self, Change, NewResponse};
use super::search::{self, ProjectPage, SearchQuery};
use super::service::{self, Edit, NewProject};
use crate::http::{
    ApiError, AuthUser, ErrorBody, MaybeAuthUser, ValidJson, ValidPath, ValidQuery, page_limit,
};
use crate::state::AppState;
use crate::users::fields::nullable;

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

#[derive(Debug, Serialize, ToSchema)]
pub struct ResponseBody {
    pub response: Response,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResponsePage {
    pub items: Vec<Response>,
    pub total: i64,
    pub has_more: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateResponse {
    /// 1–5000 characters.
    pub cover_letter: String,
    /// Minor units, positive.
    pub bid_amount: i64,
    /// The project's currency.
    #[schema(value_type = String, example = "USD")]
    pub currency: Currency,
    /// 1–365.
    pub eta_days: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ResponsesQuery {
    /// 1–100, default 20.
    limit: Option<u32>,
    /// Default 0.
    offset: Option<u32>,
}

/// Either a decision (`status`) or edits, not both.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateResponse {
    /// `accepted` or `rejected` (the owner), `withdrawn` (the author).
    pub status: Option<ResponseStatus>,
    pub cover_letter: Option<String>,
    pub bid_amount: Option<i64>,
    pub eta_days: Option<i64>,
}

/// `GET /api/projects` — search and browse projects.
#[utoipa::path(get, path = "/api/projects", tag = "projects",
    params(SearchQuery),
    responses((status = 200, body = ProjectPage), (status = 422, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    MaybeAuthUser(me): MaybeAuthUser,
    ValidQuery(query): ValidQuery<SearchQuery>,
) -> Result<Json<ProjectPage>, ApiError> {
    let limit = page_limit(query.limit, 20)?;
    Ok(Json(search::search(&state, me, &query, limit).await?))
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
    let new = NewProject {
        title: req.title,
        description: req.description,
        skills: req.skills,
        budget_min: req.budget_min,
        budget_max: req.budget_max,
        currency: req.currency,
        deadline: req.deadline,
        status: req.status,
    };
    let project = service::create(&state, me, new).await?;
    Ok((StatusCode::CREATED, Json(ProjectBody { project })))
}

/// `GET /api/projects/{id}` — a project (a draft only to its owner).
#[utoipa::path(get, path = "/api/projects/{id}", tag = "projects",
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = ProjectBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    MaybeAuthUser(me): MaybeAuthUser,
    ValidPath(id): ValidPath<ProjectId>,
) -> Result<Json<ProjectBody>, ApiError> {
    let project = service::get(&state, me, id).await?;
    Ok(Json(ProjectBody { project }))
}

/// `PUT /api/projects/{id}` — the owner edits or moves a project.
#[utoipa::path(put, path = "/api/projects/{id}", tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = UpdateProject,
    responses((status = 200, body = ProjectBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "A move that is not allowed (the allowed ones in `details.allowed`), or a budget edit after a response was accepted", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<ProjectId>,
    ValidJson(req): ValidJson<UpdateProject>,
) -> Result<Json<ProjectBody>, ApiError> {
    let edit = Edit {
        title: req.title,
        description: req.description,
        skills: req.skills,
        budget_min: req.budget_min,
        budget_max: req.budget_max,
        currency: req.currency,
        deadline: req.deadline,
        status: req.status,
    };
    let project = service::update(&state, me, id, edit).await?;
    Ok(Json(ProjectBody { project }))
}

/// `DELETE /api/projects/{id}` — the owner or an admin removes a project:
/// erased when nobody responded, archived (kept for those who did)
/// otherwise.
#[utoipa::path(delete, path = "/api/projects/{id}", tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<ProjectId>,
) -> Result<StatusCode, ApiError> {
    service::delete(&state, me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/projects/{id}/responses` — respond to an open project.
#[utoipa::path(post, path = "/api/projects/{id}/responses", tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = CreateResponse,
    responses((status = 201, body = ResponseBody), (status = 401, body = ErrorBody),
        (status = 403, description = "My own project", body = ErrorBody),
        (status = 404, description = "No such project, or a draft", body = ErrorBody),
        (status = 409, description = "Not open, or I responded already (`details.response`)", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_response(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<ProjectId>,
    ValidJson(req): ValidJson<CreateResponse>,
) -> Result<(StatusCode, Json<ResponseBody>), ApiError> {
    let new = NewResponse {
        cover_letter: req.cover_letter,
        bid_amount: req.bid_amount,
        currency: req.currency,
        eta_days: req.eta_days,
    };
    let response = responses::create(&state, me, id, new).await?;
    Ok((StatusCode::CREATED, Json(ResponseBody { response })))
}

/// `GET /api/projects/{id}/responses` — all of them for the owner (and
/// admins), my own for anyone else; oldest first.
#[utoipa::path(get, path = "/api/projects/{id}/responses", tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ResponsesQuery),
    responses((status = 200, body = ResponsePage), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_responses(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<ProjectId>,
    ValidQuery(query): ValidQuery<ResponsesQuery>,
) -> Result<Json<ResponsePage>, ApiError> {
    let page = (
        page_limit(query.limit, 20)?,
        i64::from(query.offset.unwrap_or(0)),
    );
    let found = responses::list(&state, me, id, page).await?;
    Ok(Json(ResponsePage {
        items: found.items,
        total: found.total,
        has_more: found.has_more,
    }))
}

/// `PUT /api/projects/{id}/responses/{rid}` — accept, reject, withdraw or edit.
#[utoipa::path(put, path = "/api/projects/{id}/responses/{rid}", tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("rid" = String, Path, format = Uuid)), request_body = UpdateResponse,
    responses((status = 200, body = ResponseBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Not pending, or the project is not open", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_response(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(ids): ValidPath<(ProjectId, ResponseId)>,
    ValidJson(req): ValidJson<UpdateResponse>,
) -> Result<Json<ResponseBody>, ApiError> {
    let change = Change {
        status: req.status,
        cover_letter: req.cover_letter,
        bid_amount: req.bid_amount,
        eta_days: req.eta_days,
    };
    let response = responses::update(&state, me, ids, change).await?;
    Ok(Json(ResponseBody { response }))
}
