//! Tokens over time: refresh rotation and reuse, logout, the sessions list.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Tokens, error_body};

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/api/auth/refresh", &json!({"refresh_token": token}))
        .await
}

crate::on_both_databases! {
    async fn refresh_tokens_rotate_and_a_replay_ends_the_session(backend: Backend) {
        let app = TestApp::builder()
            .backend(backend)
            .config(|c| c.auth.refresh_grace = plaza_platform::config::HumanDuration(Duration::from_secs(10)))
            .spawn()
            .await;
        let first = app.register("ana@example.com").await;
        let res = refresh(&app, &first.refresh).await;
        assert_eq!(res.status(), 200);
        let second = Tokens::from(res.json::<Value>().await.unwrap());
        assert_ne!(second.refresh, first.refresh);
        assert_eq!(second.user_id, first.user_id);
        assert_eq!(app.get_as("/api/auth/me", &second.access).await.status(), 200);

        // Past the grace window, the rotated token is a replay.
        app.clock.advance(Duration::from_secs(11));
        let res = refresh(&app, &first.refresh).await;
        let err = error_body(res, 401, "authentication_error").await;
        assert!(err["error"].as_str().unwrap().contains("already used"), "{err}");
        // The whole family is gone, and its access tokens with it.
        error_body(refresh(&app, &second.refresh).await, 401, "authentication_error").await;
        error_body(app.get_as("/api/auth/me", &second.access).await, 401, "authentication_error").await;
        error_body(app.get_as("/api/auth/me", &first.access).await, 401, "authentication_error").await;
    }
}

#[tokio::test]
async fn two_tabs_may_refresh_at_once_within_the_grace_window() {
    let app = TestApp::spawn().await;
    let first = app.register("ana@example.com").await;
    let (a, b) = tokio::join!(refresh(&app, &first.refresh), refresh(&app, &first.refresh));
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    let a = Tokens::from(a.json::<Value>().await.unwrap());
    let b = Tokens::from(b.json::<Value>().await.unwrap());
    assert_ne!(a.refresh, b.refresh);

    // Once a child has been used, the parent is no longer tolerated, even
    // within the window.
    app.clock.advance(Duration::from_secs(1));
    let c = refresh(&app, &a.refresh).await;
    assert_eq!(c.status(), 200);
    let c = Tokens::from(c.json::<Value>().await.unwrap());
    error_body(
        refresh(&app, &first.refresh).await,
        401,
        "authentication_error",
    )
    .await;
    error_body(
        app.get_as("/api/auth/me", &c.access).await,
        401,
        "authentication_error",
    )
    .await;
}

#[tokio::test]
async fn a_grace_window_of_zero_means_none() {
    let app = TestApp::builder()
        .config(|c| c.auth.refresh_grace = plaza_platform::config::HumanDuration(Duration::ZERO))
        .spawn()
        .await;
    let first = app.register("ana@example.com").await;
    assert_eq!(refresh(&app, &first.refresh).await.status(), 200);
    error_body(
        refresh(&app, &first.refresh).await,
        401,
        "authentication_error",
    )
    .await;
}

#[tokio::test]
async fn refresh_tokens_expire_and_bad_ones_are_refused() {
    let app = TestApp::spawn().await;
    let first = app.register("ana@example.com").await;
    for bad in [
        json!({"refresh_token": "nope"}),
        json!({"refresh_token": first.access}),
    ] {
        let res = app.post_json("/api/auth/refresh", &bad).await;
        error_body(res, 401, "authentication_error").await;
    }
    for bad in [json!({}), json!({"refresh_token": 7})] {
        let res = app.post_json("/api/auth/refresh", &bad).await;
        error_body(res, 422, "validation_error").await;
    }
    // Each refresh extends the session; seven idle days end it.
    app.clock.advance(Duration::from_secs(6 * 86_400));
    let res = refresh(&app, &first.refresh).await;
    let second = Tokens::from(res.json::<Value>().await.unwrap());
    app.clock.advance(Duration::from_secs(7 * 86_400));
    error_body(
        refresh(&app, &second.refresh).await,
        401,
        "authentication_error",
    )
    .await;
}

crate::on_both_databases! {
    async fn logout_ends_the_session_at_once(backend: Backend) {
        let app = TestApp::on(backend).await;
        let phone = app.register("ana@example.com").await;
        let laptop = app.login("ana@example.com").await;
        let res = app.send(Method::POST, "/api/auth/logout", Some(&phone.access), None).await;
        assert_eq!(res.status(), 204);
        error_body(app.get_as("/api/auth/me", &phone.access).await, 401, "authentication_error").await;
        error_body(refresh(&app, &phone.refresh).await, 401, "authentication_error").await;
        // The other session lives on.
        assert_eq!(app.get_as("/api/auth/me", &laptop.access).await.status(), 200);
        let res = app.send(Method::POST, "/api/auth/logout", None, None).await;
        error_body(res, 401, "authentication_error").await;
    }
}

