//! The double-entry ledger. Money moves only as journal entries: each has
//! two or more postings to accounts, signed amounts that sum to zero per
//! currency, written in the caller's unit of work together with the change
//! that caused it. An entry is unique by its cause (`kind`, `reference`),
//! so a cause reported twice (a webhook retried, two nodes racing) moves
//! money once. Balances are sums of postings; nothing edits one.

use plaza_core::{EntryId, Money, Timestamp};
use sqlx::AnyConnection;

pub use super::error::LedgerError;
pub use model::{Account, AccountKind, Entry, Posted, Report};

mod model;
mod store;

/// Writes `entry` on `conn` (the caller's unit of work), unless its cause
/// was written before.
pub async fn post(
    conn: &mut AnyConnection,
    now: Timestamp,
    entry: &Entry,
) -> Result<Posted, LedgerError> {
    entry.check()?;
    let id = EntryId::new();
    if !store::insert_entry(conn, id, entry, now).await? {
        let found = store::entry_of(conn, &entry.kind, &entry.reference).await?;
        return Ok(Posted::Already(found.ok_or(sqlx::Error::RowNotFound)?));
    }
    for (account, amount) in &entry.postings {
        let account_id = store::account(conn, account, now).await?;
        store::insert_posting(conn, id, account_id, amount).await?;
    }
    Ok(Posted::New(id))
}

/// An account's balance: the sum of its postings (zero if it has none).
pub async fn balance(conn: &mut AnyConnection, account: &Account) -> Result<Money, LedgerError> {
    let minor = store::balance(conn, account).await?;
    Ok(Money::new(minor, account.currency.clone()))
}

/// The balances of every account of `kind` that `owner` has, by currency
/// (a user's wallet in each currency it ever held).
pub async fn balances(
    conn: &mut AnyConnection,
    kind: AccountKind,
    owner: &str,
) -> Result<Vec<Money>, LedgerError> {
    Ok(store::balances(conn, kind, owner).await?)
}

/// Every account kind's total by currency.
pub async fn totals(conn: &mut AnyConnection) -> Result<Vec<(AccountKind, Money)>, LedgerError> {
    Ok(store::totals(conn).await?)
}

/// Checks the ledger's invariants over every entry.
pub async fn check(conn: &mut AnyConnection) -> Result<Report, LedgerError> {
    Ok(store::check(conn).await?)
}
