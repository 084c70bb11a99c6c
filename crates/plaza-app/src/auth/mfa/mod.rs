//! Second factors (seed 004's codes by email, authenticator apps, recovery
//! codes) and the two-step sign-in they bring: a correct password yields an
//! MFA challenge, and a code for one of the account's factors completes it.

pub mod handlers;
mod store;
pub mod totp;

use std::time::Duration;

use plaza_core::{Timestamp, UserId};
use plaza_platform::mail::Mail;
use serde_json::json;
use sqlx::AnyConnection;

use super::one_time::{self, Purpose};
use crate::http::ApiError;
use crate::state::AppState;
use plaza_platform::secret::{random_digits, token_hash};

/// How long a sign-in challenge (and an email code) lives.
pub const CHALLENGE_TTL: Duration = Duration::from_secs(10 * 60);
/// Wrong codes a challenge takes before it is void.
pub const MAX_ATTEMPTS: i64 = 5;
const RECOVERY_CODES: usize = 10;

pub use store::{clear as forget, methods};

/// The factors `user` has on (`totp`, `email`).
pub async fn enabled_methods(state: &AppState, user: UserId) -> Result<Vec<String>, sqlx::Error> {
    let mut conn = state.db.fresh().acquire().await?;
    store::methods(&mut conn, user).await
}

/// The enabled factors of each of `users` (a page of them), in one query.
pub async fn enabled_methods_of(
    state: &AppState,
    users: &[UserId],
) -> Result<std::collections::HashMap<UserId, Vec<String>>, sqlx::Error> {
    let mut conn = state.db.fresh().acquire().await?;
    store::methods_of(&mut conn, users).await
}

/// Ten fresh recovery codes (shown once; stored hashed), replacing any old ones.
pub async fn new_recovery_codes(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<Vec<String>, ApiError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let mut bytes = [0u8; 10];
        getrandom::fill(&mut bytes)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("random: {e}")))?;
        let chars: String = bytes
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
            .collect();
        codes.push(format!("{}-{}", &chars[..5], &chars[5..]));
    }
    let hashes: Vec<String> = codes.iter().map(|c| token_hash(c)).collect();
    store::replace_recovery_codes(conn, user, &hashes).await?;
    Ok(codes)
}

fn normalise_recovery(code: &str) -> String {
    code.trim().to_lowercase()
}

/// Checks `code` for `method` of `user`: a TOTP code (each step once), a
/// recovery code (each once), or the email code held in `challenge`.
pub async fn verify_code(
    state: &AppState,
    conn: &mut AnyConnection,
    user: UserId,
    method: &str,
    code: &str,
    challenge: Option<&one_time::Found>,
) -> Result<bool, ApiError> {
    let now = state.clock.now();
    match method {
        "totp" => {
            let Some(row) = store::totp(conn, user)
                .await?
                .filter(|r| r.enabled_at.is_some())
            else {
                return Ok(false);
            };
            let seconds = u64::try_from(now.unix_seconds()).unwrap_or(0);
            match totp::check(&row.secret, code, seconds) {
                Some(step) => {
                    Ok(
                        store::use_step(conn, user, i64::try_from(step).unwrap_or(i64::MAX))
                            .await?,
                    )
                }
                None => Ok(false),
            }
        }
        "recovery" => {
            Ok(
                store::use_recovery_code(conn, user, &token_hash(&normalise_recovery(code)), now)
                    .await?,
            )
        }
        "email" => {
            let Some(challenge) = challenge else {
                return Ok(false);
            };
            let data: serde_json::Value = serde_json::from_str(&challenge.data).unwrap_or_default();
            let expected = data["email_code"].as_str().unwrap_or_default();
            let sent_until: Option<Timestamp> = data["email_code_expires"]
                .as_str()
                .and_then(|s| s.parse().ok());
            let fresh = sent_until.is_some_and(|t| t > now);
            Ok(fresh
                && !expected.is_empty()
                && expected == email_code_hash(&challenge.id, code.trim()))
        }
        _ => Ok(false),
    }
}

fn email_code_hash(challenge_id: &str, code: &str) -> String {
    token_hash(&format!("{challenge_id}:{code}"))
}

/// Starts the second step of a sign-in: a challenge token naming the
/// factors; with email the only factor, the code is mailed at once.
pub async fn begin_challenge(
    state: &AppState,
    user: UserId,
    methods: &[String],
) -> Result<String, ApiError> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let token = one_time::issue(
        &mut tx,
        Some(user),
        Purpose::MfaLogin,
        &json!({"methods": methods}),
        now,
        CHALLENGE_TTL,
    )
    .await?;
    tx.commit().await?;
    if methods == ["email"] {
        send_email_code(state, &token).await?;
    }
    Ok(token)
}

/// Mails a fresh 6-digit code for the challenge `token` (replacing the last).
pub async fn send_email_code(state: &AppState, token: &str) -> Result<(), ApiError> {
    let now = state.clock.now();
    let mut tx = state.work().await?;
    let found = one_time::find(&mut tx, token, &[Purpose::MfaLogin], now)
        .await?
        .ok_or_else(invalid_challenge)?;
    let user_id = found.user_id.ok_or_else(invalid_challenge)?;
    let methods = store::methods(&mut tx, user_id).await?;
    if !methods.iter().any(|m| m == "email") {
        return Err(ApiError::invalid_field(
            "method",
            "email codes are not on for this account",
        ));
    }
    let user = crate::users::store::find(&mut tx, user_id)
        .await?
        .ok_or_else(invalid_challenge)?;
    let code = random_digits(6).map_err(|e| ApiError::internal(anyhow::anyhow!("random: {e}")))?;
    let data = json!({
        "methods": methods,
        "email_code": email_code_hash(&found.id, &code),
        "email_code_expires": now.saturating_add(CHALLENGE_TTL),
    });
    sqlx::query("UPDATE one_time_tokens SET data = $2 WHERE id = $1")
        .bind(&found.id)
        .bind(data.to_string())
        .execute(&mut *tx)
        .await?;
    let mail = Mail {
        to: user.email.to_string(),
        subject: format!("Your sign-in code: {code}"),
        text: format!(
            "Your plaza sign-in code is {code}. It works once, for 10 minutes.\n\nIf you did not try to sign in, change your password.\n"
        ),
        html: None,
    };
    crate::notifications::mail::queue(&mut tx, mail).await?;
    tx.commit().await?;
    Ok(())
}

pub fn invalid_challenge() -> ApiError {
    ApiError::unauthenticated("the MFA token is invalid or expired; sign in again")
}
