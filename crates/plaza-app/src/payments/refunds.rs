//! Refunds. Asking for one moves the money at once, in one unit of work:
//! the payment's refunded total grows (never past its amount), a ledger
//! entry takes the money from where the payment put it back to the
//! provider's clearing account, a `refund` transaction is written
//! `pending`, and a job is enqueued to tell the provider. The job sends
//! the refund under the refund's own id as the provider's idempotency key,
//! so a retry (or a crash and a rerun) is one refund there; when the
//! provider has taken it, the transaction is `succeeded` and the payment
//! `partially_refunded` or `refunded`.

use plaza_core::{Money, PaymentId, Timestamp, TransactionId};
use plaza_platform::jobs::JobKind;
use plaza_platform::work::Work;
use serde::{Deserialize, Serialize};

use super::error::{PaymentsError, invalid};
use super::ledger::{self, Account, Entry};
use super::payment::{Kind, Payment, Purpose, Status, Transaction, event};
use super::providers::Provider;
use super::{store, transaction_store};
use crate::http::AuthUser;
use crate::state::AppState;

/// How long after a top-up its payer may take it back themselves.
pub const PAYER_WINDOW: std::time::Duration = std::time::Duration::from_secs(14 * 24 * 3600);

/// A refund asked over the API.
#[derive(Debug, Clone)]
pub struct Ask {
    /// `None`: whatever is left to refund.
    pub amount: Option<i64>,
    /// Where a Cryptomus refund goes (a wallet address).
    pub address: Option<String>,
}

/// An admin refunds any payment but an escrow's (a deal's money goes back
/// by cancelling its project); a payer takes back their own top-up within
/// 14 days, while the wallet still holds it.
#[tracing::instrument(skip(state, me, ask))]
pub async fn refund(
    state: &AppState,
    me: &AuthUser,
    id: PaymentId,
    ask: Ask,
) -> Result<Transaction, PaymentsError> {
    let mut work = state.work().await?;
    let now = work.now();
    let payment = store::find(&mut work, id)
        .await?
        .filter(|p| p.user_id == me.user_id || me.is_admin())
        .ok_or(PaymentsError::NotFound)?;
    match payment.purpose {
        Purpose::Escrow => {
            return Err(PaymentsError::Forbidden(
                "a deal's escrow is refunded by cancelling its project",
            ));
        }
        Purpose::Premium if !me.is_admin() => {
            return Err(PaymentsError::Forbidden("an admin refunds a purchase"));
        }
        Purpose::TopUp
            if !me.is_admin() && now.duration_since(payment.created_at) > PAYER_WINDOW =>
        {
            return Err(PaymentsError::Forbidden(
                "an admin refunds a top-up older than 14 days",
            ));
        }
        _ => {}
    }
    if !matches!(
        payment.status,
        Status::Succeeded | Status::PartiallyRefunded
    ) {
        return Err(not_refundable(payment.status));
    }
    if needs_address(&payment.provider) && ask.address.as_deref().is_none_or(str::is_empty) {
        return Err(invalid(
            "address",
            "a Cryptomus refund goes to a wallet address: give one",
        ));
    }
    let left = payment.amount - payment.refunded;
    let amount = ask.amount.unwrap_or(left);
    if amount <= 0 {
        return Err(invalid("amount", "a positive number of minor units"));
    }
    let from = match payment.purpose {
        Purpose::TopUp => Account::wallet(payment.user_id, payment.currency.clone()),
        _ => Account::revenue(payment.currency.clone()),
    };
    let refund = start(&mut work, &payment, amount, from, ask.address, now).await?;
    work.commit().await?;
    Ok(refund)
}

