//! The payment provider port: make a checkout, read a webhook, ask about a
//! payment, send a refund. Three adapters: the sandbox (plaza's own, the
//! default), Stripe and Cryptomus. Each turns its provider's wire format
//! into a [`Report`] in plaza's terms; what a report does is `settle.rs`'s.

pub mod cryptomus;
mod php_json;
pub mod sandbox;
pub mod stripe;

use axum::http::HeaderMap;
use plaza_core::{Money, PaymentId, Timestamp};

use super::error::{PaymentsError, WebhookError};
use super::payment::{Outcome, Payment};
use crate::state::AppState;

/// What a provider said about a payment, in plaza's terms.
#[derive(Clone, Debug)]
pub struct Report {
    pub provider: &'static str,
    /// Unique per provider: a redelivered event has the same one.
    pub event_id: String,
    /// The provider's event type or status, as sent.
    pub kind: String,
    /// Plaza's id, when the provider echoes it (metadata, order id).
    pub payment_id: Option<PaymentId>,
    /// The provider's own id for the payment.
    pub provider_ref: Option<String>,
    /// `None`: an event plaza does not act on (acknowledged, kept).
    pub outcome: Option<Outcome>,
    /// What the provider says was asked or paid, in the payment's currency.
    pub amount: Option<Money>,
    /// The provider's own amount text (a crypto amount in its precision).
    pub amount_text: Option<String>,
    /// The provider says the payment is wrong as paid (Cryptomus'
    /// `wrong_amount`): held, not credited.
    pub flag: Option<String>,
}

/// Where the payer goes to pay.
#[derive(Clone, Debug)]
pub struct Checkout {
    pub provider_ref: Option<String>,
    pub url: String,
}

/// One configured provider.
pub enum Provider {
    Sandbox,
    Stripe(stripe::Stripe),
    Cryptomus(cryptomus::Cryptomus),
}

/// The providers plaza knows, by name.
pub const NAMES: [&str; 3] = ["sandbox", "stripe", "cryptomus"];

impl Provider {
    /// The provider called `name`, if it is configured.
    pub fn named(state: &AppState, name: &str) -> Result<Self, PaymentsError> {
        let config = &state.config.payments;
        let off = || PaymentsError::ProviderOff(name.to_owned());
        match name {
            "sandbox" if config.sandbox => Ok(Self::Sandbox),
            "stripe" => stripe::Stripe::from_config(&config.stripe)
                .map(Self::Stripe)
                .ok_or_else(off),
            "cryptomus" => cryptomus::Cryptomus::from_config(&config.cryptomus)
                .map(Self::Cryptomus)
                .ok_or_else(off),
            _ => Err(off()),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Sandbox => "sandbox",
            Self::Stripe(_) => "stripe",
            Self::Cryptomus(_) => "cryptomus",
        }
    }

    /// Asks the provider to take `payment`; where the payer goes.
    pub async fn checkout(
        &self,
        state: &AppState,
        payment: &Payment,
    ) -> Result<Checkout, PaymentsError> {
        match self {
            Self::Sandbox => sandbox::checkout(state, payment).await,
            Self::Stripe(p) => p.checkout(state, payment).await,
            Self::Cryptomus(p) => p.checkout(state, payment).await,
        }
    }

    /// Reads a webhook: its signature checked, then what it says.
    pub async fn verify(
        &self,
        state: &AppState,
        headers: &HeaderMap,
        body: &[u8],
        now: Timestamp,
    ) -> Result<Report, WebhookError> {
        let tolerance = state.config.payments.webhook_tolerance.0.as_secs();
        let tolerance = i64::try_from(tolerance).unwrap_or(i64::MAX);
        match self {
            Self::Sandbox => sandbox::verify(state, headers, body, now, tolerance).await,
            Self::Stripe(p) => p.verify(headers, body, now, tolerance),
            Self::Cryptomus(p) => p.verify(body),
        }
    }

