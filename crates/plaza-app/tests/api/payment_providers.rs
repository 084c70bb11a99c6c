//! Stripe and Cryptomus (issue 17) against small fakes that speak their
//! real wire formats: Stripe's form-encoded REST calls with a bearer key,
//! Checkout Sessions and Events signed in `Stripe-Signature`; Cryptomus'
//! JSON calls with `merchant` and `sign` headers, and webhooks signed over
//! the body as PHP's `json_encode` writes it. Each provider's webhook is
//! tried valid, replayed, stale, forged, out of order and concurrent, and
//! a lost one is recovered by reconciliation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use hmac::{KeyInit, Mac};
use md5::Digest;
use plaza_app::payments::jobs::Reconcile;
use plaza_platform::config::Secret;
use plaza_platform::jobs::JobKind;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Tokens, error_body};
use crate::on_both_databases;
use crate::payments::{entries, get_payment, ledger_holds, pay, transactions_until, wallet};

const STRIPE_KEY: &str = "sk_test_fake_key";
const WHSEC: &str = "whsec_current_secret";
const OLD_WHSEC: &str = "whsec_previous_secret";
const MERCHANT: &str = "8b03432e-385b-4670-8d06-064591096795";
const CRYPTOMUS_KEY: &str = "cryptomus-payment-api-key";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

// ---- Stripe ----

#[derive(Default)]
struct StripeState {
    sessions: HashMap<String, Value>,
    /// The form and Idempotency-Key of each create call.
    created: Vec<(HashMap<String, String>, Option<String>)>,
    refunds: Vec<(HashMap<String, String>, Option<String>)>,
}

type Stripe = Arc<Mutex<StripeState>>;

fn stripe_error(status: StatusCode, message: &str) -> (StatusCode, Json<Value>) {
    (
        status,
        Json(json!({"error": {"type": "invalid_request_error", "message": message}})),
    )
}

fn authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {STRIPE_KEY}"))
}

async fn create_session(
    State(s): State<Stripe>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    if !authorized(&headers) {
        return stripe_error(StatusCode::UNAUTHORIZED, "Invalid API Key provided");
    }
    let mut s = s.lock().unwrap();
    let id = format!("cs_test_{}", s.sessions.len() + 1);
    let session = json!({
        "id": id, "object": "checkout.session", "mode": "payment",
        "url": format!("https://checkout.stripe.com/c/pay/{id}"),
        "client_reference_id": form.get("client_reference_id"),
        "metadata": {"payment_id": form.get("metadata[payment_id]")},
        "payment_status": "unpaid", "status": "open",
        "amount_total": form["line_items[0][price_data][unit_amount]"].parse::<i64>().unwrap(),
        "currency": form["line_items[0][price_data][currency]"],
        "payment_intent": null, "success_url": form.get("success_url"),
    });
    s.sessions.insert(id, session.clone());
    let key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().unwrap().to_owned());
    s.created.push((form, key));
    (StatusCode::OK, Json(session))
}

async fn read_session(
    State(s): State<Stripe>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> (StatusCode, Json<Value>) {
    if !authorized(&headers) {
        return stripe_error(StatusCode::UNAUTHORIZED, "Invalid API Key provided");
    }
    match s.lock().unwrap().sessions.get(&id) {
        Some(session) => (StatusCode::OK, Json(session.clone())),
        None => stripe_error(StatusCode::NOT_FOUND, "No such checkout.session"),
    }
}

async fn create_refund(
    State(s): State<Stripe>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    if !authorized(&headers) {
        return stripe_error(StatusCode::UNAUTHORIZED, "Invalid API Key provided");
    }
    let mut s = s.lock().unwrap();
    let intent = form.get("payment_intent").cloned().unwrap_or_default();
    if !s.sessions.values().any(|v| v["payment_intent"] == intent) {
        return stripe_error(StatusCode::BAD_REQUEST, "No such payment_intent");
    }
    let key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().unwrap().to_owned());
    // Stripe answers a repeated key with the first refund, and makes none.
    if key.is_none() || !s.refunds.iter().any(|(_, k)| *k == key) {
        s.refunds.push((form.clone(), key));
    }
    let refund = json!({"id": format!("re_{}", s.refunds.len()), "object": "refund",
        "amount": form["amount"].parse::<i64>().unwrap(), "payment_intent": intent, "status": "succeeded"});
    (StatusCode::OK, Json(refund))
}

