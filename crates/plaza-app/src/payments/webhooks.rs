//! Where providers tell plaza what happened: `POST
//! /api/payments/webhooks/{provider}` (Stripe, Cryptomus and the sandbox),
//! and the pages a payer sees — the sandbox's checkout, whose clicks
//! become signed sandbox webhooks through the same path, and the page a
//! provider sends the payer back to. These routes take no bearer token and
//! are not rate limited per client: a provider's retries come in bursts
//! from few addresses.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use plaza_core::PaymentId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{PaymentsError, WebhookError};
use super::payment::{Outcome, Payment};
use super::providers::{NAMES, Provider, sandbox};
use super::settle::{self, Receipt};
use super::store;
use crate::http::{ApiError, ErrorBody, ValidPath};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAnswer {
    pub received: bool,
    /// `applied`, `replayed`, `ignored`, `stale`, `flagged` or `unknown`.
    pub outcome: String,
}

/// Verifies and applies one webhook; what every provider's delivery and
/// every sandbox click goes through.
pub async fn accept(
    state: &AppState,
    name: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Receipt, ApiError> {
    let provider = match Provider::named(state, name) {
        Ok(p) => p,
        Err(_) => return Err(refused(name, WebhookError::Off(known(name))).into()),
    };
    let now = state.clock.now();
    let report = provider
        .verify(state, headers, body, now)
        .await
        .map_err(|e| refused(name, e))?;
    Ok(settle::receive(state, &report).await?)
}

fn known(name: &str) -> &'static str {
    NAMES.into_iter().find(|n| *n == name).unwrap_or("unknown")
}

/// A refused webhook is a security event: someone may be forging them.
fn refused(name: &str, e: WebhookError) -> WebhookError {
    let reason = match &e {
        WebhookError::Unsigned => "unsigned",
        WebhookError::BadSignature => "bad_signature",
        WebhookError::Stale(_) => "stale",
        WebhookError::Malformed(_) => "malformed",
        WebhookError::Off(_) => "off",
    };
    tracing::warn!(target: "plaza::security", provider = name, reason, error = %e,
        "webhook refused");
    metrics::counter!("plaza_payment_webhooks_refused_total",
        "provider" => known(name), "reason" => reason)
    .increment(1);
    e
}

