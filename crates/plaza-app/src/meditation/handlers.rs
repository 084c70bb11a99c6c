//! Seed 000's REST surface for sessions: `POST /api/meditation/start`,
//! `POST /api/meditation/end`, `GET /api/sessions`, `GET /api/user/stats`
//! and `GET /api/analytics/{daily,weekly,monthly}`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::analytics::{self, Analytics, Range, Scope};
use super::model::{Session, SessionType};
use super::service::{self, End, HistoryQuery as History, Start};
use super::stats::{self, Stats};
use super::tally::Period;
use crate::http::{ApiError, AuthUser, ErrorBody, ValidJson, ValidQuery, page_limit};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionBody {
    pub session: Session,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// Default `mindfulness`.
    #[serde(rename = "type")]
    pub kind: Option<SessionType>,
    /// 1 second to 4 hours.
    pub planned_duration_sec: Option<i64>,
    /// A room whose group session is under way: the session joins what is
    /// left of it (its type and length are the room's).
    pub room_id: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndRequest {
    /// The active session (default: whichever is active).
    pub session_id: Option<String>,
    /// 1–5.
    pub mood_before: Option<i64>,
    /// 1–5.
    pub mood_after: Option<i64>,
    /// At most 2000 characters.
    pub notes: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// From 1, default 1.
    page: Option<u32>,
    /// 1–100, default 20.
    limit: Option<u32>,
    /// Only this type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
    /// Started at or after: an RFC 3339 time, or a date (`2026-11-01`,
    /// midnight in my time zone).
    from: Option<String>,
    /// Started before: an RFC 3339 time, or a date (that whole day included).
    to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionPage {
    pub items: Vec<Session>,
    pub page: u32,
    pub limit: i64,
    pub total: i64,
    pub has_more: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First date (`2026-11-01`), in my time zone; default: enough periods
    /// back from `to` (30 days, 12 weeks, 12 months).
    from: Option<String>,
    /// Last date, included; default today.
    to: Option<String>,
    /// `me` (default) or `platform` (admins).
    #[param(inline)]
    scope: Option<Scope>,
}

impl From<RangeQuery> for Range {
    fn from(q: RangeQuery) -> Self {
        Self {
            from: q.from,
            to: q.to,
            scope: q.scope,
        }
    }
}

/// `POST /api/meditation/start` — begin a session; one at a time.
#[utoipa::path(post, path = "/api/meditation/start", tag = "meditation", security(("bearer" = [])),
    request_body = StartRequest,
    responses((status = 201, body = SessionBody), (status = 401, body = ErrorBody),
        (status = 409, description = "A session is active; it is in `details.session`", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn start(
    State(state): State<AppState>,
    me: AuthUser,
    ValidJson(req): ValidJson<StartRequest>,
) -> Result<(StatusCode, Json<SessionBody>), ApiError> {
    let start = Start {
        kind: req.kind,
        planned_duration_sec: req.planned_duration_sec,
        room_id: req.room_id,
    };
    let session = service::start(&state, me, start).await?;
    Ok((StatusCode::CREATED, Json(SessionBody { session })))
}

/// `POST /api/meditation/end` — finish the active session.
#[utoipa::path(post, path = "/api/meditation/end", tag = "meditation", security(("bearer" = [])),
    request_body = EndRequest,
    responses((status = 200, body = SessionBody), (status = 401, body = ErrorBody),
        (status = 404, description = "No such session of mine", body = ErrorBody),
        (status = 409, description = "No active session, or that one has ended", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn end(
    State(state): State<AppState>,
    me: AuthUser,
    ValidJson(req): ValidJson<EndRequest>,
) -> Result<Json<SessionBody>, ApiError> {
    let end = End {
        session_id: req.session_id,
        mood_before: req.mood_before,
        mood_after: req.mood_after,
        notes: req.notes,
    };
    let session = service::end(&state, me, end).await?;
    Ok(Json(SessionBody { session }))
}

/// `GET /api/sessions?page=1&limit=20&type&from&to` — my sessions, newest first.
#[utoipa::path(get, path = "/api/sessions", tag = "meditation", security(("bearer" = [])),
    params(HistoryQuery),
    responses((status = 200, body = SessionPage), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    me: AuthUser,
    ValidQuery(query): ValidQuery<HistoryQuery>,
) -> Result<Json<SessionPage>, ApiError> {
    let page = query.page.unwrap_or(1);
    let limit = page_limit(query.limit, 20)?;
    let wanted = History {
        page,
        limit,
        kind: query.kind,
        from: query.from,
        to: query.to,
    };
    let found = service::history(&state, me, wanted).await?;
    Ok(Json(SessionPage {
        items: found.items,
        page,
        limit,
        total: found.total,
        has_more: found.has_more,
    }))
}

/// `GET /api/user/stats` — my meditation statistics.
#[utoipa::path(get, path = "/api/user/stats", tag = "meditation", security(("bearer" = [])),
    responses((status = 200, body = Stats), (status = 401, body = ErrorBody)))]
pub async fn stats(State(state): State<AppState>, me: AuthUser) -> Result<Json<Stats>, ApiError> {
    Ok(Json(stats::stats(&state, me).await?))
}

/// `GET /api/analytics/daily?from&to&scope` — my sessions per day (or,
/// for admins with `scope=platform`, everyone's).
#[utoipa::path(get, path = "/api/analytics/daily", tag = "meditation", security(("bearer" = [])),
    params(RangeQuery),
    responses((status = 200, body = Analytics), (status = 401, body = ErrorBody),
        (status = 403, description = "`scope=platform` by someone not an admin", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn daily(
    State(state): State<AppState>,
    me: AuthUser,
    ValidQuery(query): ValidQuery<RangeQuery>,
) -> Result<Json<Analytics>, ApiError> {
    Ok(Json(
        analytics::report(&state, me, Period::Day, query.into()).await?,
    ))
}

/// `GET /api/analytics/weekly?from&to&scope` — my sessions per week (from
/// Monday), or everyone's.
#[utoipa::path(get, path = "/api/analytics/weekly", tag = "meditation", security(("bearer" = [])),
    params(RangeQuery),
    responses((status = 200, body = Analytics), (status = 401, body = ErrorBody),
        (status = 403, description = "`scope=platform` by someone not an admin", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn weekly(
    State(state): State<AppState>,
    me: AuthUser,
    ValidQuery(query): ValidQuery<RangeQuery>,
) -> Result<Json<Analytics>, ApiError> {
    Ok(Json(
        analytics::report(&state, me, Period::Week, query.into()).await?,
    ))
}

/// `GET /api/analytics/monthly?from&to&scope` — my sessions per month, or
/// everyone's.
#[utoipa::path(get, path = "/api/analytics/monthly", tag = "meditation", security(("bearer" = [])),
    params(RangeQuery),
    responses((status = 200, body = Analytics), (status = 401, body = ErrorBody),
        (status = 403, description = "`scope=platform` by someone not an admin", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn monthly(
    State(state): State<AppState>,
    me: AuthUser,
    ValidQuery(query): ValidQuery<RangeQuery>,
) -> Result<Json<Analytics>, ApiError> {
    Ok(Json(
        analytics::report(&state, me, Period::Month, query.into()).await?,
    ))
}
