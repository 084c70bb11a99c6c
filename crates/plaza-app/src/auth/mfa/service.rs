//! Second factors' use cases: turning each on and off, recovery codes, and
//! the second step of a sign-in — a challenge naming the factors, a code by
//! email when that is one of them, and the code that completes it.

use std::time::Duration;

use plaza_core::{Timestamp, UserId};
use plaza_platform::Work;
use plaza_platform::mail::Mail;
use plaza_platform::seal::Sealer;
use plaza_platform::secret::{random_digits, token_hash};
use serde_json::json;
use sqlx::AnyConnection;

pub use super::factors::{factors, factors_of, forget};
use super::{store, totp};
use crate::auth::error::{AuthError, invalid};
use crate::auth::one_time::{self, Found, Purpose};
use crate::auth::recovery::service::confirm_password;
use crate::auth::sessions::{Client, Issued, end_all_sessions, open_and_issue};
use crate::http::AuthUser;
use crate::state::AppState;
use crate::users::{self, User};

/// How long a sign-in challenge (and an email code) lives.
pub const CHALLENGE_TTL: Duration = Duration::from_secs(10 * 60);
/// Wrong codes a challenge takes before it is void.
pub const MAX_ATTEMPTS: i64 = 5;
const RECOVERY_CODES: usize = 10;

/// A pending authenticator: its secret, for the app, and as a QR URL.
#[derive(Debug)]
pub struct TotpSetup {
    pub secret: String,
    pub otpauth_url: String,
}

/// Factors on after a change, and fresh recovery codes when made now.
#[derive(Debug)]
pub struct Enabled {
    pub two_factor: Vec<String>,
    pub recovery_codes: Option<Vec<String>>,
}

/// A new authenticator secret, on once confirmed with a code.
#[tracing::instrument(skip(state))]
pub async fn setup_totp(state: &AppState, me: AuthUser) -> Result<TotpSetup, AuthError> {
    let mut work = state.work().await?;
    let user = users::service::find(&mut work, me.user_id)
        .await?
        .ok_or(AuthError::UserNotFound)?;
    if store::totp(&mut work, me.user_id)
        .await?
        .is_some_and(|r| r.enabled_at.is_some())
    {
        return Err(AuthError::MfaAlreadyOn(
            "an authenticator is already on; disable it first",
        ));
    }
    let secret = totp::new_secret()?;
    let otpauth_url = totp::otpauth_url(&secret, user.email.as_str())
        .ok_or_else(|| anyhow::anyhow!("cannot build an otpauth URL"))?;
    let now = work.now();
    let sealed = sealer(state)
        .await?
        .seal(&secret, &totp_context(me.user_id))
        .map_err(anyhow::Error::from)?;
    store::set_pending_totp(&mut work, me.user_id, &sealed, now).await?;
    work.commit().await?;
    Ok(TotpSetup {
        secret,
        otpauth_url,
    })
}

/// Confirms the pending secret with a code.
#[tracing::instrument(skip_all)]
pub async fn enable_totp(state: &AppState, me: AuthUser, code: &str) -> Result<Enabled, AuthError> {
    let mut work = state.work().await?;
    let row = match store::totp(&mut work, me.user_id).await? {
        Some(row) if row.enabled_at.is_none() => row,
        Some(_) => return Err(AuthError::MfaAlreadyOn("the authenticator is already on")),
        None => return Err(AuthError::MfaNoSetup),
    };
    let now = work.now();
    let secret = open_secret(state, me.user_id, &row.secret).await?;
    let step = totp::check(&secret, code, unix_seconds(now))
        .ok_or_else(|| invalid("code", "wrong or expired code"))?;
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    store::enable_totp(&mut work, me.user_id, step, now).await?;
    let enabled = finish_enable(&mut work, me.user_id).await?;
    work.commit().await?;
    Ok(enabled)
}

/// Sign-in codes by email, after the password (a verified address is needed).
#[tracing::instrument(skip_all)]
pub async fn enable_email(
    state: &AppState,
    me: AuthUser,
    password: &str,
) -> Result<Enabled, AuthError> {
    confirm_password(state, me.user_id, password, "password").await?;
    let mut work = state.work().await?;
    let user = users::service::find(&mut work, me.user_id)
        .await?
        .ok_or(AuthError::UserNotFound)?;
    if !user.email_verified {
        return Err(AuthError::EmailUnverified);
    }
    store::set_email_factor(&mut work, me.user_id, true).await?;
    let enabled = finish_enable(&mut work, me.user_id).await?;
    work.commit().await?;
    Ok(enabled)
}