    /// Asks the provider where `payment` is (for reconciliation); `None`
    /// when it cannot tell (the sandbox keeps nothing of its own).
    pub async fn ask(
        &self,
        state: &AppState,
        payment: &Payment,
    ) -> Result<Option<Report>, PaymentsError> {
        match self {
            Self::Sandbox => Ok(None),
            Self::Stripe(p) => p.ask(state, payment).await.map(Some),
            Self::Cryptomus(p) => p.ask(state, payment).await.map(Some),
        }
    }

    /// Sends `amount` of `payment` back to the payer; `refund` names the
    /// refund, so a retry is one refund at the provider.
    pub async fn refund(
        &self,
        state: &AppState,
        payment: &Payment,
        refund: &str,
        amount: &Money,
        address: Option<&str>,
    ) -> Result<(), PaymentsError> {
        match self {
            Self::Sandbox => Ok(()),
            Self::Stripe(p) => p.refund(state, payment, refund, amount).await,
            Self::Cryptomus(p) => p.refund(state, payment, address).await,
        }
    }
}

/// The signature on a payment's pages (the sandbox's checkout, the page a
/// provider sends the payer back to), so only who was given the address
/// sees them.
pub async fn page_sig(state: &AppState, id: PaymentId) -> Result<String, sqlx::Error> {
    let now = state.clock.now();
    let signer = state
        .auth
        .signer(&state.db, &state.config.auth, now)
        .await?;
    Ok(signer.sign_link(&format!("payment-page:{id}")))
}

/// Whether `sig` is [`page_sig`]'s for `id`.
pub async fn page_signed(state: &AppState, id: PaymentId, sig: &str) -> Result<bool, sqlx::Error> {
    let now = state.clock.now();
    let signer = state
        .auth
        .signer(&state.db, &state.config.auth, now)
        .await?;
    Ok(signer.verify_link(&format!("payment-page:{id}"), sig))
}

/// Where a provider sends the payer back to.
pub async fn return_url(state: &AppState, id: PaymentId) -> Result<String, sqlx::Error> {
    let sig = page_sig(state, id).await?;
    Ok(public_url(
        state,
        &format!("/api/payments/{id}/return?sig={sig}"),
    ))
}

/// Where a provider sends the payer back to, and its webhooks to.
pub(crate) fn public_url(state: &AppState, path: &str) -> String {
    format!(
        "{}{path}",
        state.config.http.public_url.trim_end_matches('/')
    )
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Bytes from hex; `None` if it is not.
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Whether two byte strings are equal, in time that depends only on their
/// lengths.
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// A `t=…,v1=…` signature header (Stripe's, and the sandbox's): when it
/// was signed and the signatures given.
pub(crate) fn signature_header(value: &str) -> Result<(i64, Vec<&str>), WebhookError> {
    let mut at = None;
    let mut signatures = Vec::new();
    for item in value.split(',') {
        match item.trim().split_once('=') {
            Some(("t", t)) => at = t.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.push(v),
            _ => {}
        }
    }
    match at {
        Some(at) if !signatures.is_empty() => Ok((at, signatures)),
        _ => Err(WebhookError::Unsigned),
    }
}

/// Refuses a signature made more than `tolerance` seconds from `now`
/// (either way: a clock far ahead is as suspect as a replay).
pub(crate) fn fresh(at: i64, now: Timestamp, tolerance: i64) -> Result<(), WebhookError> {
    let age = now.unix_seconds() - at;
    if age.abs() > tolerance {
        Err(WebhookError::Stale(age))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_reads_back_and_refuses_what_is_not() {
        assert_eq!(hex(&[0, 0xab, 0x10]), "00ab10");
        assert_eq!(unhex("00ab10"), Some(vec![0, 0xab, 0x10]));
        assert_eq!(unhex("0g"), None);
        assert_eq!(unhex("abc"), None);
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"ab", b"abc"));
    }

    #[test]
    fn signature_headers_need_a_time_and_a_signature() {
        let (at, sigs) = signature_header("t=12,v1=aa,v0=bb,v1=cc").unwrap();
        assert_eq!((at, sigs), (12, vec!["aa", "cc"]));
        assert!(signature_header("v1=aa").is_err());
        assert!(signature_header("t=12").is_err());
        assert!(signature_header("").is_err());
    }
}
