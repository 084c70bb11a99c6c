//! Where a deal's money goes when its payment arrives or the deal ends:
//! funded, released to the freelancer less the fee, or given back.

use plaza_core::{ProjectId, Timestamp, TransactionId};
use plaza_platform::work::Work;

use crate::payments::error::PaymentsError;
use crate::payments::ledger::{self, Account, Entry};
use crate::payments::payment::{Kind, Payment, Status, Transaction};
use crate::payments::{refunds, store, transaction_store};
use crate::projects::model::{Project, Status as ProjectStatus};
use crate::projects::{Closing, ProjectsError};

use super::{DealNotice, Escrow, EscrowStatus, Step, event, find, set_status};

/// The escrow's payment arrived (in the settling unit): the deal is
/// funded — or, if it ended meanwhile, the money goes straight back.
pub(in crate::payments) async fn funded(
    work: &mut Work<'_>,
    payment: &Payment,
    now: Timestamp,
) -> Result<(), PaymentsError> {
    let Some(project) = payment
        .reference
        .as_deref()
        .and_then(|r| r.parse::<ProjectId>().ok())
    else {
        return Ok(());
    };
    let Some(mut escrow) = find(work, project).await? else {
        tracing::error!(payment_id = %payment.id, "an escrow payment arrived for no escrow");
        return Ok(());
    };
    let current = escrow.payment_id == payment.id;
    if current
        && set_status(
            work,
            project,
            EscrowStatus::Awaiting,
            EscrowStatus::Funded,
            now,
        )
        .await?
    {
        escrow.status = EscrowStatus::Funded;
        work.record(&event("escrow.funded", &escrow, now)).await?;
        work.enqueue(&DealNotice {
            project_id: project,
            step: Step::Funded,
        })
        .await?;
        return Ok(());
    }
    // The deal ended (or another payment funded it) before this money
    // arrived: it is not the deal's to hold.
    tracing::warn!(payment_id = %payment.id, project_id = %project,
        "escrow money arrived for a deal that no longer takes it; refunding");
    give_back(work, project, payment, now).await
}

/// A deal's money back to the client: through the payment's provider, or
/// — where the provider refunds only to an address the client has not
/// given (Cryptomus) — into the client's wallet, to be taken out from
/// there.
async fn give_back(
    work: &mut Work<'_>,
    project: ProjectId,
    payment: &Payment,
    now: Timestamp,
) -> Result<(), PaymentsError> {
    let from = Account::escrow(&project.to_string(), payment.currency.clone());
    if !refunds::needs_address(&payment.provider) {
        refunds::start(work, payment, payment.amount, from, None, now).await?;
        return Ok(());
    }
    let money = payment.money();
    let entry = Entry {
        kind: "escrow.returned".into(),
        reference: project.to_string(),
        memo: format!("deal {project} returned to the client's wallet"),
        postings: vec![
            (from, money.checked_neg()?),
            (
                Account::wallet(payment.user_id, payment.currency.clone()),
                money,
            ),
        ],
    };
    let posted = ledger::post(work, now, &entry).await?;
    let back = Transaction {
        id: TransactionId::new(),
        user_id: payment.user_id,
        kind: Kind::Refund,
        amount: payment.amount,
        currency: payment.currency.clone(),
        status: Status::Succeeded,
        provider: "wallet".into(),
        provider_ref: None,
        payment_id: Some(payment.id),
        created_at: now,
        updated_at: now,
    };
    transaction_store::insert_transaction(work, &back, Some(posted.id())).await?;
    Ok(())
}

/// The hook the marketplace calls when a deal ends.
pub struct Escrows;

#[async_trait::async_trait]
impl Closing for Escrows {
    async fn closed(
        &self,
        work: &mut Work<'_>,
        project: &Project,
        to: ProjectStatus,
    ) -> Result<(), ProjectsError> {
        closed(work, project, to).await.map_err(|e| match e {
            PaymentsError::Db(e) => ProjectsError::Db(e),
            PaymentsError::NoDeal(why) => ProjectsError::Blocked(why.to_owned()),
            e => ProjectsError::Internal(e.into()),
        })
    }
}

