//! Cryptomus: an invoice per payment, and payment webhooks. Requests carry
//! `merchant` and `sign` headers, the sign being MD5 of the base64 of the
//! body followed by the API key, as its API documents; a webhook carries
//! its `sign` in the body, over the rest of the body as PHP's
//! `json_encode` writes it (`php_json.rs`). Its statuses are mapped one by
//! one below.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use md5::Digest;
use plaza_core::{Currency, Money, PaymentId};
use plaza_platform::config::CryptomusConfig;
use serde_json::{Value, json};

use super::php_json::Json;
use super::{Checkout, Report, hex, public_url, same};
use crate::payments::error::{PaymentsError, WebhookError, invalid};
use crate::payments::payment::{Outcome, Payment};
use crate::state::AppState;

pub struct Cryptomus {
    merchant: String,
    api_key: String,
    api: String,
}

/// Cryptomus' signature of `body` with `key`.
pub fn sign(body: &str, key: &str) -> String {
    let mut md5 = md5::Md5::new();
    md5.update(STANDARD.encode(body).as_bytes());
    md5.update(key.as_bytes());
    hex(&md5.finalize())
}

/// What a Cryptomus status means for the payment, and whether it is
/// held: every status its documentation lists, explicitly.
fn outcome(status: &str) -> (Option<Outcome>, Option<&'static str>) {
    match status {
        // Paid in full; `paid_over` is more than asked (the excess stays
        // with the merchant's balance at Cryptomus and is logged here).
        "paid" | "paid_over" => (Some(Outcome::Succeeded), None),
        // Paid less than asked and final: not credited.
        "wrong_amount" => (
            None,
            Some("Cryptomus reports wrong_amount: the payer paid less than asked"),
        ),
        // Still on its way (or waiting for the rest of an underpayment,
        // or held by Cryptomus' checks).
        "process" | "check" | "confirm_check" | "wrong_amount_waiting" | "locked" => {
            (Some(Outcome::Pending), None)
        }
        "cancel" => (Some(Outcome::Canceled), None),
        "fail" | "system_fail" => (Some(Outcome::Failed), None),
        // Refunds are plaza's own moves; their echoes change nothing.
        "refund_process" | "refund_fail" | "refund_paid" => (None, None),
        _ => (None, None),
    }
}

/// A provider amount (`"15.00000000"`) in `currency`: trailing zeros past
/// the currency's digits are dropped; any other digit there is not an
/// amount of that currency.
fn amount(text: &str, currency: &Currency) -> Option<Money> {
    let text = text.trim();
    let text = match text.split_once('.') {
        Some((whole, fraction)) => {
            let digits = usize::try_from(currency.exponent()).ok()?;
            let kept = fraction.trim_end_matches('0');
            if kept.len() > digits {
                return None;
            }
            if kept.is_empty() {
                whole.to_owned()
            } else {
                format!("{whole}.{kept}")
            }
        }
        None => text.to_owned(),
    };
    Money::parse(&text, currency.clone()).ok()
}

fn report(event_id: String, kind: String, result: &Json) -> Report {
    let field = |k: &str| result.get(k).and_then(Json::as_str);
    let status = field("status").unwrap_or_default();
    let (outcome, flag) = outcome(status);
    let is_payment = field("type").is_none_or(|t| t == "payment");
    let money = match (field("amount"), field("currency")) {
        (Some(text), Some(code)) => Currency::parse(code).ok().and_then(|c| amount(text, &c)),
        _ => None,
    };
    let paid = match (field("payment_amount"), field("payer_currency")) {
        (Some(a), Some(c)) => Some(format!("{a} {c}")),
        _ => field("amount").map(str::to_owned),
    };
    Report {
        provider: "cryptomus",
        event_id,
        kind,
        payment_id: field("order_id").and_then(|s| s.parse::<PaymentId>().ok()),
        provider_ref: field("uuid").map(str::to_owned),
        outcome: outcome.filter(|_| is_payment),
        amount: money,
        amount_text: paid,
        flag: flag.filter(|_| is_payment).map(str::to_owned),
    }
}

impl Cryptomus {
    /// On when both the merchant and the API key are set.
    pub fn from_config(config: &CryptomusConfig) -> Option<Self> {
        Some(Self {
            merchant: config.merchant.clone()?,
            api_key: config.api_key.as_ref()?.expose().to_owned(),
            api: config.api_url.trim_end_matches('/').to_owned(),
        })
    }

