//! Marketplace escrow (seed 001): the client funds an accepted project's
//! deal — the accepted response's bid — into an escrow account; when the
//! client marks the project `completed`, the freelancer's wallet is
//! credited the amount less the platform's fee (kept as revenue); when the
//! project is cancelled (or archived) first, the money goes back to the
//! client through a refund. Release and refund are written in the unit of
//! work that moves the project (the [`Closing`] hook). Both sides get a
//! notification, and the deal's chat a system message, for each step.

use plaza_core::{Currency, Money, PaymentId, ProjectId, Timestamp, TransactionId, UserId};
use plaza_platform::jobs::JobKind;
use plaza_platform::outbox::Event;
use plaza_platform::work::Work;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;
use utoipa::ToSchema;

use super::error::PaymentsError;
use super::ledger::{self, Account, Entry};
use super::payment::{Kind, Payment, Purpose, Status, Transaction};
use super::service::{self, NewPayment};
use super::{refunds, store};
use crate::chat::model::ChatKind;
use crate::chat::service::{NewChat, create_chat, send_system};
use crate::http::AuthUser;
use crate::notifications::{Notice, send_once};
use crate::projects::model::{Project, Status as ProjectStatus};
use crate::projects::{Closing, ProjectsError};
use crate::state::AppState;

/// Where a deal's money is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EscrowStatus {
    /// Its payment is on its way.
    Awaiting,
    /// Held for the deal.
    Funded,
    /// Paid out to the freelancer.
    Released,
    /// Sent back to the client.
    Refunded,
    /// The deal ended before any money arrived.
    Void,
}

impl EscrowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Awaiting => "awaiting",
            Self::Funded => "funded",
            Self::Released => "released",
            Self::Refunded => "refunded",
            Self::Void => "void",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "awaiting" => Self::Awaiting,
            "funded" => Self::Funded,
            "released" => Self::Released,
            "refunded" => Self::Refunded,
            _ => Self::Void,
        }
    }
}

