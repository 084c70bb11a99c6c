//! `/api/auth/*`: sign-up, sign-in, tokens and sessions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use plaza_core::{DisplayName, Email, Role, SessionId, Timestamp, Username};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::service::{self, AuthError, Client, Issued};
use crate::http::AuthUser;
use crate::http::ratelimit::refusal;
use crate::http::{ApiError, ClientIp, LimitClass, ValidJson};
use crate::state::AppState;
use crate::users::password::Password;
use crate::users::{self, Audience, NewUser, UserView};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(value_type = String, format = Email, example = "ana@example.com")]
    email: Email,
    /// 8–128 characters, not a common password.
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 128)]
    password: Password,
    /// Made from the email when absent.
    #[schema(value_type = Option<String>, example = "ana")]
    username: Option<Username>,
    #[schema(value_type = Option<String>, example = "Ana Lima")]
    display_name: Option<DisplayName>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The account's email, or
    email: Option<String>,
    /// its username (one of the two).
    username: Option<String>,
    #[schema(format = Password)]
    password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    refresh_token: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    user: UserView,
    access_token: String,
    /// Opaque; single use: each refresh returns a new one.
    refresh_token: String,
    #[schema(example = "Bearer")]
    token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    expires_in: u64,
}

#[derive(Serialize, ToSchema)]
pub struct SessionView {
    #[schema(value_type = String)]
    id: SessionId,
    user_agent: Option<String>,
    ip: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    /// The last sign-in or token refresh.
    #[schema(value_type = String, format = DateTime)]
    last_used_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
    /// The session of the token that asked.
    current: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SessionList {
    items: Vec<SessionView>,
}

pub(crate) fn client(ip: &ClientIp, headers: &HeaderMap) -> Client {
    Client {
        ip: ip.0.to_string(),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(256).collect()),
    }
}

/// The token answer, with the account as its owner sees it.
pub(crate) async fn respond(state: &AppState, issued: Issued) -> Result<TokenResponse, ApiError> {
    let user = match issued.user {
        Some(user) => user,
        None => users::profile(state, issued.user_id).await?,
    };
    Ok(TokenResponse {
        user: user.view(
            Audience::Own,
            super::two_factor_methods(state, user.id).await?,
        ),
        access_token: issued.access_token,
        refresh_token: issued.refresh_token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
    })
}

/// `POST /api/auth/register` — a new account, signed in.
#[utoipa::path(post, path = "/api/auth/register", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 201, body = TokenResponse),
        (status = 409, description = "Email or username taken", body = crate::http::ErrorBody),
        (status = 422, description = "A field is invalid (`details.fields`)", body = crate::http::ErrorBody),
        (status = 429, description = "Too many attempts", body = crate::http::ErrorBody),
    ))]
pub async fn register(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    ValidJson(req): ValidJson<RegisterRequest>,
) -> Result<(StatusCode, Json<TokenResponse>), ApiError> {
    let new = NewUser {
        email: req.email,
        username: req.username,
        display_name: req.display_name.map(String::from),
        password: Some(req.password),
        role: Role::User,
        email_verified: false,
    };
    let issued = service::register(&state, new, &client(&ip, &headers)).await?;
    if let Some(user) = &issued.user {
        super::recovery::send_verification(&state, user).await?;
    }
    Ok((StatusCode::CREATED, Json(respond(&state, issued).await?)))
}

/// `POST /api/auth/login` — tokens for an email or username and password;
/// with two-factor sign-in on, an MFA challenge instead.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Tokens, or `{mfa_required, mfa_token, methods}`", body = TokenResponse),
        (status = 401, description = "Wrong credentials (the same answer for unknown accounts)", body = crate::http::ErrorBody),
        (status = 403, description = "The account is suspended", body = crate::http::ErrorBody),
        (status = 429, description = "Too many attempts, or the account is locked for a while", body = crate::http::ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    ValidJson(req): ValidJson<LoginRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let login = match (req.email, req.username) {
        (Some(email), None) => email.trim().to_lowercase(),
        (None, Some(username)) => username.trim().to_lowercase(),
        _ => {
            return Err(ApiError::invalid_field(
                "email",
                "send either `email` or `username`",
            ));
        }
    };
    if login.is_empty() || login.len() > 320 || req.password.len() > 1024 {
        return Err(ApiError::unauthenticated(
            AuthError::InvalidCredentials.to_string(),
        ));
    }
    // One budget per account, across every node and address.
    let rate = LimitClass::Auth.rate(&state);
    if state.config.features.rate_limit {
        let decision = state.limiter.check("auth_account", rate, &login).await;
        if !decision.allowed {
            return Err(refusal("auth_account", &decision, rate));
        }
    }
    let user = service::authenticate(&state, &login, &req.password).await?;
    let answer = super::mfa::handlers::after_password(&state, user, &client(&ip, &headers)).await?;
    Ok(Json(answer))
}

/// `POST /api/auth/refresh` — a new token pair for a refresh token.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Unknown, expired or reused token (reuse ends the session)", body = crate::http::ErrorBody),
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    ValidJson(req): ValidJson<RefreshRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let issued = service::refresh(&state, &req.refresh_token, &client(&ip, &headers)).await?;
    Ok(Json(respond(&state, issued).await?))
}

/// `POST /api/auth/logout` — ends this session at once, on every node.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = crate::http::ErrorBody)))]
pub async fn logout(State(state): State<AppState>, user: AuthUser) -> Result<StatusCode, ApiError> {
    service::end_session(&state, user.user_id, user.session_id, "logout").await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/auth/logout-all` — ends every session of the account.
#[utoipa::path(post, path = "/api/auth/logout-all", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = crate::http::ErrorBody)))]
pub async fn logout_all(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<StatusCode, ApiError> {
    let mut tx = state.db.begin().await?;
    let ended =
        service::end_all_sessions(&state, &mut tx, user.user_id, None, "logout_all").await?;
    tx.commit().await?;
    service::after_revoke(&state, &ended).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/auth/me` — the signed-in account.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = crate::http::ErrorBody)))]
pub async fn me(State(state): State<AppState>, user: AuthUser) -> Result<Json<UserView>, ApiError> {
    let found = users::profile(&state, user.user_id).await?;
    let methods = super::two_factor_methods(&state, user.user_id).await?;
    Ok(Json(found.view(Audience::Own, methods)))
}

/// `GET /api/auth/sessions` — the account's open sessions.
#[utoipa::path(get, path = "/api/auth/sessions", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = SessionList), (status = 401, body = crate::http::ErrorBody)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<SessionList>, ApiError> {
    let sessions = service::list_sessions(&state, user.user_id).await?;
    let items = sessions
        .into_iter()
        .map(|s| SessionView {
            current: s.id == user.session_id,
            id: s.id,
            user_agent: s.user_agent,
            ip: s.ip,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            expires_at: s.expires_at,
        })
        .collect();
    Ok(Json(SessionList { items }))
}

/// `DELETE /api/auth/sessions/{id}` — ends one of the account's sessions.
#[utoipa::path(delete, path = "/api/auth/sessions/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id")),
    responses(
        (status = 204),
        (status = 401, body = crate::http::ErrorBody),
        (status = 404, description = "No open session of yours by that id", body = crate::http::ErrorBody),
    ))]
pub async fn delete_session(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: SessionId = id
        .parse()
        .map_err(|_| ApiError::not_found("no open session of yours by that id"))?;
    if service::end_session(&state, user.user_id, id, "revoked").await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("no open session of yours by that id"))
    }
}
