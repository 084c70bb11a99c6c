//! The ledger's SQL.

use plaza_core::{AccountId, Currency, EntryId, Money, Timestamp};
use sqlx::AnyConnection;

use super::model::{Account, AccountKind, Entry, Report};

/// Inserts the entry; false when its cause (`kind`, `reference`) has one.
pub async fn insert_entry(
    conn: &mut AnyConnection,
    id: EntryId,
    entry: &Entry,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO ledger_entries (id, kind, reference, memo, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, reference) DO NOTHING",
    )
    .bind(id)
    .bind(&entry.kind)
    .bind(&entry.reference)
    .bind(&entry.memo)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn entry_of(
    conn: &mut AnyConnection,
    kind: &str,
    reference: &str,
) -> Result<Option<EntryId>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM ledger_entries WHERE kind = $1 AND reference = $2")
        .bind(kind)
        .bind(reference)
        .fetch_optional(&mut *conn)
        .await
}

/// The account's id, made if it is new. Accounts are never changed, so
/// the common case is one read; a new one is inserted (racing inserts
/// agree through the unique key) and read back.
pub async fn account(
    conn: &mut AnyConnection,
    account: &Account,
    now: Timestamp,
) -> Result<AccountId, sqlx::Error> {
    if let Some(id) = find_account(conn, account).await? {
        return Ok(id);
    }
    sqlx::query(
        "INSERT INTO ledger_accounts (id, kind, owner, currency, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, owner, currency) DO NOTHING",
    )
    .bind(AccountId::new())
    .bind(account.kind.as_str())
    .bind(&account.owner)
    .bind(&account.currency)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    find_account(conn, account)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

async fn find_account(
    conn: &mut AnyConnection,
    account: &Account,
) -> Result<Option<AccountId>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM ledger_accounts WHERE kind = $1 AND owner = $2 AND currency = $3",
    )
    .bind(account.kind.as_str())
    .bind(&account.owner)
    .bind(&account.currency)
    .fetch_optional(&mut *conn)
    .await
}

pub async fn insert_posting(
    conn: &mut AnyConnection,
    entry: EntryId,
    account: AccountId,
    amount: &Money,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ledger_postings (entry_id, account_id, amount, currency) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(entry)
    .bind(account)
    .bind(amount.minor)
    .bind(&amount.currency)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn balance(conn: &mut AnyConnection, account: &Account) -> Result<i64, sqlx::Error> {
    // PostgreSQL sums BIGINT to NUMERIC; the cast keeps one decoding path.
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(p.amount), 0) AS BIGINT) FROM ledger_postings p \
         JOIN ledger_accounts a ON a.id = p.account_id \
         WHERE a.kind = $1 AND a.owner = $2 AND a.currency = $3",
    )
    .bind(account.kind.as_str())
    .bind(&account.owner)
    .bind(&account.currency)
    .fetch_one(&mut *conn)
    .await
}

pub async fn balances(
    conn: &mut AnyConnection,
    kind: AccountKind,
    owner: &str,
) -> Result<Vec<Money>, sqlx::Error> {
    let rows: Vec<(Currency, i64)> = sqlx::query_as(
        "SELECT a.currency, CAST(COALESCE(SUM(p.amount), 0) AS BIGINT) FROM ledger_accounts a \
         LEFT JOIN ledger_postings p ON p.account_id = a.id \
         WHERE a.kind = $1 AND a.owner = $2 GROUP BY a.currency ORDER BY a.currency",
    )
    .bind(kind.as_str())
    .bind(owner)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(currency, minor)| Money::new(minor, currency))
        .collect())
}

pub async fn totals(conn: &mut AnyConnection) -> Result<Vec<(AccountKind, Money)>, sqlx::Error> {
    let rows: Vec<(String, Currency, i64)> = sqlx::query_as(
        "SELECT a.kind, a.currency, CAST(COALESCE(SUM(p.amount), 0) AS BIGINT) \
         FROM ledger_accounts a LEFT JOIN ledger_postings p ON p.account_id = a.id \
         GROUP BY a.kind, a.currency ORDER BY a.currency, a.kind",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(kind, currency, minor)| {
            AccountKind::parse(&kind).map(|k| (k, Money::new(minor, currency)))
        })
        .collect())
}

pub async fn check(conn: &mut AnyConnection) -> Result<Report, sqlx::Error> {
    let entries = sqlx::query_scalar("SELECT COUNT(*) FROM ledger_entries")
        .fetch_one(&mut *conn)
        .await?;
    let postings = sqlx::query_scalar("SELECT COUNT(*) FROM ledger_postings")
        .fetch_one(&mut *conn)
        .await?;
    let unbalanced = sqlx::query_scalar(
        "SELECT DISTINCT entry_id FROM ledger_postings GROUP BY entry_id, currency \
         HAVING SUM(amount) <> 0 ORDER BY entry_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let incomplete = sqlx::query_scalar(
        "SELECT e.id FROM ledger_entries e LEFT JOIN ledger_postings p ON p.entry_id = e.id \
         GROUP BY e.id HAVING COUNT(p.entry_id) < 2 ORDER BY e.id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mixed = sqlx::query_scalar(
        "SELECT DISTINCT p.entry_id FROM ledger_postings p \
         JOIN ledger_accounts a ON a.id = p.account_id \
         WHERE a.currency <> p.currency ORDER BY p.entry_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(Report {
        entries,
        postings,
        unbalanced,
        incomplete,
        mixed,
    })
}
