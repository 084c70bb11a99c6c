//! `/api/auth/*`: sign-up, sign-in (with its second step), tokens and sessions.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use plaza_core::{DisplayName, Email, Role, SessionId, Timestamp, Username};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::service::{self, Client, Issued, Login, Outcome};
use crate::http::{ApiError, AuthUser, ClientIp, ErrorBody, ValidJson, ValidPath};
use crate::state::AppState;
use crate::users::password::Password;
use crate::users::{Audience, NewUser, UserView};

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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaLoginRequest {
    mfa_token: String,
    /// `totp`, `email` or `recovery`.
    #[schema(example = "totp")]
    method: String,
    code: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaSendRequest {
    mfa_token: String,
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

impl From<Issued> for TokenResponse {
    fn from(issued: Issued) -> Self {
        Self {
            user: issued.user.view(Audience::Own, issued.factors),
            access_token: issued.access_token,
            refresh_token: issued.refresh_token,
            token_type: "Bearer",
            expires_in: issued.expires_in,
        }
    }
}

/// A sign-in's answer: the tokens, or `{mfa_required, mfa_token, methods}`.
pub(crate) fn outcome_json(outcome: Outcome) -> Result<serde_json::Value, ApiError> {
    match outcome {
        Outcome::SignedIn(issued) => {
            serde_json::to_value(TokenResponse::from(*issued)).map_err(ApiError::internal)
        }
        Outcome::SecondFactor { token, methods } => {
            Ok(serde_json::json!({"mfa_required": true, "mfa_token": token, "methods": methods}))
        }
    }
}

/// `POST /api/auth/register` — a new account, signed in.
#[utoipa::path(post, path = "/api/auth/register", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 201, body = TokenResponse),
        (status = 409, description = "Email or username taken", body = ErrorBody),
        (status = 422, description = "A field is invalid (`details.fields`)", body = ErrorBody),
        (status = 429, description = "Too many attempts", body = ErrorBody),
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
    Ok((StatusCode::CREATED, Json(issued.into())))
}

/// `POST /api/auth/login` — tokens for an email or username and password;
/// with two-factor sign-in on, an MFA challenge instead.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Tokens, or `{mfa_required, mfa_token, methods}`", body = TokenResponse),
        (status = 401, description = "Wrong credentials (the same answer for unknown accounts)", body = ErrorBody),
        (status = 403, description = "The account is suspended", body = ErrorBody),
        (status = 429, description = "Too many attempts, or the account is locked for a while", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    ValidJson(req): ValidJson<LoginRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let login = Login {
        email: req.email,
        username: req.username,
        password: req.password,
    };
    let outcome = service::login(&state, login, &client(&ip, &headers)).await?;
    Ok(Json(outcome_json(outcome)?))
}

/// `POST /api/auth/login/mfa/send` — mails (again) a code for a sign-in challenge.
#[utoipa::path(post, path = "/api/auth/login/mfa/send", tag = "auth", request_body = MfaSendRequest,
    responses((status = 202), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send_code(
    State(state): State<AppState>,
    ValidJson(req): ValidJson<MfaSendRequest>,
) -> Result<StatusCode, ApiError> {
    super::mfa::service::send_code(&state, &req.mfa_token).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `POST /api/auth/login/mfa` — completes a sign-in with a second factor.
#[utoipa::path(post, path = "/api/auth/login/mfa", tag = "auth", request_body = MfaLoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, description = "Wrong code, or the challenge is void", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn login_mfa(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    ValidJson(req): ValidJson<MfaLoginRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let client = client(&ip, &headers);
    let issued =
        super::mfa::service::finish(&state, &req.mfa_token, &req.method, &req.code, &client)
            .await?;
    Ok(Json(issued.into()))
}

/// `POST /api/auth/refresh` — a new token pair for a refresh token.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Unknown, expired or reused token (reuse ends the session)", body = ErrorBody),
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    ValidJson(req): ValidJson<RefreshRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let issued = service::refresh(&state, &req.refresh_token, &client(&ip, &headers)).await?;
    Ok(Json(issued.into()))
}

/// `POST /api/auth/logout` — ends this session at once, on every node.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, user: AuthUser) -> Result<StatusCode, ApiError> {
    service::logout(&state, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/auth/logout-all` — ends every session of the account.
#[utoipa::path(post, path = "/api/auth/logout-all", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout_all(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<StatusCode, ApiError> {
    service::end_every_session(&state, user.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/auth/me` — the signed-in account.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, user: AuthUser) -> Result<Json<UserView>, ApiError> {
    let (found, factors) = service::me(&state, user.user_id).await?;
    Ok(Json(found.view(Audience::Own, factors)))
}

/// `GET /api/auth/sessions` — the account's open sessions.
#[utoipa::path(get, path = "/api/auth/sessions", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = SessionList), (status = 401, body = ErrorBody)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<SessionList>, ApiError> {
    let sessions = service::sessions(&state, user.user_id).await?;
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
    params(("id" = String, Path, format = Uuid, description = "Session id")),
    responses(
        (status = 204),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No open session of yours by that id", body = ErrorBody),
    ))]
pub async fn delete_session(
    State(state): State<AppState>,
    user: AuthUser,
    ValidPath(id): ValidPath<SessionId>,
) -> Result<StatusCode, ApiError> {
    service::revoke(&state, user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
