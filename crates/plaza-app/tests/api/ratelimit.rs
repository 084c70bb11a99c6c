//! Rate limits through HTTP: headers, 429s, and a budget shared by nodes.

use std::time::Duration;

use axum::routing::get;
use plaza_app::AppState;
use plaza_platform::config::Rate;
use utoipa_axum::router::OpenApiRouter;

use crate::helpers::{TestApp, error_body, header, redis_prefix};

fn ping() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().route("/api/test/ping", get(|| async { "pong" }))
}

fn three_a_minute(c: &mut plaza_platform::config::Config) {
    c.rate_limit.general = Rate::new(3, Duration::from_secs(60));
}

#[tokio::test]
async fn general_limit_counts_down_then_answers_429() {
    let app = TestApp::builder()
        .routes(ping())
        .config(three_a_minute)
        .spawn()
        .await;
    for remaining in ["2", "1", "0"] {
        let res = app.get("/api/test/ping").await;
        assert_eq!(res.status(), 200);
        assert_eq!(header(&res, "ratelimit-limit").as_deref(), Some("3"));
        assert_eq!(
            header(&res, "ratelimit-remaining").as_deref(),
            Some(remaining)
        );
        assert!(
            header(&res, "ratelimit-reset")
                .unwrap()
                .parse::<u64>()
                .unwrap()
                <= 60
        );
    }
    let res = app.get("/api/test/ping").await;
    assert_eq!(header(&res, "retry-after").as_deref(), Some("20"));
    assert_eq!(header(&res, "ratelimit-remaining").as_deref(), Some("0"));
    let body = error_body(res, 429, "rate_limit_error").await;
    assert_eq!(body["details"]["class"], "general");
    assert_eq!(body["details"]["retry_after_seconds"], 20);

    // Probes are never limited.
    for _ in 0..5 {
        assert_eq!(app.get("/health").await.status(), 200);
    }

    // Time moves on (the settable clock): one slot frees every 20s.
    app.clock.advance(Duration::from_secs(20));
    assert_eq!(app.get("/api/test/ping").await.status(), 200);
    assert_eq!(app.get("/api/test/ping").await.status(), 429);
}

#[tokio::test]
async fn the_rate_limit_flag_turns_limits_off() {
    let app = TestApp::builder()
        .routes(ping())
        .config(|c| {
            three_a_minute(c);
            c.features.rate_limit = false;
        })
        .spawn()
        .await;
    for _ in 0..6 {
        let res = app.get("/api/test/ping").await;
        assert_eq!(res.status(), 200);
        assert_eq!(header(&res, "ratelimit-limit"), None);
    }
}

#[tokio::test]
async fn addresses_behind_a_trusted_proxy_have_their_own_budgets() {
    let app = TestApp::builder()
        .routes(ping())
        .config(|c| {
            three_a_minute(c);
            c.http.trust_proxy_headers = true;
        })
        .spawn()
        .await;
    let from = |ip: &'static str| {
        app.client
            .get(app.url("/api/test/ping"))
            .header("x-forwarded-for", ip)
            .send()
    };
    for _ in 0..3 {
        assert_eq!(from("203.0.113.1").await.unwrap().status(), 200);
    }
    assert_eq!(from("203.0.113.1").await.unwrap().status(), 429);
    assert_eq!(from("203.0.113.2").await.unwrap().status(), 200);
}

#[tokio::test]
#[ignore = "needs Redis"]
async fn two_nodes_share_one_budget_through_redis() {
    let prefix = redis_prefix();
    let node_a = TestApp::builder()
        .routes(ping())
        .redis(&prefix)
        .config(three_a_minute)
        .spawn()
        .await;
    let node_b = TestApp::builder()
        .routes(ping())
        .redis(&prefix)
        .config(three_a_minute)
        .spawn()
        .await;
    let mut passed = 0;
    for i in 0..8 {
        let node = if i % 2 == 0 { &node_a } else { &node_b };
        if node.get("/api/test/ping").await.status() == 200 {
            passed += 1;
        }
    }
    assert_eq!(passed, 3);
    let res = node_b.get("/api/test/ping").await;
    let retry: u64 = header(&res, "retry-after").unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry), "{retry}");
    error_body(res, 429, "rate_limit_error").await;
}

#[tokio::test]
async fn a_refused_post_keeps_its_connection_or_says_it_closes_it() {
    let app = TestApp::builder()
        .config(|c| c.rate_limit.auth = Rate::new(1, Duration::from_secs(60)))
        .spawn()
        .await;
    let login = |body: String| {
        app.client
            .post(app.url("/api/auth/login"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let small = r#"{"email": "nobody@example.com", "password": "wrong password"}"#.to_owned();
    assert_eq!(login(small.clone()).await.unwrap().status(), 401);
    // A small body is read, and the connection stays for the retry.
    let refused = login(small.clone()).await.unwrap();
    assert_eq!(refused.status(), 429);
    assert_eq!(header(&refused, "connection"), None);
    refused.bytes().await.unwrap();
    assert_eq!(
        login(small).await.unwrap().status(),
        429,
        "the same client goes on"
    );
    // A large one is left unread, and the answer says the connection ends.
    let large = format!(
        r#"{{"email": "a@b.io", "password": "{}"}}"#,
        "x".repeat(200_000)
    );
    let refused = login(large).await.unwrap();
    assert_eq!(refused.status(), 429);
    assert_eq!(header(&refused, "connection").as_deref(), Some("close"));
}
