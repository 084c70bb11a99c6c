//! Proving an address and recovering an account: email verification,
//! invitations, forgotten and changed passwords, and a change of address
//! (the password confirms the owner, a link to the new address proves it
//! is theirs, and the old address is told). Tokens are single-use and
//! short-lived; a reset or change ends the account's other sessions.

use std::time::Duration;

use plaza_core::{Email, UserId};
use plaza_platform::Work;
use plaza_platform::db::unique_violation;
use plaza_platform::mail::Mail;

use crate::auth::error::{AuthError, bad_token, invalid};
use crate::auth::one_time::{self, Purpose};
use crate::auth::sessions::end_all_sessions;
use crate::http::AuthUser;
use crate::notifications::mail;
use crate::state::AppState;
use crate::users::password::Password;
use crate::users::{self, User};

const VERIFY_TTL: Duration = Duration::from_secs(24 * 3600);
const RESET_TTL: Duration = Duration::from_secs(3600);
const INVITE_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
const CHANGE_TTL: Duration = Duration::from_secs(24 * 3600);

fn link(state: &AppState, page: &str, token: &str) -> String {
    format!(
        "{}/{page}?token={token}",
        state.config.auth.app_url.trim_end_matches('/')
    )
}

/// Issues a `purpose` token for `user` (retiring older ones) and mails
/// `to` the text `body` makes of its link to `page`, in `work`.
async fn mail_link(
    state: &AppState,
    work: &mut Work<'_>,
    (user, to): (&User, &Email),
    (purpose, ttl, page): (Purpose, Duration, &str),
    subject: &str,
    body: impl FnOnce(&str) -> String,
) -> Result<(), AuthError> {
    let now = work.now();
    one_time::retire(work, user.id, &[purpose], now).await?;
    let data = serde_json::json!({"email": to.as_str()});
    let token = one_time::issue(work, Some(user.id), purpose, &data, now, ttl).await?;
    let mail = Mail {
        to: to.to_string(),
        subject: subject.to_owned(),
        text: body(&link(state, page, &token)),
        ..Mail::default()
    };
    mail::queue(work, mail).await?;
    Ok(())
}

/// Mails a link that proves the address, in `work`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn mail_verification(
    state: &AppState,
    work: &mut Work<'_>,
    user: &User,
) -> Result<(), AuthError> {
    let kind = (Purpose::VerifyEmail, VERIFY_TTL, "verify-email");
    mail_link(state, work, (user, &user.email), kind, "Confirm your email address", |url| {
        format!("Confirm the address of your account by opening this link within 24 hours:\n\n{url}\n\nIf you did not sign up, ignore this mail.\n")
    })
    .await
}

/// Mails the owner of an admin-made account a link to choose a password.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn mail_invitation(
    state: &AppState,
    work: &mut Work<'_>,
    user: &User,
) -> Result<(), AuthError> {
    let kind = (Purpose::Invite, INVITE_TTL, "reset-password");
    mail_link(
        state,
        work,
        (user, &user.email),
        kind,
        "You are invited",
        |url| {
            format!(
                "An account was made for you ({}). Choose your password within 7 days:\n\n{url}\n",
                user.username
            )
        },
    )
    .await
}

/// Mails me a verification link (again).
#[tracing::instrument(skip(state))]
pub async fn request_verification(state: &AppState, me: AuthUser) -> Result<(), AuthError> {
    let mut work = state.work().await?;
    let user = users::service::find(&mut work, me.user_id)
        .await?
        .ok_or(AuthError::UserNotFound)?;
    if user.email_verified {
        return Err(AuthError::AlreadyVerified);
    }
    mail_verification(state, &mut work, &user).await?;
    Ok(work.commit().await?)
}

/// A link's token proves the address it was sent to (not one changed since).
#[tracing::instrument(skip_all)]
pub async fn verify_email(state: &AppState, token: &str) -> Result<(), AuthError> {
    let mut work = state.work().await?;
    let now = work.now();
    let found = one_time::find(&mut work, token, &[Purpose::VerifyEmail], now)
        .await?
        .ok_or_else(bad_token)?;
    let user_id = found.user_id.ok_or_else(bad_token)?;
    let user = users::service::find(&mut work, user_id)
        .await?
        .ok_or_else(bad_token)?;
    let sent_to: serde_json::Value = serde_json::from_str(&found.data).unwrap_or_default();
    if sent_to["email"] != user.email.as_str()
        || !one_time::consume(&mut work, &found.id, now).await?
    {
        return Err(bad_token());
    }
    users::service::set_email_verified(&mut work, user_id, now).await?;
    Ok(work.commit().await?)
}

/// Mails a reset link if the account exists (and is not suspended); the
/// caller answers the same either way.
#[tracing::instrument(skip_all)]
pub async fn forgot_password(state: &AppState, email: &Email) -> Result<(), AuthError> {
    let mut work = state.work().await?;
    let user = users::service::find_by_email(&mut work, email).await?;
    let Some(user) = user.filter(|u| u.banned_at.is_none()) else {
        return Ok(());
    };
    let kind = (Purpose::ResetPassword, RESET_TTL, "reset-password");
    mail_link(state, &mut work, (&user, &user.email), kind, "Reset your password", |url| {
        format!("Someone asked to reset the password of your account. To choose a new one, open this link within an hour:\n\n{url}\n\nIf it was not you, ignore this mail; your password stays as it is.\n")
    })
    .await?;
    Ok(work.commit().await?)
}

