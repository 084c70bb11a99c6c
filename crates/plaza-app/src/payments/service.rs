//! Payments' use cases: asking for a payment (its checkout at the
//! provider), seeing one, my transactions and my wallet, and the admin's
//! listing and ledger report.

use plaza_core::{Currency, Money, PaymentId, Timestamp, TransactionId, UserId};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{PaymentsError, invalid};
use super::ledger::{self, AccountKind};
use super::payment::{Kind, Payment, Purpose, Status, Transaction, event};
use super::providers::Provider;
pub use super::transaction_store::Filter;
use super::{store, transaction_store};
use crate::http::AuthUser;
use crate::state::AppState;
use plaza_platform::work::Work;

/// The largest amount one payment may ask, in minor units.
pub const MAX_AMOUNT: i64 = 100_000_000_000;

/// A payment to ask for.
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub amount: i64,
    pub currency: Currency,
    pub purpose: Purpose,
    /// The project of an escrow.
    pub reference: Option<String>,
    /// `None`: the configured default.
    pub provider: Option<String>,
}

/// Makes the payment, then its checkout at the provider. A provider that
/// refuses or cannot be reached fails the payment (502); nothing is
/// charged.
#[tracing::instrument(skip(state, new), fields(purpose = new.purpose.as_str()))]
pub async fn create(
    state: &AppState,
    payer: UserId,
    new: NewPayment,
) -> Result<Payment, PaymentsError> {
    let provider = chosen(state, &new)?;
    let mut work = state.work().await?;
    let payment = open(&mut work, payer, new, &provider).await?;
    work.commit().await?;
    checkout(state, &provider, payment).await
}

/// The provider `new` names (or the default), once `new` is valid.
pub(super) fn chosen(state: &AppState, new: &NewPayment) -> Result<Provider, PaymentsError> {
    if new.amount <= 0 {
        return Err(invalid("amount", "a positive number of minor units"));
    }
    if new.amount > MAX_AMOUNT {
        return Err(invalid(
            "amount",
            format!("at most {MAX_AMOUNT} minor units"),
        ));
    }
    let name = new
        .provider
        .as_deref()
        .unwrap_or(&state.config.payments.default_provider);
    if !super::providers::NAMES.contains(&name) {
        return Err(invalid("provider", "sandbox, stripe or cryptomus"));
    }
    Provider::named(state, name)
}

/// Writes a new payment, its transaction and `payment.created` in the
/// caller's unit.
pub(super) async fn open(
    work: &mut Work<'_>,
    payer: UserId,
    new: NewPayment,
    provider: &Provider,
) -> Result<Payment, PaymentsError> {
    let now = work.now();
    let payment = Payment {
        id: PaymentId::new(),
        user_id: payer,
        purpose: new.purpose,
        reference: new.reference,
        amount: new.amount,
        currency: new.currency,
        refunded: 0,
        status: Status::Created,
        provider: provider.name().to_owned(),
        provider_ref: None,
        checkout_url: None,
        flag: None,
        created_at: now,
        updated_at: now,
    };
    store::insert(work, &payment).await?;
    transaction_store::insert_transaction(work, &transaction_of(&payment), None).await?;
    work.record(&event("payment.created", &payment, now))
        .await?;
    Ok(payment)
}

/// Asks the provider for the payment's checkout and keeps it.
pub(super) async fn checkout(
    state: &AppState,
    provider: &Provider,
    mut payment: Payment,
) -> Result<Payment, PaymentsError> {
    match provider.checkout(state, &payment).await {
        Ok(checkout) => {
            let mut work = state.work_one().await?;
            let now = work.now();
            store::set_checkout(
                &mut work,
                payment.id,
                checkout.provider_ref.as_deref(),
                &checkout.url,
                now,
            )
            .await?;
            work.commit().await?;
            payment.provider_ref = checkout.provider_ref;
            payment.checkout_url = Some(checkout.url);
            payment.updated_at = now;
            Ok(payment)
        }
        Err(e) => {
            tracing::warn!(payment_id = %payment.id, provider = %payment.provider, error = %e,
                "the provider did not make a checkout; the payment failed");
            fail(state, &mut payment).await?;
            Err(e)
        }
    }
}

/// A payment whose checkout could not be made.
async fn fail(state: &AppState, payment: &mut Payment) -> Result<(), PaymentsError> {
    let mut work = state.work().await?;
    let now = work.now();
    if store::set_status(
        &mut work,
        payment.id,
        payment.status,
        Status::Failed,
        None,
        now,
    )
    .await?
    {
        payment.status = Status::Failed;
        payment.updated_at = now;
        transaction_store::mirror_payment(&mut work, payment, None, now).await?;
        work.record(&event("payment.failed", payment, now)).await?;
    }
    work.commit().await?;
    Ok(())
}

