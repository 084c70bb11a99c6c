//! Payments over REST: asking for a payment, seeing it, refunds, my
//! transactions and wallet, a project's escrow, and the admin's views.
//! (Webhooks and the checkout pages are `webhooks.rs`.)

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use plaza_core::{Currency, PaymentId, ProjectId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::escrow::{self, Escrow};
use super::idempotency::{self, IdempotencyKey};
use super::payment::{Kind, Payment, Purpose, Status, Transaction};
use super::refunds::{self, Ask};
use super::service::{self, Balance, Filter, LedgerReport, NewPayment, TransactionPage, instant};
use crate::http::{
    AdminUser, ApiError, AuthUser, ErrorBody, ValidJson, ValidPath, ValidQuery, page_limit,
};
use crate::state::AppState;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePayment {
    /// Minor units (cents), positive.
    pub amount: i64,
    /// ISO 4217, e.g. `USD`.
    #[schema(value_type = String, example = "USD")]
    pub currency: Currency,
    /// `top_up` (into my wallet) or `premium` (a purchase). A project's
    /// escrow is funded at `POST /api/projects/{id}/escrow`.
    pub purpose: Purpose,
    /// `sandbox`, `stripe` or `cryptomus`; unset, the configured default.
    pub provider: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentBody {
    pub payment: Payment,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundPayment {
    /// Minor units; unset, all that is left to refund.
    pub amount: Option<i64>,
    /// Where a Cryptomus refund goes: a wallet address.
    pub address: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefundBody {
    pub refund: Transaction,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WalletBody {
    /// One per currency the wallet ever held.
    pub balances: Vec<Balance>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FundEscrow {
    /// `sandbox`, `stripe` or `cryptomus`; unset, the configured default.
    pub provider: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EscrowBody {
    pub escrow: Escrow,
    /// The payment funding it, with its checkout.
    pub payment: Option<Payment>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TransactionsQuery {
    /// `top_up`, `premium`, `escrow`, `refund`, `payout`.
    kind: Option<String>,
    /// A status, such as `succeeded`.
    status: Option<String>,
    /// RFC 3339: made at or after.
    from: Option<String>,
    /// RFC 3339: made before.
    until: Option<String>,
    /// 1–100, default 20.
    limit: Option<u32>,
    /// Default 0.
    offset: Option<u32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AdminTransactionsQuery {
    /// One user's.
    user_id: Option<String>,
    /// A transaction, payment or provider id, exactly.
    q: Option<String>,
    provider: Option<String>,
    kind: Option<String>,
    status: Option<String>,
    from: Option<String>,
    until: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

fn filter_of(
    kind: Option<&str>,
    status: Option<&str>,
    from: Option<&str>,
    until: Option<&str>,
) -> Result<Filter, ApiError> {
    let kind = kind
        .map(|k| {
            Kind::parse(k).ok_or_else(|| {
                ApiError::invalid_field("kind", "top_up, premium, escrow, refund or payout")
            })
        })
        .transpose()?;
    let status = status
        .map(|s| {
            Status::parse(s).ok_or_else(|| {
                ApiError::invalid_field(
                    "status",
                    "created, pending, succeeded, failed, canceled, partially_refunded or refunded",
                )
            })
        })
        .transpose()?;
    Ok(Filter {
        kind,
        status,
        from: instant("from", from)?,
        until: instant("until", until)?,
        ..Filter::default()
    })
}

/// `POST /api/payments` — ask for a payment; answers where to pay.
#[utoipa::path(post, path = "/api/payments", tag = "payments", security(("bearer" = [])),
    request_body = CreatePayment,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key and body get the first answer; another body is a 422")),
    responses((status = 201, body = PaymentBody, description = "The payment, `checkout_url` where the payer goes"),
        (status = 401, body = ErrorBody), (status = 409, description = "The key's first request is still running", body = ErrorBody),
        (status = 422, description = "Wrong input, a provider that is off, or a key reused with another body", body = ErrorBody),
        (status = 502, description = "The provider refused or could not be reached; the payment failed", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    me: AuthUser,
    key: IdempotencyKey,
    ValidJson(req): ValidJson<CreatePayment>,
) -> Result<Response, ApiError> {
    if req.purpose == Purpose::Escrow {
        return Err(ApiError::invalid_field(
            "purpose",
            "top_up or premium; fund a project's escrow at POST /api/projects/{id}/escrow",
        ));
    }
    idempotency::once(
        &state,
        me.user_id,
        &key,
        "POST /api/payments",
        &req,
        || async {
            let new = NewPayment {
                amount: req.amount,
                currency: req.currency.clone(),
                purpose: req.purpose,
                reference: None,
                provider: req.provider.clone(),
            };
            let payment = service::create(&state, me.user_id, new).await?;
            Ok((StatusCode::CREATED, PaymentBody { payment }))
        },
    )
    .await
}

/// `GET /api/payments/{id}` — one of my payments (any, for an admin).
#[utoipa::path(get, path = "/api/payments/{id}", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = PaymentBody), (status = 401, body = ErrorBody),
        (status = 404, description = "No such payment, or another's", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<PaymentId>,
) -> Result<Json<PaymentBody>, ApiError> {
    let payment = service::get(&state, &me, id).await?;
    Ok(Json(PaymentBody { payment }))
}

/// `POST /api/payments/{id}/refund` — send money back: an admin any
/// payment but an escrow's; the payer their own top-up within 14 days.
#[utoipa::path(post, path = "/api/payments/{id}/refund", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key and body get the first answer")),
    request_body = RefundPayment,
    responses((status = 202, body = RefundBody, description = "Taken: the money left the account; the provider is told in the background"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Not paid, more than is left, or the wallet no longer holds it", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn refund(
    State(state): State<AppState>,
    me: AuthUser,
    key: IdempotencyKey,
    ValidPath(id): ValidPath<PaymentId>,
    ValidJson(req): ValidJson<RefundPayment>,
) -> Result<Response, ApiError> {
    let route = format!("POST /api/payments/{id}/refund");
    idempotency::once(&state, me.user_id, &key, &route, &req, || async {
        let ask = Ask {
            amount: req.amount,
            address: req.address.clone(),
        };
        let refund = refunds::refund(&state, &me, id, ask).await?;
        Ok((StatusCode::ACCEPTED, RefundBody { refund }))
    })
    .await
}

/// `GET /api/transactions` — my transactions (seed 004's), newest first.
#[utoipa::path(get, path = "/api/transactions", tag = "payments", security(("bearer" = [])),
    params(TransactionsQuery),
    responses((status = 200, body = TransactionPage), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn statement(
    State(state): State<AppState>,
    me: AuthUser,
    ValidQuery(query): ValidQuery<TransactionsQuery>,
) -> Result<Json<TransactionPage>, ApiError> {
    let limit = page_limit(query.limit, 20)?;
    let mut filter = filter_of(
        query.kind.as_deref(),
        query.status.as_deref(),
        query.from.as_deref(),
        query.until.as_deref(),
    )?;
    filter.user = Some(me.user_id);
    let offset = i64::from(query.offset.unwrap_or(0));
    Ok(Json(
        service::statement(&state, &filter, limit, offset).await?,
    ))
}

/// `GET /api/wallet` — my balances.
#[utoipa::path(get, path = "/api/wallet", tag = "payments", security(("bearer" = [])),
    responses((status = 200, body = WalletBody), (status = 401, body = ErrorBody)))]
pub async fn wallet(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<Json<WalletBody>, ApiError> {
    let balances = service::wallet(&state, me.user_id).await?;
    Ok(Json(WalletBody { balances }))
}

/// `POST /api/projects/{id}/escrow` — the client funds an in-progress
/// project's deal (the accepted bid); answers the payment's checkout.
#[utoipa::path(post, path = "/api/projects/{id}/escrow", tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key and body get the first answer")),
    request_body = FundEscrow,
    responses((status = 201, body = EscrowBody), (status = 401, body = ErrorBody),
        (status = 403, description = "Not the project's owner", body = ErrorBody),
        (status = 409, description = "No accepted response, not in progress, or funded already", body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn fund_escrow(
    State(state): State<AppState>,
    me: AuthUser,
    key: IdempotencyKey,
    ValidPath(id): ValidPath<ProjectId>,
    ValidJson(req): ValidJson<FundEscrow>,
) -> Result<Response, ApiError> {
    let route = format!("POST /api/projects/{id}/escrow");
    idempotency::once(&state, me.user_id, &key, &route, &req, || async {
        let (escrow, payment) = escrow::fund(&state, &me, id, req.provider.clone()).await?;
        Ok((
            StatusCode::CREATED,
            EscrowBody {
                escrow,
                payment: Some(payment),
            },
        ))
    })
    .await
}

/// `GET /api/projects/{id}/escrow` — a deal's escrow, to its two sides.
#[utoipa::path(get, path = "/api/projects/{id}/escrow", tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = EscrowBody), (status = 401, body = ErrorBody),
        (status = 404, description = "No escrow, or not my deal", body = ErrorBody)))]
pub async fn get_escrow(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<ProjectId>,
) -> Result<Json<EscrowBody>, ApiError> {
    let escrow = escrow::get(&state, &me, id).await?;
    // The freelancer sees the deal, not the client's payment.
    let payment = match service::get(&state, &me, escrow.payment_id).await {
        Ok(p) => Some(p),
        Err(crate::payments::PaymentsError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    Ok(Json(EscrowBody { escrow, payment }))
}

/// `GET /api/admin/transactions` — everyone's, searched.
#[utoipa::path(get, path = "/api/admin/transactions", tag = "admin", security(("bearer" = [])),
    params(AdminTransactionsQuery),
    responses((status = 200, body = TransactionPage), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn admin_statement(
    State(state): State<AppState>,
    _admin: AdminUser,
    ValidQuery(query): ValidQuery<AdminTransactionsQuery>,
) -> Result<Json<TransactionPage>, ApiError> {
    let limit = page_limit(query.limit, 20)?;
    let mut filter = filter_of(
        query.kind.as_deref(),
        query.status.as_deref(),
        query.from.as_deref(),
        query.until.as_deref(),
    )?;
    filter.user = query
        .user_id
        .as_deref()
        .map(|u| {
            u.parse()
                .map_err(|_| ApiError::invalid_field("user_id", "a user id (UUID)"))
        })
        .transpose()?;
    filter.provider = query.provider;
    filter.reference = query.q.filter(|q| !q.trim().is_empty());
    let offset = i64::from(query.offset.unwrap_or(0));
    Ok(Json(
        service::statement(&state, &filter, limit, offset).await?,
    ))
}

/// `GET /api/admin/ledger` — the ledger's totals and whether its
/// invariants hold.
#[utoipa::path(get, path = "/api/admin/ledger", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = LedgerReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn admin_ledger(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<LedgerReport>, ApiError> {
    Ok(Json(service::ledger_report(&state).await?))
}
