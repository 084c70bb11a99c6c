//! `/api/auth/verify-email*`, `/api/auth/password/*`, `/api/auth/email/*`.

use axum::extract::State;
use axum::http::StatusCode;
use plaza_core::Email;
use serde::Deserialize;
use utoipa::ToSchema;

use super::service;
use crate::http::{ApiError, AuthUser, ErrorBody, ValidJson};
use crate::state::AppState;
use crate::users::password::Password;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The token from the mail.
    token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotRequest {
    #[schema(value_type = String, format = Email)]
    email: Email,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    token: String,
    #[schema(value_type = String, format = Password)]
    password: Password,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRequest {
    #[schema(format = Password)]
    current_password: String,
    #[schema(value_type = String, format = Password)]
    new_password: Password,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeEmail {
    #[schema(value_type = String, format = Email)]
    new_email: Email,
    #[schema(format = Password)]
    password: String,
}

/// `POST /api/auth/verify-email/request` — mail me a verification link.
#[utoipa::path(post, path = "/api/auth/verify-email/request", tag = "auth", security(("bearer" = [])),
    responses((status = 202), (status = 401, body = ErrorBody), (status = 409, description = "Already verified", body = ErrorBody)))]
pub async fn request_verification(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<StatusCode, ApiError> {
    service::request_verification(&state, me).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `POST /api/auth/verify-email` — the link's token proves the address.
#[utoipa::path(post, path = "/api/auth/verify-email", tag = "auth", request_body = TokenRequest,
    responses((status = 204), (status = 422, description = "Invalid, used or expired token", body = ErrorBody)))]
pub async fn verify_email(
    State(state): State<AppState>,
    ValidJson(req): ValidJson<TokenRequest>,
) -> Result<StatusCode, ApiError> {
    service::verify_email(&state, &req.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/auth/password/forgot` — mails a reset link if the account
/// exists; the answer is 202 either way.
#[utoipa::path(post, path = "/api/auth/password/forgot", tag = "auth", request_body = ForgotRequest,
    responses((status = 202), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn forgot_password(
    State(state): State<AppState>,
    ValidJson(req): ValidJson<ForgotRequest>,
) -> Result<StatusCode, ApiError> {
    service::forgot_password(&state, &req.email).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `POST /api/auth/password/reset` — a new password from a reset or
/// invitation link; every session of the account ends.
#[utoipa::path(post, path = "/api/auth/password/reset", tag = "auth", request_body = ResetRequest,
    responses((status = 204), (status = 422, description = "Bad token or password", body = ErrorBody)))]
pub async fn reset_password(
    State(state): State<AppState>,
    ValidJson(req): ValidJson<ResetRequest>,
) -> Result<StatusCode, ApiError> {
    service::reset_password(&state, &req.token, &req.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/auth/password/change` — a new password, knowing the current
/// one; the account's other sessions end.
#[utoipa::path(post, path = "/api/auth/password/change", tag = "auth", security(("bearer" = [])),
    request_body = ChangeRequest,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, description = "Wrong current password or a weak new one", body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    me: AuthUser,
    ValidJson(req): ValidJson<ChangeRequest>,
) -> Result<StatusCode, ApiError> {
    service::change_password(&state, me, &req.current_password, &req.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/auth/email/change` — mails a confirmation link to the new address.
#[utoipa::path(post, path = "/api/auth/email/change", tag = "auth", security(("bearer" = [])),
    request_body = ChangeEmail,
    responses((status = 202), (status = 401, body = ErrorBody), (status = 409, description = "The address is taken", body = ErrorBody), (status = 422, description = "Wrong password or a bad address", body = ErrorBody)))]
pub async fn request_change(
    State(state): State<AppState>,
    me: AuthUser,
    ValidJson(req): ValidJson<ChangeEmail>,
) -> Result<StatusCode, ApiError> {
    service::request_email_change(&state, me, &req.new_email, &req.password).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `POST /api/auth/email/confirm` — the link's token moves the account to the new address.
#[utoipa::path(post, path = "/api/auth/email/confirm", tag = "auth", request_body = TokenRequest,
    responses((status = 204), (status = 409, description = "Taken meanwhile", body = ErrorBody), (status = 422, description = "Invalid, used or expired token", body = ErrorBody)))]
pub async fn confirm_change(
    State(state): State<AppState>,
    ValidJson(req): ValidJson<TokenRequest>,
) -> Result<StatusCode, ApiError> {
    service::confirm_email_change(&state, &req.token).await?;
    Ok(StatusCode::NO_CONTENT)
}