async fn fake_stripe() -> (Stripe, String) {
    let state: Stripe = Arc::default();
    let app = Router::new()
        .route("/v1/checkout/sessions", post(create_session))
        .route("/v1/checkout/sessions/{id}", get(read_session))
        .route("/v1/refunds", post(create_refund))
        .with_state(state.clone());
    (state, serve(app).await)
}

/// The payer pays at Stripe: the session is paid and has a PaymentIntent.
fn stripe_pays(s: &Stripe, session: &str) -> Value {
    let mut s = s.lock().unwrap();
    let n = s.sessions.len();
    let v = s.sessions.get_mut(session).unwrap();
    v["payment_status"] = json!("paid");
    v["status"] = json!("complete");
    v["payment_intent"] = json!(format!("pi_test_{n}_{session}"));
    v.clone()
}

fn stripe_event(id: &str, kind: &str, object: &Value) -> String {
    json!({"id": id, "object": "event", "api_version": "2024-06-20", "created": 1_700_000_000,
        "livemode": false, "type": kind, "data": {"object": object}})
    .to_string()
}

/// `Stripe-Signature` as Stripe computes it: HMAC-SHA256 of `t.payload`.
fn stripe_sign(secret: &str, at: i64, body: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{at}.{body}").as_bytes());
    format!("t={at},v1={}", hex(&mac.finalize().into_bytes()))
}

