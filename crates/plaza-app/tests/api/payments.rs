//! Payments through the sandbox (issue 17): a payment's lifecycle from
//! checkout to wallet, the sandbox's signed webhooks (valid, replayed,
//! stale, forged, out of order, concurrent), Idempotency-Key, refunds,
//! strangers, and wrong input.

use std::time::Duration;

use plaza_app::payments::ledger;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Tokens, error_body, header};
use crate::on_both_databases;

/// Asks for a payment; the `payment` object.
pub async fn pay(app: &TestApp, who: &Tokens, body: Value) -> Value {
    let res = app.post_as("/api/payments", &who.access, &body).await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["payment"].clone()
}

/// A top-up of `minor` USD through the sandbox.
pub async fn top_up(app: &TestApp, who: &Tokens, minor: i64) -> Value {
    pay(
        app,
        who,
        json!({"amount": minor, "currency": "USD", "purpose": "top_up"}),
    )
    .await
}

/// The path and `sig` of a sandbox checkout URL.
pub fn checkout_of(payment: &Value) -> (String, String) {
    let url = payment["checkout_url"].as_str().expect("a checkout_url");
    let path = &url[url.find("/api/").unwrap()..];
    let (path, query) = path.split_once('?').unwrap();
    let sig = query.strip_prefix("sig=").unwrap();
    (path.to_owned(), sig.to_owned())
}

