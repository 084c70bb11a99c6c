//! Payments' scheduled jobs: reconciliation, so a lost webhook leaves no
//! money in limbo, and the hourly audit of the ledger's invariants.

use plaza_core::Timestamp;
use plaza_platform::jobs::JobKind;
use serde::{Deserialize, Serialize};

use super::ledger;
use super::payment::{Outcome, Payment};
use super::providers::{Provider, Report};
use super::{idempotency, settle, store};
use crate::state::AppState;

/// How long a payment may wait before, if its provider has nothing to say,
/// it counts as abandoned (a checkout never opened, a sandbox page never
/// clicked). Stripe's Checkout Sessions expire after as long.
pub const ABANDONED: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Payments per run.
const BATCH: i64 = 200;

/// Asks the providers about payments still waiting after
/// `payments.reconcile_after`, and applies what they say through the
/// webhook path (so an answer and a late webhook have one effect).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Reconcile {}

#[async_trait::async_trait]
impl JobKind for Reconcile {
    type Context = AppState;
    const KIND: &'static str = "payments.reconcile";
    const QUEUE: &'static str = "payments";

    fn unique_key(&self) -> Option<String> {
        Some(Self::KIND.to_owned())
    }

    async fn run(&self, state: &AppState) -> anyhow::Result<()> {
        let now = state.clock.now();
        let before = now.saturating_sub(state.config.payments.reconcile_after.0);
        let waiting = {
            let mut conn = state.db.writer().acquire().await?;
            store::waiting(&mut conn, before, BATCH).await?
        };
        let mut asked = 0u32;
        for payment in waiting {
            match reconcile(state, &payment, now).await {
                Ok(Some(receipt)) => {
                    asked += 1;
                    tracing::info!(payment_id = %payment.id, outcome = receipt.as_str(),
                        "reconciled with the provider");
                }
                Ok(None) => asked += 1,
                Err(e) => tracing::warn!(payment_id = %payment.id, error = %e,
                    "cannot reconcile the payment now; next run tries again"),
            }
        }
        metrics::counter!("plaza_payments_reconciled_total").increment(u64::from(asked));
        Ok(())
    }
}

/// One payment: the provider's answer, or its expiry.
async fn reconcile(
    state: &AppState,
    payment: &Payment,
    now: Timestamp,
) -> anyhow::Result<Option<settle::Receipt>> {
    let provider = Provider::named(state, &payment.provider)?;
    let answer = if payment.provider_ref.is_some() {
        provider.ask(state, payment).await?
    } else {
        None
    };
    let report = match answer {
        Some(report) if report.outcome.is_some() || report.flag.is_some() => report,
        _ if now.duration_since(payment.created_at) > ABANDONED => Report {
            provider: provider.name(),
            event_id: format!("expired:{}", payment.id),
            kind: "plaza.expired".into(),
            payment_id: Some(payment.id),
            provider_ref: None,
            outcome: Some(Outcome::Canceled),
            amount: None,
            amount_text: None,
            flag: None,
        },
        _ => {
            touch(state, payment, now).await?;
            return Ok(None);
        }
    };
    let receipt = settle::receive(state, &report).await?;
    if !matches!(receipt, settle::Receipt::Applied(_)) {
        touch(state, payment, now).await?;
    }
    Ok(Some(receipt))
}

/// Marks the payment as looked at, so the next run asks about others first.
async fn touch(state: &AppState, payment: &Payment, now: Timestamp) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE payments SET updated_at = $2 WHERE id = $1 AND status = $3")
        .bind(payment.id)
        .bind(now)
        .bind(payment.status.as_str())
        .execute(state.db.writer())
        .await?;
    Ok(())
}

/// Checks the ledger's invariants (every entry balances, no posting in a
/// foreign currency) and forgets old Idempotency-Keys.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Audit {}

#[async_trait::async_trait]
impl JobKind for Audit {
    type Context = AppState;
    const KIND: &'static str = "payments.audit";
    const QUEUE: &'static str = "maintenance";

    fn unique_key(&self) -> Option<String> {
        Some(Self::KIND.to_owned())
    }

    async fn run(&self, state: &AppState) -> anyhow::Result<()> {
        let mut conn = state.db.writer().acquire().await?;
        let report = ledger::check(&mut conn).await?;
        let broken = report.unbalanced.len() + report.incomplete.len() + report.mixed.len();
        metrics::gauge!("plaza_ledger_broken_entries").set(broken as f64);
        if report.holds() {
            tracing::info!(
                entries = report.entries,
                postings = report.postings,
                "the ledger balances"
            );
        } else {
            tracing::error!(unbalanced = ?report.unbalanced, incomplete = ?report.incomplete,
                mixed = ?report.mixed, "the ledger does NOT balance");
        }
        let forgotten = idempotency::prune(&mut conn, state.clock.now()).await?;
        if forgotten > 0 {
            tracing::debug!(forgotten, "old Idempotency-Keys forgotten");
        }
        Ok(())
    }
}