/// A new password from a reset or invitation link; every session of the
/// account ends, and the address counts as proven (the mail reached it).
#[tracing::instrument(skip_all)]
pub async fn reset_password(
    state: &AppState,
    token: &str,
    password: &Password,
) -> Result<(), AuthError> {
    let hash = state.passwords.hash(password).await?;
    let mut work = state.work().await?;
    let now = work.now();
    let purposes = [Purpose::ResetPassword, Purpose::Invite];
    let found = one_time::find(&mut work, token, &purposes, now)
        .await?
        .ok_or_else(bad_token)?;
    let user_id = found.user_id.ok_or_else(bad_token)?;
    if users::service::find(&mut work, user_id).await?.is_none()
        || !one_time::consume(&mut work, &found.id, now).await?
    {
        return Err(bad_token());
    }
    one_time::retire(&mut work, user_id, &purposes, now).await?;
    users::service::set_password_hash(&mut work, user_id, &hash, now).await?;
    users::service::set_email_verified(&mut work, user_id, now).await?;
    users::service::reset_failed_logins(&mut work, user_id, None).await?;
    end_all_sessions(state, &mut work, user_id, None, "password_reset").await?;
    work.commit().await?;
    tracing::info!(user_id = %user_id, "password reset");
    Ok(())
}

/// A new password, knowing the current one; the account's other sessions end.
#[tracing::instrument(skip_all)]
pub async fn change_password(
    state: &AppState,
    me: AuthUser,
    current: &str,
    new: &Password,
) -> Result<(), AuthError> {
    confirm_password(state, me.user_id, current, "current_password").await?;
    let hash = state.passwords.hash(new).await?;
    let mut work = state.work().await?;
    let now = work.now();
    users::service::set_password_hash(&mut work, me.user_id, &hash, now).await?;
    let keep = Some(me.session_id);
    end_all_sessions(state, &mut work, me.user_id, keep, "password_change").await?;
    Ok(work.commit().await?)
}

/// Mails a confirmation link to the new address, once the password confirms
/// it is the owner asking.
#[tracing::instrument(skip_all)]
pub async fn request_email_change(
    state: &AppState,
    me: AuthUser,
    new: &Email,
    password: &str,
) -> Result<(), AuthError> {
    confirm_password(state, me.user_id, password, "password").await?;
    let mut work = state.work().await?;
    if users::service::email_taken(&mut work, new).await? {
        return Err(AuthError::EmailTaken { field: "new_email" });
    }
    let user = users::service::find(&mut work, me.user_id)
        .await?
        .ok_or(AuthError::UserNotFound)?;
    let kind = (Purpose::ChangeEmail, CHANGE_TTL, "confirm-email");
    let subject = "Confirm your new email address";
    mail_link(state, &mut work, (&user, new), kind, subject, |url| {
        format!("To make this the address of your account, open this link within 24 hours:\n\n{url}\n\nIf you did not ask for this, ignore this mail.\n")
    })
    .await?;
    Ok(work.commit().await?)
}

/// The link's token moves the account to the new address; the old one is told.
#[tracing::instrument(skip_all)]
pub async fn confirm_email_change(state: &AppState, token: &str) -> Result<(), AuthError> {
    let mut work = state.work().await?;
    let now = work.now();
    let found = one_time::find(&mut work, token, &[Purpose::ChangeEmail], now)
        .await?
        .ok_or_else(bad_token)?;
    let user_id = found.user_id.ok_or_else(bad_token)?;
    let old = users::service::find(&mut work, user_id)
        .await?
        .ok_or_else(bad_token)?;
    let data: serde_json::Value = serde_json::from_str(&found.data).unwrap_or_default();
    let new = data["email"]
        .as_str()
        .and_then(|e| Email::parse(e).ok())
        .ok_or_else(bad_token)?;
    if !one_time::consume(&mut work, &found.id, now).await? {
        return Err(bad_token());
    }
    if let Err(e) = users::service::set_email(&mut work, user_id, &new, now).await {
        return Err(if unique_violation(&e).is_some() {
            AuthError::EmailTaken { field: "new_email" }
        } else {
            e.into()
        });
    }
    let notice = Mail {
        to: old.email.to_string(),
        subject: "Your email address was changed".into(),
        text: format!(
            "The address of your account is now {new}. If you did not do this, reset your password and contact support.\n"
        ),
        ..Mail::default()
    };
    mail::queue(&mut work, notice).await?;
    work.commit().await?;
    tracing::info!(user_id = %user_id, "email address changed");
    Ok(())
}

/// Confirms a signed-in user's password before a sensitive change; a wrong
/// one is an error on `field` (the token itself is fine).
#[tracing::instrument(level = "debug", skip_all)]
pub(crate) async fn confirm_password(
    state: &AppState,
    user: UserId,
    password: &str,
    field: &'static str,
) -> Result<(), AuthError> {
    let hash = {
        let mut conn = state.db.fresh().acquire().await?;
        users::service::password_hash(&mut conn, user).await?
    };
    let ok = match hash {
        Some(hash) => state.passwords.verify(password, &hash).await?,
        None => state.passwords.verify_nothing(password).await?,
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(field, "wrong password"))
    }
}