/// The payer clicks `outcome` on the sandbox page; the page's status.
pub async fn click(app: &TestApp, payment: &Value, outcome: &str) -> reqwest::Response {
    let (path, sig) = checkout_of(payment);
    app.client
        .post(app.url(&path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("sig={sig}&outcome={outcome}"))
        .send()
        .await
        .unwrap()
}

pub async fn get_payment(app: &TestApp, who: &Tokens, id: &str) -> Value {
    let res = app
        .get_as(&format!("/api/payments/{id}"), &who.access)
        .await;
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["payment"].clone()
}

/// `who`'s wallet balance in `currency`, in minor units.
pub async fn wallet(app: &TestApp, who: &Tokens, currency: &str) -> i64 {
    let body: Value = app
        .get_as("/api/wallet", &who.access)
        .await
        .json()
        .await
        .unwrap();
    body["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["currency"] == currency)
        .map_or(0, |b| b["amount"].as_i64().unwrap())
}

/// Ledger entries of `kind`.
pub async fn entries(app: &TestApp, kind: &str) -> i64 {
    let mut conn = app.state.db.fresh().acquire().await.unwrap();
    sqlx::query_scalar("SELECT COUNT(*) FROM ledger_entries WHERE kind = $1")
        .bind(kind)
        .fetch_one(&mut *conn)
        .await
        .unwrap()
}

pub async fn ledger_holds(app: &TestApp) {
    let mut conn = app.state.db.fresh().acquire().await.unwrap();
    let report = ledger::check(&mut conn).await.unwrap();
    assert!(report.holds(), "{report:?}");
}

/// Waits until `check` holds of `who`'s transactions.
pub async fn transactions_until(
    app: &TestApp,
    who: &Tokens,
    query: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..400 {
        let body: Value = app
            .get_as(&format!("/api/transactions{query}"), &who.access)
            .await
            .json()
            .await
            .unwrap();
        if check(&body) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("transactions{query} never matched");
}

/// A sandbox webhook body signed at `at` (unix seconds) with the
/// deployment's key, as plaza's checkout page signs it.
async fn signed_sandbox(app: &TestApp, body: &str, at: i64) -> String {
    let now = plaza_core::Clock::now(&app.clock);
    let signer = app
        .state
        .auth
        .signer(&app.state.db, &app.state.config.auth, now)
        .await
        .unwrap();
    let sig = signer.sign_link(&format!("sandbox-webhook:{at}.{body}"));
    format!("t={at},v1={sig}")
}

async fn sandbox_webhook(app: &TestApp, body: &str, signature: Option<&str>) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/api/payments/webhooks/sandbox"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(sig) = signature {
        req = req.header("plaza-signature", sig);
    }
    req.send().await.unwrap()
}

fn now_secs(app: &TestApp) -> i64 {
    plaza_core::Clock::now(&app.clock).unix_seconds()
}

on_both_databases! {
    async fn a_sandbox_top_up_goes_from_checkout_to_the_wallet(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let payment = top_up(&app, &ana, 1250).await;
        assert_eq!(payment["status"], "created");
        assert_eq!(payment["provider"], "sandbox");
        assert_eq!((payment["amount"].as_i64(), payment["currency"].as_str()), (Some(1250), Some("USD")));
        let id = payment["id"].as_str().unwrap().to_owned();
        let (path, sig) = checkout_of(&payment);
        assert_eq!(path, format!("/api/payments/{id}/sandbox"));

        // The page: the amount in the currency's digits, and the buttons.
        let page = app.get(&format!("{path}?sig={sig}")).await;
        assert_eq!(page.status(), 200);
        assert!(header(&page, "content-type").unwrap().starts_with("text/html"));
        let html = page.text().await.unwrap();
        assert!(html.contains("12.50 USD") && html.contains("value=\"succeeded\""), "{html}");
        // Without its signature there is no page.
        assert_eq!(app.get(&path).await.status(), 404);
        assert_eq!(app.get(&format!("{path}?sig=forged")).await.status(), 404);

        let res = click(&app, &payment, "succeeded").await;
        assert_eq!(res.status(), 200);
        assert!(res.text().await.unwrap().contains(">succeeded<"));
        let paid = get_payment(&app, &ana, &id).await;
        assert_eq!(paid["status"], "succeeded");
        assert_eq!(wallet(&app, &ana, "USD").await, 1250);
        let body: Value = app.get_as("/api/wallet", &ana.access).await.json().await.unwrap();
        assert_eq!(body["balances"][0]["decimal"], "12.50");

        let txs: Value = app.get_as("/api/transactions", &ana.access).await.json().await.unwrap();
        assert_eq!(txs["total"], 1);
        let tx = &txs["items"][0];
        assert_eq!((tx["kind"].as_str(), tx["status"].as_str(), tx["amount"].as_i64()), (Some("top_up"), Some("succeeded"), Some(1250)));
        assert_eq!(tx["payment_id"].as_str(), Some(id.as_str()));
        assert_eq!(tx["user_id"].as_str(), Some(ana.user_id.as_str()));

        // A second click (failed) comes too late: nothing changes.
        assert_eq!(click(&app, &payment, "failed").await.status(), 200);
        assert_eq!(get_payment(&app, &ana, &id).await["status"], "succeeded");
        assert_eq!(wallet(&app, &ana, "USD").await, 1250);
        assert_eq!(entries(&app, "payment.settled").await, 1);
        ledger_holds(&app).await;

        // Every step is an event in the outbox.
        let mut conn = app.state.db.fresh().acquire().await.unwrap();
        let kinds: Vec<String> = sqlx::query_scalar(
            "SELECT type FROM outbox WHERE subject = $1 ORDER BY occurred_at, id")
            .bind(format!("payment:{id}"))
            .fetch_all(&mut *conn).await.unwrap();
        assert_eq!(kinds, ["payment.created", "payment.succeeded"]);

        // The payer is told, once.
        let mut told = 0;
        for _ in 0..200 {
            let body: Value = app.get_as("/api/notifications", &ana.access).await.json().await.unwrap();
            told = body["items"].as_array().unwrap().iter().filter(|n| n["type"] == "payment.succeeded").count();
            if told > 0 { break; }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert_eq!(told, 1);
    }
}

on_both_databases! {
    async fn failed_and_canceled_payments_credit_nothing(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let failing = top_up(&app, &ana, 500).await;
        click(&app, &failing, "pending").await;
        assert_eq!(get_payment(&app, &ana, failing["id"].as_str().unwrap()).await["status"], "pending");
        click(&app, &failing, "failed").await;
        assert_eq!(get_payment(&app, &ana, failing["id"].as_str().unwrap()).await["status"], "failed");
        let canceled = top_up(&app, &ana, 700).await;
        click(&app, &canceled, "canceled").await;
        assert_eq!(get_payment(&app, &ana, canceled["id"].as_str().unwrap()).await["status"], "canceled");
        assert_eq!(wallet(&app, &ana, "USD").await, 0);
        assert_eq!(entries(&app, "payment.settled").await, 0);
        let failed: Value = app.get_as("/api/transactions?status=failed", &ana.access).await.json().await.unwrap();
        assert_eq!(failed["total"], 1);
        let all: Value = app.get_as("/api/transactions?kind=top_up&limit=1", &ana.access).await.json().await.unwrap();
        assert_eq!((all["total"].as_i64(), all["has_more"].as_bool()), (Some(2), Some(true)));
    }
}

on_both_databases! {
    async fn sandbox_webhooks_are_verified_and_applied_once(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let payment = top_up(&app, &ana, 2000).await;
        let id = payment["id"].as_str().unwrap();
        let event = |eid: &str, kind: &str, amount: i64| json!({
            "id": eid, "type": kind, "payment_id": id, "amount": amount, "currency": "USD",
        }).to_string();

        // Unsigned, forged, stale, or signed for another body: 400, nothing moves.
        let body = event("evt_1", "payment.succeeded", 2000);
        error_body(sandbox_webhook(&app, &body, None).await, 400, "validation_error").await;
        error_body(sandbox_webhook(&app, &body, Some("t=1,v1=AAAA")).await, 400, "validation_error").await;
        let stale = signed_sandbox(&app, &body, now_secs(&app) - 301).await;
        let err = error_body(sandbox_webhook(&app, &body, Some(&stale)).await, 400, "validation_error").await;
        assert_eq!(err["code"], "payments.webhook_refused");
        assert!(err["error"].as_str().unwrap().contains("ago"), "{err}");
        let other = signed_sandbox(&app, &event("evt_1", "payment.succeeded", 1), now_secs(&app)).await;
        error_body(sandbox_webhook(&app, &body, Some(&other)).await, 400, "validation_error").await;
        assert_eq!(get_payment(&app, &ana, id).await["status"], "created");

        // Ten deliveries of one event at once: one effect.
        let sig = signed_sandbox(&app, &body, now_secs(&app)).await;
        let sends = (0..10).map(|_| sandbox_webhook(&app, &body, Some(&sig)));
        let answers = futures_util::future::join_all(sends).await;
        let mut outcomes = Vec::new();
        for res in answers {
            assert_eq!(res.status(), 200);
            outcomes.push(res.json::<Value>().await.unwrap()["outcome"].as_str().unwrap().to_owned());
        }
        assert_eq!(outcomes.iter().filter(|o| *o == "applied").count(), 1, "{outcomes:?}");
        assert_eq!(outcomes.iter().filter(|o| *o == "replayed").count(), 9, "{outcomes:?}");
        assert_eq!(wallet(&app, &ana, "USD").await, 2000);
        assert_eq!(entries(&app, "payment.settled").await, 1);

        // Out of order: "pending" after success is stale.
        let late = event("evt_2", "payment.pending", 2000);
        let sig = signed_sandbox(&app, &late, now_secs(&app)).await;
        let res = sandbox_webhook(&app, &late, Some(&sig)).await;
        assert_eq!(res.json::<Value>().await.unwrap()["outcome"], "stale");
        assert_eq!(get_payment(&app, &ana, id).await["status"], "succeeded");

        // A kind plaza does not know is acknowledged and ignored.
        let unknown = event("evt_3", "payment.disputed", 2000);
        let sig = signed_sandbox(&app, &unknown, now_secs(&app)).await;
        let res = sandbox_webhook(&app, &unknown, Some(&sig)).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Value>().await.unwrap()["outcome"], "ignored");

        // A report of another amount holds the payment instead of crediting it.
        let second = top_up(&app, &ana, 3000).await;
        let tampered = json!({"id": "evt_4", "type": "payment.succeeded",
            "payment_id": second["id"], "amount": 30000, "currency": "USD"}).to_string();
        let sig = signed_sandbox(&app, &tampered, now_secs(&app)).await;
        let res = sandbox_webhook(&app, &tampered, Some(&sig)).await;
        assert_eq!(res.json::<Value>().await.unwrap()["outcome"], "flagged");
        let held = get_payment(&app, &ana, second["id"].as_str().unwrap()).await;
        assert_eq!(held["status"], "created");
        assert!(held["flag"].as_str().unwrap().contains("300.00"), "{held}");
        assert_eq!(wallet(&app, &ana, "USD").await, 2000);
        // Held means held: a correct report later does not credit it either.
        assert_eq!(click(&app, &second, "succeeded").await.status(), 200);
        assert_eq!(wallet(&app, &ana, "USD").await, 2000);
        ledger_holds(&app).await;

        // An unknown provider is no route.
        let res = app.client.post(app.url("/api/payments/webhooks/paypal")).body("{}").send().await.unwrap();
        error_body(res, 404, "not_found").await;
    }
}

on_both_databases! {
    async fn an_idempotency_key_replays_the_first_answer(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let body = json!({"amount": 999, "currency": "EUR", "purpose": "premium"});
        let send = |body: Value, key: &'static str| {
            app.client.post(app.url("/api/payments")).bearer_auth(&ana.access)
                .header("idempotency-key", key).json(&body).send()
        };
        let first = send(body.clone(), "order-1").await.unwrap();
        assert_eq!(first.status(), 201);
        assert_eq!(header(&first, "idempotent-replayed"), None);
        let first: Value = first.json().await.unwrap();
        let again = send(body.clone(), "order-1").await.unwrap();
        assert_eq!(again.status(), 201);
        assert_eq!(header(&again, "idempotent-replayed").as_deref(), Some("true"));
        let again: Value = again.json().await.unwrap();
        assert_eq!(first["payment"]["id"], again["payment"]["id"]);
        // The same key with another body is refused.
        let other = json!({"amount": 1999, "currency": "EUR", "purpose": "premium"});
        let err = error_body(send(other, "order-1").await.unwrap(), 422, "validation_error").await;
        assert_eq!(err["code"], "payments.idempotency_key_reused");
        // A bad key is refused before anything runs.
        let res = app.client.post(app.url("/api/payments")).bearer_auth(&ana.access)
            .header("idempotency-key", "").json(&body).send().await.unwrap();
        error_body(res, 422, "validation_error").await;
        // Another user's key is their own.
        let bob = app.register("bob@example.com").await;
        let res = app.client.post(app.url("/api/payments")).bearer_auth(&bob.access)
            .header("idempotency-key", "order-1").json(&body).send().await.unwrap();
        assert_eq!(res.status(), 201);
        assert_eq!(header(&res, "idempotent-replayed"), None);
        let txs: Value = app.get_as("/api/transactions", &ana.access).await.json().await.unwrap();
        assert_eq!(txs["total"], 1);
        // A failed request keeps no answer: its retry runs again.
        let bad = json!({"amount": -1, "currency": "EUR", "purpose": "premium"});
        let res = app.client.post(app.url("/api/payments")).bearer_auth(&ana.access)
            .header("idempotency-key", "order-2").json(&bad).send().await.unwrap();
        error_body(res, 422, "validation_error").await;
        let res = send(body.clone(), "order-2").await.unwrap();
        assert_eq!(res.status(), 201);
    }
}

