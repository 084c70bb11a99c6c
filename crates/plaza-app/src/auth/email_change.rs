//! Changing the account's address: the password confirms it is the owner,
//! a link to the new address proves it is theirs, and the old address is
//! told once it changed.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use plaza_core::Email;
use plaza_platform::db::unique_violation;
use plaza_platform::mail::Mail;
use serde::Deserialize;
use utoipa::ToSchema;

use super::one_time::{self, Purpose};
use super::recovery::check_password;
use crate::http::AuthUser;
use crate::http::{ApiError, ErrorBody, ValidJson};
use crate::state::AppState;
use crate::users;

const CHANGE_TTL: Duration = Duration::from_secs(24 * 3600);

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeEmail {
    #[schema(value_type = String, format = Email)]
    new_email: Email,
    #[schema(format = Password)]
    password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmEmail {
    token: String,
}

fn taken() -> ApiError {
    ApiError::conflict("an account with this email already exists")
        .with_details(serde_json::json!({"fields": {"new_email": "taken"}}))
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
    check_password(&state, me.user_id, &req.password, "password").await?;
    let now = state.clock.now();
    let mut tx = state.work().await?;
    if users::store::email_taken(&mut tx, &req.new_email).await? {
        return Err(taken());
    }
    one_time::retire(&mut tx, me.user_id, &[Purpose::ChangeEmail], now).await?;
    let data = serde_json::json!({"email": req.new_email.as_str()});
    let token = one_time::issue(
        &mut tx,
        Some(me.user_id),
        Purpose::ChangeEmail,
        &data,
        now,
        CHANGE_TTL,
    )
    .await?;
    let url = format!(
        "{}/confirm-email?token={token}",
        state.config.auth.app_url.trim_end_matches('/')
    );
    let mail = Mail {
        to: req.new_email.to_string(),
        subject: "Confirm your new email address".into(),
        text: format!(
            "To make this the address of your account, open this link within 24 hours:\n\n{url}\n\nIf you did not ask for this, ignore this mail.\n"
        ),
        html: None,
    };
    crate::notifications::mail::queue(&mut tx, mail).await?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}

/// `POST /api/auth/email/confirm` — the link's token moves the account to the new address.
#[utoipa::path(post, path = "/api/auth/email/confirm", tag = "auth", request_body = ConfirmEmail,
    responses((status = 204), (status = 409, description = "Taken meanwhile", body = ErrorBody), (status = 422, description = "Invalid, used or expired token", body = ErrorBody)))]
pub async fn confirm_change(
    State(state): State<AppState>,
    ValidJson(req): ValidJson<ConfirmEmail>,
) -> Result<StatusCode, ApiError> {
    let bad = || ApiError::invalid_field("token", "invalid, used or expired; ask for a new one");
    let now = state.clock.now();
    let mut tx = state.work().await?;
    let found = one_time::find(&mut tx, &req.token, &[Purpose::ChangeEmail], now)
        .await?
        .ok_or_else(bad)?;
    let user_id = found.user_id.ok_or_else(bad)?;
    let old = users::store::find(&mut tx, user_id)
        .await?
        .ok_or_else(bad)?;
    let data: serde_json::Value = serde_json::from_str(&found.data).unwrap_or_default();
    let new = data["email"]
        .as_str()
        .and_then(|e| Email::parse(e).ok())
        .ok_or_else(bad)?;
    if !one_time::consume(&mut tx, &found.id, now).await? {
        return Err(bad());
    }
    if let Err(e) = users::store::set_email(&mut tx, user_id, &new, now).await {
        return Err(if unique_violation(&e).is_some() {
            taken()
        } else {
            e.into()
        });
    }
    let mail = Mail {
        to: old.email.to_string(),
        subject: "Your email address was changed".into(),
        text: format!(
            "The address of your account is now {new}. If you did not do this, reset your password and contact support.\n"
        ),
        html: None,
    };
    crate::notifications::mail::queue(&mut tx, mail).await?;
    tx.commit().await?;
    tracing::info!(user_id = %user_id, "email address changed");
    Ok(StatusCode::NO_CONTENT)
}
