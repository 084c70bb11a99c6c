//! Stripe over its REST API: a Checkout Session per payment, refunds
//! against its PaymentIntent, and webhooks verified by `Stripe-Signature`
//! (an HMAC-SHA256 over `t.payload` with the endpoint's `whsec_` secret,
//! compared in constant time, within the tolerance, against the current
//! and the previous secret during a rotation).

use axum::http::HeaderMap;
use hmac::{KeyInit, Mac};
use plaza_core::{Currency, Money, PaymentId, Timestamp};
use plaza_platform::config::StripeConfig;
use serde::Deserialize;
use serde_json::Value;

use super::{Checkout, Report, fresh, signature_header, unhex};
use crate::payments::error::{PaymentsError, WebhookError};
use crate::payments::payment::{Outcome, Payment, Purpose};
use crate::state::AppState;

pub const SIGNATURE: &str = "stripe-signature";

pub struct Stripe {
    secret_key: String,
    /// The signing secrets webhooks may be signed with, newest first.
    webhook_secrets: Vec<String>,
    api: String,
}

/// The parts of a Checkout Session plaza reads.
#[derive(Debug, Deserialize)]
struct Session {
    id: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    client_reference_id: Option<String>,
    #[serde(default)]
    metadata: Option<serde_json::Map<String, Value>>,
    /// `paid`, `unpaid`, `no_payment_required`.
    #[serde(default)]
    payment_status: Option<String>,
    /// `open`, `complete`, `expired`.
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    amount_total: Option<i64>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    payment_intent: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Debug, Deserialize)]
struct EventData {
    object: Value,
}

#[derive(Debug, Deserialize)]
struct ApiError {
    error: ApiErrorBody,
}

