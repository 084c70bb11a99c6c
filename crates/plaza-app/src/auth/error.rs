//! Everything signing in, second factors, recovery, social sign-in and the
//! account's life can refuse; `http/error/map.rs` gives each its code.

use std::time::Duration;

use plaza_platform::config::Rate;
use plaza_platform::ratelimit::Decision;

use crate::users::error::CreateUserError;
use crate::users::password::HashError;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid email, username or password")]
    InvalidCredentials,
    /// Over the per-account sign-in budget (every node, every address).
    #[error("too many sign-in attempts for this account")]
    Throttled { decision: Decision, rate: Rate },
    #[error("too many failed sign-ins; try again later")]
    Locked { retry_after: Duration },
    #[error("this account is suspended")]
    Banned,
    #[error("the refresh token is invalid or expired; sign in again")]
    InvalidRefresh,
    #[error("this refresh token was already used; the session has been ended for safety")]
    RefreshReused,
    #[error("no open session of yours by that id")]
    SessionNotFound,
    #[error("no such user")]
    UserNotFound,
    /// An admin acting on their own account where only others' may be changed.
    #[error("{0}")]
    OwnAccount(&'static str),

    #[error("{0}")]
    MfaAlreadyOn(&'static str),
    #[error("start with POST /api/auth/2fa/totp/setup")]
    MfaNoSetup,
    #[error("two-factor sign-in is not on")]
    MfaOff,
    #[error("verify your email address first")]
    EmailUnverified,
    #[error("the MFA token is invalid or expired; sign in again")]
    ChallengeInvalid,
    #[error("{}", if *.spent { "too many wrong codes; sign in again" } else { "wrong or expired code" })]
    WrongCode { spent: bool },

    #[error("this address is already verified")]
    AlreadyVerified,
    #[error("an account with this email already exists")]
    EmailTaken { field: &'static str },

    #[error("social sign-in is turned off on this server")]
    OAuthOff,
    #[error("{0}")]
    NoProvider(String),
    #[error("{0}")]
    ProviderUnavailable(String),
    #[error("the provider did not sign you in: {0}")]
    Declined(String),
    #[error("this sign-in was started in another browser; start again here")]
    OtherBrowser,
    #[error("the sign-in attempt is unknown, used or expired; start again")]
    OAuthStateInvalid,
    #[error("the provider refused the sign-in code; start again")]
    CodeRefused,
    #[error(
        "an account with this email exists; sign in with its password (and verify the address) first"
    )]
    EmailHeld,

    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error(transparent)]
    Create(#[from] CreateUserError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<HashError> for AuthError {
    fn from(e: HashError) -> Self {
        Self::Internal(e.into())
    }
}

impl From<getrandom::Error> for AuthError {
    fn from(e: getrandom::Error) -> Self {
        Self::Internal(anyhow::anyhow!("random: {e}"))
    }
}

/// A field that is wrong.
pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> AuthError {
    AuthError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// A single-use token from a mail that is not (or no longer) good.
pub(crate) fn bad_token() -> AuthError {
    invalid("token", "invalid, used or expired; ask for a new one")
}