on_both_databases! {
    async fn refunds_move_money_back_once_within_the_rules(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        app.register("root@example.com").await;
        let admin = app.make_admin("root@example.com").await;
        let payment = top_up(&app, &ana, 5000).await;
        let id = payment["id"].as_str().unwrap().to_owned();
        let refund = |who: &Tokens, body: Value| {
            let path = format!("/api/payments/{id}/refund");
            let token = who.access.clone();
            let app = &app;
            async move { app.post_as(&path, &token, &body).await }
        };
        // Not paid yet: nothing to refund.
        let err = error_body(refund(&ana, json!({})).await, 409, "conflict").await;
        assert_eq!(err["code"], "payments.wrong_status");
        click(&app, &payment, "succeeded").await;

        // The payer takes back part of a top-up.
        let res = refund(&ana, json!({"amount": 2000})).await;
        assert_eq!(res.status(), 202);
        let body: Value = res.json().await.unwrap();
        assert_eq!((body["refund"]["kind"].as_str(), body["refund"]["status"].as_str()), (Some("refund"), Some("pending")));
        assert_eq!(wallet(&app, &ana, "USD").await, 3000);
        // More than is left is refused; zero or less is wrong input.
        let err = error_body(refund(&ana, json!({"amount": 3001})).await, 409, "conflict").await;
        assert_eq!(err["code"], "payments.too_much");
        error_body(refund(&ana, json!({"amount": 0})).await, 422, "validation_error").await;
        error_body(refund(&ana, json!({"amount": "ten"})).await, 422, "validation_error").await;
        // The provider is told in the background; then the payment says so.
        transactions_until(&app, &ana, "?kind=refund&status=succeeded", |b| b["total"] == 1).await;
        for _ in 0..200 {
            if get_payment(&app, &ana, &id).await["status"] == "partially_refunded" { break; }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let p = get_payment(&app, &ana, &id).await;
        assert_eq!((p["status"].as_str(), p["refunded"].as_i64()), (Some("partially_refunded"), Some(2000)));

        // An admin refunds the rest (all that is left, by default).
        assert_eq!(refund(&admin, json!({})).await.status(), 202);
        assert_eq!(wallet(&app, &ana, "USD").await, 0);
        for _ in 0..200 {
            if get_payment(&app, &ana, &id).await["status"] == "refunded" { break; }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert_eq!(get_payment(&app, &ana, &id).await["status"], "refunded");
        let err = error_body(refund(&admin, json!({})).await, 409, "conflict").await;
        assert_eq!(err["code"], "payments.wrong_status");
        assert_eq!(entries(&app, "payment.refunded").await, 2);
        ledger_holds(&app).await;

        // Each top-up goes back out of the wallet it filled.
        let two = top_up(&app, &ana, 1000).await;
        click(&app, &two, "succeeded").await;
        let three = top_up(&app, &ana, 1000).await;
        click(&app, &three, "succeeded").await;
        let path = format!("/api/payments/{}/refund", two["id"].as_str().unwrap());
        assert_eq!(app.post_as(&path, &ana.access, &json!({})).await.status(), 202);
        let path3 = format!("/api/payments/{}/refund", three["id"].as_str().unwrap());
        assert_eq!(app.post_as(&path3, &ana.access, &json!({})).await.status(), 202);
        assert_eq!(wallet(&app, &ana, "USD").await, 0);

        // A purchase is refunded by an admin only; a stranger sees nothing.
        let premium = pay(&app, &ana, json!({"amount": 300, "currency": "USD", "purpose": "premium"})).await;
        click(&app, &premium, "succeeded").await;
        let ppath = format!("/api/payments/{}/refund", premium["id"].as_str().unwrap());
        error_body(app.post_as(&ppath, &ana.access, &json!({})).await, 403, "forbidden").await;
        let bob = app.register("bob@example.com").await;
        error_body(app.post_as(&ppath, &bob.access, &json!({})).await, 404, "not_found").await;
        assert_eq!(app.post_as(&ppath, &admin.access, &json!({"amount": 100})).await.status(), 202);
        ledger_holds(&app).await;

        // The payer's own window is 14 days.
        let old = top_up(&app, &ana, 400).await;
        click(&app, &old, "succeeded").await;
        app.clock.advance(Duration::from_secs(15 * 24 * 3600));
        let ana = app.login("ana@example.com").await;
        let opath = format!("/api/payments/{}/refund", old["id"].as_str().unwrap());
        error_body(app.post_as(&opath, &ana.access, &json!({})).await, 403, "forbidden").await;
    }
}

on_both_databases! {
    async fn no_one_sees_anothers_payments_transactions_or_wallet(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let bob = app.register("bob@example.com").await;
        let payment = top_up(&app, &ana, 800).await;
        click(&app, &payment, "succeeded").await;
        let id = payment["id"].as_str().unwrap();
        let err = error_body(app.get_as(&format!("/api/payments/{id}"), &bob.access).await, 404, "not_found").await;
        assert_eq!(err["code"], "payments.not_found");
        let txs: Value = app.get_as("/api/transactions", &bob.access).await.json().await.unwrap();
        assert_eq!(txs["total"], 0);
        assert_eq!(wallet(&app, &bob, "USD").await, 0);
        // Admin views are for admins.
        error_body(app.get_as("/api/admin/transactions", &ana.access).await, 403, "forbidden").await;
        error_body(app.get_as("/api/admin/ledger", &ana.access).await, 403, "forbidden").await;
        // Without a token, nothing.
        for path in ["/api/transactions", "/api/wallet", &format!("/api/payments/{id}")] {
            error_body(app.get(path).await, 401, "authentication_error").await;
        }
        app.register("root@example.com").await;
        let admin = app.make_admin("root@example.com").await;
        let all: Value = app.get_as(&format!("/api/admin/transactions?q={id}"), &admin.access).await.json().await.unwrap();
        assert_eq!(all["total"], 1);
        let mine: Value = app.get_as(&format!("/api/admin/transactions?user_id={}", bob.user_id), &admin.access).await.json().await.unwrap();
        assert_eq!(mine["total"], 0);
        let report: Value = app.get_as("/api/admin/ledger", &admin.access).await.json().await.unwrap();
        assert_eq!(report["holds"], true);
        let totals = report["totals"].as_array().unwrap();
        let sum: i64 = totals.iter().filter(|t| t["currency"] == "USD").map(|t| t["amount"].as_i64().unwrap()).sum();
        assert_eq!(sum, 0, "{report}");
        assert!(totals.iter().any(|t| t["kind"] == "wallet" && t["amount"] == 800), "{report}");
        // The admin sees the payment itself too.
        assert_eq!(get_payment(&app, &admin, id).await["id"], id);
    }
}

#[tokio::test]
async fn wrong_input_to_payments_is_refused_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let cases = [
        (
            json!({"amount": 0, "currency": "USD", "purpose": "top_up"}),
            "amount",
        ),
        (
            json!({"amount": -5, "currency": "USD", "purpose": "top_up"}),
            "amount",
        ),
        (
            json!({"amount": 100_000_000_001i64, "currency": "USD", "purpose": "top_up"}),
            "amount",
        ),
        (
            json!({"amount": 12.5, "currency": "USD", "purpose": "top_up"}),
            "amount",
        ),
        (
            json!({"amount": 100, "currency": "XYZ", "purpose": "top_up"}),
            "currency",
        ),
        (
            json!({"amount": 100, "currency": "USD", "purpose": "gift"}),
            "purpose",
        ),
        (
            json!({"amount": 100, "currency": "USD", "purpose": "escrow"}),
            "purpose",
        ),
        (
            json!({"amount": 100, "currency": "USD", "purpose": "top_up", "provider": "paypal"}),
            "provider",
        ),
        (
            json!({"amount": 100, "currency": "USD", "purpose": "top_up", "extra": 1}),
            "extra",
        ),
        (json!({"currency": "USD", "purpose": "top_up"}), "amount"),
    ];
    for (body, field) in cases {
        let res = app.post_as("/api/payments", &ana.access, &body).await;
        let err = error_body(res, 422, "validation_error").await;
        assert!(err.to_string().contains(field), "{body}: {err}");
    }
    // A provider that is not configured here.
    let body = json!({"amount": 100, "currency": "USD", "purpose": "top_up", "provider": "stripe"});
    let err = error_body(
        app.post_as("/api/payments", &ana.access, &body).await,
        422,
        "validation_error",
    )
    .await;
    assert_eq!(err["code"], "payments.provider_off");
    // Not JSON.
    let res = app
        .client
        .post(app.url("/api/payments"))
        .bearer_auth(&ana.access)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    error_body(res, 400, "validation_error").await;
    // Malformed ids and filters.
    error_body(
        app.get_as("/api/payments/not-a-uuid", &ana.access).await,
        404,
        "not_found",
    )
    .await;
    for query in [
        "?kind=gift",
        "?status=paid",
        "?from=yesterday",
        "?limit=0",
        "?limit=101",
        "?from=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z",
        "?bogus=1",
    ] {
        let res = app
            .get_as(&format!("/api/transactions{query}"), &ana.access)
            .await;
        error_body(res, 422, "validation_error").await;
    }
    // A sandbox click without the page's signature finds no page; one
    // naming no outcome plaza knows is wrong input.
    let payment = top_up(&app, &ana, 100).await;
    let (path, sig) = checkout_of(&payment);
    let res = app
        .client
        .post(app.url(&path))
        .body("nonsense")
        .send()
        .await
        .unwrap();
    error_body(res, 404, "not_found").await;
    let res = app
        .client
        .post(app.url(&path))
        .body(format!("sig={sig}&outcome=refund"))
        .send()
        .await
        .unwrap();
    error_body(res, 422, "validation_error").await;
    // Nothing but that one payment was written.
    let txs: Value = app
        .get_as("/api/transactions", &ana.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(txs["total"], 1);
    assert_eq!(
        get_payment(&app, &ana, payment["id"].as_str().unwrap()).await["status"],
        "created"
    );
}

on_both_databases! {
    async fn graphql_asks_for_payments_and_reads_the_same_ledger(backend: Backend) {
        use crate::graphql::{gql, ok};
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let create = "mutation($key: String) { createPayment(amount: 1500, currency: \"usd\", purpose: \"top_up\", idempotencyKey: $key) { id status amount currency checkoutUrl } }";
        let first = gql(&app, Some(&ana.access), create, json!({"key": "gql-1"})).await;
        let payment = ok(&first)["createPayment"].clone();
        assert_eq!((payment["status"].as_str(), payment["currency"].as_str()), (Some("created"), Some("USD")));
        // The same key: the same payment.
        let again = gql(&app, Some(&ana.access), create, json!({"key": "gql-1"})).await;
        assert_eq!(ok(&again)["createPayment"]["id"], payment["id"]);
        // Wrong input answers in the error format.
        let bad = gql(&app, Some(&ana.access), "mutation { createPayment(amount: 0, currency: \"USD\", purpose: \"top_up\") { id } }", json!({})).await;
        assert_eq!(bad["errors"][0]["extensions"]["code"], "input.invalid");
        let bad = gql(&app, Some(&ana.access), "mutation { createPayment(amount: 5, currency: \"USD\", purpose: \"escrow\") { id } }", json!({})).await;
        assert_eq!(bad["errors"][0]["extensions"]["status"], 422);
        let anonymous = gql(&app, None, "{ wallet { amount } }", json!({})).await;
        assert_eq!(anonymous["errors"][0]["extensions"]["status"], 401);

        let as_rest = json!({"checkout_url": payment["checkoutUrl"]});
        click(&app, &as_rest, "succeeded").await;
        let read = gql(&app, Some(&ana.access), "{ wallet { currency amount decimal } transactions(first: 5) { edges { node { kind status amount paymentId } } } }", json!({})).await;
        let data = ok(&read);
        assert_eq!(data["wallet"], json!([{"currency": "USD", "amount": 1500, "decimal": "15.00"}]));
        let node = &data["transactions"]["edges"][0]["node"];
        assert_eq!((node["kind"].as_str(), node["status"].as_str()), (Some("top_up"), Some("succeeded")));
        assert_eq!(node["paymentId"], payment["id"]);

        let refund = "mutation($id: ID!) { refundPayment(id: $id, amount: 500) { kind status amount } }";
        let done = gql(&app, Some(&ana.access), refund, json!({"id": payment["id"]})).await;
        assert_eq!(ok(&done)["refundPayment"], json!({"kind": "refund", "status": "pending", "amount": 500}));
        assert_eq!(wallet(&app, &ana, "USD").await, 1000);
        // A stranger's view: nothing of Ana's.
        let bob = app.register("bob@example.com").await;
        let theirs = gql(&app, Some(&bob.access), "query($id: ID!) { payment(id: $id) { id } }", json!({"id": payment["id"]})).await;
        assert_eq!(theirs["errors"][0]["extensions"]["code"], "payments.not_found");
        let stolen = gql(&app, Some(&bob.access), refund, json!({"id": payment["id"]})).await;
        assert_eq!(stolen["errors"][0]["extensions"]["status"], 404);
        assert_eq!(wallet(&app, &ana, "USD").await, 1000);
    }
}