async fn stripe_webhook(app: &TestApp, body: &str, signature: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/payments/webhooks/stripe"))
        .header("content-type", "application/json")
        .header("stripe-signature", signature)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

async fn outcome(res: reqwest::Response) -> String {
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["outcome"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Sends every delivery at once; each one's outcome.
async fn all_outcomes(
    deliveries: impl IntoIterator<Item = impl Future<Output = reqwest::Response>>,
) -> Vec<String> {
    let mut outcomes = Vec::new();
    for res in futures_util::future::join_all(deliveries).await {
        outcomes.push(outcome(res).await);
    }
    outcomes
}

fn now(app: &TestApp) -> i64 {
    plaza_core::Clock::now(&app.clock).unix_seconds()
}

async fn with_stripe(backend: crate::helpers::Backend, api: String) -> TestApp {
    TestApp::builder()
        .backend(backend)
        .config(move |c| {
            c.payments.stripe.secret_key = Some(Secret::new(STRIPE_KEY));
            c.payments.stripe.webhook_secret = Some(Secret::new(WHSEC));
            c.payments.stripe.previous_webhook_secret = Some(Secret::new(OLD_WHSEC));
            c.payments.stripe.api_url = api;
        })
        .spawn()
        .await
}

async fn stripe_payment(app: &TestApp, who: &Tokens, minor: i64) -> (Value, String) {
    let body =
        json!({"amount": minor, "currency": "USD", "purpose": "top_up", "provider": "stripe"});
    let payment = pay(app, who, body).await;
    let session = payment["provider_ref"].as_str().unwrap().to_owned();
    (payment, session)
}

on_both_databases! {
    async fn stripe_checkout_and_webhooks_move_money_once(backend: Backend) {
        let (stripe, api) = fake_stripe().await;
        let app = with_stripe(backend, api).await;
        let ana = app.register("ana@example.com").await;
        let (payment, session) = stripe_payment(&app, &ana, 1250).await;
        let id = payment["id"].as_str().unwrap().to_owned();
        assert_eq!(payment["checkout_url"], format!("https://checkout.stripe.com/c/pay/{session}"));
        {
            let s = stripe.lock().unwrap();
            let (form, key) = &s.created[0];
            assert_eq!(form["mode"], "payment");
            assert_eq!(form["line_items[0][price_data][currency]"], "usd");
            assert_eq!(form["line_items[0][price_data][unit_amount]"], "1250");
            assert_eq!(form["metadata[payment_id]"], id);
            assert!(form["success_url"].contains(&format!("/api/payments/{id}/return?sig=")));
            assert_eq!(key.as_deref(), Some(format!("plaza-checkout-{id}").as_str()));
        }

        let paid = stripe_pays(&stripe, &session);
        let body = stripe_event("evt_1", "checkout.session.completed", &paid);
        // Stale, forged, unsigned, or signed over another body: 400.
        error_body(stripe_webhook(&app, &body, &stripe_sign(WHSEC, now(&app) - 301, &body)).await, 400, "validation_error").await;
        error_body(stripe_webhook(&app, &body, &stripe_sign("whsec_forged", now(&app), &body)).await, 400, "validation_error").await;
        error_body(stripe_webhook(&app, &body, "t=1").await, 400, "validation_error").await;
        error_body(stripe_webhook(&app, &body, &stripe_sign(WHSEC, now(&app), "{}")).await, 400, "validation_error").await;
        assert_eq!(wallet(&app, &ana, "USD").await, 0);

        assert_eq!(outcome(stripe_webhook(&app, &body, &stripe_sign(WHSEC, now(&app), &body)).await).await, "applied");
        assert_eq!(get_payment(&app, &ana, &id).await["status"], "succeeded");
        assert_eq!(wallet(&app, &ana, "USD").await, 1250);
        // Stripe redelivers the event (a fresh signature): nothing more.
        assert_eq!(outcome(stripe_webhook(&app, &body, &stripe_sign(WHSEC, now(&app), &body)).await).await, "replayed");
        // During a rotation the previous secret still signs.
        let again = stripe_event("evt_2", "checkout.session.async_payment_succeeded", &paid);
        assert_eq!(outcome(stripe_webhook(&app, &again, &stripe_sign(OLD_WHSEC, now(&app), &again)).await).await, "stale");
        // A type plaza does not act on is acknowledged.
        let other = stripe_event("evt_3", "customer.created", &json!({"id": "cus_1", "object": "customer"}));
        assert_eq!(outcome(stripe_webhook(&app, &other, &stripe_sign(WHSEC, now(&app), &other)).await).await, "ignored");
        assert_eq!(wallet(&app, &ana, "USD").await, 1250);

        // Out of order: the async success arrives before the completion
        // that says "unpaid, waiting".
        let (p2, s2) = stripe_payment(&app, &ana, 700).await;
        let unpaid = stripe.lock().unwrap().sessions[&s2].clone();
        let paid2 = stripe_pays(&stripe, &s2);
        let first = stripe_event("evt_4", "checkout.session.async_payment_succeeded", &paid2);
        let second = stripe_event("evt_5", "checkout.session.completed", &unpaid);
        assert_eq!(outcome(stripe_webhook(&app, &first, &stripe_sign(WHSEC, now(&app), &first)).await).await, "applied");
        assert_eq!(outcome(stripe_webhook(&app, &second, &stripe_sign(WHSEC, now(&app), &second)).await).await, "stale");
        assert_eq!(get_payment(&app, &ana, p2["id"].as_str().unwrap()).await["status"], "succeeded");

        // Ten concurrent deliveries of one event: one effect.
        let (_p3, s3) = stripe_payment(&app, &ana, 300).await;
        let paid3 = stripe_pays(&stripe, &s3);
        let body3 = stripe_event("evt_6", "checkout.session.completed", &paid3);
        let sig3 = stripe_sign(WHSEC, now(&app), &body3);
        let outcomes = all_outcomes((0..10).map(|_| stripe_webhook(&app, &body3, &sig3))).await;
        assert_eq!(outcomes.iter().filter(|o| *o == "applied").count(), 1, "{outcomes:?}");
        assert_eq!(wallet(&app, &ana, "USD").await, 1250 + 700 + 300);
        assert_eq!(entries(&app, "payment.settled").await, 3);

        // A session whose amount is not the payment's is held.
        let (p4, s4) = stripe_payment(&app, &ana, 5000).await;
        let mut tampered = stripe_pays(&stripe, &s4);
        tampered["amount_total"] = json!(50);
        let body4 = stripe_event("evt_7", "checkout.session.completed", &tampered);
        assert_eq!(outcome(stripe_webhook(&app, &body4, &stripe_sign(WHSEC, now(&app), &body4)).await).await, "flagged");
        let held = get_payment(&app, &ana, p4["id"].as_str().unwrap()).await;
        assert!(held["flag"].as_str().unwrap().contains("0.50"), "{held}");
        assert_eq!(held["status"], "created");

        // An expired session cancels its payment.
        let (p5, s5) = stripe_payment(&app, &ana, 100).await;
        let mut expired = stripe.lock().unwrap().sessions[&s5].clone();
        expired["status"] = json!("expired");
        let body5 = stripe_event("evt_8", "checkout.session.expired", &expired);
        assert_eq!(outcome(stripe_webhook(&app, &body5, &stripe_sign(WHSEC, now(&app), &body5)).await).await, "applied");
        assert_eq!(get_payment(&app, &ana, p5["id"].as_str().unwrap()).await["status"], "canceled");
        assert_eq!(wallet(&app, &ana, "USD").await, 2250);
        ledger_holds(&app).await;
    }
}

on_both_databases! {
    async fn a_lost_stripe_webhook_is_recovered_and_refunds_reach_stripe(backend: Backend) {
        let (stripe, api) = fake_stripe().await;
        let app = with_stripe(backend, api).await;
        let ana = app.register("ana@example.com").await;
        let (payment, session) = stripe_payment(&app, &ana, 4000).await;
        let id = payment["id"].as_str().unwrap().to_owned();
        stripe_pays(&stripe, &session);
        // The webhook never comes. Too early, reconciliation leaves it be.
        Reconcile {}.run(&app.state).await.unwrap();
        assert_eq!(get_payment(&app, &ana, &id).await["status"], "created");
        app.clock.advance(Duration::from_secs(16 * 60));
        Reconcile {}.run(&app.state).await.unwrap();
        Reconcile {}.run(&app.state).await.unwrap();
        let ana = app.login("ana@example.com").await;
        assert_eq!(get_payment(&app, &ana, &id).await["status"], "succeeded");
        assert_eq!(wallet(&app, &ana, "USD").await, 4000);
        assert_eq!(entries(&app, "payment.settled").await, 1);
        // The webhook arrives late after all: nothing more.
        let paid = stripe.lock().unwrap().sessions[&session].clone();
        let body = stripe_event("evt_late", "checkout.session.completed", &paid);
        assert_eq!(outcome(stripe_webhook(&app, &body, &stripe_sign(WHSEC, now(&app), &body)).await).await, "stale");
        assert_eq!(wallet(&app, &ana, "USD").await, 4000);

        // A refund reaches Stripe once, against the PaymentIntent.
        let res = app.post_as(&format!("/api/payments/{id}/refund"), &ana.access, &json!({"amount": 1500})).await;
        assert_eq!(res.status(), 202);
        let refund: Value = res.json().await.unwrap();
        let refund_id = refund["refund"]["id"].as_str().unwrap().to_owned();
        transactions_until(&app, &ana, "?kind=refund&status=succeeded", |b| b["total"] == 1).await;
        {
            let s = stripe.lock().unwrap();
            assert_eq!(s.refunds.len(), 1);
            let (form, key) = &s.refunds[0];
            assert_eq!(form["amount"], "1500");
            assert!(form["payment_intent"].starts_with("pi_test_"));
            assert_eq!(key.as_deref(), Some(format!("plaza-refund-{refund_id}").as_str()));
        }
        assert_eq!(wallet(&app, &ana, "USD").await, 2500);
        ledger_holds(&app).await;
    }
}

#[tokio::test]
async fn a_stripe_that_refuses_or_is_down_fails_the_payment_fast() {
    // Nothing listens on this port.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let app = with_stripe(crate::helpers::Backend::Sqlite, format!("http://{closed}")).await;
    let ana = app.register("ana@example.com").await;
    let body = json!({"amount": 100, "currency": "USD", "purpose": "top_up", "provider": "stripe"});
    let started = std::time::Instant::now();
    let err = error_body(
        app.post_as("/api/payments", &ana.access, &body).await,
        502,
        "dependency_error",
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(err["code"], "payments.provider_failed");
    let failed: Value = app
        .get_as("/api/transactions?status=failed", &ana.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(failed["total"], 1);

    // A wrong key: Stripe's own error, named.
    let (_stripe, api) = fake_stripe().await;
    let app = TestApp::builder()
        .config(move |c| {
            c.payments.stripe.secret_key = Some(Secret::new("sk_test_wrong"));
            c.payments.stripe.webhook_secret = Some(Secret::new(WHSEC));
            c.payments.stripe.api_url = api;
        })
        .spawn()
        .await;
    let ana = app.register("ana@example.com").await;
    let err = error_body(
        app.post_as("/api/payments", &ana.access, &body).await,
        502,
        "dependency_error",
    )
    .await;
    assert!(
        err["error"].as_str().unwrap().contains("Invalid API Key"),
        "{err}"
    );
}

// ---- Cryptomus ----

#[derive(Default)]
struct CryptomusState {
    /// uuid → (order id, amount, currency, status)
    invoices: HashMap<String, (String, String, String, String)>,
    bodies: Vec<Value>,
}

type Cryptomus = Arc<Mutex<CryptomusState>>;

/// `md5(base64(body) . key)`, as Cryptomus' documentation writes it.
fn cryptomus_sign(body: &str, key: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(body);
    hex(&md5::Md5::digest(format!("{b64}{key}").as_bytes()))
}

fn cryptomus_result(uuid: &str, invoice: &(String, String, String, String)) -> Value {
    let (order, amount, currency, status) = invoice;
    json!({"uuid": uuid, "order_id": order, "amount": amount, "payment_amount": null,
        "payer_amount": null, "discount_percent": null, "discount": "0.00000000",
        "payer_currency": null, "currency": currency, "merchant_amount": null, "network": null,
        "address": null, "from": null, "txid": null, "payment_status": status,
        "url": format!("https://pay.cryptomus.com/pay/{uuid}"), "expired_at": 1_700_003_600,
        "status": status, "is_final": false, "additional_data": null,
        "created_at": "2026-12-03T06:00:00+00:00", "updated_at": "2026-12-03T06:00:00+00:00"})
}

fn cryptomus_authorized(headers: &HeaderMap, body: &str) -> bool {
    let h = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    h("merchant") == MERCHANT && h("sign") == cryptomus_sign(body, CRYPTOMUS_KEY)
}

async fn create_invoice(
    State(s): State<Cryptomus>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, Json<Value>) {
    if !cryptomus_authorized(&headers, &body) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"state": 1, "message": "You are forbidden"})),
        );
    }
    let req: Value = serde_json::from_str(&body).unwrap();
    let mut s = s.lock().unwrap();
    let uuid = uuid::Uuid::now_v7().to_string();
    let invoice = (
        req["order_id"].as_str().unwrap().to_owned(),
        req["amount"].as_str().unwrap().to_owned(),
        req["currency"].as_str().unwrap().to_owned(),
        "check".to_owned(),
    );
    let result = cryptomus_result(&uuid, &invoice);
    s.invoices.insert(uuid, invoice);
    s.bodies.push(req);
    (StatusCode::OK, Json(json!({"state": 0, "result": result})))
}

