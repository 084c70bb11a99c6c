//! Marketplace escrow (seed 001): the client funds an accepted project's
//! deal — the accepted response's bid — into an escrow account; when the
//! client marks the project `completed`, the freelancer's wallet is
//! credited the amount less the platform's fee (kept as revenue); when the
//! project is cancelled (or archived) first, the money goes back to the
//! client through a refund. Release and refund are written in the unit of
//! work that moves the project (the [`Closing`] hook). Both sides get a
//! notification, and the deal's chat a system message, for each step.
mod close;
mod notice;

pub use close::Escrows;
pub(in crate::payments) use close::funded;
pub use notice::{DealNotice, Step};

use plaza_core::{Currency, Money, PaymentId, ProjectId, Timestamp, UserId};
use plaza_platform::outbox::Event;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;
use utoipa::ToSchema;

use crate::http::AuthUser;
use crate::payments::error::PaymentsError;
use crate::payments::payment::{Payment, Purpose};
use crate::payments::service::{self, NewPayment};
use crate::payments::store;
use crate::projects::model::Status as ProjectStatus;
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
