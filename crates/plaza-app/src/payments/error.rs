//! What can go wrong in payments; `http/error/map.rs` gives each its code.

use plaza_core::{Currency, MoneyError};

use super::payment::Status;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("an entry needs two or more postings")]
    TooFewPostings,
    #[error("a posting of zero moves nothing")]
    ZeroPosting,
    #[error("one account is posted to twice in an entry")]
    RepeatedAccount,
    #[error("a {0} account cannot take an amount in {1}")]
    WrongCurrency(Currency, Currency),
    #[error("the postings in {0} add up to {1}, not zero")]
    Unbalanced(Currency, String),
    #[error(transparent)]
    Money(#[from] MoneyError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// What payments' use cases refuse.
#[derive(Debug, thiserror::Error)]
pub enum PaymentsError {
    /// Also for another user's payment.
    #[error("no such payment")]
    NotFound,
    #[error("no such project")]
    ProjectNotFound,
    #[error("this project has no escrow")]
    NoEscrow,
    /// A deal that cannot be funded (or closed) as asked.
    #[error("{0}")]
    NoDeal(&'static str),
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("the payment provider `{0}` is not configured here")]
    ProviderOff(String),
    /// The provider could not be reached or answered with an error.
    #[error("the payment provider did not take the request: {0}")]
    Provider(String),
    #[error("only {0}")]
    Forbidden(&'static str),
    #[error("the payment is {0}; {1}")]
    WrongStatus(Status, &'static str),
    #[error("a refund of {asked} is more than the {left} left to refund")]
    TooMuch { asked: String, left: String },
    #[error("the wallet holds {held}, less than the {asked} to take back")]
    InsufficientFunds { held: String, asked: String },
    /// An Idempotency-Key used before with another request.
    #[error("this Idempotency-Key was used with a different request")]
    KeyReused,
    /// An Idempotency-Key whose first request is still being answered.
    #[error("a request with this Idempotency-Key is still in progress")]
    KeyInProgress,
    /// Someone else changed the payment between read and write.
    #[error("the payment changed meanwhile; try again")]
    Changed,
    #[error(transparent)]
    Webhook(#[from] WebhookError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<MoneyError> for PaymentsError {
    fn from(e: MoneyError) -> Self {
        Self::Ledger(e.into())
    }
}

/// Why a webhook is refused: answered 400 and logged as a security event
/// (all but `Malformed`).
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("the webhook's signature is missing")]
    Unsigned,
    #[error("the webhook's signature does not match")]
    BadSignature,
    #[error("the webhook was signed {0}s ago, longer than the tolerance allows")]
    Stale(i64),
    #[error("the webhook's body is not what the provider sends: {0}")]
    Malformed(String),
    #[error("payments through `{0}` are not configured here")]
    Off(&'static str),
}

/// A field that is wrong.
pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> PaymentsError {
    PaymentsError::Invalid {
        field,
        reason: reason.into(),
    }
}