async fn invoice_info(
    State(s): State<Cryptomus>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, Json<Value>) {
    if !cryptomus_authorized(&headers, &body) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"state": 1, "message": "You are forbidden"})),
        );
    }
    let req: Value = serde_json::from_str(&body).unwrap();
    let uuid = req["uuid"].as_str().unwrap_or_default();
    match s.lock().unwrap().invoices.get(uuid) {
        Some(invoice) => (
            StatusCode::OK,
            Json(json!({"state": 0, "result": cryptomus_result(uuid, invoice)})),
        ),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"state": 1, "message": "Payment not found"})),
        ),
    }
}

async fn fake_cryptomus() -> (Cryptomus, String) {
    let state: Cryptomus = Arc::default();
    let app = Router::new()
        .route("/v1/payment", post(create_invoice))
        .route("/v1/payment/info", post(invoice_info))
        .with_state(state.clone());
    (state, serve(app).await)
}

/// A payment webhook as Cryptomus sends it: PHP's `json_encode` of the
/// data (slashes escaped, keys in its order, unicode as is), and `sign`
/// added over the text without it.
fn cryptomus_webhook_body(
    uuid: &str,
    order: &str,
    amount: &str,
    status: &str,
    key: &str,
) -> String {
    let unsigned = format!(
        concat!(
            r#"{{"type":"payment","uuid":"{uuid}","order_id":"{order}","amount":"{amount}","#,
            r#""payment_amount":"12.48000000","payment_amount_usd":"12.48","merchant_amount":"12.23040000","#,
            r#""commission":"0.24960000","is_final":true,"status":"{status}","from":"TJ7zX…","#,
            r#""wallet_address_uuid":null,"network":"tron","currency":"USD","payer_currency":"USDT","#,
            r#""additional_data":"заказ \/ order","convert":{{"to_currency":"USDT","commission":null,"rate":"1.00000000","amount":"12.23040000"}},"#,
            r#""txid":"6f0d9c8a","url":"https:\/\/pay.cryptomus.com\/pay\/{uuid}"}}"#
        ),
        uuid = uuid,
        order = order,
        amount = amount,
        status = status
    );
    let sign = cryptomus_sign(&unsigned, key);
    format!("{},\"sign\":\"{sign}\"}}", &unsigned[..unsigned.len() - 1])
}

