//! `/api/notifications`: a person's notifications, their subscriptions and
//! quiet hours, and sending (admins).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use plaza_core::NotificationId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{Channel, Notification};
use super::service::{self, QuietHours, Send, SubscriptionChange, Subscriptions};
use crate::http::{
    AdminUser, ApiError, AuthUser, ErrorBody, ValidJson, ValidPath, ValidQuery, page_limit,
};
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

#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadCount {
    pub unread: i64,
}

/// `{"read": true}` or `false`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NotificationRead)]
pub struct MarkRead {
    pub read: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadAll {
    /// How many were unread.
    pub updated: u64,
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
    let unread_only = query.unread.unwrap_or(false);
    let page = service::list(&state, me, unread_only, query.before.as_deref(), limit).await?;
    Ok(Json(NotificationPage {
        items: page.items,
        unread: page.unread,
        has_more: page.has_more,
    }))
}

/// `GET /api/notifications/unread-count` — for a badge.
#[utoipa::path(get, path = "/api/notifications/unread-count", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = UnreadCount), (status = 401, body = ErrorBody)))]
pub async fn unread_count(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<Json<UnreadCount>, ApiError> {
    let unread = service::unread_count(&state, me).await?;
    Ok(Json(UnreadCount { unread }))
}

/// `PUT /api/notifications/{id}` `{read: true|false}` — mark one read or unread.
#[utoipa::path(put, path = "/api/notifications/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = MarkRead,
    responses((status = 200, body = Notification), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mark(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<NotificationId>,
    ValidJson(req): ValidJson<MarkRead>,
) -> Result<Json<Notification>, ApiError> {
    Ok(Json(service::mark(&state, me, id, req.read).await?))
}

/// `DELETE /api/notifications/{id}` — forget one.
#[utoipa::path(delete, path = "/api/notifications/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<NotificationId>,
) -> Result<StatusCode, ApiError> {
    service::delete(&state, me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/notifications/read-all` — mark all of mine read.
#[utoipa::path(put, path = "/api/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = ReadAll), (status = 401, body = ErrorBody)))]
pub async fn read_all(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<Json<ReadAll>, ApiError> {
    let updated = service::read_all(&state, me).await?;
    Ok(Json(ReadAll { updated }))
}

/// `GET /api/notifications/subscriptions` — what I am told, and how.
#[utoipa::path(get, path = "/api/notifications/subscriptions", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = Subscriptions), (status = 401, body = ErrorBody)))]
pub async fn subscriptions(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<Json<Subscriptions>, ApiError> {
    Ok(Json(service::subscriptions(&state, me).await?))
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
    let change = SubscriptionChange {
        types: req.types,
        quiet_hours: req.quiet_hours,
    };
    Ok(Json(
        service::update_subscriptions(&state, me, change).await?,
    ))
}

/// `POST /api/notifications` — send to people (admins): literal text or the
/// type's template; delivered in the background on each person's channels.
#[utoipa::path(post, path = "/api/notifications", tag = "notifications", security(("bearer" = [])),
    request_body = SendRequest,
    responses((status = 202, body = Queued), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send(
    State(state): State<AppState>,
    admin: AdminUser,
    ValidJson(req): ValidJson<SendRequest>,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    let send = Send {
        to: req.to,
        kind: req.kind,
        title: req.title,
        body: req.body,
        data: req.data,
    };
    let queued = service::send(&state, admin, send).await?;
    Ok((StatusCode::ACCEPTED, Json(Queued { queued })))
}
