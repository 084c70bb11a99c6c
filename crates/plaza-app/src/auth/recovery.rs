//! Proving an address and recovering an account: email verification,
//! forgotten and changed passwords, and invitations (an admin-made account
//! whose owner picks the password). Tokens are single-use and short-lived;
//! a reset or change ends the account's other sessions.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use plaza_core::{Email, UserId};
use plaza_platform::mail::Mail;
use serde::Deserialize;
use utoipa::ToSchema;

use super::one_time::{self, Purpose};
use super::service;
use crate::http::AuthUser;
use crate::http::{ApiError, ErrorBody, ValidJson};
use crate::state::AppState;
use crate::users::password::Password;
use crate::users::{self, User};

const VERIFY_TTL: Duration = Duration::from_secs(24 * 3600);
const RESET_TTL: Duration = Duration::from_secs(3600);
const INVITE_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

fn link(state: &AppState, page: &str, token: &str) -> String {
    format!(
        "{}/{page}?token={token}",
        state.config.auth.app_url.trim_end_matches('/')
    )
}

async fn mail_token(
    state: &AppState,
    user: &User,
    purpose: Purpose,
    ttl: Duration,
    subject: &str,
    body: impl FnOnce(&str) -> String,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    let mut tx = state.work().await?;
    one_time::retire(&mut tx, user.id, &[purpose], now).await?;
    let data = serde_json::json!({"email": user.email.as_str()});
    let token = one_time::issue(&mut tx, Some(user.id), purpose, &data, now, ttl).await?;
    let mail = Mail {
        to: user.email.to_string(),
        subject: subject.to_owned(),
        text: body(&token),
        html: None,
    };
    crate::notifications::mail::queue(&mut tx, mail).await?;
    tx.commit().await?;
    Ok(())
}

/// Mails a link that proves the address.
pub async fn send_verification(state: &AppState, user: &User) -> Result<(), ApiError> {
    let url = |t: &str| link(state, "verify-email", t);
    mail_token(state, user, Purpose::VerifyEmail, VERIFY_TTL, "Confirm your email address", |t| {
        format!("Confirm the address of your account by opening this link within 24 hours:\n\n{}\n\nIf you did not sign up, ignore this mail.\n", url(t))
    })
    .await
}

/// Mails the owner of an admin-made account a link to choose a password.
pub async fn send_invitation(state: &AppState, user: &User) -> Result<(), ApiError> {
    let url = |t: &str| link(state, "reset-password", t);
    mail_token(
        state,
        user,
        Purpose::Invite,
        INVITE_TTL,
        "You are invited",
        |t| {
            format!(
                "An account was made for you ({}). Choose your password within 7 days:\n\n{}\n",
                user.username,
                url(t)
            )
        },
    )
    .await
}

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

fn bad_token() -> ApiError {
    ApiError::invalid_field("token", "invalid, used or expired; ask for a new one")
}

/// `POST /api/auth/verify-email/request` — mail me a verification link.
#[utoipa::path(post, path = "/api/auth/verify-email/request", tag = "auth", security(("bearer" = [])),
    responses((status = 202), (status = 401, body = ErrorBody), (status = 409, description = "Already verified", body = ErrorBody)))]
pub async fn request_verification(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<StatusCode, ApiError> {
    let user = users::profile(&state, me.user_id).await?;
    if user.email_verified {
        return Err(ApiError::conflict("this address is already verified"));
    }
    send_verification(&state, &user).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `POST /api/auth/verify-email` — the link's token proves the address.
#[utoipa::path(post, path = "/api/auth/verify-email", tag = "auth", request_body = TokenRequest,
    responses((status = 204), (status = 422, description = "Invalid, used or expired token", body = ErrorBody)))]
pub async fn verify_email(
    State(state): State<AppState>,
    ValidJson(req): ValidJson<TokenRequest>,
) -> Result<StatusCode, ApiError> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let found = one_time::find(&mut tx, &req.token, &[Purpose::VerifyEmail], now)
        .await?
        .ok_or_else(bad_token)?;
    let user_id = found.user_id.ok_or_else(bad_token)?;
    let user = users::store::find(&mut tx, user_id)
        .await?
        .ok_or_else(bad_token)?;
    // A link proves the address it was sent to, not one changed since.
    let sent_to: serde_json::Value = serde_json::from_str(&found.data).unwrap_or_default();
    if sent_to["email"] != user.email.as_str()
        || !one_time::consume(&mut tx, &found.id, now).await?
    {
        return Err(bad_token());
    }
    users::store::set_email_verified(&mut tx, user_id, now).await?;
    tx.commit().await?;
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
    let mut conn = state.db.reader().acquire().await?;
    let user = users::store::find_by_email(&mut conn, &req.email).await?;
    drop(conn);
    if let Some(user) = user.filter(|u| u.banned_at.is_none()) {
        let url = |t: &str| link(&state, "reset-password", t);
        mail_token(&state, &user, Purpose::ResetPassword, RESET_TTL, "Reset your password", |t| {
            format!("Someone asked to reset the password of your account. To choose a new one, open this link within an hour:\n\n{}\n\nIf it was not you, ignore this mail; your password stays as it is.\n", url(t))
        })
        .await?;
    }
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
    let hash = state
        .passwords
        .hash(&req.password)
        .await
        .map_err(ApiError::internal)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let purposes = [Purpose::ResetPassword, Purpose::Invite];
    let found = one_time::find(&mut tx, &req.token, &purposes, now)
        .await?
        .ok_or_else(bad_token)?;
    let user_id = found.user_id.ok_or_else(bad_token)?;
    if users::store::find(&mut tx, user_id).await?.is_none()
        || !one_time::consume(&mut tx, &found.id, now).await?
    {
        return Err(bad_token());
    }
    one_time::retire(&mut tx, user_id, &purposes, now).await?;
    users::store::set_password_hash(&mut tx, user_id, &hash, now).await?;
    // The mail reached its owner: the address is proven.
    users::store::set_email_verified(&mut tx, user_id, now).await?;
    users::store::reset_failed_logins(&mut tx, user_id).await?;
    let ended = service::end_all_sessions(&state, &mut tx, user_id, None, "password_reset").await?;
    tx.commit().await?;
    service::after_revoke(&state, &ended).await;
    tracing::info!(user_id = %user_id, "password reset");
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
    check_password(
        &state,
        me.user_id,
        &req.current_password,
        "current_password",
    )
    .await?;
    let hash = state
        .passwords
        .hash(&req.new_password)
        .await
        .map_err(ApiError::internal)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    users::store::set_password_hash(&mut tx, me.user_id, &hash, now).await?;
    let ended = service::end_all_sessions(
        &state,
        &mut tx,
        me.user_id,
        Some(me.session_id),
        "password_change",
    )
    .await?;
    tx.commit().await?;
    service::after_revoke(&state, &ended).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Confirms a signed-in user's password before a sensitive change; a wrong
/// one is a field error (the token itself is fine).
pub async fn check_password(
    state: &AppState,
    user: UserId,
    password: &str,
    field: &str,
) -> Result<(), ApiError> {
    let mut conn = state.db.fresh().acquire().await?;
    let hash = users::store::password_hash(&mut conn, user).await?;
    drop(conn);
    let ok = match hash {
        Some(hash) => state.passwords.verify(password, &hash).await,
        None => state.passwords.verify_nothing(password).await,
    }
    .map_err(ApiError::internal)?;
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid_field(field, "wrong password"))
    }
}