async fn cryptomus_webhook(app: &TestApp, body: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/payments/webhooks/cryptomus"))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

async fn with_cryptomus(backend: crate::helpers::Backend, api: String) -> TestApp {
    TestApp::builder()
        .backend(backend)
        .config(move |c| {
            c.payments.cryptomus.merchant = Some(MERCHANT.into());
            c.payments.cryptomus.api_key = Some(Secret::new(CRYPTOMUS_KEY));
            c.payments.cryptomus.api_url = api;
        })
        .spawn()
        .await
}

async fn cryptomus_payment(app: &TestApp, who: &Tokens, minor: i64) -> (Value, String) {
    let body =
        json!({"amount": minor, "currency": "USD", "purpose": "premium", "provider": "cryptomus"});
    let payment = pay(app, who, body).await;
    let uuid = payment["provider_ref"].as_str().unwrap().to_owned();
    (payment, uuid)
}

on_both_databases! {
    async fn cryptomus_invoices_and_webhooks_move_money_once(backend: Backend) {
        let (cryptomus, api) = fake_cryptomus().await;
        let app = with_cryptomus(backend, api).await;
        let ana = app.register("ana@example.com").await;
        let (payment, uuid) = cryptomus_payment(&app, &ana, 1250).await;
        let id = payment["id"].as_str().unwrap().to_owned();
        assert_eq!(payment["checkout_url"], format!("https://pay.cryptomus.com/pay/{uuid}"));
        {
            let s = cryptomus.lock().unwrap();
            let sent = &s.bodies[0];
            assert_eq!((sent["amount"].as_str(), sent["currency"].as_str()), (Some("12.50"), Some("USD")));
            assert_eq!(sent["order_id"], id);
            assert!(sent["url_callback"].as_str().unwrap().ends_with("/api/payments/webhooks/cryptomus"));
        }
        // Forged (another key), tampered (the amount changed after signing), unsigned: 400.
        let forged = cryptomus_webhook_body(&uuid, &id, "12.50", "paid", "not-the-key");
        error_body(cryptomus_webhook(&app, &forged).await, 400, "validation_error").await;
        let tampered = cryptomus_webhook_body(&uuid, &id, "12.50", "paid", CRYPTOMUS_KEY)
            .replace("\"amount\":\"12.50\"", "\"amount\":\"1.25\"");
        error_body(cryptomus_webhook(&app, &tampered).await, 400, "validation_error").await;
        error_body(cryptomus_webhook(&app, r#"{"type":"payment","status":"paid"}"#).await, 400, "validation_error").await;
        error_body(cryptomus_webhook(&app, "[1,2]").await, 400, "validation_error").await;

        // Still on its way, then paid (the amount in Cryptomus' eight digits).
        let checking = cryptomus_webhook_body(&uuid, &id, "12.50000000", "confirm_check", CRYPTOMUS_KEY);
        assert_eq!(outcome(cryptomus_webhook(&app, &checking).await).await, "applied");
        assert_eq!(get_payment(&app, &ana, &id).await["status"], "pending");
        let paid = cryptomus_webhook_body(&uuid, &id, "12.50000000", "paid", CRYPTOMUS_KEY);
        assert_eq!(outcome(cryptomus_webhook(&app, &paid).await).await, "applied");
        assert_eq!(outcome(cryptomus_webhook(&app, &paid).await).await, "replayed");
        // "check" after "paid" is stale; a refund echo is ignored.
        let late = cryptomus_webhook_body(&uuid, &id, "12.50000000", "check", CRYPTOMUS_KEY);
        assert_eq!(outcome(cryptomus_webhook(&app, &late).await).await, "stale");
        let echo = cryptomus_webhook_body(&uuid, &id, "12.50000000", "refund_paid", CRYPTOMUS_KEY);
        assert_eq!(outcome(cryptomus_webhook(&app, &echo).await).await, "ignored");
        assert_eq!(get_payment(&app, &ana, &id).await["status"], "succeeded");
        // A purchase is revenue; the payer's crypto amount is kept as sent.
        let mut conn = app.state.db.fresh().acquire().await.unwrap();
        let amounts: Vec<Option<String>> = sqlx::query_scalar(
            "SELECT amount FROM payment_events WHERE provider = 'cryptomus' AND payment_id = $1 AND outcome = 'applied' ORDER BY received_at")
            .bind(&id).fetch_all(&mut *conn).await.unwrap();
        assert_eq!(amounts.last().unwrap().as_deref(), Some("12.48000000 USDT"));
        drop(conn);

        // Paid less than asked: held, not credited.
        let (short, short_uuid) = cryptomus_payment(&app, &ana, 2000).await;
        let sid = short["id"].as_str().unwrap();
        let body = cryptomus_webhook_body(&short_uuid, sid, "20.00", "wrong_amount", CRYPTOMUS_KEY);
        assert_eq!(outcome(cryptomus_webhook(&app, &body).await).await, "flagged");
        let held = get_payment(&app, &ana, sid).await;
        assert!(held["flag"].as_str().unwrap().contains("wrong_amount"), "{held}");
        // An invoice restated at another amount is held too.
        let (other, other_uuid) = cryptomus_payment(&app, &ana, 3000).await;
        let oid = other["id"].as_str().unwrap();
        let body = cryptomus_webhook_body(&other_uuid, oid, "3.00", "paid", CRYPTOMUS_KEY);
        assert_eq!(outcome(cryptomus_webhook(&app, &body).await).await, "flagged");

        // Ten concurrent deliveries: one effect. Then a cancel elsewhere.
        let (p4, u4) = cryptomus_payment(&app, &ana, 500).await;
        let body = cryptomus_webhook_body(&u4, p4["id"].as_str().unwrap(), "5", "paid_over", CRYPTOMUS_KEY);
        let outcomes = all_outcomes((0..10).map(|_| cryptomus_webhook(&app, &body))).await;
        assert_eq!(outcomes.iter().filter(|o| *o == "applied").count(), 1, "{outcomes:?}");
        let (p5, u5) = cryptomus_payment(&app, &ana, 500).await;
        let body = cryptomus_webhook_body(&u5, p5["id"].as_str().unwrap(), "5.00", "cancel", CRYPTOMUS_KEY);
        assert_eq!(outcome(cryptomus_webhook(&app, &body).await).await, "applied");
        assert_eq!(get_payment(&app, &ana, p5["id"].as_str().unwrap()).await["status"], "canceled");
        assert_eq!(entries(&app, "payment.settled").await, 2);
        ledger_holds(&app).await;

        // A lost webhook: reconciliation asks /v1/payment/info.
        let (p6, u6) = cryptomus_payment(&app, &ana, 900).await;
        cryptomus.lock().unwrap().invoices.get_mut(&u6).unwrap().3 = "paid".into();
        app.clock.advance(Duration::from_secs(16 * 60));
        Reconcile {}.run(&app.state).await.unwrap();
        let ana = app.login("ana@example.com").await;
        assert_eq!(get_payment(&app, &ana, p6["id"].as_str().unwrap()).await["status"], "succeeded");
        assert_eq!(entries(&app, "payment.settled").await, 3);
    }
}

on_both_databases! {
    async fn a_cryptomus_deal_cancelled_goes_back_to_the_wallet_and_refunds_need_an_address(backend: Backend) {
        use crate::escrow::{deal, escrow_of, move_project};
        let (_cryptomus, api) = fake_cryptomus().await;
        let app = with_cryptomus(backend, api).await;
        let ana = app.register("ana@example.com").await;
        let bob = app.register("bob@example.com").await;
        let project = deal(&app, &ana, &bob, 4_000).await;
        let res = app.post_as(&format!("/api/projects/{project}/escrow"), &ana.access,
            &json!({"provider": "cryptomus"})).await;
        assert_eq!(res.status(), 201);
        let body: Value = res.json().await.unwrap();
        let payment = &body["payment"];
        let (id, uuid) = (payment["id"].as_str().unwrap(), payment["provider_ref"].as_str().unwrap());
        let paid = cryptomus_webhook_body(uuid, id, "40.00", "paid", CRYPTOMUS_KEY);
        assert_eq!(outcome(cryptomus_webhook(&app, &paid).await).await, "applied");
        assert_eq!(escrow_of(&app, &ana, &project).await["escrow"]["status"], "funded");
        assert_eq!(move_project(&app, &ana, &project, "cancelled").await.status(), 200);
        assert_eq!(escrow_of(&app, &ana, &project).await["escrow"]["status"], "refunded");
        assert_eq!(wallet(&app, &ana, "USD").await, 4_000);
        let back: Value = app.get_as("/api/transactions?kind=refund", &ana.access).await.json().await.unwrap();
        assert_eq!((back["items"][0]["provider"].as_str(), back["items"][0]["status"].as_str()), (Some("wallet"), Some("succeeded")));
        ledger_holds(&app).await;

        // A Cryptomus refund without a wallet address is refused up front.
        let (p, pu) = cryptomus_payment(&app, &ana, 100).await;
        let paid = cryptomus_webhook_body(&pu, p["id"].as_str().unwrap(), "1.00", "paid", CRYPTOMUS_KEY);
        assert_eq!(outcome(cryptomus_webhook(&app, &paid).await).await, "applied");
        app.register("root@example.com").await;
        let admin = app.make_admin("root@example.com").await;
        let path = format!("/api/payments/{}/refund", p["id"].as_str().unwrap());
        let err = error_body(app.post_as(&path, &admin.access, &json!({})).await, 422, "validation_error").await;
        assert!(err.to_string().contains("address"), "{err}");
    }
}