/// Moves `amount` of `payment` out of `from` towards the payer, in the
/// caller's unit, and enqueues telling the provider.
pub(super) async fn start(
    work: &mut Work<'_>,
    payment: &Payment,
    amount: i64,
    from: Account,
    address: Option<String>,
    now: Timestamp,
) -> Result<Transaction, PaymentsError> {
    if !matches!(
        payment.status,
        Status::Succeeded | Status::PartiallyRefunded
    ) {
        return Err(not_refundable(payment.status));
    }
    let money = Money::new(amount, payment.currency.clone());
    let left = Money::new(payment.amount - payment.refunded, payment.currency.clone());
    if amount > left.minor {
        return Err(PaymentsError::TooMuch {
            asked: money.decimal(),
            left: left.decimal(),
        });
    }
    if from.kind == ledger::AccountKind::Wallet {
        let held = ledger::balance(work, &from).await?;
        if held.minor < amount {
            return Err(PaymentsError::InsufficientFunds {
                held: held.decimal(),
                asked: money.decimal(),
            });
        }
    }
    if !store::add_refunded(work, payment.id, payment.status, amount, now).await? {
        return Err(PaymentsError::Changed);
    }
    let id = TransactionId::new();
    let entry = Entry {
        kind: "payment.refunded".into(),
        reference: id.to_string(),
        memo: format!("refund of payment {}", payment.id),
        postings: vec![
            (from, money.checked_neg()?),
            (
                Account::clearing(&payment.provider, payment.currency.clone()),
                money.clone(),
            ),
        ],
    };
    let posted = ledger::post(work, now, &entry).await?;
    let refund = Transaction {
        id,
        user_id: payment.user_id,
        kind: Kind::Refund,
        amount,
        currency: payment.currency.clone(),
        status: Status::Pending,
        provider: payment.provider.clone(),
        provider_ref: payment.provider_ref.clone(),
        payment_id: Some(payment.id),
        created_at: now,
        updated_at: now,
    };
    transaction_store::insert_transaction(work, &refund, Some(posted.id())).await?;
    let mut asked = payment.clone();
    asked.refunded += amount;
    work.record(&event("payment.refund_requested", &asked, now))
        .await?;
    work.enqueue(&SendRefund {
        refund: id,
        address,
    })
    .await?;
    Ok(refund)
}

/// Whether `provider` refunds only to an address the payer names.
pub fn needs_address(provider: &str) -> bool {
    provider == "cryptomus"
}

fn not_refundable(status: Status) -> PaymentsError {
    PaymentsError::WrongStatus(
        status,
        "only money that arrived, and is not all refunded, can go back",
    )
}

/// Tells the provider about a refund, until it has taken it.
#[derive(Debug, Serialize, Deserialize)]
pub struct SendRefund {
    pub refund: TransactionId,
    pub address: Option<String>,
}

#[async_trait::async_trait]
impl JobKind for SendRefund {
    type Context = AppState;
    const KIND: &'static str = "payments.refund";
    const QUEUE: &'static str = "payments";
    const MAX_ATTEMPTS: u32 = 12;

    fn unique_key(&self) -> Option<String> {
        Some(format!("payments.refund:{}", self.refund))
    }

    async fn run(&self, state: &AppState) -> anyhow::Result<()> {
        let (refund, payment) = {
            let mut conn = state.db.writer().acquire().await?;
            let Some(refund) = transaction_store::find_transaction(&mut conn, self.refund).await?
            else {
                return Ok(());
            };
            let Some(payment_id) = refund.payment_id else {
                return Ok(());
            };
            let payment = store::find(&mut conn, payment_id).await?;
            (refund, payment)
        };
        let Some(payment) = payment.filter(|_| refund.status == Status::Pending) else {
            return Ok(());
        };
        let provider = Provider::named(state, &payment.provider)?;
        let money = Money::new(refund.amount, refund.currency.clone());
        provider
            .refund(
                state,
                &payment,
                &refund.id.to_string(),
                &money,
                self.address.as_deref(),
            )
            .await?;
        done(state, refund.id, payment.id).await?;
        Ok(())
    }
}

/// The provider took the refund: the transaction and the payment say so.
async fn done(state: &AppState, refund: TransactionId, id: PaymentId) -> Result<(), PaymentsError> {
    for _ in 0..4 {
        let mut work = state.work().await?;
        let now = work.now();
        if !transaction_store::settle_transaction(&mut work, refund, Status::Succeeded, None, now)
            .await?
        {
            return Ok(());
        }
        let Some(mut payment) = store::find(&mut work, id).await? else {
            return Ok(());
        };
        let to = Status::refunded_to(payment.refunded, payment.amount);
        if to != payment.status {
            if !store::set_status(&mut work, id, payment.status, to, None, now).await? {
                continue;
            }
            payment.status = to;
            payment.updated_at = now;
            transaction_store::mirror_payment(&mut work, &payment, None, now).await?;
        }
        work.record(&event("payment.refunded", &payment, now))
            .await?;
        work.commit().await?;
        return Ok(());
    }
    Err(PaymentsError::Changed)
}
