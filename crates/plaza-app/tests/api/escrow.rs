//! Marketplace escrow (issue 17, seed 001): the client funds an accepted
//! project's bid, the freelancer is paid less the platform's fee when the
//! project completes, a cancelled deal goes back to the client; both sides
//! are told, and their chat shows each step.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Tokens, error_body};
use crate::on_both_databases;
use crate::payments::{click, entries, ledger_holds, transactions_until, wallet};
use crate::projects::notices;

/// An open project of `owner`'s with `freelancer`'s accepted bid; its id.
pub async fn deal(app: &TestApp, owner: &Tokens, freelancer: &Tokens, bid: i64) -> String {
    let res = app
        .post_as(
            "/api/projects",
            &owner.access,
            &json!({"title": "Build a shop", "description": "d", "skills": ["rust"],
                "currency": "USD", "status": "open"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let project = res.json::<Value>().await.unwrap()["project"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .post_as(
            &format!("/api/projects/{project}/responses"),
            &freelancer.access,
            &json!({"cover_letter": "Done it before.", "bid_amount": bid, "currency": "USD", "eta_days": 10}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let response = res.json::<Value>().await.unwrap()["response"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .send(
            Method::PUT,
            &format!("/api/projects/{project}/responses/{response}"),
            Some(&owner.access),
            Some(&json!({"status": "accepted"})),
        )
        .await;
    assert_eq!(res.status(), 200);
    project
}

pub async fn fund(app: &TestApp, who: &Tokens, project: &str) -> reqwest::Response {
    app.post_as(
        &format!("/api/projects/{project}/escrow"),
        &who.access,
        &json!({}),
    )
    .await
}

pub async fn escrow_of(app: &TestApp, who: &Tokens, project: &str) -> Value {
    let res = app
        .get_as(&format!("/api/projects/{project}/escrow"), &who.access)
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

pub async fn move_project(
    app: &TestApp,
    who: &Tokens,
    project: &str,
    to: &str,
) -> reqwest::Response {
    app.send(
        Method::PUT,
        &format!("/api/projects/{project}"),
        Some(&who.access),
        Some(&json!({"status": to})),
    )
    .await
}

/// The system messages in the one chat `who` has, waiting for `n`.
async fn system_messages(app: &TestApp, who: &Tokens, n: usize) -> Vec<String> {
    for _ in 0..400 {
        let chats: Value = app
            .get_as("/api/chats", &who.access)
            .await
            .json()
            .await
            .unwrap();
        if let Some(chat) = chats["items"][0]["id"].as_str() {
            let page: Value = app
                .get_as(&format!("/api/chats/{chat}/messages"), &who.access)
                .await
                .json()
                .await
                .unwrap();
            let found: Vec<String> = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m["message_type"] == "system")
                .map(|m| m["content"].as_str().unwrap().to_owned())
                .collect();
            if found.len() >= n {
                return found;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("fewer than {n} system messages");
}

on_both_databases! {
    async fn an_escrowed_deal_pays_the_freelancer_less_the_fee_on_completion(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await; // the client
        let bob = app.register("bob@example.com").await; // the freelancer
        let eve = app.register("eve@example.com").await;
        let project = deal(&app, &ana, &bob, 100_000).await;

        // Only the owner funds it.
        error_body(fund(&app, &bob, &project).await, 403, "forbidden").await;
        let res = fund(&app, &ana, &project).await;
        assert_eq!(res.status(), 201);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["escrow"]["status"], "awaiting");
        assert_eq!((body["escrow"]["amount"].as_i64(), body["escrow"]["fee_bps"].as_i64()), (Some(100_000), Some(1000)));
        let payment = body["payment"].clone();
        assert_eq!((payment["purpose"].as_str(), payment["amount"].as_i64()), (Some("escrow"), Some(100_000)));
        // Asked again while the payment is on its way: the same payment.
        let again: Value = fund(&app, &ana, &project).await.json().await.unwrap();
        assert_eq!(again["payment"]["id"], payment["id"]);
        // Not completed while the money is on its way.
        let err = error_body(move_project(&app, &ana, &project, "completed").await, 409, "conflict").await;
        assert_eq!(err["code"], "projects.blocked");

        click(&app, &payment, "succeeded").await;
        let escrow = escrow_of(&app, &bob, &project).await;
        assert_eq!(escrow["escrow"]["status"], "funded");
        // Strangers see nothing of it; it cannot be funded twice.
        error_body(app.get_as(&format!("/api/projects/{project}/escrow"), &eve.access).await, 404, "not_found").await;
        let err = error_body(fund(&app, &ana, &project).await, 409, "conflict").await;
        assert_eq!(err["code"], "payments.no_deal");
        notices(&app, &bob, "escrow.funded", 1).await;
        notices(&app, &ana, "escrow.funded", 1).await;
        assert_eq!(wallet(&app, &bob, "USD").await, 0);
        // A deal's money goes back only by cancelling the project.
        let path = format!("/api/payments/{}/refund", payment["id"].as_str().unwrap());
        error_body(app.post_as(&path, &ana.access, &json!({})).await, 403, "forbidden").await;

        // The client accepts the work: paid out, less 10 %.
        assert_eq!(move_project(&app, &ana, &project, "completed").await.status(), 200);
        assert_eq!(escrow_of(&app, &ana, &project).await["escrow"]["status"], "released");
        assert_eq!(wallet(&app, &bob, "USD").await, 90_000);
        let payout = transactions_until(&app, &bob, "?kind=payout", |b| b["total"] == 1).await;
        assert_eq!((payout["items"][0]["amount"].as_i64(), payout["items"][0]["status"].as_str()), (Some(90_000), Some("succeeded")));
        let released = notices(&app, &bob, "escrow.released", 1).await;
        assert!(released[0]["body"].as_str().unwrap().contains("900.00"), "{released:?}");
        let said = system_messages(&app, &ana, 2).await;
        assert!(said.iter().any(|m| m.starts_with("Escrow funded: 1000.00 USD")), "{said:?}");
        assert!(said.iter().any(|m| m.starts_with("Escrow released: 900.00 USD")), "{said:?}");
        assert_eq!(entries(&app, "escrow.released").await, 1);
        app.register("root@example.com").await;
        let admin = app.make_admin("root@example.com").await;
        let report: Value = app.get_as("/api/admin/ledger", &admin.access).await.json().await.unwrap();
        let total = |kind: &str| report["totals"].as_array().unwrap().iter()
            .find(|t| t["kind"] == kind).map_or(0, |t| t["amount"].as_i64().unwrap());
        assert_eq!((total("revenue"), total("escrow"), total("wallet")), (10_000, 0, 90_000), "{report}");
        ledger_holds(&app).await;
    }
}

on_both_databases! {
    async fn a_cancelled_deal_goes_back_to_the_client(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let bob = app.register("bob@example.com").await;
        let project = deal(&app, &ana, &bob, 25_000).await;
        let body: Value = fund(&app, &ana, &project).await.json().await.unwrap();
        click(&app, &body["payment"], "succeeded").await;
        assert_eq!(escrow_of(&app, &ana, &project).await["escrow"]["status"], "funded");

        assert_eq!(move_project(&app, &ana, &project, "cancelled").await.status(), 200);
        assert_eq!(escrow_of(&app, &ana, &project).await["escrow"]["status"], "refunded");
        transactions_until(&app, &ana, "?kind=refund&status=succeeded", |b| b["total"] == 1).await;
        let pid = body["payment"]["id"].as_str().unwrap();
        for _ in 0..200 {
            let p: Value = app.get_as(&format!("/api/payments/{pid}"), &ana.access).await.json().await.unwrap();
            if p["payment"]["status"] == "refunded" { break; }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let p: Value = app.get_as(&format!("/api/payments/{pid}"), &ana.access).await.json().await.unwrap();
        assert_eq!(p["payment"]["status"], "refunded");
        assert_eq!(wallet(&app, &bob, "USD").await, 0);
        notices(&app, &bob, "escrow.refunded", 1).await;
        let said = system_messages(&app, &bob, 2).await;
        assert!(said.iter().any(|m| m.starts_with("Escrow refunded: 250.00 USD")), "{said:?}");
        assert_eq!(entries(&app, "escrow.released").await, 0);
        ledger_holds(&app).await;

        // A deal cancelled before any money arrived: the escrow is void, and
        // money arriving later goes straight back.
        let second = deal(&app, &ana, &bob, 5_000).await;
        let body: Value = fund(&app, &ana, &second).await.json().await.unwrap();
        assert_eq!(move_project(&app, &ana, &second, "cancelled").await.status(), 200);
        assert_eq!(escrow_of(&app, &ana, &second).await["escrow"]["status"], "void");
        click(&app, &body["payment"], "succeeded").await;
        transactions_until(&app, &ana, "?kind=refund", |b| b["total"] == 2).await;
        ledger_holds(&app).await;
        let mut conn = app.state.db.fresh().acquire().await.unwrap();
        let held: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(p.amount), 0) AS BIGINT) FROM ledger_postings p \
             JOIN ledger_accounts a ON a.id = p.account_id WHERE a.kind = 'escrow'")
            .fetch_one(&mut *conn).await.unwrap();
        assert_eq!(held, 0);
    }
}

#[tokio::test]
async fn funding_what_is_not_a_deal_is_refused() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    let res = app
        .post_as(
            "/api/projects",
            &ana.access,
            &json!({"title": "Open, nobody chosen", "description": "d", "skills": [], "currency": "USD", "status": "open"}),
        )
        .await;
    let open = res.json::<Value>().await.unwrap()["project"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let err = error_body(fund(&app, &ana, &open).await, 409, "conflict").await;
    assert_eq!(err["code"], "payments.no_deal");
    error_body(fund(&app, &bob, &open).await, 403, "forbidden").await;
    let missing = uuid::Uuid::now_v7();
    error_body(
        fund(&app, &ana, &missing.to_string()).await,
        404,
        "not_found",
    )
    .await;
    error_body(fund(&app, &ana, "not-an-id").await, 404, "not_found").await;
    error_body(
        app.get_as(&format!("/api/projects/{open}/escrow"), &ana.access)
            .await,
        404,
        "not_found",
    )
    .await;
    let res = app
        .post_as(
            &format!("/api/projects/{open}/escrow"),
            &ana.access,
            &json!({"provider": 7}),
        )
        .await;
    error_body(res, 422, "validation_error").await;
    assert_eq!(
        app.get_as("/api/transactions", &ana.access)
            .await
            .json::<Value>()
            .await
            .unwrap()["total"],
        0
    );
}