/// A deal's escrow.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Escrow {
    #[schema(value_type = String, format = Uuid)]
    pub project_id: ProjectId,
    /// The payment funding it (the latest, if an earlier one failed).
    #[schema(value_type = String, format = Uuid)]
    pub payment_id: PaymentId,
    #[schema(value_type = String, format = Uuid)]
    pub client_id: UserId,
    #[schema(value_type = String, format = Uuid)]
    pub freelancer_id: UserId,
    /// Minor units.
    pub amount: i64,
    #[schema(value_type = String, example = "USD")]
    pub currency: Currency,
    /// The platform's fee in basis points, fixed when funding began.
    pub fee_bps: i64,
    pub status: EscrowStatus,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct EscrowRow {
    project_id: ProjectId,
    payment_id: PaymentId,
    client_id: UserId,
    freelancer_id: UserId,
    amount: i64,
    currency: Currency,
    fee_bps: i64,
    status: String,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<EscrowRow> for Escrow {
    fn from(r: EscrowRow) -> Self {
        Self {
            project_id: r.project_id,
            payment_id: r.payment_id,
            client_id: r.client_id,
            freelancer_id: r.freelancer_id,
            amount: r.amount,
            currency: r.currency,
            fee_bps: r.fee_bps,
            status: EscrowStatus::parse(&r.status),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Escrow {
    fn money(&self) -> Money {
        Money::new(self.amount, self.currency.clone())
    }
}

async fn find(conn: &mut AnyConnection, project: ProjectId) -> Result<Option<Escrow>, sqlx::Error> {
    let row: Option<EscrowRow> = sqlx::query_as(
        "SELECT project_id, payment_id, client_id, freelancer_id, amount, currency, fee_bps, \
         status, created_at, updated_at FROM escrows WHERE project_id = $1",
    )
    .bind(project)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(Escrow::from))
}

/// Moves the escrow from `from` to `to`; false when it was not at `from`.
async fn set_status(
    conn: &mut AnyConnection,
    project: ProjectId,
    from: EscrowStatus,
    to: EscrowStatus,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE escrows SET status = $3, updated_at = $4 WHERE project_id = $1 AND status = $2",
    )
    .bind(project)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn event(kind: &str, escrow: &Escrow, now: Timestamp) -> Event {
    let data = json!({
        "project_id": escrow.project_id, "payment_id": escrow.payment_id,
        "client_id": escrow.client_id, "freelancer_id": escrow.freelancer_id,
        "amount": escrow.amount, "currency": escrow.currency, "fee_bps": escrow.fee_bps,
        "status": escrow.status,
    });
    Event::new(
        kind,
        format!("project:{}", escrow.project_id),
        Some(escrow.client_id),
        data,
        now,
    )
}

/// A project's escrow, to its client, its freelancer or an admin.
pub async fn get(
    state: &AppState,
    me: &AuthUser,
    project: ProjectId,
) -> Result<Escrow, PaymentsError> {
    let mut conn = state.db.fresh().acquire().await?;
    find(&mut conn, project)
        .await?
        .filter(|e| me.is_admin() || e.client_id == me.user_id || e.freelancer_id == me.user_id)
        .ok_or(PaymentsError::NoEscrow)
}

/// The client funds the deal of an in-progress project: a payment of the
/// accepted bid. While an earlier funding payment is still on its way it
/// is returned again; after it failed, a new one is made.
#[tracing::instrument(skip(state, me))]
pub async fn fund(
    state: &AppState,
    me: &AuthUser,
    project_id: ProjectId,
    provider: Option<String>,
) -> Result<(Escrow, Payment), PaymentsError> {
    let mut work = state.work().await?;
    let now = work.now();
    let Some((project, response)) = crate::projects::service::deal(&mut work, project_id).await?
    else {
        return Err(PaymentsError::ProjectNotFound);
    };
    if project.owner_id != me.user_id {
        // A draft or an archive is not even there for others.
        return Err(match project.status {
            ProjectStatus::Draft | ProjectStatus::Archived => PaymentsError::ProjectNotFound,
            _ => PaymentsError::Forbidden("the project's owner funds its escrow"),
        });
    }
    if project.status != ProjectStatus::InProgress {
        return Err(PaymentsError::NoDeal(
            "only a project in progress is funded",
        ));
    }
    let Some(response) = response else {
        return Err(PaymentsError::NoDeal(
            "the project has no accepted response to pay for",
        ));
    };
    let existing = find(&mut work, project_id).await?;
    if let Some(escrow) = &existing {
        if escrow.status != EscrowStatus::Awaiting {
            return Err(PaymentsError::NoDeal("the escrow is funded already"));
        }
        let payment = store::find(&mut work, escrow.payment_id).await?;
        if let Some(payment) = payment.filter(|p| p.status.waiting()) {
            return Ok((escrow.clone(), payment));
        }
    }
    let new = NewPayment {
        amount: response.bid_amount,
        currency: response.currency.clone(),
        purpose: Purpose::Escrow,
        reference: Some(project_id.to_string()),
        provider,
    };
    let provider = service::chosen(state, &new)?;
    let payment = service::open(&mut work, me.user_id, new, &provider).await?;
    let fee_bps = i64::from(state.config.payments.fee_bps);
    sqlx::query(
        "INSERT INTO escrows (project_id, payment_id, client_id, freelancer_id, amount, currency, \
         fee_bps, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'awaiting', $8, $8) \
         ON CONFLICT (project_id) DO UPDATE SET payment_id = excluded.payment_id, \
         fee_bps = excluded.fee_bps, updated_at = excluded.updated_at",
    )
    .bind(project_id)
    .bind(payment.id)
    .bind(project.owner_id)
    .bind(response.freelancer_id)
    .bind(response.bid_amount)
    .bind(&response.currency)
    .bind(fee_bps)
    .bind(now)
    .execute(&mut *work)
    .await?;
    let escrow = find(&mut work, project_id)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    work.commit().await?;
    let payment = service::checkout(state, &provider, payment).await?;
    Ok((escrow, payment))
}

/// The escrow's payment arrived (in the settling unit): the deal is
/// funded — or, if it ended meanwhile, the money goes straight back.
pub(super) async fn funded(
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
    store::insert_transaction(work, &back, Some(posted.id())).await?;
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
    store::insert_transaction(work, &payout, Some(posted.id())).await?;
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

/// A step of a deal's money that both sides hear about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Funded,
    Released,
    Refunded,
}

impl Step {
    fn as_str(self) -> &'static str {
        match self {
            Self::Funded => "funded",
            Self::Released => "released",
            Self::Refunded => "refunded",
        }
    }
}

/// Tells both sides of a deal about a step of its money: a notification
/// to each and a system message in their chat, once however often it runs.
#[derive(Debug, Serialize, Deserialize)]
pub struct DealNotice {
    pub project_id: ProjectId,
    pub step: Step,
}

#[async_trait::async_trait]
impl JobKind for DealNotice {
    type Context = AppState;
    const KIND: &'static str = "payments.deal_notice";
    const QUEUE: &'static str = "notifications";

    fn unique_key(&self) -> Option<String> {
        Some(format!(
            "payments.deal_notice:{}:{}",
            self.project_id,
            self.step.as_str()
        ))
    }

    async fn run(&self, state: &AppState) -> anyhow::Result<()> {
        let (escrow, project) = {
            let mut conn = state.db.writer().acquire().await?;
            let escrow = find(&mut conn, self.project_id).await?;
            let deal = crate::projects::service::deal(&mut conn, self.project_id).await?;
            (escrow, deal.map(|(p, _)| p))
        };
        let (Some(escrow), Some(project)) = (escrow, project) else {
            return Ok(());
        };
        let amount = escrow.money();
        let (fee, payout) = amount.split_fee(u32::try_from(escrow.fee_bps).unwrap_or(0))?;
        let step = self.step.as_str();
        let chat = NewChat {
            kind: ChatKind::Direct,
            name: None,
            member_ids: vec![escrow.freelancer_id],
            visibility: None,
            group_id: None,
        };
        let (chat, _) = create_chat(state, escrow.client_id, chat)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open the deal's chat: {e}"))?;
        let text = match self.step {
            Step::Funded => format!(
                "Escrow funded: {} {} is held for “{}”.",
                amount.decimal(),
                amount.currency,
                project.title
            ),
            Step::Released => format!(
                "Escrow released: {} {} paid to the freelancer for “{}” (platform fee {}).",
                payout.decimal(),
                amount.currency,
                project.title,
                fee.decimal()
            ),
            Step::Refunded => format!(
                "Escrow refunded: {} {} goes back to the client; “{}” was cancelled.",
                amount.decimal(),
                amount.currency,
                project.title
            ),
        };
        let once = format!("escrow.{step}:{}", self.project_id);
        send_system(state, escrow.client_id, chat.id, text, once.clone())
            .await
            .map_err(|e| anyhow::anyhow!("cannot post to the deal's chat: {e}"))?;
        let data = |role: &str| {
            json!({
                "project_id": project.id, "title": project.title, "role": role,
                "chat_id": chat.id, "amount": amount.minor, "amount_decimal": amount.decimal(),
                "currency": amount.currency, "payout_decimal": payout.decimal(),
                "fee_decimal": fee.decimal(),
            })
        };
        let kind = format!("escrow.{step}");
        let mut work = state.work().await?;
        send_once(
            &mut work,
            &once,
            &[escrow.client_id],
            &Notice::template(&kind, data("client")),
        )
        .await?;
        send_once(
            &mut work,
            &once,
            &[escrow.freelancer_id],
            &Notice::template(&kind, data("freelancer")),
        )
        .await?;
        work.commit().await?;
        Ok(())
    }
}
