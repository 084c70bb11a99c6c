//! `/api/auth/2fa/*`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::service;
use crate::http::{ApiError, AuthUser, ErrorBody, ValidJson};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct TotpSetup {
    /// Base32, for typing into an authenticator app.
    secret: String,
    /// For a QR code.
    otpauth_url: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    #[schema(example = "123456")]
    code: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    #[schema(format = Password)]
    password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableRequest {
    #[schema(format = Password)]
    password: String,
    /// A current authenticator code or an unused recovery code.
    code: String,
}

#[derive(Serialize, ToSchema)]
pub struct Enabled {
    /// Factors now on.
    two_factor: Vec<String>,
    /// Ten single-use codes for when no factor is at hand, shown only now;
    /// absent when the account already had codes.
    #[serde(skip_serializing_if = "Option::is_none")]
    recovery_codes: Option<Vec<String>>,
}

impl From<service::Enabled> for Enabled {
    fn from(e: service::Enabled) -> Self {
        Self {
            two_factor: e.two_factor,
            recovery_codes: e.recovery_codes,
        }
    }
}

/// `POST /api/auth/2fa/totp/setup` — a new authenticator secret, on once confirmed.
#[utoipa::path(post, path = "/api/auth/2fa/totp/setup", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = TotpSetup), (status = 401, body = ErrorBody), (status = 409, description = "Already on", body = ErrorBody)))]
pub async fn setup_totp(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<Json<TotpSetup>, ApiError> {
    let setup = service::setup_totp(&state, me).await?;
    Ok(Json(TotpSetup {
        secret: setup.secret,
        otpauth_url: setup.otpauth_url,
    }))
}

/// `POST /api/auth/2fa/totp/enable` — confirms the secret with a code.
#[utoipa::path(post, path = "/api/auth/2fa/totp/enable", tag = "auth", security(("bearer" = [])),
    request_body = CodeRequest,
    responses((status = 200, body = Enabled), (status = 409, description = "No pending setup, or already on", body = ErrorBody), (status = 422, description = "Wrong code", body = ErrorBody)))]
pub async fn enable_totp(
    State(state): State<AppState>,
    me: AuthUser,
    ValidJson(req): ValidJson<CodeRequest>,
) -> Result<Json<Enabled>, ApiError> {
    Ok(Json(
        service::enable_totp(&state, me, &req.code).await?.into(),
    ))
}

/// `POST /api/auth/2fa/email/enable` — sign-in codes by email (a verified address is needed).
#[utoipa::path(post, path = "/api/auth/2fa/email/enable", tag = "auth", security(("bearer" = [])),
    request_body = PasswordRequest,
    responses((status = 200, body = Enabled), (status = 409, description = "Address not verified", body = ErrorBody), (status = 422, description = "Wrong password", body = ErrorBody)))]
pub async fn enable_email(
    State(state): State<AppState>,
    me: AuthUser,
    ValidJson(req): ValidJson<PasswordRequest>,
) -> Result<Json<Enabled>, ApiError> {
    Ok(Json(
        service::enable_email(&state, me, &req.password)
            .await?
            .into(),
    ))
}

/// `POST /api/auth/2fa/disable` — every factor off, after the password and
/// a code; the account's other sessions end.
#[utoipa::path(post, path = "/api/auth/2fa/disable", tag = "auth", security(("bearer" = [])),
    request_body = DisableRequest,
    responses((status = 204), (status = 409, description = "Nothing to disable", body = ErrorBody), (status = 422, description = "Wrong password or code", body = ErrorBody)))]
pub async fn disable(
    State(state): State<AppState>,
    me: AuthUser,
    ValidJson(req): ValidJson<DisableRequest>,
) -> Result<StatusCode, ApiError> {
    service::disable(&state, me, &req.password, &req.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/auth/2fa/recovery-codes` — ten new recovery codes; the old ones stop working.
#[utoipa::path(post, path = "/api/auth/2fa/recovery-codes", tag = "auth", security(("bearer" = [])),
    request_body = PasswordRequest,
    responses((status = 200, body = Enabled), (status = 409, description = "Two-factor sign-in is off", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    me: AuthUser,
    ValidJson(req): ValidJson<PasswordRequest>,
) -> Result<Json<Enabled>, ApiError> {
    let enabled = service::regenerate_recovery_codes(&state, me, &req.password).await?;
    Ok(Json(enabled.into()))
}