#[tokio::test]
async fn a_restarted_node_still_refuses_ended_sessions() {
    let app = TestApp::spawn().await;
    let tokens = app.register("ana@example.com").await;
    app.send(Method::POST, "/api/auth/logout", Some(&tokens.access), None)
        .await;
    // A fresh revocation list over the same database, as after a restart.
    let fresh = plaza_app::auth::Revocations::new(
        std::sync::Arc::new(plaza_platform::cache::MemoryCache::new(
            1 << 20,
            std::sync::Arc::new(app.clock.clone()),
        )),
        Duration::from_secs(900),
    );
    let session: String = sqlx::query_scalar("SELECT id FROM sessions")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    let now = plaza_core::Clock::now(&app.clock);
    assert!(
        fresh
            .is_revoked(&app.state.db, session.parse().unwrap(), now)
            .await
    );
}

crate::on_both_databases! {
    async fn sessions_are_listed_and_ended_one_by_one_or_all(backend: Backend) {
        let app = TestApp::on(backend).await;
        let phone = app.register("ana@example.com").await;
        let laptop = app
            .client
            .post(app.url("/api/auth/login"))
            .header("user-agent", "Laptop/1.0")
            .json(&json!({"email": "ana@example.com", "password": crate::helpers::PASSWORD}))
            .send()
            .await
            .unwrap();
        let laptop = Tokens::from(laptop.json::<Value>().await.unwrap());
        let bob = app.register("bob@example.com").await;

        let list: Value = app.get_as("/api/auth/sessions", &phone.access).await.json().await.unwrap();
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        let laptop_session = items.iter().find(|s| s["user_agent"] == "Laptop/1.0").unwrap();
        assert_eq!(laptop_session["current"], false);
        assert_eq!(laptop_session["ip"], "127.0.0.1");
        assert_eq!(items.iter().filter(|s| s["current"] == true).count(), 1);
        let laptop_id = laptop_session["id"].as_str().unwrap();

        // Someone else's session, an unknown one and a malformed id: 404 alike.
        let path = format!("/api/auth/sessions/{laptop_id}");
        let res = app.send(Method::DELETE, &path, Some(&bob.access), None).await;
        error_body(res, 404, "not_found").await;
        let res = app.send(Method::DELETE, "/api/auth/sessions/nonsense", Some(&phone.access), None).await;
        error_body(res, 404, "not_found").await;
        assert_eq!(app.get_as("/api/auth/me", &laptop.access).await.status(), 200);

        let res = app.send(Method::DELETE, &path, Some(&phone.access), None).await;
        assert_eq!(res.status(), 204);
        error_body(app.get_as("/api/auth/me", &laptop.access).await, 401, "authentication_error").await;
        let res = app.send(Method::DELETE, &path, Some(&phone.access), None).await;
        error_body(res, 404, "not_found").await;

        let another = app.login("ana@example.com").await;
        let res = app.send(Method::POST, "/api/auth/logout-all", Some(&phone.access), None).await;
        assert_eq!(res.status(), 204);
        for t in [&phone, &another] {
            error_body(app.get_as("/api/auth/me", &t.access).await, 401, "authentication_error").await;
        }
        assert_eq!(app.get_as("/api/auth/me", &bob.access).await.status(), 200);
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis"]
async fn two_nodes_share_revocations_and_the_login_budget() {
    let limited = |c: &mut plaza_platform::config::Config| {
        c.rate_limit.auth = plaza_platform::config::Rate::new(4, Duration::from_secs(900));
    };
    let a = TestApp::builder()
        .scaled_out()
        .config(limited)
        .spawn()
        .await;
    let b = TestApp::builder().node_of(&a).config(limited).spawn().await;

    let tokens = a.register("ana@example.com").await;
    // Node b has seen the token work (and may hold the session in memory).
    assert_eq!(b.get_as("/api/auth/me", &tokens.access).await.status(), 200);
    let res = a
        .send(Method::POST, "/api/auth/logout", Some(&tokens.access), None)
        .await;
    assert_eq!(res.status(), 204);
    error_body(
        b.get_as("/api/auth/me", &tokens.access).await,
        401,
        "authentication_error",
    )
    .await;

    // One sign-in budget per address across both nodes: 1 sign-up + 3 here.
    let wrong = json!({"email": "ana@example.com", "password": "not the password"});
    for node in [&a, &b, &a] {
        let res = node.post_json("/api/auth/login", &wrong).await;
        error_body(res, 401, "authentication_error").await;
    }
    let res = b.post_json("/api/auth/login", &wrong).await;
    error_body(res, 429, "rate_limit_error").await;
}
