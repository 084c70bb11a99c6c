//! Profiles (seeds 000, 001), the user directory (seeds 002, 004), avatars,
//! and admins' user management.

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use plaza_core::{DisplayName, Email, Role, UserId, Username};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::service::{self, Page, ProfileUpdate};
use crate::auth::accounts::Change;
use crate::files::MAX_AVATAR_BYTES;
use crate::http::{
    AdminUser, ApiError, AuthUser, ErrorBody, MaybeAuthUser, ValidJson, ValidPath, ValidQuery,
    page_limit,
};
use crate::state::AppState;
use crate::users::password::Password;
use crate::users::{NewUser, UserView};

/// A page of users.
#[derive(Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserView>,
    pub total: i64,
    pub has_more: bool,
}

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

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Start of a username, display name or a word of it.
    pub q: Option<String>,
    /// 1–100, default 20.
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

impl SearchQuery {
    fn page(&self) -> Result<(i64, i64), ApiError> {
        Ok((
            page_limit(self.limit, 20)?,
            i64::from(self.offset.unwrap_or(0)),
        ))
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    #[schema(value_type = String, example = "john_doe")]
    username: Option<Username>,
    #[schema(value_type = String, format = Email, example = "john@example.com")]
    email: Email,
    #[schema(value_type = Option<String>, example = "John Doe")]
    display_name: Option<DisplayName>,
    /// Set a password now, or leave it out and plaza mails an invitation
    /// to choose one.
    #[schema(value_type = Option<String>, format = Password)]
    password: Option<Password>,
    #[schema(value_type = Option<String>, example = "user")]
    role: Option<Role>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminUpdate {
    #[schema(value_type = Option<String>, example = "admin")]
    role: Option<Role>,
    /// `true` suspends the account and ends its sessions at once.
    banned: Option<bool>,
}

/// The form of an avatar upload.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AvatarUpload {
    /// PNG, JPEG, WebP or GIF; at most 5 MiB and 40 megapixels.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// `GET /api/user/profile` — my profile, with my settings.
#[utoipa::path(get, path = "/api/user/profile", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
pub async fn get_my_profile(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(service::profile(&state, Some(me), me.user_id).await?))
}

/// `PUT /api/user/profile` — change my display name, bio, time zone, locale or settings.
#[utoipa::path(put, path = "/api/user/profile", tag = "users", security(("bearer" = [])),
    request_body = ProfileUpdate,
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_my_profile(
    State(state): State<AppState>,
    me: AuthUser,
    ValidJson(update): ValidJson<ProfileUpdate>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(service::update(&state, me, me.user_id, update).await?))
}

/// `DELETE /api/user/profile` — delete my account (seed 004's `deleteUser`).
#[utoipa::path(delete, path = "/api/user/profile", tag = "users", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn delete_my_account(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<StatusCode, ApiError> {
    service::delete_mine(&state, me).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/profiles/{id}` — anyone's public profile.
#[utoipa::path(get, path = "/api/profiles/{id}", tag = "users",
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)))]
pub async fn get_profile(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    ValidPath(id): ValidPath<UserId>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(service::profile(&state, viewer.0, id).await?))
}

/// `PUT /api/profiles/{id}` — change a profile: one's own, or anyone's as an admin.
#[utoipa::path(put, path = "/api/profiles/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = ProfileUpdate,
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_profile(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<UserId>,
    ValidJson(update): ValidJson<ProfileUpdate>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(service::update(&state, me, id, update).await?))
}

/// `POST /api/profiles/{id}/avatar` — a new avatar (self or admin). The
/// format is sniffed from the bytes; 256 and 64 px thumbnails are made.
#[utoipa::path(post, path = "/api/profiles/{id}/avatar", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    request_body(content = AvatarUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The profile with its new `avatar_url`", body = UserView),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, description = "Over 5 MiB", body = ErrorBody),
        (status = 415, description = "Not a PNG, JPEG, WebP or GIF", body = ErrorBody),
        (status = 422, description = "Over 40 megapixels, or broken", body = ErrorBody),
    ))]
pub async fn upload_avatar(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<UserId>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<UserView>, ApiError> {
    let file = crate::files::upload::read(multipart, MAX_AVATAR_BYTES);
    Ok(Json(service::set_avatar(&state, me, id, file).await?))
}

/// `DELETE /api/profiles/{id}/avatar` — back to no avatar.
#[utoipa::path(delete, path = "/api/profiles/{id}/avatar", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_avatar(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<UserId>,
) -> Result<StatusCode, ApiError> {
    service::clear_avatar(&state, me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/users/{id}` — one user (seed 002).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<UserId>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(service::profile(&state, Some(me), id).await?))
}

/// `GET /api/v1/users?q=john&limit=20&offset=0` — find people by the start
/// of their username or name, exact matches first (seed 002).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    params(SearchQuery),
    responses((status = 200, body = UserPage), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn search_users(
    State(state): State<AppState>,
    me: AuthUser,
    ValidQuery(query): ValidQuery<SearchQuery>,
) -> Result<Json<UserPage>, ApiError> {
    let page = query.page()?;
    let Page {
        items,
        total,
        has_more,
    } = service::search(&state, me, query.q.as_deref(), page).await?;
    Ok(Json(UserPage {
        items,
        total,
        has_more,
    }))
}

/// `POST /api/v1/users` — an admin creates an account (seed 002's body,
/// plus a password or an invitation mail).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses((status = 201, body = UserView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    admin: AdminUser,
    ValidJson(req): ValidJson<CreateUserRequest>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let new = NewUser {
        email: req.email,
        username: req.username,
        display_name: req.display_name.map(String::from),
        password: req.password,
        role: req.role.unwrap_or(Role::User),
        email_verified: false,
    };
    let view = service::admin_create(&state, admin, new).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// `GET /api/admin/users?q=&limit=&offset=` — every account, newest first.
#[utoipa::path(get, path = "/api/admin/users", tag = "admin", security(("bearer" = [])),
    params(SearchQuery),
    responses((status = 200, body = AdminUserPage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    admin: AdminUser,
    ValidQuery(query): ValidQuery<SearchQuery>,
) -> Result<Json<AdminUserPage>, ApiError> {
    let page = query.page()?;
    let found = service::admin_list(&state, admin, query.q.as_deref(), page).await?;
    Ok(Json(AdminUserPage {
        items: found
            .items
            .into_iter()
            .map(|(user, banned)| AdminUserView { user, banned })
            .collect(),
        total: found.total,
        has_more: found.has_more,
    }))
}

/// `PUT /api/admin/users/{id}` — change a role, ban or unban. Either ends
/// the account's sessions, so its tokens carry the change at once.
#[utoipa::path(put, path = "/api/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = AdminUpdate,
    responses((status = 200, body = AdminUserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    admin: AdminUser,
    ValidPath(id): ValidPath<UserId>,
    ValidJson(req): ValidJson<AdminUpdate>,
) -> Result<Json<AdminUserView>, ApiError> {
    let change = Change {
        role: req.role,
        banned: req.banned,
    };
    let (user, banned) = service::admin_change(&state, admin, id, change).await?;
    Ok(Json(AdminUserView { user, banned }))
}

/// `DELETE /api/admin/users/{id}` — delete an account as its owner could
/// (sessions end, personal data goes, the row stays for others' history).
#[utoipa::path(delete, path = "/api/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_user(
    State(state): State<AppState>,
    admin: AdminUser,
    ValidPath(id): ValidPath<UserId>,
) -> Result<StatusCode, ApiError> {
    service::admin_delete(&state, admin, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
