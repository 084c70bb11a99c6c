//! `/api/admin/users`: finding accounts, changing roles, bans.

use axum::Json;
use axum::extract::{Path, State};
use plaza_core::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::handlers::{SearchQuery, id_param};
use super::{Audience, UserView, store};
use crate::auth::{service as auth, two_factor_methods};
use crate::http::AdminUser;
use crate::http::{ApiError, ErrorBody, ValidJson, ValidQuery};
use crate::state::AppState;

/// A user as admins see them.
#[derive(Serialize, ToSchema)]
pub struct AdminUserView {
    #[serde(flatten)]
    user: UserView,
    banned: bool,
}

#[derive(Serialize, ToSchema)]
pub struct AdminUserPage {
    items: Vec<AdminUserView>,
    total: i64,
    has_more: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminUpdate {
    #[schema(value_type = Option<String>, example = "admin")]
    role: Option<Role>,
    /// `true` suspends the account and ends its sessions at once.
    banned: Option<bool>,
}

/// `GET /api/admin/users?q=&limit=&offset=` — every account, newest first.
#[utoipa::path(get, path = "/api/admin/users", tag = "admin", security(("bearer" = [])),
    params(SearchQuery),
    responses((status = 200, body = AdminUserPage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    _admin: AdminUser,
    ValidQuery(query): ValidQuery<SearchQuery>,
) -> Result<Json<AdminUserPage>, ApiError> {
    let (limit, offset) = query.page()?;
    let q = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let mut conn = state.db.reader().acquire().await?;
    let (users, total) = store::list_all(&mut conn, q, limit, offset).await?;
    drop(conn);
    let ids: Vec<plaza_core::UserId> = users.iter().map(|u| u.id).collect();
    let mut factors = crate::auth::two_factor_methods_of(&state, &ids).await?;
    let mut items = Vec::with_capacity(users.len());
    for u in users {
        let methods = factors.remove(&u.id).unwrap_or_default();
        items.push(AdminUserView {
            banned: u.banned_at.is_some(),
            user: u.view(Audience::Admin, methods),
        });
    }
    Ok(Json(AdminUserPage {
        has_more: offset + limit < total,
        items,
        total,
    }))
}

/// `PUT /api/admin/users/{id}` — change a role, ban or unban. Either ends
/// the account's sessions, so its tokens carry the change at once.
#[utoipa::path(put, path = "/api/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = AdminUpdate,
    responses((status = 200, body = AdminUserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
    ValidJson(req): ValidJson<AdminUpdate>,
) -> Result<Json<AdminUserView>, ApiError> {
    let id = id_param(&id)?;
    if id == admin.user_id {
        return Err(ApiError::conflict(
            "admins cannot change their own role or ban themselves",
        ));
    }
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let mut user = store::find(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such user"))?;
    let role = req.role.unwrap_or(user.role);
    let banned_at = match req.banned {
        Some(true) => user.banned_at.or(Some(now)),
        Some(false) => None,
        None => user.banned_at,
    };
    let changed = role != user.role || banned_at.is_some() != user.banned_at.is_some();
    store::set_role_and_ban(&mut tx, id, role, banned_at, now).await?;
    let ended = if changed {
        auth::end_all_sessions(
            &state,
            &mut tx,
            id,
            None,
            if banned_at.is_some() {
                "banned"
            } else {
                "role_changed"
            },
        )
        .await?
    } else {
        Vec::new()
    };
    tx.commit().await?;
    auth::after_revoke(&state, &ended).await;
    if changed {
        tracing::info!(user_id = %id, %role, banned = banned_at.is_some(), by = %admin.user_id, "account changed by an admin");
    }
    user.role = role;
    user.banned_at = banned_at;
    let methods = two_factor_methods(&state, id).await?;
    Ok(Json(AdminUserView {
        banned: banned_at.is_some(),
        user: user.view(Audience::Admin, methods),
    }))
}

/// `DELETE /api/admin/users/{id}` — delete an account as its owner could
/// (sessions end, personal data goes, the row stays for others' history).
#[utoipa::path(delete, path = "/api/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_user(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
) -> Result<axum::http::StatusCode, ApiError> {
    let id = id_param(&id)?;
    if id == admin.user_id {
        return Err(ApiError::conflict(
            "delete your own account from your profile instead",
        ));
    }
    super::profile::delete_account(&state, id).await?;
    tracing::info!(user_id = %id, by = %admin.user_id, "account deleted by an admin");
    Ok(axum::http::StatusCode::NO_CONTENT)
}
