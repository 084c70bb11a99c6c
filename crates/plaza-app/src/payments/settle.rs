//! What a provider's report does — the one path webhooks, the sandbox's
//! clicks and the reconciliation job all take. In one unit of work: the
//! event is kept (a redelivery finds it and changes nothing), the payment
//! moves by its state machine, money that arrived is posted to the ledger,
//! the payment's transaction follows, and the outbox gets `payment.*`.
//! An amount that differs from the one asked holds the payment instead.

use plaza_core::Timestamp;
use plaza_platform::work::Work;

use super::error::PaymentsError;
use super::escrow;
use super::ledger::{self, Account, Entry};
use super::payment::{Payment, Purpose, Status, event};
use super::providers::Report;
use super::{store, transaction_store};
use crate::notifications::{Notice, send_once};
use crate::state::AppState;

/// What receiving a report did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Receipt {
    /// The payment moved to this status.
    Applied(Status),
    /// This event was received before: nothing changed.
    Replayed,
    /// A kind of event plaza does not act on, or none for a payment.
    Ignored,
    /// The payment is past what the event says (it came late).
    Stale,
    /// Held for an admin: the amount is not the one asked.
    Flagged,
    /// No payment of this provider matches it.
    Unknown,
}

impl Receipt {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied(_) => "applied",
            Self::Replayed => "replayed",
            Self::Ignored => "ignored",
            Self::Stale => "stale",
            Self::Flagged => "flagged",
            Self::Unknown => "unknown",
        }
    }
}

/// Applies `report`, once however often it arrives.
#[tracing::instrument(skip_all, fields(provider = report.provider, event = %report.event_id))]
pub async fn receive(state: &AppState, report: &Report) -> Result<Receipt, PaymentsError> {
    // Another report may move the payment between our read and write; the
    // unit is then rolled back and tried again with what is there now.
    for _ in 0..4 {
        if let Some(receipt) = receive_once(state, report).await? {
            metrics::counter!("plaza_payment_reports_total",
                "provider" => report.provider, "outcome" => receipt.as_str())
            .increment(1);
            return Ok(receipt);
        }
    }
    Err(PaymentsError::Changed)
}

async fn receive_once(state: &AppState, report: &Report) -> Result<Option<Receipt>, PaymentsError> {
    let mut work = state.work().await?;
    let now = work.now();
    let kept = store::insert_event(
        &mut work,
        report.provider,
        &report.event_id,
        report.payment_id,
        &report.kind,
        "received",
        report.amount_text.as_deref(),
        now,
    )
    .await?;
    if !kept {
        return Ok(Some(Receipt::Replayed));
    }
    let payment = match (report.payment_id, &report.provider_ref) {
        (Some(id), _) => store::find(&mut work, id).await?,
        (None, Some(r)) => store::find_by_ref(&mut work, report.provider, r).await?,
        (None, None) => None,
    };
    let receipt = match payment {
        None if report.outcome.is_none() && report.flag.is_none() => Receipt::Ignored,
        None => {
            tracing::warn!(kind = %report.kind, "a provider reported on a payment plaza does not have");
            Receipt::Unknown
        }
        Some(p) if p.provider != report.provider => {
            tracing::warn!(target: "plaza::security", payment_id = %p.id, paid_with = %p.provider,
                "a provider reported on another provider's payment; ignored");
            Receipt::Unknown
        }
        Some(p) => match apply(&mut work, p, report, now).await? {
            Some(receipt) => receipt,
            None => return Ok(None),
        },
    };
    store::set_event_outcome(
        &mut work,
        report.provider,
        &report.event_id,
        report.payment_id,
        receipt.as_str(),
    )
    .await?;
    work.commit().await?;
    Ok(Some(receipt))
}

