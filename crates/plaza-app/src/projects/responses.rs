//! Responses (proposals): `POST/GET /api/projects/{id}/responses`,
//! `PUT /api/projects/{id}/responses/{rid}`. A freelancer responds once
//! to an open project that is not theirs; the owner accepts or rejects, the
//! author withdraws or edits while pending. Accepting one starts the
//! project, rejects the rest, and — through the job it enqueues in the same
//! transaction — opens a direct chat between the two and tells both.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use plaza_core::{Currency, UserId};
use plaza_platform::Work;
use plaza_platform::db::unique_violation;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::handlers::{event, visible};
use super::model::{self, Project, Response, ResponseStatus, Status};
use super::store;
use crate::http::AuthUser;
use crate::http::{ApiError, ErrorBody, ValidJson, ValidQuery, page_limit};
use crate::notifications::{Notice, send};
use crate::state::AppState;

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

fn bid(amount: i64) -> Result<i64, ApiError> {
    if amount > 0 {
        Ok(amount)
    } else {
        Err(ApiError::invalid_field(
            "bid_amount",
            "a positive amount in minor units",
        ))
    }
}

fn eta(days: i64) -> Result<i64, ApiError> {
    if (1..=365).contains(&days) {
        Ok(days)
    } else {
        Err(ApiError::invalid_field("eta_days", "1 to 365"))
    }
}

/// What notices about a response say.
fn notice(kind: &str, project: &Project, response: &Response) -> Notice {
    Notice::template(
        kind,
        json!({
            "project_id": project.id, "title": project.title, "response_id": response.id,
            "bid_amount": response.bid_amount, "currency": response.currency,
            "eta_days": response.eta_days,
        }),
    )
}

/// `POST /api/projects/{id}/responses` — respond to an open project.
#[utoipa::path(post, path = "/api/projects/{id}/responses", tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = CreateResponse,
    responses((status = 201, body = ResponseBody), (status = 401, body = ErrorBody),
        (status = 403, description = "My own project", body = ErrorBody),
        (status = 404, description = "No such project, or a draft", body = ErrorBody),
        (status = 409, description = "Not open, or I responded already (`details.response`)", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
    ValidJson(req): ValidJson<CreateResponse>,
) -> Result<(StatusCode, Json<ResponseBody>), ApiError> {
    let now = state.clock.now();
    let response = Response {
        id: uuid::Uuid::now_v7().to_string(),
        project_id: id.clone(),
        freelancer_id: me.user_id,
        cover_letter: model::text("cover_letter", &req.cover_letter, 1, 5000)?,
        bid_amount: bid(req.bid_amount)?,
        currency: req.currency,
        eta_days: eta(req.eta_days)?,
        status: ResponseStatus::Pending,
        created_at: now,
        updated_at: now,
    };
    let mut tx = state.work().await?;
    let project = visible(&mut tx, &id, Some(&me)).await?;
    if project.owner_id == me.user_id {
        return Err(ApiError::forbidden(
            "you cannot respond to your own project",
        ));
    }
    if response.currency != project.currency {
        return Err(ApiError::invalid_field(
            "currency",
            format!("bids on this project are in {}", project.currency),
        ));
    }
    if let Some(mine) = store::response_of(&mut tx, &id, me.user_id).await? {
        return Err(
            ApiError::conflict("you have responded to this project already")
                .with_details(json!({"response": mine})),
        );
    }
    // Counted only while open: an accept or a cancel racing this one wins.
    if !store::count_response(&mut tx, &id).await? {
        return Err(ApiError::conflict(format!(
            "only open projects take responses; this one is {}",
            project.status.as_str()
        )));
    }
    if let Err(e) = store::insert_response(&mut tx, &response).await {
        return Err(if unique_violation(&e).is_some() {
            ApiError::conflict("you have responded to this project already")
        } else {
            e.into()
        });
    }
    let data = json!({
        "project_id": id, "response_id": response.id, "freelancer_id": me.user_id,
        "bid_amount": response.bid_amount, "currency": response.currency,
    });
    tx.record(&event(
        "project.response.created",
        &project,
        me.user_id,
        data,
        &state,
    ))
    .await?;
    let told = notice("project.response.created", &project, &response);
    send(&mut tx, &[project.owner_id], &told).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(ResponseBody { response })))
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