/// The payment's own transaction.
pub(super) fn transaction_of(payment: &Payment) -> Transaction {
    Transaction {
        id: TransactionId(payment.id.0),
        user_id: payment.user_id,
        kind: Kind::of(payment.purpose),
        amount: payment.amount,
        currency: payment.currency.clone(),
        status: payment.status,
        provider: payment.provider.clone(),
        provider_ref: payment.provider_ref.clone(),
        payment_id: Some(payment.id),
        created_at: payment.created_at,
        updated_at: payment.updated_at,
    }
}

/// A payment, to its payer or an admin.
#[tracing::instrument(skip(state, me))]
pub async fn get(state: &AppState, me: &AuthUser, id: PaymentId) -> Result<Payment, PaymentsError> {
    let mut conn = state.db.fresh().acquire().await?;
    store::find(&mut conn, id)
        .await?
        .filter(|p| p.user_id == me.user_id || me.is_admin())
        .ok_or(PaymentsError::NotFound)
}

/// A page of transactions and how many match.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionPage {
    pub items: Vec<Transaction>,
    pub total: i64,
    pub has_more: bool,
}

/// Transactions matching `filter`, newest first.
#[tracing::instrument(skip(state))]
pub async fn statement(
    state: &AppState,
    filter: &Filter,
    limit: i64,
    offset: i64,
) -> Result<TransactionPage, PaymentsError> {
    if let (Some(from), Some(until)) = (filter.from, filter.until)
        && from >= until
    {
        return Err(invalid("from", "must be before `until`"));
    }
    let mut conn = state.db.reader().acquire().await?;
    let (items, total) =
        transaction_store::list_transactions(&mut conn, filter, limit, offset).await?;
    let has_more = offset + (items.len() as i64) < total;
    Ok(TransactionPage {
        items,
        total,
        has_more,
    })
}

/// One balance of a wallet.
#[derive(Debug, Serialize, ToSchema)]
pub struct Balance {
    #[schema(value_type = String, example = "USD")]
    pub currency: Currency,
    /// Minor units.
    pub amount: i64,
    /// The amount as decimal text in the currency's digits (`"12.50"`).
    pub decimal: String,
}

impl From<Money> for Balance {
    fn from(m: Money) -> Self {
        Self {
            decimal: m.decimal(),
            amount: m.minor,
            currency: m.currency,
        }
    }
}

/// My wallet's balances, one per currency it ever held.
#[tracing::instrument(skip(state))]
pub async fn wallet(state: &AppState, user: UserId) -> Result<Vec<Balance>, PaymentsError> {
    let mut conn = state.db.fresh().acquire().await?;
    let balances = ledger::balances(&mut conn, AccountKind::Wallet, &user.to_string()).await?;
    Ok(balances.into_iter().map(Balance::from).collect())
}

/// The ledger's state for an admin: every account kind's total by
/// currency, and whether the invariants hold.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerReport {
    pub entries: i64,
    pub postings: i64,
    /// Whether every entry balances and no posting is in another currency
    /// than its account's.
    pub holds: bool,
    /// Entries that break the invariants.
    #[schema(value_type = Vec<String>)]
    pub broken: Vec<plaza_core::EntryId>,
    pub totals: Vec<KindTotal>,
    /// Payments held for an admin (amount mismatches).
    pub flagged: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KindTotal {
    /// `wallet`, `revenue`, `clearing` or `escrow`.
    pub kind: String,
    #[schema(value_type = String, example = "USD")]
    pub currency: Currency,
    /// Minor units: the sum of the kind's balances. Over all kinds, each
    /// currency sums to zero.
    pub amount: i64,
}

#[tracing::instrument(skip(state))]
pub async fn ledger_report(state: &AppState) -> Result<LedgerReport, PaymentsError> {
    let mut conn = state.db.fresh().acquire().await?;
    let check = ledger::check(&mut conn).await?;
    let totals = ledger::totals(&mut conn).await?;
    let flagged = store::flagged(&mut conn).await?;
    let mut broken: Vec<_> = check
        .unbalanced
        .iter()
        .chain(&check.incomplete)
        .chain(&check.mixed)
        .copied()
        .collect();
    broken.sort();
    broken.dedup();
    Ok(LedgerReport {
        entries: check.entries,
        postings: check.postings,
        holds: check.holds(),
        broken,
        totals: totals
            .into_iter()
            .map(|(kind, money)| KindTotal {
                kind: kind.as_str().to_owned(),
                currency: money.currency,
                amount: money.minor,
            })
            .collect(),
        flagged,
    })
}

/// The time filter of a listing, from query text.
pub fn instant(
    field: &'static str,
    text: Option<&str>,
) -> Result<Option<Timestamp>, PaymentsError> {
    text.map(|t| {
        t.parse::<Timestamp>()
            .map_err(|_| invalid(field, "an RFC 3339 time such as 2026-12-01T00:00:00Z"))
    })
    .transpose()
}
