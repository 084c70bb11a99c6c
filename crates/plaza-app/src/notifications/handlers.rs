//! `/api/notifications`: a person's notifications, their subscriptions and
//! quiet hours, and sending (admins).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use plaza_core::UserId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::deliver;
use super::model::{Channel, KINDS, Notice, Notification, valid_type};
use super::store;
use crate::http::{AdminUser, AuthUser};
use crate::http::{ApiError, ErrorBody, ValidJson, ValidQuery, page_limit};
use crate::state::AppState;
use crate::users::fields::nullable;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only unread ones.
    unread: Option<bool>,
    /// 1–100, default 20.
    limit: Option<u32>,
    /// Older than this notification id (the last of the previous page).
    before: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    /// Unread notifications in all.
    pub unread: i64,
    pub has_more: bool,
}

/// `GET /api/notifications?unread=true&limit&before` — mine, newest first.
#[utoipa::path(get, path = "/api/notifications", tag = "notifications", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = NotificationPage), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    me: AuthUser,
    ValidQuery(query): ValidQuery<ListQuery>,
) -> Result<Json<NotificationPage>, ApiError> {
    let limit = page_limit(query.limit, 20)?;
    if let Some(before) = &query.before {
        notification_id(before, "before")?;
    }
    let mut conn = state.db.reader().acquire().await?;
    let mut items = store::list(
        &mut conn,
        me.user_id,
        query.unread.unwrap_or(false),
        query.before.as_deref(),
        limit,
    )
    .await?;
    let has_more = items.len() as i64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let unread = store::unread_count(&mut conn, me.user_id).await?;
    Ok(Json(NotificationPage {
        items,
        unread,
        has_more,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadCount {
    pub unread: i64,
}

/// `GET /api/notifications/unread-count` — for a badge.
#[utoipa::path(get, path = "/api/notifications/unread-count", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = UnreadCount), (status = 401, body = ErrorBody)))]
pub async fn unread_count(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<Json<UnreadCount>, ApiError> {
    let mut conn = state.db.reader().acquire().await?;
    let unread = store::unread_count(&mut conn, me.user_id).await?;
    Ok(Json(UnreadCount { unread }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    pub read: bool,
}

fn notification_id(id: &str, field: &str) -> Result<(), ApiError> {
    uuid::Uuid::parse_str(id)
        .map(|_| ())
        .map_err(|_| ApiError::invalid_field(field, "not a notification id"))
}

fn not_found() -> ApiError {
    ApiError::not_found("no such notification")
}

/// `PUT /api/notifications/{id}` `{read: true|false}` — mark one read or unread.
#[utoipa::path(put, path = "/api/notifications/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = MarkRead,
    responses((status = 200, body = Notification), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mark(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
    ValidJson(req): ValidJson<MarkRead>,
) -> Result<Json<Notification>, ApiError> {
    notification_id(&id, "id").map_err(|_| not_found())?;
    let mut conn = state.db.writer().acquire().await?;
    if !store::set_read(&mut conn, me.user_id, &id, req.read, state.clock.now()).await? {
        return Err(not_found());
    }
    let n = store::find(&mut conn, me.user_id, &id)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(n))
}

/// `DELETE /api/notifications/{id}` — forget one.
#[utoipa::path(delete, path = "/api/notifications/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    notification_id(&id, "id").map_err(|_| not_found())?;
    let mut conn = state.db.writer().acquire().await?;
    if store::delete(&mut conn, me.user_id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found())
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadAll {
    /// How many were unread.
    pub updated: u64,
}

/// `PUT /api/notifications/read-all` — mark all of mine read.
#[utoipa::path(put, path = "/api/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = ReadAll), (status = 401, body = ErrorBody)))]
pub async fn read_all(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<Json<ReadAll>, ApiError> {
    let mut conn = state.db.writer().acquire().await?;
    let updated = store::read_all(&mut conn, me.user_id, state.clock.now()).await?;
    Ok(Json(ReadAll { updated }))
}

/// One type's channels for one person.
#[derive(Debug, Serialize, ToSchema)]
pub struct TypeSubscription {
    #[serde(rename = "type")]
    pub kind: String,
    pub description: Option<&'static str>,
    /// `{"in_app": true, "websocket": true, "email": false, "push": false}`.
    pub channels: BTreeMap<Channel, bool>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// `"22:00"`, in my time zone (my profile's `timezone`).
    pub start: String,
    /// `"07:00"`; before `start` means the window spans midnight.
    pub end: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Subscriptions {
    pub types: Vec<TypeSubscription>,
    /// Mail and push wait until they end; in-app and socket
    /// notifications, being silent, do not.
    pub quiet_hours: Option<QuietHours>,
    pub time_zone: String,
}

async fn subscriptions_of(
    conn: &mut sqlx::AnyConnection,
    user: UserId,
) -> Result<Subscriptions, ApiError> {
    let mut types: Vec<String> = KINDS.iter().map(|k| k.name.to_owned()).collect();
    let chosen = store::subscriptions(conn, user).await?;
    for t in store::templated_types(conn)
        .await?
        .into_iter()
        .chain(chosen.iter().map(|(t, _, _)| t.clone()))
    {
        if !types.contains(&t) {
            types.push(t);
        }
    }
    let mut out = Vec::with_capacity(types.len());
    for kind in types {
        let on = super::model::channels(&kind, &chosen);
        out.push(TypeSubscription {
            description: KINDS.iter().find(|k| k.name == kind).map(|k| k.description),
            channels: Channel::ALL.iter().map(|c| (*c, on.contains(c))).collect(),
            kind,
        });
    }
    let quiet_hours = store::quiet_hours(conn, user)
        .await?
        .map(|(start, end)| QuietHours { start, end });
    let (time_zone, _) = crate::users::service::time_zone(conn, user).await?;
    Ok(Subscriptions {
        types: out,
        quiet_hours,
        time_zone,
    })
}

/// `GET /api/notifications/subscriptions` — what I am told, and how.
#[utoipa::path(get, path = "/api/notifications/subscriptions", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = Subscriptions), (status = 401, body = ErrorBody)))]
pub async fn subscriptions(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<Json<Subscriptions>, ApiError> {
    let mut conn = state.db.reader().acquire().await?;
    Ok(Json(subscriptions_of(&mut conn, me.user_id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSubscriptions {
    /// `{"user.registered": {"email": false}}`: only the channels named change.
    #[serde(default)]
    pub types: BTreeMap<String, BTreeMap<Channel, bool>>,
    /// Set, or `null` to turn quiet hours off; absent leaves them.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<QuietHours>)]
    pub quiet_hours: Option<Option<QuietHours>>,
}

/// `PUT /api/notifications/subscriptions` — change some of them.
#[utoipa::path(put, path = "/api/notifications/subscriptions", tag = "notifications", security(("bearer" = [])),
    request_body = UpdateSubscriptions,
    responses((status = 200, body = Subscriptions), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_subscriptions(
    State(state): State<AppState>,
    me: AuthUser,
    ValidJson(req): ValidJson<UpdateSubscriptions>,
) -> Result<Json<Subscriptions>, ApiError> {
    for kind in req.types.keys() {
        if !valid_type(kind) {
            return Err(ApiError::invalid_field(
                &format!("types.{kind}"),
                "not a notification type (dotted lower-case words, e.g. user.registered)",
            ));
        }
    }
    if let Some(Some(q)) = &req.quiet_hours {
        for (field, value) in [("quiet_hours.start", &q.start), ("quiet_hours.end", &q.end)] {
            if !valid_clock_time(value) {
                return Err(ApiError::invalid_field(
                    field,
                    "must be HH:MM, 00:00 to 23:59",
                ));
            }
        }
    }
    let mut tx = state.db.begin().await?;
    for (kind, channels) in &req.types {
        for (channel, enabled) in channels {
            store::set_subscription(&mut tx, me.user_id, kind, *channel, *enabled).await?;
        }
    }
    if let Some(hours) = &req.quiet_hours {
        let hours = hours.as_ref().map(|q| (q.start.as_str(), q.end.as_str()));
        store::set_quiet_hours(&mut tx, me.user_id, hours, state.clock.now()).await?;
    }
    let out = subscriptions_of(&mut tx, me.user_id).await?;
    tx.commit().await?;
    Ok(Json(out))
}

fn valid_clock_time(s: &str) -> bool {
    s.len() == 5 && s.parse::<jiff::civil::Time>().is_ok()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    /// Recipients' user ids (1–1000).
    pub to: Vec<String>,
    /// The notification type, e.g. `admin.announcement`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Literal wording; without it the type's template is rendered with `data`.
    pub title: Option<String>,
    pub body: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    /// Deliveries queued, one per recipient.
    pub queued: usize,
}

/// Recipients per request.
const MAX_RECIPIENTS: usize = 1000;

/// `POST /api/notifications` — send to people (admins): literal text or the
/// type's template; delivered in the background on each person's channels.
#[utoipa::path(post, path = "/api/notifications", tag = "notifications", security(("bearer" = [])),
    request_body = SendRequest,
    responses((status = 202, body = Queued), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send(
    State(state): State<AppState>,
    _: AdminUser,
    ValidJson(req): ValidJson<SendRequest>,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    if !valid_type(&req.kind) {
        return Err(ApiError::invalid_field(
            "type",
            "not a notification type (dotted lower-case words, e.g. admin.announcement)",
        ));
    }
    if req.to.is_empty() || req.to.len() > MAX_RECIPIENTS {
        return Err(ApiError::invalid_field("to", "give 1 to 1000 user ids"));
    }
    let mut to: Vec<UserId> = Vec::with_capacity(req.to.len());
    for id in &req.to {
        let id: UserId = id
            .parse()
            .map_err(|_| ApiError::invalid_field("to", format!("`{id}` is not a user id")))?;
        if !to.contains(&id) {
            to.push(id);
        }
    }
    match (&req.title, &req.body) {
        (Some(t), _) if t.trim().is_empty() || t.chars().count() > 200 => {
            return Err(ApiError::invalid_field("title", "1 to 200 characters"));
        }
        (_, Some(b)) if b.chars().count() > 10_000 => {
            return Err(ApiError::invalid_field("body", "at most 10000 characters"));
        }
        (None, Some(_)) => {
            return Err(ApiError::invalid_field(
                "title",
                "a literal body needs a title",
            ));
        }
        _ => {}
    }
    if !req.data.is_object() && !req.data.is_null() {
        return Err(ApiError::invalid_field("data", "must be an object"));
    }
    let mut tx = state.work().await?;
    if req.title.is_none()
        && store::templates_for(&mut tx, &req.kind).await?.is_empty()
        && super::render::builtin(&req.kind, Channel::InApp).is_none()
    {
        return Err(ApiError::invalid_field(
            "title",
            format!(
                "`{}` has no template: give a title and body, or create a template",
                req.kind
            ),
        ));
    }
    let found = crate::users::service::live(&mut tx, &to).await?;
    if let Some(missing) = to.iter().find(|id| !found.contains(id)) {
        return Err(ApiError::invalid_field(
            "to",
            format!("no such user: {missing}"),
        ));
    }
    let notice = Notice {
        kind: req.kind,
        title: req.title,
        body: req.body,
        data: if req.data.is_null() {
            serde_json::json!({})
        } else {
            req.data
        },
    };
    deliver::send(&mut tx, &to, &notice).await?;
    tx.commit().await?;
    Ok((StatusCode::ACCEPTED, Json(Queued { queued: to.len() })))
}
