//! Payments' SQL: payments and their provider events. (Transactions' is
//! `transaction_store.rs`, the ledger's `ledger/store.rs`, escrows'
//! `escrow/mod.rs`'s.)

use plaza_core::{Currency, PaymentId, Timestamp, UserId};
use sqlx::AnyConnection;

use super::payment::{Payment, Purpose, Status};

macro_rules! payment_columns {
    () => {
        "id, user_id, purpose, reference, amount, currency, refunded, status, provider, \
         provider_ref, checkout_url, flag, created_at, updated_at"
    };
}

#[derive(sqlx::FromRow)]
struct PaymentRow {
    id: PaymentId,
    user_id: UserId,
    purpose: String,
    reference: Option<String>,
    amount: i64,
    currency: Currency,
    refunded: i64,
    status: String,
    provider: String,
    provider_ref: Option<String>,
    checkout_url: Option<String>,
    flag: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<PaymentRow> for Payment {
    fn from(r: PaymentRow) -> Self {
        Self {
            id: r.id,
            user_id: r.user_id,
            purpose: Purpose::parse(&r.purpose).unwrap_or(Purpose::TopUp),
            reference: r.reference,
            amount: r.amount,
            currency: r.currency,
            refunded: r.refunded,
            status: Status::parse(&r.status).unwrap_or(Status::Failed),
            provider: r.provider,
            provider_ref: r.provider_ref,
            checkout_url: r.checkout_url,
            flag: r.flag,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub async fn insert(conn: &mut AnyConnection, p: &Payment) -> Result<(), sqlx::Error> {
    sqlx::query(concat!(
        "INSERT INTO payments (",
        payment_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    ))
    .bind(p.id)
    .bind(p.user_id)
    .bind(p.purpose.as_str())
    .bind(&p.reference)
    .bind(p.amount)
    .bind(&p.currency)
    .bind(p.refunded)
    .bind(p.status.as_str())
    .bind(&p.provider)
    .bind(&p.provider_ref)
    .bind(&p.checkout_url)
    .bind(&p.flag)
    .bind(p.created_at)
    .bind(p.updated_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn find(conn: &mut AnyConnection, id: PaymentId) -> Result<Option<Payment>, sqlx::Error> {
    let row: Option<PaymentRow> = sqlx::query_as(concat!(
        "SELECT ",
        payment_columns!(),
        " FROM payments WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(Payment::from))
}

pub async fn find_by_ref(
    conn: &mut AnyConnection,
    provider: &str,
    provider_ref: &str,
) -> Result<Option<Payment>, sqlx::Error> {
    let row: Option<PaymentRow> = sqlx::query_as(concat!(
        "SELECT ",
        payment_columns!(),
        " FROM payments WHERE provider = $1 AND provider_ref = $2"
    ))
    .bind(provider)
    .bind(provider_ref)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(Payment::from))
}

/// The provider's checkout, once it made one.
pub async fn set_checkout(
    conn: &mut AnyConnection,
    id: PaymentId,
    provider_ref: Option<&str>,
    url: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE payments SET provider_ref = $2, checkout_url = $3, updated_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(provider_ref)
    .bind(url)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Moves the payment from `from` to `to`; false when it was not at `from`
/// (another report moved it first).
pub async fn set_status(
    conn: &mut AnyConnection,
    id: PaymentId,
    from: Status,
    to: Status,
    provider_ref: Option<&str>,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE payments SET status = $3, provider_ref = COALESCE(provider_ref, $4), \
         updated_at = $5 WHERE id = $1 AND status = $2",
    )
    .bind(id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(provider_ref)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Holds the payment for an admin: the first reason stays.
pub async fn set_flag(
    conn: &mut AnyConnection,
    id: PaymentId,
    flag: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE payments SET flag = COALESCE(flag, $2), updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(flag)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Adds `amount` to what was refunded if that leaves it within the
/// payment and the payment is still at `status`; false otherwise.
pub async fn add_refunded(
    conn: &mut AnyConnection,
    id: PaymentId,
    status: Status,
    amount: i64,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE payments SET refunded = refunded + $3, updated_at = $4 \
         WHERE id = $1 AND status = $2 AND refunded + $3 <= amount",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(amount)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Payments still waiting for their provider since before `before`.
pub async fn waiting(
    conn: &mut AnyConnection,
    before: Timestamp,
    limit: i64,
) -> Result<Vec<Payment>, sqlx::Error> {
    let rows: Vec<PaymentRow> = sqlx::query_as(concat!(
        "SELECT ",
        payment_columns!(),
        " FROM payments WHERE status IN ('created', 'pending') AND updated_at < $1 \
         AND flag IS NULL ORDER BY updated_at LIMIT $2"
    ))
    .bind(before)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(Payment::from).collect())
}

/// How many payments are held for an admin.
pub async fn flagged(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM payments WHERE flag IS NOT NULL")
        .fetch_one(&mut *conn)
        .await
}

/// Keeps a provider event; false when it was kept before (a redelivery).
#[allow(clippy::too_many_arguments)]
pub async fn insert_event(
    conn: &mut AnyConnection,
    provider: &str,
    event_id: &str,
    payment: Option<PaymentId>,
    kind: &str,
    outcome: &str,
    amount: Option<&str>,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO payment_events (provider, event_id, payment_id, kind, outcome, amount, \
         received_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (provider, event_id) DO NOTHING",
    )
    .bind(provider)
    .bind(event_id)
    .bind(payment)
    .bind(kind)
    .bind(outcome)
    .bind(amount)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_event_outcome(
    conn: &mut AnyConnection,
    provider: &str,
    event_id: &str,
    payment: Option<PaymentId>,
    outcome: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE payment_events SET outcome = $3, payment_id = COALESCE(payment_id, $4) \
         WHERE provider = $1 AND event_id = $2",
    )
    .bind(provider)
    .bind(event_id)
    .bind(outcome)
    .bind(payment)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