async fn finish_enable(work: &mut Work<'_>, user: UserId) -> Result<Enabled, AuthError> {
    let recovery_codes = if store::has_recovery_codes(work, user).await? {
        None
    } else {
        Some(new_recovery_codes(work, user).await?)
    };
    Ok(Enabled {
        two_factor: store::methods(work, user).await?,
        recovery_codes,
    })
}

/// Every factor off, after the password and a code; the account's other
/// sessions end.
#[tracing::instrument(skip_all)]
pub async fn disable(
    state: &AppState,
    me: AuthUser,
    password: &str,
    code: &str,
) -> Result<(), AuthError> {
    confirm_password(state, me.user_id, password, "password").await?;
    let mut work = state.work().await?;
    if store::methods(&mut work, me.user_id).await?.is_empty() {
        return Err(AuthError::MfaOff);
    }
    let now = work.now();
    let who = (me.user_id, now);
    let ok = verify_code(state, &mut work, who, "totp", code, None).await?
        || verify_code(state, &mut work, who, "recovery", code, None).await?;
    if !ok {
        return Err(invalid(
            "code",
            "wrong code; give an authenticator or recovery code",
        ));
    }
    store::clear(&mut work, me.user_id).await?;
    let keep = Some(me.session_id);
    end_all_sessions(state, &mut work, me.user_id, keep, "2fa_disabled").await?;
    Ok(work.commit().await?)
}

/// Ten new recovery codes, after the password; the old ones stop working.
#[tracing::instrument(skip_all)]
pub async fn regenerate_recovery_codes(
    state: &AppState,
    me: AuthUser,
    password: &str,
) -> Result<Enabled, AuthError> {
    confirm_password(state, me.user_id, password, "password").await?;
    let mut work = state.work().await?;
    let methods = store::methods(&mut work, me.user_id).await?;
    if methods.is_empty() {
        return Err(AuthError::MfaOff);
    }
    let codes = new_recovery_codes(&mut work, me.user_id).await?;
    work.commit().await?;
    Ok(Enabled {
        two_factor: methods,
        recovery_codes: Some(codes),
    })
}

/// Starts the second step of `user`'s sign-in: a challenge token naming
/// the factors; with email the only factor, the code is mailed at once.
#[tracing::instrument(level = "debug", skip_all)]
pub(crate) async fn challenge(
    state: &AppState,
    user: &User,
    methods: &[String],
) -> Result<String, AuthError> {
    let mut work = state.work().await?;
    let now = work.now();
    let data = json!({"methods": methods});
    let token = one_time::issue(
        &mut work,
        Some(user.id),
        Purpose::MfaLogin,
        &data,
        now,
        CHALLENGE_TTL,
    )
    .await?;
    if methods == ["email"] {
        mail_code(&mut work, &token).await?;
    }
    work.commit().await?;
    Ok(token)
}

/// Mails (again) a code for the challenge `token`.
#[tracing::instrument(skip_all)]
pub async fn send_code(state: &AppState, token: &str) -> Result<(), AuthError> {
    let mut work = state.work().await?;
    mail_code(&mut work, token).await?;
    Ok(work.commit().await?)
}

/// Mails a fresh 6-digit code for the challenge `token` (replacing the last).
async fn mail_code(work: &mut Work<'_>, token: &str) -> Result<(), AuthError> {
    let now = work.now();
    let found = one_time::find(work, token, &[Purpose::MfaLogin], now)
        .await?
        .ok_or(AuthError::ChallengeInvalid)?;
    let user_id = found.user_id.ok_or(AuthError::ChallengeInvalid)?;
    let methods = store::methods(work, user_id).await?;
    if !methods.iter().any(|m| m == "email") {
        return Err(invalid("method", "email codes are not on for this account"));
    }
    let user = users::service::find(work, user_id)
        .await?
        .ok_or(AuthError::ChallengeInvalid)?;
    let code = random_digits(6)?;
    let data = json!({
        "methods": methods,
        "email_code": email_code_hash(&found.id, &code),
        "email_code_expires": now.saturating_add(CHALLENGE_TTL),
    });
    one_time::set_data(work, &found.id, &data).await?;
    let mail = Mail {
        to: user.email.to_string(),
        subject: format!("Your sign-in code: {code}"),
        text: format!(
            "Your plaza sign-in code is {code}. It works once, for 10 minutes.\n\nIf you did not try to sign in, change your password.\n"
        ),
        ..Mail::default()
    };
    crate::notifications::mail::queue(work, mail).await?;
    Ok(())
}

