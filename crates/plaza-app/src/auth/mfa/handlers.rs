//! `/api/auth/2fa/*` and `/api/auth/login/mfa`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    MAX_ATTEMPTS, begin_challenge, invalid_challenge, send_email_code, store, totp, verify_code,
};
use crate::auth::handlers::{TokenResponse, client, respond};
use crate::auth::one_time::{self, Purpose};
use crate::auth::recovery::check_password;
use crate::auth::service;
use crate::http::AuthUser;
use crate::http::{ApiError, ClientIp, ErrorBody, ValidJson};
use crate::state::AppState;
use crate::users;

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

/// `POST /api/auth/2fa/totp/setup` — a new authenticator secret, on once confirmed.
#[utoipa::path(post, path = "/api/auth/2fa/totp/setup", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = TotpSetup), (status = 401, body = ErrorBody), (status = 409, description = "Already on", body = ErrorBody)))]
pub async fn setup_totp(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<Json<TotpSetup>, ApiError> {
    let user = users::profile(&state, me.user_id).await?;
    let mut tx = state.db.begin().await?;
    if store::totp(&mut tx, me.user_id)
        .await?
        .is_some_and(|r| r.enabled_at.is_some())
    {
        return Err(ApiError::conflict(
            "an authenticator is already on; disable it first",
        ));
    }
    let secret =
        totp::new_secret().map_err(|e| ApiError::internal(anyhow::anyhow!("random: {e}")))?;
    let otpauth_url = totp::otpauth_url(&secret, user.email.as_str())
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("cannot build an otpauth URL")))?;
    store::set_pending_totp(&mut tx, me.user_id, &secret, state.clock.now()).await?;
    tx.commit().await?;
    Ok(Json(TotpSetup {
        secret,
        otpauth_url,
    }))
}

async fn finish_enable(
    tx: &mut sqlx::AnyConnection,
    user: plaza_core::UserId,
) -> Result<Enabled, ApiError> {
    let recovery_codes = if store::has_recovery_codes(tx, user).await? {
        None
    } else {
        Some(super::new_recovery_codes(tx, user).await?)
    };
    Ok(Enabled {
        two_factor: store::methods(tx, user).await?,
        recovery_codes,
    })
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
    let mut tx = state.db.begin().await?;
    let row = match store::totp(&mut tx, me.user_id).await? {
        Some(row) if row.enabled_at.is_none() => row,
        Some(_) => return Err(ApiError::conflict("the authenticator is already on")),
        None => {
            return Err(ApiError::conflict(
                "start with POST /api/auth/2fa/totp/setup",
            ));
        }
    };
    let now = state.clock.now();
    let seconds = u64::try_from(now.unix_seconds()).unwrap_or(0);
    let step = totp::check(&row.secret, &req.code, seconds)
        .ok_or_else(|| ApiError::invalid_field("code", "wrong or expired code"))?;
    store::enable_totp(
        &mut tx,
        me.user_id,
        i64::try_from(step).unwrap_or(i64::MAX),
        now,
    )
    .await?;
    let enabled = finish_enable(&mut tx, me.user_id).await?;
    tx.commit().await?;
    Ok(Json(enabled))
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
    check_password(&state, me.user_id, &req.password, "password").await?;
    let user = users::profile(&state, me.user_id).await?;
    if !user.email_verified {
        return Err(ApiError::conflict("verify your email address first"));
    }
    let mut tx = state.db.begin().await?;
    store::set_email_factor(&mut tx, me.user_id, true).await?;
    let enabled = finish_enable(&mut tx, me.user_id).await?;
    tx.commit().await?;
    Ok(Json(enabled))
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
    check_password(&state, me.user_id, &req.password, "password").await?;
    let mut tx = state.db.begin().await?;
    if store::methods(&mut tx, me.user_id).await?.is_empty() {
        return Err(ApiError::conflict("two-factor sign-in is not on"));
    }
    let ok = verify_code(&state, &mut tx, me.user_id, "totp", &req.code, None).await?
        || verify_code(&state, &mut tx, me.user_id, "recovery", &req.code, None).await?;
    if !ok {
        return Err(ApiError::invalid_field(
            "code",
            "wrong code; give an authenticator or recovery code",
        ));
    }
    store::clear(&mut tx, me.user_id).await?;
    let ended = service::end_all_sessions(
        &state,
        &mut tx,
        me.user_id,
        Some(me.session_id),
        "2fa_disabled",
    )
    .await?;
    tx.commit().await?;
    service::after_revoke(&state, &ended).await;
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
    check_password(&state, me.user_id, &req.password, "password").await?;
    let mut tx = state.db.begin().await?;
    let methods = store::methods(&mut tx, me.user_id).await?;
    if methods.is_empty() {
        return Err(ApiError::conflict("two-factor sign-in is not on"));
    }
    let codes = super::new_recovery_codes(&mut tx, me.user_id).await?;
    tx.commit().await?;
    Ok(Json(Enabled {
        two_factor: methods,
        recovery_codes: Some(codes),
    }))
}

/// `POST /api/auth/login/mfa/send` — mails (again) a code for a sign-in challenge.
#[utoipa::path(post, path = "/api/auth/login/mfa/send", tag = "auth", request_body = MfaSendRequest,
    responses((status = 202), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send_code(
    State(state): State<AppState>,
    ValidJson(req): ValidJson<MfaSendRequest>,
) -> Result<StatusCode, ApiError> {
    send_email_code(&state, &req.mfa_token).await?;
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
    if !matches!(req.method.as_str(), "totp" | "email" | "recovery") {
        return Err(ApiError::invalid_field(
            "method",
            "one of totp, email, recovery",
        ));
    }
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let found = one_time::find(&mut tx, &req.mfa_token, &[Purpose::MfaLogin], now)
        .await?
        .ok_or_else(invalid_challenge)?;
    let user = found.user_id.ok_or_else(invalid_challenge)?;
    if !verify_code(&state, &mut tx, user, &req.method, &req.code, Some(&found)).await? {
        let attempts = one_time::count_attempt(&mut tx, &found.id).await?;
        if attempts >= MAX_ATTEMPTS {
            one_time::consume(&mut tx, &found.id, now).await?;
        }
        tx.commit().await?;
        return Err(ApiError::unauthenticated(if attempts >= MAX_ATTEMPTS {
            "too many wrong codes; sign in again"
        } else {
            "wrong or expired code"
        }));
    }
    if !one_time::consume(&mut tx, &found.id, now).await? {
        return Err(invalid_challenge());
    }
    tx.commit().await?;
    let issued = service::open_and_issue(&state, user, &client(&ip, &headers)).await?;
    Ok(Json(respond(&state, issued).await?))
}

/// After a correct password: tokens, or a challenge when the account has factors.
pub async fn after_password(
    state: &AppState,
    user: plaza_core::UserId,
    client: &service::Client,
) -> Result<serde_json::Value, ApiError> {
    let methods = super::enabled_methods(state, user).await?;
    if methods.is_empty() {
        let issued = service::open_and_issue(state, user, client).await?;
        return serde_json::to_value(respond(state, issued).await?).map_err(ApiError::internal);
    }
    let token = begin_challenge(state, user, &methods).await?;
    let mut offered = methods;
    offered.push("recovery".into());
    Ok(serde_json::json!({"mfa_required": true, "mfa_token": token, "methods": offered}))
}
