//! Payments over GraphQL (seed 004's transactions): my transactions and
//! wallet, a payment, asking for one and refunding — the same service
//! calls as `/api/transactions`, `/api/wallet` and `/api/payments*`,
//! `idempotencyKey` playing the `Idempotency-Key` header's part.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use axum::http::StatusCode;
use plaza_core::{Currency, PaymentId};

use super::context::signed_in;
use super::page;
use crate::http::ApiError;
use crate::payments::idempotency::{self, Answer};
use crate::payments::payment::{self, Kind, Purpose, Status};
use crate::payments::refunds::{self, Ask};
use crate::payments::service::{self, Filter, NewPayment};

/// A payment of mine.
#[derive(SimpleObject)]
pub struct Payment {
    pub id: ID,
    /// `top_up`, `premium` or `escrow`.
    pub purpose: String,
    /// Minor units.
    pub amount: i64,
    pub currency: String,
    pub refunded: i64,
    /// `created`, `pending`, `succeeded`, `failed`, `canceled`,
    /// `partially_refunded` or `refunded`.
    pub status: String,
    pub provider: String,
    pub provider_ref: Option<String>,
    /// Where the payer goes to pay.
    pub checkout_url: Option<String>,
    /// Why it is held instead of credited.
    pub flag: Option<String>,
    pub created_at: String,
}

impl From<payment::Payment> for Payment {
    fn from(p: payment::Payment) -> Self {
        Self {
            id: ID(p.id.to_string()),
            purpose: p.purpose.as_str().to_owned(),
            amount: p.amount,
            currency: p.currency.as_str().to_owned(),
            refunded: p.refunded,
            status: p.status.as_str().to_owned(),
            provider: p.provider,
            provider_ref: p.provider_ref,
            checkout_url: p.checkout_url,
            flag: p.flag,
            created_at: p.created_at.to_string(),
        }
    }
}

/// Seed 004's transaction: a movement of my money.
#[derive(SimpleObject)]
pub struct Transaction {
    pub id: ID,
    pub user_id: ID,
    /// `top_up`, `premium`, `escrow`, `refund` or `payout`.
    pub kind: String,
    /// Minor units, positive.
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub provider: String,
    pub provider_ref: Option<String>,
    pub payment_id: Option<ID>,
    pub created_at: String,
}

impl From<payment::Transaction> for Transaction {
    fn from(t: payment::Transaction) -> Self {
        Self {
            id: ID(t.id.to_string()),
            user_id: ID(t.user_id.to_string()),
            kind: t.kind.as_str().to_owned(),
            amount: t.amount,
            currency: t.currency.as_str().to_owned(),
            status: t.status.as_str().to_owned(),
            provider: t.provider,
            provider_ref: t.provider_ref,
            payment_id: t.payment_id.map(|p| ID(p.to_string())),
            created_at: t.created_at.to_string(),
        }
    }
}

/// One currency of my wallet.
#[derive(SimpleObject)]
pub struct Balance {
    pub currency: String,
    /// Minor units.
    pub amount: i64,
    /// `"12.50"`: the currency's digits.
    pub decimal: String,
}

fn payment_id(id: &ID) -> Result<PaymentId, ApiError> {
    id.parse()
        .map_err(|_| crate::payments::PaymentsError::NotFound.into())
}

#[derive(Default)]
pub struct PaymentsQuery;