#[derive(Debug, Deserialize)]
struct ApiErrorBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Stripe's MAC of `body` sent at `at`: HMAC-SHA256 over `t.payload`.
fn mac(secret: &str, at: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(at.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Whether `signature` is `secret`'s on `body` at `at` (constant time).
fn signed_by(secret: &str, at: i64, body: &[u8], signature: &[u8]) -> bool {
    mac(secret, at, body).verify_slice(signature).is_ok()
}

impl Stripe {
    /// On when the secret key is set.
    pub fn from_config(config: &StripeConfig) -> Option<Self> {
        let secret_key = config.secret_key.as_ref()?.expose().to_owned();
        let webhook_secrets = [&config.webhook_secret, &config.previous_webhook_secret]
            .into_iter()
            .flatten()
            .map(|s| s.expose().to_owned())
            .collect();
        Some(Self {
            secret_key,
            webhook_secrets,
            api: config.api_url.trim_end_matches('/').to_owned(),
        })
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Value, PaymentsError> {
        let answer = request
            .bearer_auth(&self.secret_key)
            .send()
            .await
            .map_err(|e| PaymentsError::Provider(format!("Stripe is unreachable: {e}")))?;
        let status = answer.status();
        let body = answer
            .bytes()
            .await
            .map_err(|e| PaymentsError::Provider(format!("Stripe's answer broke off: {e}")))?;
        if status.is_success() {
            return serde_json::from_slice(&body)
                .map_err(|e| PaymentsError::Provider(format!("Stripe's answer is not JSON: {e}")));
        }
        let why = serde_json::from_slice::<ApiError>(&body)
            .ok()
            .map(|e| {
                let kind = e.error.kind.unwrap_or_default();
                format!("{kind}: {}", e.error.message.unwrap_or_default())
            })
            .unwrap_or_else(|| format!("HTTP {status}"));
        Err(PaymentsError::Provider(format!("Stripe refused: {why}")))
    }

    /// A Checkout Session for `payment`.
    pub async fn checkout(
        &self,
        state: &AppState,
        payment: &Payment,
    ) -> Result<Checkout, PaymentsError> {
        let id = payment.id.to_string();
        let back = super::return_url(state, payment.id).await?;
        let name = match payment.purpose {
            Purpose::TopUp => "Wallet top-up",
            Purpose::Premium => "Premium",
            Purpose::Escrow => "Project escrow",
        };
        let amount = payment.amount.to_string();
        let currency = payment.currency.as_str().to_ascii_lowercase();
        let form = [
            ("mode", "payment"),
            ("client_reference_id", id.as_str()),
            ("metadata[payment_id]", id.as_str()),
            ("payment_intent_data[metadata][payment_id]", id.as_str()),
            ("line_items[0][quantity]", "1"),
            ("line_items[0][price_data][currency]", currency.as_str()),
            ("line_items[0][price_data][unit_amount]", amount.as_str()),
            ("line_items[0][price_data][product_data][name]", name),
            ("success_url", back.as_str()),
            ("cancel_url", back.as_str()),
        ];
        let request = state
            .http
            .post(format!("{}/v1/checkout/sessions", self.api))
            .header("Idempotency-Key", format!("plaza-checkout-{id}"))
            .form(&form);
        let session: Session = serde_json::from_value(self.call(request).await?)
            .map_err(|e| PaymentsError::Provider(format!("not a Checkout Session: {e}")))?;
        let url = session
            .url
            .ok_or_else(|| PaymentsError::Provider("the Checkout Session has no url".into()))?;
        Ok(Checkout {
            provider_ref: Some(session.id),
            url,
        })
    }

    async fn session(&self, state: &AppState, payment: &Payment) -> Result<Session, PaymentsError> {
        let id = payment
            .provider_ref
            .as_deref()
            .ok_or_else(|| PaymentsError::Provider("the payment has no Checkout Session".into()))?;
        let request = state
            .http
            .get(format!("{}/v1/checkout/sessions/{id}", self.api));
        serde_json::from_value(self.call(request).await?)
            .map_err(|e| PaymentsError::Provider(format!("not a Checkout Session: {e}")))
    }

    /// Where Stripe says the payment's session is.
    pub async fn ask(&self, state: &AppState, payment: &Payment) -> Result<Report, PaymentsError> {
        let session = self.session(state, payment).await?;
        let outcome = match (session.status.as_deref(), session.payment_status.as_deref()) {
            (_, Some("paid" | "no_payment_required")) => Some(Outcome::Succeeded),
            (Some("expired"), _) => Some(Outcome::Canceled),
            (Some("complete"), _) => Some(Outcome::Pending),
            _ => None,
        };
        let kind = format!(
            "poll:{}:{}",
            session.status.as_deref().unwrap_or("?"),
            session.payment_status.as_deref().unwrap_or("?")
        );
        Ok(report(
            format!("{}:{kind}", session.id),
            kind,
            session,
            outcome,
        ))
    }

    /// Refunds `amount` of the payment's PaymentIntent.
    pub async fn refund(
        &self,
        state: &AppState,
        payment: &Payment,
        refund: &str,
        amount: &Money,
    ) -> Result<(), PaymentsError> {
        let session = self.session(state, payment).await?;
        let intent = match &session.payment_intent {
            Some(Value::String(id)) => id.clone(),
            Some(Value::Object(o)) => o
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            _ => String::new(),
        };
        if intent.is_empty() {
            return Err(PaymentsError::Provider(
                "the Checkout Session has no PaymentIntent to refund".into(),
            ));
        }
        let minor = amount.minor.to_string();
        let form = [
            ("payment_intent", intent.as_str()),
            ("amount", minor.as_str()),
            ("metadata[refund_id]", refund),
        ];
        let request = state
            .http
            .post(format!("{}/v1/refunds", self.api))
            .header("Idempotency-Key", format!("plaza-refund-{refund}"))
            .form(&form);
        self.call(request).await.map(|_| ())
    }

    pub fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: Timestamp,
        tolerance: i64,
    ) -> Result<Report, WebhookError> {
        if self.webhook_secrets.is_empty() {
            return Err(WebhookError::Off("stripe"));
        }
        let header = headers
            .get(SIGNATURE)
            .and_then(|v| v.to_str().ok())
            .ok_or(WebhookError::Unsigned)?;
        let (at, signatures) = signature_header(header)?;
        let signed = signatures.iter().filter_map(|s| unhex(s)).any(|given| {
            self.webhook_secrets
                .iter()
                .any(|secret| signed_by(secret, at, body, &given))
        });
        if !signed {
            return Err(WebhookError::BadSignature);
        }
        fresh(at, now, tolerance)?;
        let event: Event =
            serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
        let outcome = match event.kind.as_str() {
            "checkout.session.completed" => Some(
                match event
                    .data
                    .object
                    .get("payment_status")
                    .and_then(Value::as_str)
                {
                    Some("paid" | "no_payment_required") => Outcome::Succeeded,
                    _ => Outcome::Pending,
                },
            ),
            "checkout.session.async_payment_succeeded" => Some(Outcome::Succeeded),
            "checkout.session.async_payment_failed" => Some(Outcome::Failed),
            "checkout.session.expired" => Some(Outcome::Canceled),
            _ => None,
        };
        if outcome.is_none() {
            // Acknowledged and kept; its object need not be a session.
            return Ok(Report {
                provider: "stripe",
                event_id: event.id,
                kind: event.kind,
                payment_id: None,
                provider_ref: None,
                outcome: None,
                amount: None,
                amount_text: None,
                flag: None,
            });
        }
        let session: Session = serde_json::from_value(event.data.object)
            .map_err(|e| WebhookError::Malformed(format!("not a Checkout Session: {e}")))?;
        Ok(report(event.id, event.kind, session, outcome))
    }
}

fn report(event_id: String, kind: String, session: Session, outcome: Option<Outcome>) -> Report {
    let payment_id = session
        .metadata
        .as_ref()
        .and_then(|m| m.get("payment_id"))
        .and_then(Value::as_str)
        .or(session.client_reference_id.as_deref())
        .and_then(|s| s.parse::<PaymentId>().ok());
    let amount = match (session.amount_total, session.currency.as_deref()) {
        (Some(minor), Some(code)) => Currency::parse(code).ok().map(|c| Money::new(minor, c)),
        _ => None,
    };
    Report {
        provider: "stripe",
        event_id,
        kind,
        payment_id,
        provider_ref: Some(session.id),
        outcome,
        amount_text: session.amount_total.map(|m| m.to_string()),
        amount,
        flag: None,
    }
}
