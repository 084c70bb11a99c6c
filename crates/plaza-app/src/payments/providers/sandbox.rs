//! The sandbox: plaza's own provider, so the embedded mode takes payments
//! with nothing configured. Its checkout is a page plaza serves where the
//! payer clicks pay, fail or cancel; the click becomes a webhook signed the
//! way Stripe signs (`Plaza-Signature: t=…,v1=…`, an HMAC over `t.body`
//! with a key derived from the deployment's signing key) and goes through
//! the same path as the real providers' webhooks.

use axum::http::{HeaderMap, HeaderValue};
use plaza_core::{Currency, Money, PaymentId, Timestamp};
use serde::{Deserialize, Serialize};

use super::{Checkout, Report, fresh, public_url, signature_header};
use crate::payments::error::{PaymentsError, WebhookError};
use crate::payments::payment::{Outcome, Payment};
use crate::state::AppState;

/// The header a sandbox webhook is signed in.
pub const SIGNATURE: &str = "plaza-signature";

/// A sandbox webhook's body.
#[derive(Debug, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    /// `payment.pending`, `payment.succeeded`, `payment.failed`,
    /// `payment.canceled`.
    #[serde(rename = "type")]
    pub kind: String,
    pub payment_id: PaymentId,
    pub amount: i64,
    pub currency: Currency,
}

async fn signer(state: &AppState) -> Result<&crate::http::auth::jwt::Signer, sqlx::Error> {
    state
        .auth
        .signer(&state.db, &state.config.auth, state.clock.now())
        .await
}

fn webhook_message(at: i64, body: &str) -> String {
    format!("sandbox-webhook:{at}.{body}")
}

/// The checkout page's address: signed, so only the payer who was given
/// it can click.
pub async fn checkout(state: &AppState, payment: &Payment) -> Result<Checkout, PaymentsError> {
    let sig = super::page_sig(state, payment.id).await?;
    let url = public_url(
        state,
        &format!("/api/payments/{}/sandbox?sig={sig}", payment.id),
    );
    Ok(Checkout {
        provider_ref: Some(format!("sbx_{}", payment.id.0.simple())),
        url,
    })
}

/// The webhook the payer's click becomes: its headers and body.
pub async fn webhook(
    state: &AppState,
    payment: &Payment,
    outcome: Outcome,
) -> Result<(HeaderMap, String), PaymentsError> {
    let kind = match outcome {
        Outcome::Pending => "payment.pending",
        Outcome::Succeeded => "payment.succeeded",
        Outcome::Failed => "payment.failed",
        Outcome::Canceled => "payment.canceled",
    };
    let event = Event {
        id: format!("evt_{}", uuid::Uuid::now_v7().simple()),
        kind: kind.to_owned(),
        payment_id: payment.id,
        amount: payment.amount,
        currency: payment.currency.clone(),
    };
    let body = serde_json::to_string(&event).map_err(|e| PaymentsError::Provider(e.to_string()))?;
    let at = state.clock.now().unix_seconds();
    let sig = signer(state).await?.sign_link(&webhook_message(at, &body));
    let mut headers = HeaderMap::new();
    let value = HeaderValue::from_str(&format!("t={at},v1={sig}"))
        .map_err(|e| PaymentsError::Provider(e.to_string()))?;
    headers.insert(SIGNATURE, value);
    Ok((headers, body))
}

pub async fn verify(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    now: Timestamp,
    tolerance: i64,
) -> Result<Report, WebhookError> {
    let header = headers
        .get(SIGNATURE)
        .and_then(|v| v.to_str().ok())
        .ok_or(WebhookError::Unsigned)?;
    let (at, signatures) = signature_header(header)?;
    let text = std::str::from_utf8(body).map_err(|_| WebhookError::BadSignature)?;
    let signer = signer(state)
        .await
        .map_err(|e| WebhookError::Malformed(format!("cannot load the signing key: {e}")))?;
    let message = webhook_message(at, text);
    if !signatures.iter().any(|s| signer.verify_link(&message, s)) {
        return Err(WebhookError::BadSignature);
    }
    fresh(at, now, tolerance)?;
    let event: Event =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let outcome = match event.kind.as_str() {
        "payment.pending" => Some(Outcome::Pending),
        "payment.succeeded" => Some(Outcome::Succeeded),
        "payment.failed" => Some(Outcome::Failed),
        "payment.canceled" => Some(Outcome::Canceled),
        _ => None,
    };
    Ok(Report {
        provider: "sandbox",
        event_id: event.id,
        kind: event.kind,
        payment_id: Some(event.payment_id),
        provider_ref: None,
        outcome,
        amount: Some(Money::new(event.amount, event.currency)),
        amount_text: None,
        flag: None,
    })
}
