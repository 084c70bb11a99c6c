//! Profiles (seeds 000, 001) and the user directory (seeds 002, 004).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use plaza_core::{DisplayName, Email, Role, UserId, Username};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::password::Password;
use super::profile::{self, ProfileUpdate};
use super::{Audience, NewUser, User, UserView};
use crate::auth::two_factor_methods;
use crate::http::{AdminUser, AuthUser, MaybeAuthUser};
use crate::http::{ApiError, ErrorBody, ValidJson, ValidQuery, page_limit};
use crate::state::AppState;

/// A page of users.
#[derive(Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserView>,
    pub total: i64,
    pub has_more: bool,
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
    pub fn page(&self) -> Result<(i64, i64), ApiError> {
        Ok((
            page_limit(self.limit, 20)?,
            i64::from(self.offset.unwrap_or(0)),
        ))
    }
}

pub(crate) fn id_param(raw: &str) -> Result<UserId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found("no such user"))
}

async fn view_for(
    state: &AppState,
    user: &User,
    viewer: Option<AuthUser>,
) -> Result<UserView, ApiError> {
    let audience = match viewer {
        Some(v) if v.user_id == user.id => Audience::Own,
        Some(v) if v.is_admin() => Audience::Admin,
        _ => Audience::Other,
    };
    let methods = if audience == Audience::Other {
        Vec::new()
    } else {
        two_factor_methods(state, user.id).await?
    };
    Ok(user.view(audience, methods))
}

/// `GET /api/user/profile` — my profile, with my settings.
#[utoipa::path(get, path = "/api/user/profile", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
pub async fn get_my_profile(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<Json<UserView>, ApiError> {
    let user = super::profile(&state, me.user_id).await?;
    Ok(Json(view_for(&state, &user, Some(me)).await?))
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
    let user = profile::update_profile(&state, me.user_id, update).await?;
    Ok(Json(view_for(&state, &user, Some(me)).await?))
}

/// `DELETE /api/user/profile` — delete my account (seed 004's `deleteUser`).
#[utoipa::path(delete, path = "/api/user/profile", tag = "users", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn delete_my_account(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<StatusCode, ApiError> {
    profile::delete_account(&state, me.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/profiles/{id}` — anyone's public profile.
#[utoipa::path(get, path = "/api/profiles/{id}", tag = "users",
    params(("id" = String, Path)),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)))]
pub async fn get_profile(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    Path(id): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    let user = super::profile(&state, id_param(&id)?).await?;
    Ok(Json(view_for(&state, &user, viewer.0).await?))
}

/// `PUT /api/profiles/{id}` — change a profile: one's own, or anyone's as an admin.
#[utoipa::path(put, path = "/api/profiles/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = ProfileUpdate,
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_profile(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
    ValidJson(update): ValidJson<ProfileUpdate>,
) -> Result<Json<UserView>, ApiError> {
    let id = id_param(&id)?;
    if id != me.user_id && !me.is_admin() {
        super::profile(&state, id).await?;
        return Err(ApiError::forbidden("you may only change your own profile"));
    }
    let user = profile::update_profile(&state, id, update).await?;
    Ok(Json(view_for(&state, &user, Some(me)).await?))
}

/// `GET /api/v1/users/{id}` — one user (seed 002).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    let user = super::profile(&state, id_param(&id)?).await?;
    Ok(Json(view_for(&state, &user, Some(me)).await?))
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
    let (limit, offset) = query.page()?;
    let q = query.q.as_deref().map(str::trim).unwrap_or_default();
    if q.is_empty() || q.chars().count() > 64 {
        return Err(ApiError::invalid_field(
            "q",
            "give 1 to 64 characters to search for",
        ));
    }
    let mut conn = state.db.reader().acquire().await?;
    let (users, total) = super::store::search(&mut conn, q, limit, offset).await?;
    drop(conn);
    let mut items = Vec::with_capacity(users.len());
    for u in &users {
        items.push(view_for(&state, u, Some(me)).await?);
    }
    Ok(Json(UserPage {
        has_more: offset + limit < total,
        items,
        total,
    }))
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

/// `POST /api/v1/users` — an admin creates an account (seed 002's body,
/// plus a password or an invitation mail).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses((status = 201, body = UserView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ValidJson(req): ValidJson<CreateUserRequest>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let invite = req.password.is_none();
    let new = NewUser {
        email: req.email,
        username: req.username,
        display_name: req.display_name.map(String::from),
        password: req.password,
        role: req.role.unwrap_or(Role::User),
        email_verified: false,
    };
    let user = super::create_user(&state, new).await?;
    if invite {
        crate::auth::recovery::send_invitation(&state, &user).await?;
    }
    Ok((
        StatusCode::CREATED,
        Json(view_for(&state, &user, Some(admin)).await?),
    ))
}
