//! A payment as the API shows it, its purposes and its lifecycle: the
//! state machine every provider report goes through.

use plaza_core::{Currency, Money, PaymentId, Timestamp, TransactionId, UserId};
use plaza_platform::outbox::Event;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// What a payment is for, which decides where its money goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Money into the payer's wallet.
    TopUp,
    /// A purchase from the platform (BrainMessenger's premium): revenue.
    Premium,
    /// A marketplace deal's money, held until the work is accepted.
    Escrow,
}

impl Purpose {
    pub const ALL: [Self; 3] = [Self::TopUp, Self::Premium, Self::Escrow];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TopUp => "top_up",
            Self::Premium => "premium",
            Self::Escrow => "escrow",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// Where a payment is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = PaymentStatus)]
pub enum Status {
    /// Made here; the payer has not reached the provider yet.
    Created,
    /// The provider has it and is waiting (a bank transfer, a blockchain).
    Pending,
    Succeeded,
    Failed,
    Canceled,
    PartiallyRefunded,
    Refunded,
}

impl Status {
    pub const ALL: [Self; 7] = [
        Self::Created,
        Self::Pending,
        Self::Succeeded,
        Self::Failed,
        Self::Canceled,
        Self::PartiallyRefunded,
        Self::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether the provider may still report on it.
    pub fn waiting(self) -> bool {
        matches!(self, Self::Created | Self::Pending)
    }

    /// Where a provider's report of `outcome` takes a payment that is
    /// here: `None` when the report is stale and changes nothing.
    ///
    /// Reports arrive in any order, so the machine moves forward only:
    /// `created → pending → succeeded | failed | canceled`; success may
    /// skip pending (it arrived first); and a provider saying money arrived
    /// after it said the attempt failed or expired (a customer retrying a
    /// card, a late blockchain confirmation) is believed, because the money
    /// is real. Nothing reported takes a paid payment back to waiting.
    /// Refunds are plaza's own moves ([`Status::refunded_to`]).
    pub fn reported(self, outcome: Outcome) -> Option<Self> {
        use Outcome as O;
        let to = match (self, outcome) {
            (Self::Created, O::Pending) => Self::Pending,
            (Self::Created | Self::Pending | Self::Failed | Self::Canceled, O::Succeeded) => {
                Self::Succeeded
            }
            (Self::Created | Self::Pending, O::Failed) => Self::Failed,
            (Self::Created | Self::Pending, O::Canceled) => Self::Canceled,
            _ => return None,
        };
        Some(to)
    }

    /// Where a paid payment goes once `refunded` of `amount` has gone back.
    pub fn refunded_to(refunded: i64, amount: i64) -> Self {
        if refunded >= amount {
            Self::Refunded
        } else if refunded > 0 {
            Self::PartiallyRefunded
        } else {
            Self::Succeeded
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a provider says happened to a payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pending,
    Succeeded,
    Failed,
    Canceled,
}

/// A payment.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Payment {
    #[schema(value_type = String, format = Uuid)]
    pub id: PaymentId,
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub purpose: Purpose,
    /// The project of an escrow payment.
    pub reference: Option<String>,
    /// Minor units.
    pub amount: i64,
    #[schema(value_type = String, example = "USD")]
    pub currency: Currency,
    /// Minor units refunded so far.
    pub refunded: i64,
    pub status: Status,
    /// `sandbox`, `stripe` or `cryptomus`.
    pub provider: String,
    /// The provider's id for it (a Checkout Session, an invoice).
    pub provider_ref: Option<String>,
    /// Where the payer goes to pay, while it is waiting.
    pub checkout_url: Option<String>,
    /// Why it is held instead of credited (an amount that differs from
    /// the one asked), for an admin to look at.
    pub flag: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl Payment {
    pub fn money(&self) -> Money {
        Money::new(self.amount, self.currency.clone())
    }
}

/// What a transaction was, as its user sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Money paid into my wallet.
    TopUp,
    /// A purchase from the platform.
    Premium,
    /// Money I paid into a deal's escrow.
    Escrow,
    /// Money sent back to me.
    Refund,
    /// A deal's money released to me.
    Payout,
}

impl Kind {
    pub const ALL: [Self; 5] = [
        Self::TopUp,
        Self::Premium,
        Self::Escrow,
        Self::Refund,
        Self::Payout,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TopUp => "top_up",
            Self::Premium => "premium",
            Self::Escrow => "escrow",
            Self::Refund => "refund",
            Self::Payout => "payout",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn of(purpose: Purpose) -> Self {
        match purpose {
            Purpose::TopUp => Self::TopUp,
            Purpose::Premium => Self::Premium,
            Purpose::Escrow => Self::Escrow,
        }
    }
}

/// Seed 004's transaction: one movement of a user's money. A payment's
/// mirrors its status; a refund's is `pending` until the provider has
/// taken it, then `succeeded` (or `failed`); a payout is `succeeded`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Transaction {
    #[schema(value_type = String, format = Uuid)]
    pub id: TransactionId,
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub kind: Kind,
    /// Minor units, positive; `kind` says which way it went.
    pub amount: i64,
    #[schema(value_type = String, example = "USD")]
    pub currency: Currency,
    pub status: Status,
    pub provider: String,
    pub provider_ref: Option<String>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub payment_id: Option<PaymentId>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// A payment's domain event.
pub(super) fn event(kind: &str, payment: &Payment, now: Timestamp) -> Event {
    let data = json!({
        "payment_id": payment.id, "user_id": payment.user_id, "purpose": payment.purpose,
        "amount": payment.amount, "currency": payment.currency, "status": payment.status,
        "provider": payment.provider, "refunded": payment.refunded,
    });
    Event::new(
        kind,
        format!("payment:{}", payment.id),
        Some(payment.user_id),
        data,
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_move_a_payment_forward_only() {
        use Outcome as O;
        use Status as S;
        assert_eq!(S::Created.reported(O::Pending), Some(S::Pending));
        assert_eq!(S::Created.reported(O::Succeeded), Some(S::Succeeded));
        assert_eq!(S::Pending.reported(O::Succeeded), Some(S::Succeeded));
        assert_eq!(S::Pending.reported(O::Failed), Some(S::Failed));
        assert_eq!(S::Pending.reported(O::Canceled), Some(S::Canceled));
        // Out of order: pending after success changes nothing.
        assert_eq!(S::Succeeded.reported(O::Pending), None);
        assert_eq!(S::Succeeded.reported(O::Failed), None);
        assert_eq!(S::Succeeded.reported(O::Succeeded), None);
        // Money that arrives after a failure is believed.
        assert_eq!(S::Failed.reported(O::Succeeded), Some(S::Succeeded));
        assert_eq!(S::Canceled.reported(O::Succeeded), Some(S::Succeeded));
        assert_eq!(S::Failed.reported(O::Pending), None);
        for paid in [S::PartiallyRefunded, S::Refunded] {
            for o in [O::Pending, O::Succeeded, O::Failed, O::Canceled] {
                assert_eq!(paid.reported(o), None);
            }
        }
    }

    #[test]
    fn refunds_move_by_what_is_left() {
        assert_eq!(Status::refunded_to(0, 100), Status::Succeeded);
        assert_eq!(Status::refunded_to(30, 100), Status::PartiallyRefunded);
        assert_eq!(Status::refunded_to(100, 100), Status::Refunded);
    }

    #[test]
    fn names_read_back() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        for p in Purpose::ALL {
            assert_eq!(Purpose::parse(p.as_str()), Some(p));
        }
    }
}