/// Moves `payment` as `report` says; `None` when another report moved it
/// first.
async fn apply(
    work: &mut Work<'_>,
    payment: Payment,
    report: &Report,
    now: Timestamp,
) -> Result<Option<Receipt>, PaymentsError> {
    if let Some(why) = &report.flag {
        flag(work, &payment, why, now).await?;
        return Ok(Some(Receipt::Flagged));
    }
    let Some(outcome) = report.outcome else {
        return Ok(Some(Receipt::Ignored));
    };
    let Some(to) = payment.status.reported(outcome) else {
        return Ok(Some(Receipt::Stale));
    };
    if to == Status::Succeeded {
        let asked = payment.money();
        let wrong = match &report.amount {
            Some(paid) if *paid == asked => None,
            Some(paid) => Some(format!(
                "the provider reports {} {} paid; the payment asked {} {}",
                paid.decimal(),
                paid.currency,
                asked.decimal(),
                asked.currency
            )),
            None => Some("the provider's report names no amount in the payment's currency".into()),
        };
        if let Some(why) = wrong {
            flag(work, &payment, &why, now).await?;
            return Ok(Some(Receipt::Flagged));
        }
        if payment.flag.is_some() {
            // Held already: an admin decides, not a later report.
            return Ok(Some(Receipt::Flagged));
        }
    }
    let provider_ref = report.provider_ref.as_deref();
    if !store::set_status(work, payment.id, payment.status, to, provider_ref, now).await? {
        return Ok(None);
    }
    let mut moved = payment;
    moved.status = to;
    moved.updated_at = now;
    if moved.provider_ref.is_none() {
        moved.provider_ref = report.provider_ref.clone();
    }
    let entry = if to == Status::Succeeded {
        let posted = ledger::post(work, now, &settled(&moved)?).await?;
        Some(posted.id())
    } else {
        None
    };
    transaction_store::mirror_payment(work, &moved, entry, now).await?;
    work.record(&event(&format!("payment.{}", to.as_str()), &moved, now))
        .await?;
    if to == Status::Succeeded && moved.purpose == Purpose::Escrow {
        escrow::funded(work, &moved, now).await?;
    } else if to == Status::Succeeded {
        let data = serde_json::json!({
            "payment_id": moved.id, "purpose": moved.purpose, "amount": moved.amount,
            "amount_decimal": moved.money().decimal(), "currency": moved.currency,
        });
        let once = format!("payment.succeeded:{}", moved.id);
        let notice = Notice::template("payment.succeeded", data);
        send_once(work, &once, &[moved.user_id], &notice).await?;
    }
    Ok(Some(Receipt::Applied(to)))
}

/// The entry for money that arrived: out of the provider's clearing
/// account, into where the purpose sends it.
fn settled(payment: &Payment) -> Result<Entry, PaymentsError> {
    let amount = payment.money();
    let currency = payment.currency.clone();
    let to = match payment.purpose {
        Purpose::TopUp => Account::wallet(payment.user_id, currency.clone()),
        Purpose::Premium => Account::revenue(currency.clone()),
        Purpose::Escrow => Account::escrow(
            payment.reference.as_deref().unwrap_or_default(),
            currency.clone(),
        ),
    };
    Ok(Entry {
        kind: "payment.settled".into(),
        reference: payment.id.to_string(),
        memo: format!("{} via {}", payment.purpose.as_str(), payment.provider),
        postings: vec![
            (
                Account::clearing(&payment.provider, currency),
                amount.checked_neg()?,
            ),
            (to, amount),
        ],
    })
}

/// Holds `payment` for an admin and says so, loudly.
async fn flag(
    work: &mut Work<'_>,
    payment: &Payment,
    why: &str,
    now: Timestamp,
) -> Result<(), PaymentsError> {
    tracing::warn!(target: "plaza::security", payment_id = %payment.id, provider = %payment.provider,
        reason = why, "payment held: not credited");
    store::set_flag(work, payment.id, why, now).await?;
    let mut held = payment.clone();
    held.flag.get_or_insert_with(|| why.to_owned());
    work.record(&event("payment.flagged", &held, now)).await?;
    Ok(())
}