/// Completes a sign-in with a code for one of the challenge's factors.
#[tracing::instrument(skip_all, fields(method))]
pub async fn finish(
    state: &AppState,
    token: &str,
    method: &str,
    code: &str,
    client: &Client,
) -> Result<Issued, AuthError> {
    if !matches!(method, "totp" | "email" | "recovery") {
        return Err(invalid("method", "one of totp, email, recovery"));
    }
    let mut work = state.work().await?;
    let now = work.now();
    let found = one_time::find(&mut work, token, &[Purpose::MfaLogin], now)
        .await?
        .ok_or(AuthError::ChallengeInvalid)?;
    let user = found.user_id.ok_or(AuthError::ChallengeInvalid)?;
    if !verify_code(state, &mut work, (user, now), method, code, Some(&found)).await? {
        let attempts = one_time::count_attempt(&mut work, &found.id).await?;
        let spent = attempts >= MAX_ATTEMPTS;
        if spent {
            one_time::consume(&mut work, &found.id, now).await?;
        }
        work.commit().await?;
        return Err(AuthError::WrongCode { spent });
    }
    if !one_time::consume(&mut work, &found.id, now).await? {
        return Err(AuthError::ChallengeInvalid);
    }
    let account = users::service::find(&mut work, user)
        .await?
        .ok_or(AuthError::InvalidCredentials)?;
    let factors = store::methods(&mut work, user).await?;
    work.commit().await?;
    open_and_issue(state, account, factors, client).await
}

/// Ten fresh recovery codes (shown once; stored hashed), replacing any old ones.
async fn new_recovery_codes(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<Vec<String>, AuthError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let mut bytes = [0u8; 10];
        getrandom::fill(&mut bytes)?;
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

/// The key that seals TOTP secrets in the database.
async fn sealer(state: &AppState) -> Result<&Sealer, sqlx::Error> {
    state
        .auth
        .sealer(&state.db, &state.config.auth, state.clock.now())
        .await
}

/// What a TOTP secret is sealed for: its row, so it opens nowhere else.
fn totp_context(user: UserId) -> String {
    format!("user_totp.secret:{user}")
}

async fn open_secret(state: &AppState, user: UserId, stored: &str) -> Result<String, AuthError> {
    let opened = sealer(state)
        .await?
        .open(stored, &totp_context(user))
        .map_err(|e| anyhow::anyhow!("cannot open the TOTP secret of {user}: {e}"))?;
    Ok(opened.text)
}

/// Seals again each TOTP secret held with an older key or, written before
/// sealing existed, in the clear; run at start, reading only those rows.
/// How many it re-sealed.
pub async fn reseal(state: &AppState) -> Result<usize, AuthError> {
    let sealer = sealer(state).await?;
    let rows = {
        let mut conn = state.db.reader().acquire().await?;
        store::stale_totp(&mut conn, &sealer.sealed_prefix()).await?
    };
    let mut resealed = 0;
    for (user, stored) in rows {
        let context = totp_context(user);
        let opened = sealer
            .open(&stored, &context)
            .map_err(|e| anyhow::anyhow!("cannot open the TOTP secret of {user}: {e}"))?;
        let sealed = sealer
            .seal(&opened.text, &context)
            .map_err(anyhow::Error::from)?;
        let mut work = state.work().await?;
        // Unless it changed meanwhile (set up again, or another node).
        if store::replace_secret(&mut work, user, &stored, &sealed).await? {
            resealed += 1;
        }
        work.commit().await?;
    }
    Ok(resealed)
}

fn unix_seconds(now: Timestamp) -> u64 {
    u64::try_from(now.unix_seconds()).unwrap_or(0)
}

/// Checks `code` for `method` of `user` at `now`: a TOTP code (each step
/// once), a recovery code (each once), or the email code held in `challenge`.
async fn verify_code(
    state: &AppState,
    conn: &mut AnyConnection,
    (user, now): (UserId, Timestamp),
    method: &str,
    code: &str,
    challenge: Option<&Found>,
) -> Result<bool, AuthError> {
    match method {
        "totp" => {
            let Some(row) = store::totp(conn, user)
                .await?
                .filter(|r| r.enabled_at.is_some())
            else {
                return Ok(false);
            };
            let secret = open_secret(state, user, &row.secret).await?;
            match totp::check(&secret, code, unix_seconds(now)) {
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
            let hash = token_hash(&code.trim().to_lowercase());
            Ok(store::use_recovery_code(conn, user, &hash, now).await?)
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