/// `POST /api/payments/webhooks/{provider}` — a provider's event.
#[utoipa::path(post, path = "/api/payments/webhooks/{provider}", tag = "payments",
    params(("provider" = String, Path, description = "`stripe`, `cryptomus` or `sandbox`")),
    request_body(content = String, description = "The provider's event, signed its way: `Stripe-Signature`, Cryptomus' `sign` field, `Plaza-Signature` for the sandbox"),
    responses((status = 200, body = WebhookAnswer, description = "Taken (also when replayed or of a kind plaza ignores)"),
        (status = 400, description = "Unsigned, forged, stale (older than the tolerance), or not the provider's format; logged as a security event", body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn webhook(
    State(state): State<AppState>,
    ValidPath(name): ValidPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookAnswer>, ApiError> {
    if !NAMES.contains(&name.as_str()) {
        return Err(ApiError::new(
            crate::http::error::codes::ROUTE_NOT_FOUND,
            "no such payment provider",
        ));
    }
    let receipt = accept(&state, &name, &headers, &body).await?;
    Ok(Json(WebhookAnswer {
        received: true,
        outcome: receipt.as_str().to_owned(),
    }))
}

#[derive(Debug, Deserialize)]
pub struct Signed {
    sig: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Click {
    sig: Option<String>,
    /// `succeeded`, `failed`, `canceled` or `pending`.
    outcome: Option<String>,
}

/// The payment whose page `sig` signs (the sandbox's only, with `sandbox`).
async fn signed_payment(
    state: &AppState,
    id: PaymentId,
    sig: Option<&str>,
    sandbox: bool,
) -> Result<Payment, ApiError> {
    let ok = match sig {
        Some(sig) => super::providers::page_signed(state, id, sig).await?,
        None => false,
    };
    let mut conn = state.db.writer().acquire().await?;
    let payment = store::find(&mut conn, id).await?;
    match payment {
        Some(p) if ok && (!sandbox || p.provider == "sandbox") => Ok(p),
        _ => Err(PaymentsError::NotFound.into()),
    }
}

/// `GET /api/payments/{id}/sandbox?sig=…` — the sandbox's checkout page.
#[utoipa::path(get, path = "/api/payments/{id}/sandbox", tag = "payments",
    params(("id" = String, Path, format = Uuid), ("sig" = String, Query, description = "From the payment's `checkout_url`")),
    responses((status = 200, content_type = "text/html", body = String), (status = 404, body = ErrorBody)))]
pub async fn sandbox_page(
    State(state): State<AppState>,
    ValidPath(id): ValidPath<PaymentId>,
    Query(signed): Query<Signed>,
) -> Result<Html<String>, ApiError> {
    let payment = signed_payment(&state, id, signed.sig.as_deref(), true).await?;
    let sig = signed.sig.unwrap_or_default();
    Ok(Html(page(&payment, Some(&sig))))
}

/// `POST /api/payments/{id}/sandbox` — the payer's click
/// (`application/x-www-form-urlencoded`: `sig`, `outcome`).
#[utoipa::path(post, path = "/api/payments/{id}/sandbox", tag = "payments",
    params(("id" = String, Path, format = Uuid)),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "`sig` (from the checkout URL) and `outcome`: succeeded, failed, canceled or pending"),
    responses((status = 200, content_type = "text/html", body = String), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn sandbox_click(
    State(state): State<AppState>,
    ValidPath(id): ValidPath<PaymentId>,
    body: Bytes,
) -> Result<Response, ApiError> {
    // The signature first: without it there is no page to click on.
    let click: Click = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let payment = signed_payment(&state, id, click.sig.as_deref(), true).await?;
    let outcome = match click.outcome.as_deref().unwrap_or_default() {
        "succeeded" => Outcome::Succeeded,
        "failed" => Outcome::Failed,
        "canceled" => Outcome::Canceled,
        "pending" => Outcome::Pending,
        _ => {
            return Err(ApiError::invalid_field(
                "outcome",
                "succeeded, failed, canceled or pending",
            ));
        }
    };
    let (headers, event) = sandbox::webhook(&state, &payment, outcome).await?;
    accept(&state, "sandbox", &headers, event.as_bytes()).await?;
    let mut conn = state.db.writer().acquire().await?;
    let payment = store::find(&mut conn, id).await?.unwrap_or(payment);
    Ok((StatusCode::OK, Html(page(&payment, None))).into_response())
}

/// `GET /api/payments/{id}/return?sig=…` — where a provider sends the
/// payer back.
#[utoipa::path(get, path = "/api/payments/{id}/return", tag = "payments",
    params(("id" = String, Path, format = Uuid), ("sig" = String, Query, description = "From the return address plaza gave the provider")),
    responses((status = 200, content_type = "text/html", body = String), (status = 404, body = ErrorBody)))]
pub async fn return_page(
    State(state): State<AppState>,
    ValidPath(id): ValidPath<PaymentId>,
    Query(signed): Query<Signed>,
) -> Result<Html<String>, ApiError> {
    let payment = signed_payment(&state, id, signed.sig.as_deref(), false).await?;
    Ok(Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Payment</title></head>\
         <body style=\"font-family:sans-serif;max-width:32rem;margin:3rem auto\">\
         <h1>Payment {}</h1><p>You may close this page.</p></body></html>",
        escape(payment.status.as_str())
    )))
}

/// The sandbox page: the payment, and the buttons while it waits.
fn page(payment: &Payment, sig: Option<&str>) -> String {
    let amount = format!(
        "{} {}",
        payment.money().decimal(),
        payment.currency.as_str()
    );
    let buttons = match sig {
        Some(sig) if payment.status.waiting() => {
            let button = |outcome: &str, label: &str| {
                format!(
                    "<form method=\"post\" style=\"display:inline\">\
                     <input type=\"hidden\" name=\"sig\" value=\"{}\">\
                     <input type=\"hidden\" name=\"outcome\" value=\"{outcome}\">\
                     <button type=\"submit\">{label}</button></form> ",
                    escape(sig)
                )
            };
            format!(
                "{}{}{}",
                button("succeeded", "Pay"),
                button("failed", "Fail"),
                button("canceled", "Cancel")
            )
        }
        _ => String::new(),
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Sandbox checkout</title></head>\
         <body style=\"font-family:sans-serif;max-width:32rem;margin:3rem auto\">\
         <p><strong>Sandbox</strong>: no money moves.</p>\
         <h1>{}</h1><p>{} · payment {}</p><p>Status: <strong id=\"status\">{}</strong></p>{}\
         </body></html>",
        escape(&amount),
        escape(payment.purpose.as_str()),
        payment.id,
        escape(payment.status.as_str()),
        buttons
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