#[Object]
impl PaymentsQuery {
    /// My transactions, newest first; of one kind or status.
    #[graphql(complexity = "page::cost(first, 20, child_complexity)")]
    async fn transactions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        kind: Option<String>,
        status: Option<String>,
    ) -> Result<Connection<usize, Transaction>> {
        let (state, me) = signed_in(ctx)?;
        let limit = page::first(first, 20)?;
        let offset = page::offset(after.as_deref())?;
        let filter = Filter {
            user: Some(me.user_id),
            kind: kind
                .map(|k| {
                    Kind::parse(&k).ok_or_else(|| {
                        ApiError::invalid_field("kind", "top_up, premium, escrow, refund or payout")
                    })
                })
                .transpose()?,
            status: status
                .map(|s| {
                    Status::parse(&s)
                        .ok_or_else(|| ApiError::invalid_field("status", "a payment status"))
                })
                .transpose()?,
            ..Filter::default()
        };
        let found = service::statement(state, &filter, limit, offset as i64).await?;
        let mut connection = Connection::new(offset > 0, found.has_more);
        let edges = found.items.into_iter().enumerate();
        connection
            .edges
            .extend(edges.map(|(i, t)| Edge::new(offset + i + 1, Transaction::from(t))));
        Ok(connection)
    }

    /// My wallet: one balance per currency it ever held.
    async fn wallet(&self, ctx: &Context<'_>) -> Result<Vec<Balance>> {
        let (state, me) = signed_in(ctx)?;
        let balances = service::wallet(state, me.user_id).await?;
        Ok(balances
            .into_iter()
            .map(|b| Balance {
                currency: b.currency.as_str().to_owned(),
                amount: b.amount,
                decimal: b.decimal,
            })
            .collect())
    }

    /// One of my payments.
    async fn payment(&self, ctx: &Context<'_>, id: ID) -> Result<Payment> {
        let (state, me) = signed_in(ctx)?;
        Ok(service::get(state, &me, payment_id(&id)?).await?.into())
    }
}

#[derive(Default)]
pub struct PaymentsMutation;

#[Object]
impl PaymentsMutation {
    /// Asks for a payment (`top_up` or `premium`); its `checkoutUrl` is
    /// where the payer goes. A retry with the same `idempotencyKey` and
    /// arguments gets the first payment; other arguments are refused.
    async fn create_payment(
        &self,
        ctx: &Context<'_>,
        amount: i64,
        currency: String,
        purpose: String,
        provider: Option<String>,
        idempotency_key: Option<String>,
    ) -> Result<Payment> {
        let (state, me) = signed_in(ctx)?;
        let currency = Currency::parse(&currency)
            .map_err(|e| ApiError::invalid_field("currency", e.to_string()))?;
        let purpose = match Purpose::parse(&purpose) {
            Some(p @ (Purpose::TopUp | Purpose::Premium)) => p,
            _ => return Err(ApiError::invalid_field("purpose", "top_up or premium").into()),
        };
        let new = NewPayment {
            amount,
            currency,
            purpose,
            reference: None,
            provider,
        };
        let request = (
            new.amount,
            new.currency.clone(),
            purpose,
            new.provider.clone(),
        );
        let run = || async {
            let p = service::create(state, me.user_id, new).await?;
            Ok((StatusCode::CREATED, p))
        };
        let payment: payment::Payment = keyed(
            state,
            &me,
            idempotency_key,
            "graphql createPayment",
            &request,
            run,
        )
        .await?;
        Ok(payment.into())
    }

    /// Sends money back (`amount` unset: all that is left): an admin any
    /// payment but an escrow's, the payer their own top-up within 14 days.
    /// Answers the refund, `pending` until the provider has taken it.
    async fn refund_payment(
        &self,
        ctx: &Context<'_>,
        id: ID,
        amount: Option<i64>,
        address: Option<String>,
        idempotency_key: Option<String>,
    ) -> Result<Transaction> {
        let (state, me) = signed_in(ctx)?;
        let id = payment_id(&id)?;
        let request = (id, amount, address.clone());
        let route = format!("graphql refundPayment {id}");
        let run = || async {
            let ask = Ask { amount, address };
            let refund = refunds::refund(state, &me, id, ask).await?;
            Ok((StatusCode::ACCEPTED, refund))
        };
        let refund: payment::Transaction =
            keyed(state, &me, idempotency_key, &route, &request, run).await?;
        Ok(refund.into())
    }
}

/// Runs `run` once per key, when there is one: the first answer, fresh
/// or kept.
async fn keyed<T, F, Fut>(
    state: &crate::state::AppState,
    me: &crate::http::AuthUser,
    key: Option<String>,
    route: &str,
    request: &impl serde::Serialize,
    run: F,
) -> Result<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(StatusCode, T), ApiError>>,
{
    let Some(key) = key else {
        return Ok(run().await?.1);
    };
    match idempotency::once_kept(state, me.user_id, &key, route, request, run).await? {
        Answer::Fresh(_, answer) => Ok(answer),
        Answer::Replayed(_, text) => Ok(serde_json::from_str(&text).map_err(ApiError::internal)?),
    }
}