/// `GET /api/projects/{id}/responses` — all of them for the owner (and
/// admins), my own for anyone else; oldest first.
#[utoipa::path(get, path = "/api/projects/{id}/responses", tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path), ResponsesQuery),
    responses((status = 200, body = ResponsePage), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
    ValidQuery(query): ValidQuery<ResponsesQuery>,
) -> Result<Json<ResponsePage>, ApiError> {
    let limit = page_limit(query.limit, 20)?;
    let offset = i64::from(query.offset.unwrap_or(0));
    let mut conn = state.db.reader().acquire().await?;
    let project = visible(&mut conn, &id, Some(&me)).await?;
    let only = (project.owner_id != me.user_id && !me.is_admin()).then_some(me.user_id);
    let (items, total) = store::responses(&mut conn, &id, only, limit, offset).await?;
    Ok(Json(ResponsePage {
        has_more: offset + (items.len() as i64) < total,
        items,
        total,
    }))
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

/// `PUT /api/projects/{id}/responses/{rid}` — accept, reject, withdraw or edit.
#[utoipa::path(put, path = "/api/projects/{id}/responses/{rid}", tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path), ("rid" = String, Path)), request_body = UpdateResponse,
    responses((status = 200, body = ResponseBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Not pending, or the project is not open", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    me: AuthUser,
    Path((id, rid)): Path<(String, String)>,
    ValidJson(req): ValidJson<UpdateResponse>,
) -> Result<Json<ResponseBody>, ApiError> {
    let edits = req.cover_letter.is_some() || req.bid_amount.is_some() || req.eta_days.is_some();
    if req.status.is_some() && edits {
        return Err(ApiError::validation(
            "either a decision (`status`) or edits, not both",
        ));
    }
    let mut tx = state.work().await?;
    let project = visible(&mut tx, &id, Some(&me)).await?;
    let found = store::find_response(&mut tx, &id, &rid).await?;
    let mut response = found
        .filter(|r| {
            project.owner_id == me.user_id || r.freelancer_id == me.user_id || me.is_admin()
        })
        .ok_or_else(|| ApiError::not_found("no such response"))?;
    match req.status {
        None if !edits => return Err(ApiError::validation("nothing to change")),
        None => edit(&mut tx, &state, &mut response, &req, &me).await?,
        Some(to) => decide(&mut tx, &state, &project, &mut response, to, &me).await?,
    }
    tx.commit().await?;
    Ok(Json(ResponseBody { response }))
}

fn not_pending(r: &Response) -> ApiError {
    ApiError::conflict(format!(
        "the response is {}, not pending",
        r.status.as_str()
    ))
}

/// The author edits a pending response.
async fn edit(
    tx: &mut sqlx::AnyConnection,
    state: &AppState,
    response: &mut Response,
    req: &UpdateResponse,
    me: &AuthUser,
) -> Result<(), ApiError> {
    if response.freelancer_id != me.user_id {
        return Err(ApiError::forbidden("only the response's author edits it"));
    }
    if response.status != ResponseStatus::Pending {
        return Err(not_pending(response));
    }
    if let Some(letter) = &req.cover_letter {
        response.cover_letter = model::text("cover_letter", letter, 1, 5000)?;
    }
    if let Some(amount) = req.bid_amount {
        response.bid_amount = bid(amount)?;
    }
    if let Some(days) = req.eta_days {
        response.eta_days = eta(days)?;
    }
    response.updated_at = state.clock.now();
    if !store::update_response(tx, response).await? {
        return Err(not_pending(response));
    }
    Ok(())
}

/// A decision on a response: the owner accepts or rejects, the author
/// withdraws.
async fn decide(
    tx: &mut Work<'_>,
    state: &AppState,
    project: &Project,
    response: &mut Response,
    to: ResponseStatus,
    me: &AuthUser,
) -> Result<(), ApiError> {
    let owner = project.owner_id == me.user_id;
    let author = response.freelancer_id == me.user_id;
    let now = state.clock.now();
    match to {
        ResponseStatus::Pending => {
            return Err(ApiError::invalid_field(
                "status",
                "accepted, rejected or withdrawn",
            ));
        }
        ResponseStatus::Withdrawn => {
            if !author {
                return Err(ApiError::forbidden(
                    "only the response's author withdraws it",
                ));
            }
            settle(tx, response, ResponseStatus::Withdrawn, now).await?;
            let data = json!({"project_id": project.id, "response_id": response.id});
            let withdrawn = event(
                "project.response.withdrawn",
                project,
                me.user_id,
                data,
                state,
            );
            tx.record(&withdrawn).await?;
        }
        ResponseStatus::Rejected => {
            if !owner {
                return Err(ApiError::forbidden(
                    "only the project's owner rejects a response",
                ));
            }
            settle(tx, response, ResponseStatus::Rejected, now).await?;
            reject(tx, state, project, response, me.user_id).await?;
        }
        ResponseStatus::Accepted => {
            if !owner {
                return Err(ApiError::forbidden(
                    "only the project's owner accepts a response",
                ));
            }
            if response.status != ResponseStatus::Pending {
                return Err(not_pending(response));
            }
            accept(tx, state, project, response, me.user_id).await?;
        }
    }
    Ok(())
}

async fn settle(
    tx: &mut sqlx::AnyConnection,
    response: &mut Response,
    to: ResponseStatus,
    now: plaza_core::Timestamp,
) -> Result<(), ApiError> {
    if !store::settle_response(tx, &response.id, to, now).await? {
        return Err(not_pending(response));
    }
    response.status = to;
    response.updated_at = now;
    Ok(())
}

/// Records a rejection and tells the freelancer.
async fn reject(
    tx: &mut Work<'_>,
    state: &AppState,
    project: &Project,
    response: &Response,
    owner: UserId,
) -> Result<(), ApiError> {
    let data = json!({"project_id": project.id, "response_id": response.id,
        "freelancer_id": response.freelancer_id});
    tx.record(&event(
        "project.response.rejected",
        project,
        owner,
        data,
        state,
    ))
    .await?;
    let told = Notice::template(
        "project.response.rejected",
        json!({"project_id": project.id, "title": project.title, "response_id": response.id}),
    );
    send(tx, &[response.freelancer_id], &told).await?;
    Ok(())
}

/// Starts the project with `response` — only one accept finds it still
/// open — and rejects the other pending responses.
async fn accept(
    tx: &mut Work<'_>,
    state: &AppState,
    project: &Project,
    response: &mut Response,
    owner: UserId,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    if !store::start_with(tx, &project.id, &response.id, now).await? {
        return Err(ApiError::conflict(format!(
            "only an open project accepts a response; this one is {}",
            project.status.as_str()
        ))
        .with_details(json!({"status": project.status})));
    }
    settle(tx, response, ResponseStatus::Accepted, now).await?;
    let data = json!({"project_id": project.id, "from": Status::Open, "to": Status::InProgress});
    tx.record(&event(
        "project.status_changed",
        project,
        owner,
        data,
        state,
    ))
    .await?;
    let data = json!({"project_id": project.id, "response_id": response.id,
        "freelancer_id": response.freelancer_id, "owner_id": owner,
        "bid_amount": response.bid_amount, "currency": response.currency});
    tx.record(&event(
        "project.response.accepted",
        project,
        owner,
        data,
        state,
    ))
    .await?;
    for (id, freelancer) in store::reject_others(tx, &project.id, &response.id, now).await? {
        let other = Response {
            id,
            freelancer_id: freelancer,
            status: ResponseStatus::Rejected,
            ..response.clone()
        };
        reject(tx, state, project, &other, owner).await?;
    }
    let follow_up = super::accepted::Accepted {
        project_id: project.id.clone(),
        response_id: response.id.clone(),
    };
    tx.enqueue(&follow_up).await?;
    Ok(())
}