async fn closed(
    work: &mut Work<'_>,
    project: &Project,
    to: ProjectStatus,
) -> Result<(), PaymentsError> {
    let now = work.now();
    let Some(mut escrow) = find(work, project.id).await? else {
        return Ok(());
    };
    match escrow.status {
        EscrowStatus::Awaiting => {
            let payment = store::find(work, escrow.payment_id).await?;
            if to == ProjectStatus::Completed && payment.is_some_and(|p| p.status.waiting()) {
                return Err(PaymentsError::NoDeal(
                    "the escrow's payment is still on its way: wait for it, or cancel the project",
                ));
            }
            if set_status(
                work,
                project.id,
                EscrowStatus::Awaiting,
                EscrowStatus::Void,
                now,
            )
            .await?
            {
                escrow.status = EscrowStatus::Void;
                work.record(&event("escrow.voided", &escrow, now)).await?;
            }
            Ok(())
        }
        EscrowStatus::Funded if to == ProjectStatus::Completed => release(work, escrow, now).await,
        EscrowStatus::Funded => refund(work, escrow, now).await,
        EscrowStatus::Released | EscrowStatus::Refunded | EscrowStatus::Void => Ok(()),
    }
}

/// The freelancer is paid: the amount less the fee to their wallet, the
/// fee to revenue.
async fn release(
    work: &mut Work<'_>,
    mut escrow: Escrow,
    now: Timestamp,
) -> Result<(), PaymentsError> {
    if !set_status(
        work,
        escrow.project_id,
        EscrowStatus::Funded,
        EscrowStatus::Released,
        now,
    )
    .await?
    {
        return Err(PaymentsError::Changed);
    }
    let amount = escrow.money();
    let bps = u32::try_from(escrow.fee_bps).unwrap_or(0);
    let (fee, payout) = amount.split_fee(bps)?;
    let currency = escrow.currency.clone();
    let mut postings = vec![
        (
            Account::escrow(&escrow.project_id.to_string(), currency.clone()),
            amount.checked_neg()?,
        ),
        (
            Account::wallet(escrow.freelancer_id, currency.clone()),
            payout.clone(),
        ),
    ];
    if !fee.is_zero() {
        postings.push((Account::revenue(currency.clone()), fee.clone()));
    }
    let entry = Entry {
        kind: "escrow.released".into(),
        reference: escrow.project_id.to_string(),
        memo: format!("deal {} released", escrow.project_id),
        postings,
    };
    let posted = ledger::post(work, now, &entry).await?;
    let payment = store::find(work, escrow.payment_id).await?;
    let payout = Transaction {
        id: TransactionId::new(),
        user_id: escrow.freelancer_id,
        kind: Kind::Payout,
        amount: payout.minor,
        currency,
        status: Status::Succeeded,
        provider: payment.map(|p| p.provider).unwrap_or_default(),
        provider_ref: None,
        payment_id: Some(escrow.payment_id),
        created_at: now,
        updated_at: now,
    };
    transaction_store::insert_transaction(work, &payout, Some(posted.id())).await?;
    escrow.status = EscrowStatus::Released;
    work.record(&event("escrow.released", &escrow, now)).await?;
    work.enqueue(&DealNotice {
        project_id: escrow.project_id,
        step: Step::Released,
    })
    .await?;
    Ok(())
}

/// The client is paid back, through the payment's provider.
async fn refund(
    work: &mut Work<'_>,
    mut escrow: Escrow,
    now: Timestamp,
) -> Result<(), PaymentsError> {
    if !set_status(
        work,
        escrow.project_id,
        EscrowStatus::Funded,
        EscrowStatus::Refunded,
        now,
    )
    .await?
    {
        return Err(PaymentsError::Changed);
    }
    let payment = store::find(work, escrow.payment_id)
        .await?
        .ok_or(PaymentsError::NotFound)?;
    give_back(work, escrow.project_id, &payment, now).await?;
    escrow.status = EscrowStatus::Refunded;
    work.record(&event("escrow.refunded", &escrow, now)).await?;
    work.enqueue(&DealNotice {
        project_id: escrow.project_id,
        step: Step::Refunded,
    })
    .await?;
    Ok(())
}
