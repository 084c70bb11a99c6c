//! `POST /api/meditation/start`, `POST /api/meditation/end` and
//! `GET /api/sessions` (seed 000).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use plaza_core::{Timestamp, UserId};
use plaza_platform::db::unique_violation;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::record::EndedBy;
use super::store::{self, HistoryFilter};
use crate::http::AuthUser;
use crate::http::{ApiError, ErrorBody, ValidJson, ValidQuery, page_limit};
use crate::state::AppState;

/// A session longer than this is counted as this long: a session left open
/// (an app closed mid-session) never counts as days of meditation.
pub const MAX_SESSION_SEC: i64 = 4 * 3600;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionType {
    Mindfulness,
    Breathing,
    BodyScan,
    Sleep,
    Focus,
    LovingKindness,
    Custom,
}

impl SessionType {
    const ALL: [Self; 7] = [
        Self::Mindfulness,
        Self::Breathing,
        Self::BodyScan,
        Self::Sleep,
        Self::Focus,
        Self::LovingKindness,
        Self::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mindfulness => "mindfulness",
            Self::Breathing => "breathing",
            Self::BodyScan => "body_scan",
            Self::Sleep => "sleep",
            Self::Focus => "focus",
            Self::LovingKindness => "loving_kindness",
            Self::Custom => "custom",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// One meditation session.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Session {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: SessionType,
    pub planned_duration_sec: Option<i64>,
    pub room_id: Option<String>,
    /// The room's group session this one was part of.
    pub round_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<Timestamp>,
    /// Measured by the server, at most 4 hours.
    pub duration_sec: Option<i64>,
    pub mood_before: Option<i64>,
    pub mood_after: Option<i64>,
    pub notes: Option<String>,
}

impl Session {
    /// Ends the session at `at` (not before it began), counting at most
    /// [`MAX_SESSION_SEC`].
    pub fn end_at(&mut self, at: Timestamp) {
        let at = at.max(self.started_at);
        let measured =
            i64::try_from(at.duration_since(self.started_at).as_secs()).unwrap_or(i64::MAX);
        self.ended_at = Some(at);
        self.duration_sec = Some(measured.min(MAX_SESSION_SEC));
    }
}

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
    if let Some(planned) = req.planned_duration_sec
        && !(1..=MAX_SESSION_SEC).contains(&planned)
    {
        return Err(ApiError::invalid_field(
            "planned_duration_sec",
            format!("1 to {MAX_SESSION_SEC} seconds"),
        ));
    }
    let now = state.clock.now();
    let mut tx = state.work().await?;
    let session = match &req.room_id {
        // Joins what is left of the room's group session.
        Some(room) => super::rooms::round::joining(&mut tx, room, &me, now).await?,
        None => Session {
            id: uuid::Uuid::now_v7().to_string(),
            kind: req.kind.unwrap_or(SessionType::Mindfulness),
            planned_duration_sec: req.planned_duration_sec,
            room_id: None,
            round_id: None,
            started_at: now,
            ended_at: None,
            duration_sec: None,
            mood_before: None,
            mood_after: None,
            notes: None,
        },
    };
    if let Err(e) = store::insert(&mut tx, me.user_id, &session).await {
        drop(tx);
        return Err(if unique_violation(&e).is_some() {
            already_active(&state, me.user_id).await
        } else {
            e.into()
        });
    }
    super::record::started(&mut tx, me.user_id, &session, now).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(SessionBody { session })))
}

async fn already_active(state: &AppState, user: UserId) -> ApiError {
    let active = match state.db.writer().acquire().await {
        Ok(mut conn) => store::active(&mut conn, user).await.ok().flatten(),
        Err(_) => None,
    };
    let error = ApiError::conflict("a session is already active; end it first");
    match active {
        Some(s) => error.with_details(json!({"session": s})),
        None => error,
    }
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
    for (field, mood) in [
        ("mood_before", req.mood_before),
        ("mood_after", req.mood_after),
    ] {
        if mood.is_some_and(|m| !(1..=5).contains(&m)) {
            return Err(ApiError::invalid_field(field, "1 to 5"));
        }
    }
    let notes = req
        .notes
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if notes.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(ApiError::invalid_field("notes", "at most 2000 characters"));
    }
    let now = state.clock.now();
    let mut tx = state.work().await?;
    let mut session = match &req.session_id {
        Some(id) => store::find(&mut tx, me.user_id, id)
            .await?
            .ok_or_else(|| ApiError::not_found("no such session"))?,
        None => store::active(&mut tx, me.user_id)
            .await?
            .ok_or_else(|| ApiError::conflict("no session is active"))?,
    };
    if session.ended_at.is_some() {
        return Err(
            ApiError::conflict("that session has ended").with_details(json!({"session": session}))
        );
    }
    session.end_at(now);
    session.mood_before = req.mood_before;
    session.mood_after = req.mood_after;
    session.notes = notes;
    if !store::finish(&mut tx, me.user_id, &session).await? {
        return Err(ApiError::conflict("that session has ended"));
    }
    super::record::ended(&mut tx, me.user_id, &session, EndedBy::Owner, now).await?;
    tx.commit().await?;
    super::stats::invalidate(&state, me.user_id).await;
    Ok(Json(SessionBody { session }))
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

/// A query bound: a time as given, or a date's midnight in `tz` (the next
/// day's for an inclusive end).
fn bound(
    value: &str,
    field: &str,
    zone: &jiff::tz::TimeZone,
    end: bool,
) -> Result<Timestamp, ApiError> {
    if let Ok(t) = value.parse::<jiff::Timestamp>() {
        return Ok(Timestamp::from_jiff(t));
    }
    let bad = || ApiError::invalid_field(field, "an RFC 3339 time or a date such as 2026-11-01");
    let date: jiff::civil::Date = value.parse().map_err(|_| bad())?;
    let date = if end {
        date.tomorrow().map_err(|_| bad())?
    } else {
        date
    };
    Timestamp::start_of(date, zone).map_err(|_| bad())
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
    if page == 0 || page > 100_000 {
        return Err(ApiError::invalid_field("page", "from 1"));
    }
    let limit = page_limit(query.limit, 20)?;
    if let Some(kind) = &query.kind
        && SessionType::parse(kind).is_none()
    {
        return Err(ApiError::invalid_field(
            "type",
            "one of mindfulness, breathing, body_scan, sleep, focus, loving_kindness, custom",
        ));
    }
    let mut conn = state.db.reader().acquire().await?;
    let (_, tz) = crate::users::service::time_zone(&mut conn, me.user_id).await?;
    let from = query
        .from
        .as_deref()
        .map(|v| bound(v, "from", &tz, false))
        .transpose()?;
    let to = query
        .to
        .as_deref()
        .map(|v| bound(v, "to", &tz, true))
        .transpose()?;
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        return Err(ApiError::invalid_field("to", "must be after `from`"));
    }
    let filter = HistoryFilter {
        kind: query.kind.as_deref(),
        from,
        to,
    };
    let offset = i64::from(page - 1) * limit;
    let (items, total) = store::history(&mut conn, me.user_id, &filter, limit, offset).await?;
    Ok(Json(SessionPage {
        has_more: offset + (items.len() as i64) < total,
        items,
        page,
        limit,
        total,
    }))
}
