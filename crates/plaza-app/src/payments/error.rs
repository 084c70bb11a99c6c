//! What can go wrong in payments.

use plaza_core::{Currency, MoneyError};

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
