//! Seed 004's transactions' SQL: the user-facing rows of money moved.

use plaza_core::{Currency, EntryId, PaymentId, Timestamp, TransactionId, UserId};
use sqlx::AnyConnection;

use super::payment::{Kind, Payment, Status, Transaction};

macro_rules! transaction_columns {
    () => {
        "id, user_id, kind, amount, currency, status, provider, provider_ref, payment_id, \
         created_at, updated_at"
    };
}

#[derive(sqlx::FromRow)]
struct TransactionRow {
    id: TransactionId,
    user_id: UserId,
    kind: String,
    amount: i64,
    currency: Currency,
    status: String,
    provider: String,
    provider_ref: Option<String>,
    payment_id: Option<PaymentId>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<TransactionRow> for Transaction {
    fn from(r: TransactionRow) -> Self {
        Self {
            id: r.id,
            user_id: r.user_id,
            kind: Kind::parse(&r.kind).unwrap_or(Kind::TopUp),
            amount: r.amount,
            currency: r.currency,
            status: Status::parse(&r.status).unwrap_or(Status::Failed),
            provider: r.provider,
            provider_ref: r.provider_ref,
            payment_id: r.payment_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub async fn insert_transaction(
    conn: &mut AnyConnection,
    t: &Transaction,
    entry: Option<EntryId>,
) -> Result<(), sqlx::Error> {
    sqlx::query(concat!(
        "INSERT INTO transactions (",
        transaction_columns!(),
        ", entry_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    ))
    .bind(t.id)
    .bind(t.user_id)
    .bind(t.kind.as_str())
    .bind(t.amount)
    .bind(&t.currency)
    .bind(t.status.as_str())
    .bind(&t.provider)
    .bind(&t.provider_ref)
    .bind(t.payment_id)
    .bind(t.created_at)
    .bind(t.updated_at)
    .bind(entry)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The payment's own transaction follows its status (and its ledger
/// entry, once money moved).
pub async fn mirror_payment(
    conn: &mut AnyConnection,
    payment: &Payment,
    entry: Option<EntryId>,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE transactions SET status = $2, provider_ref = $3, \
         entry_id = COALESCE(entry_id, $4), updated_at = $5 \
         WHERE payment_id = $1 AND kind <> 'refund' AND kind <> 'payout'",
    )
    .bind(payment.id)
    .bind(payment.status.as_str())
    .bind(&payment.provider_ref)
    .bind(entry)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn find_transaction(
    conn: &mut AnyConnection,
    id: TransactionId,
) -> Result<Option<Transaction>, sqlx::Error> {
    let row: Option<TransactionRow> = sqlx::query_as(concat!(
        "SELECT ",
        transaction_columns!(),
        " FROM transactions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(Transaction::from))
}

/// Moves a refund transaction from pending; false when it was not pending.
pub async fn settle_transaction(
    conn: &mut AnyConnection,
    id: TransactionId,
    to: Status,
    entry: Option<EntryId>,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE transactions SET status = $2, entry_id = COALESCE(entry_id, $3), \
         updated_at = $4 WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(to.as_str())
    .bind(entry)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Which transactions a listing shows.
#[derive(Debug, Default)]
pub struct Filter {
    /// One user's; `None` for everyone's (admins).
    pub user: Option<UserId>,
    pub kind: Option<Kind>,
    pub status: Option<Status>,
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub provider: Option<String>,
    /// A transaction, payment or provider id, exactly.
    pub reference: Option<String>,
}

/// Newest first: a page of `limit` after `offset`, and the total.
pub async fn list_transactions(
    conn: &mut AnyConnection,
    filter: &Filter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Transaction>, i64), sqlx::Error> {
    let mut clauses = Vec::new();
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    if filter.user.is_some() {
        clauses.push(format!("user_id = ${}", next()));
    }
    if filter.kind.is_some() {
        clauses.push(format!("kind = ${}", next()));
    }
    if filter.status.is_some() {
        clauses.push(format!("status = ${}", next()));
    }
    if filter.from.is_some() {
        clauses.push(format!("created_at >= ${}", next()));
    }
    if filter.until.is_some() {
        clauses.push(format!("created_at < ${}", next()));
    }
    if filter.provider.is_some() {
        clauses.push(format!("provider = ${}", next()));
    }
    if filter.reference.is_some() {
        let i = next();
        clauses.push(format!(
            "(id = ${i} OR payment_id = ${i} OR provider_ref = ${i})"
        ));
    }
    let filter_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    let page_sql = format!(
        "SELECT {} FROM transactions{filter_sql} ORDER BY created_at DESC, id DESC \
         LIMIT ${} OFFSET ${}",
        transaction_columns!(),
        n + 1,
        n + 2
    );
    let count_sql = format!("SELECT COUNT(*) FROM transactions{filter_sql}");
    macro_rules! bind_filter {
        ($q:expr) => {{
            let mut q = $q;
            if let Some(user) = filter.user {
                q = q.bind(user);
            }
            if let Some(kind) = filter.kind {
                q = q.bind(kind.as_str());
            }
            if let Some(status) = filter.status {
                q = q.bind(status.as_str());
            }
            if let Some(from) = filter.from {
                q = q.bind(from);
            }
            if let Some(until) = filter.until {
                q = q.bind(until);
            }
            if let Some(provider) = &filter.provider {
                q = q.bind(provider.clone());
            }
            if let Some(reference) = &filter.reference {
                q = q.bind(reference.clone());
            }
            q
        }};
    }
    let rows: Vec<TransactionRow> = bind_filter!(sqlx::query_as(sqlx::AssertSqlSafe(page_sql)))
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await?;
    let total: i64 = bind_filter!(sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql)))
        .fetch_one(&mut *conn)
        .await?;
    Ok((rows.into_iter().map(Transaction::from).collect(), total))
}