    /// A signed POST of `body`; the `result` of a `state: 0` answer.
    async fn call(
        &self,
        state: &AppState,
        path: &str,
        body: &Value,
    ) -> Result<Json, PaymentsError> {
        let body = body.to_string();
        let answer = state
            .http
            .post(format!("{}{path}", self.api))
            .header("merchant", &self.merchant)
            .header("sign", sign(&body, &self.api_key))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| PaymentsError::Provider(format!("Cryptomus is unreachable: {e}")))?;
        let status = answer.status();
        let bytes = answer
            .bytes()
            .await
            .map_err(|e| PaymentsError::Provider(format!("Cryptomus' answer broke off: {e}")))?;
        let parsed: Json = serde_json::from_slice(&bytes).map_err(|_| {
            PaymentsError::Provider(format!("Cryptomus answered HTTP {status}, not JSON"))
        })?;
        let ok = matches!(parsed.get("state"), Some(Json::Number(n)) if n.as_i64() == Some(0));
        if !status.is_success() || !ok {
            let why = parsed
                .get("message")
                .and_then(Json::as_str)
                .map(str::to_owned)
                .or_else(|| parsed.get("errors").map(Json::php_encode))
                .unwrap_or_else(|| format!("HTTP {status}"));
            return Err(PaymentsError::Provider(format!("Cryptomus refused: {why}")));
        }
        Ok(parsed.get("result").cloned().unwrap_or(Json::Null))
    }

    /// An invoice for `payment`.
    pub async fn checkout(
        &self,
        state: &AppState,
        payment: &Payment,
    ) -> Result<Checkout, PaymentsError> {
        let back = super::return_url(state, payment.id).await?;
        let body = json!({
            "amount": payment.money().decimal(),
            "currency": payment.currency,
            "order_id": payment.id,
            "url_callback": public_url(state, "/api/payments/webhooks/cryptomus"),
            "url_return": back,
            "url_success": back,
        });
        let result = self.call(state, "/v1/payment", &body).await?;
        let field = |k: &str| result.get(k).and_then(Json::as_str).map(str::to_owned);
        match (field("uuid"), field("url")) {
            (Some(uuid), Some(url)) => Ok(Checkout {
                provider_ref: Some(uuid),
                url,
            }),
            _ => Err(PaymentsError::Provider(
                "Cryptomus' invoice has no uuid or url".into(),
            )),
        }
    }

    /// Where Cryptomus says the invoice is.
    pub async fn ask(&self, state: &AppState, payment: &Payment) -> Result<Report, PaymentsError> {
        let uuid = payment
            .provider_ref
            .as_deref()
            .ok_or_else(|| PaymentsError::Provider("the payment has no invoice".into()))?;
        let result = self
            .call(state, "/v1/payment/info", &json!({"uuid": uuid}))
            .await?;
        let status = result.get("status").and_then(Json::as_str).unwrap_or("?");
        let kind = format!("poll:{status}");
        Ok(report(format!("{uuid}:{status}"), kind, &result))
    }

    /// Cryptomus refunds to a wallet address, with its fee taken from the
    /// refund (`is_subtract`).
    pub async fn refund(
        &self,
        state: &AppState,
        payment: &Payment,
        address: Option<&str>,
    ) -> Result<(), PaymentsError> {
        let address = address.ok_or_else(|| {
            invalid(
                "address",
                "a Cryptomus refund goes to a wallet address: give one",
            )
        })?;
        let uuid = payment
            .provider_ref
            .as_deref()
            .ok_or_else(|| PaymentsError::Provider("the payment has no invoice".into()))?;
        let body = json!({"uuid": uuid, "address": address, "is_subtract": true});
        self.call(state, "/v1/payment/refund", &body)
            .await
            .map(|_| ())
    }

    pub fn verify(&self, body: &[u8]) -> Result<Report, WebhookError> {
        let value: Json =
            serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
        if !matches!(value, Json::Object(_)) {
            return Err(WebhookError::Malformed("not a JSON object".into()));
        }
        let given = value
            .get("sign")
            .and_then(Json::as_str)
            .ok_or(WebhookError::Unsigned)?;
        let expected = sign(&value.without("sign").php_encode(), &self.api_key);
        if !same(given.to_ascii_lowercase().as_bytes(), expected.as_bytes()) {
            return Err(WebhookError::BadSignature);
        }
        let field = |k: &str| value.get(k).and_then(Json::as_str).unwrap_or("?");
        let kind = format!("{}:{}", field("type"), field("status"));
        let event_id = format!("{}:{}", field("uuid"), field("status"));
        Ok(report(event_id, kind, &value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_status_is_mapped() {
        assert_eq!(outcome("paid").0, Some(Outcome::Succeeded));
        assert_eq!(outcome("paid_over").0, Some(Outcome::Succeeded));
        assert!(outcome("wrong_amount").1.is_some());
        for pending in [
            "process",
            "check",
            "confirm_check",
            "wrong_amount_waiting",
            "locked",
        ] {
            assert_eq!(outcome(pending).0, Some(Outcome::Pending), "{pending}");
        }
        assert_eq!(outcome("cancel").0, Some(Outcome::Canceled));
        assert_eq!(outcome("fail").0, Some(Outcome::Failed));
        assert_eq!(outcome("system_fail").0, Some(Outcome::Failed));
        for none in [
            "refund_process",
            "refund_fail",
            "refund_paid",
            "something_new",
        ] {
            assert_eq!(outcome(none), (None, None), "{none}");
        }
    }

    #[test]
    fn provider_amounts_drop_only_trailing_zeros() {
        let usd = Currency::parse("USD").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(
            amount("15.00000000", &usd),
            Some(Money::new(1500, usd.clone()))
        );
        assert_eq!(amount("12.5", &usd), Some(Money::new(1250, usd.clone())));
        assert_eq!(amount("12.505", &usd), None);
        assert_eq!(amount("500.000", &jpy), Some(Money::new(500, jpy.clone())));
        assert_eq!(amount("500.5", &jpy), None);
        assert_eq!(amount("x", &usd), None);
    }

    #[test]
    fn the_sign_is_md5_of_base64_and_key() {
        // md5("e30=" + "key"): the base64 of `{}` followed by the key.
        let mut md5 = md5::Md5::new();
        md5.update(b"e30=key");
        assert_eq!(sign("{}", "key"), hex(&md5.finalize()));
    }
}
