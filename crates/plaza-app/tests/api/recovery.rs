//! Proving an address and getting back in: verification, reset, change.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{PASSWORD, SmtpServer, TestApp, error_body, link_token};

crate::on_both_databases! {
    async fn a_new_account_verifies_its_address_from_the_mail(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let mail = app.mail_to("ana@example.com", "http://localhost:8080/verify-email?token=").await;
        let token = link_token(&mail);

        let res = app.post_json("/api/auth/verify-email", &json!({"token": "forged"})).await;
        error_body(res, 422, "validation_error").await;
        let res = app.post_json("/api/auth/verify-email", &json!({"token": token})).await;
        assert_eq!(res.status(), 204);
        let me: serde_json::Value = app.get_as("/api/auth/me", &ana.access).await.json().await.unwrap();
        assert_eq!(me["email_verified"], true);
        // Single use.
        let res = app.post_json("/api/auth/verify-email", &json!({"token": token})).await;
        error_body(res, 422, "validation_error").await;
        // Nothing left to verify.
        let res = app.post_as("/api/auth/verify-email/request", &ana.access, &json!({})).await;
        error_body(res, 409, "conflict").await;
    }
}

#[tokio::test]
async fn verification_links_expire_and_a_new_one_replaces_the_old() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let first = link_token(&app.mail_to("ana@example.com", "verify-email").await);
    let res = app
        .send(
            reqwest::Method::POST,
            "/api/auth/verify-email/request",
            Some(&ana.access),
            None,
        )
        .await;
    assert_eq!(res.status(), 202);
    while app.mails_to("ana@example.com", "verify-email") < 2 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = link_token(&app.mail_to("ana@example.com", "verify-email").await);
    assert_ne!(first, second);
    let res = app
        .post_json("/api/auth/verify-email", &json!({"token": first}))
        .await;
    error_body(res, 422, "validation_error").await;
    app.clock.advance(Duration::from_secs(24 * 3600 + 1));
    let res = app
        .post_json("/api/auth/verify-email", &json!({"token": second}))
        .await;
    error_body(res, 422, "validation_error").await;
    error_body(
        app.post_json("/api/auth/verify-email/request", &json!({}))
            .await,
        401,
        "authentication_error",
    )
    .await;
}

crate::on_both_databases! {
    async fn a_forgotten_password_is_reset_by_mail_and_every_session_ends(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        // Unknown and known addresses answer alike; only one gets mail.
        for email in ["nobody@example.com", "ana@example.com"] {
            let res = app.post_json("/api/auth/password/forgot", &json!({"email": email})).await;
            assert_eq!(res.status(), 202);
        }
        let mail = app.mail_to("ana@example.com", "reset-password?token=").await;
        assert_eq!(app.mails_to("nobody@example.com", ""), 0);
        let token = link_token(&mail);

        for (body, field) in [
            (json!({"token": token, "password": "short"}), "password"),
            (json!({"token": token, "password": "password123"}), "password"),
            (json!({"token": "nope", "password": "a brand new secret"}), "token"),
            (json!({"password": "a brand new secret"}), "token"),
        ] {
            let res = app.post_json("/api/auth/password/reset", &body).await;
            let err = error_body(res, 422, "validation_error").await;
            assert!(err["details"]["fields"].get(field).is_some(), "{err}");
        }
        let res = app
            .post_json("/api/auth/password/reset", &json!({"token": token, "password": "a brand new secret"}))
            .await;
        assert_eq!(res.status(), 204);
        error_body(app.get_as("/api/auth/me", &ana.access).await, 401, "authentication_error").await;
        let res = app
            .post_json("/api/auth/login", &json!({"email": "ana@example.com", "password": PASSWORD}))
            .await;
        error_body(res, 401, "authentication_error").await;
        let res = app
            .post_json("/api/auth/login", &json!({"email": "ana@example.com", "password": "a brand new secret"}))
            .await;
        assert_eq!(res.status(), 200);
        let res = app
            .post_json("/api/auth/password/reset", &json!({"token": token, "password": "yet another secret"}))
            .await;
        error_body(res, 422, "validation_error").await;
    }
}

#[tokio::test]
async fn reset_links_last_an_hour() {
    let app = TestApp::spawn().await;
    app.register("ana@example.com").await;
    app.mail_to("ana@example.com", "Confirm").await;
    app.post_json(
        "/api/auth/password/forgot",
        &json!({"email": "ana@example.com"}),
    )
    .await;
    let mail = app.mail_to("ana@example.com", "Reset your password").await;
    app.clock.advance(Duration::from_secs(3601));
    let res = app
        .post_json(
            "/api/auth/password/reset",
            &json!({"token": link_token(&mail), "password": "a brand new secret"}),
        )
        .await;
    error_body(res, 422, "validation_error").await;
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_other_sessions() {
    let app = TestApp::spawn().await;
    let phone = app.register("ana@example.com").await;
    let laptop = app.login("ana@example.com").await;
    let res = app
        .post_as(
            "/api/auth/password/change",
            &phone.access,
            &json!({"current_password": "wrong one", "new_password": "a brand new secret"}),
        )
        .await;
    let err = error_body(res, 422, "validation_error").await;
    assert_eq!(
        err["details"]["fields"]["current_password"],
        "wrong password"
    );
    let res = app
        .post_as(
            "/api/auth/password/change",
            &phone.access,
            &json!({"current_password": PASSWORD, "new_password": "123456789"}),
        )
        .await;
    error_body(res, 422, "validation_error").await;
    let res = app
        .post_as(
            "/api/auth/password/change",
            &phone.access,
            &json!({"current_password": PASSWORD, "new_password": "a brand new secret"}),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        app.get_as("/api/auth/me", &phone.access).await.status(),
        200
    );
    error_body(
        app.get_as("/api/auth/me", &laptop.access).await,
        401,
        "authentication_error",
    )
    .await;
    let res = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "ana@example.com", "password": "a brand new secret"}),
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
#[ignore = "needs aiosmtpd (pip install aiosmtpd)"]
async fn mail_goes_through_a_real_smtp_server_when_configured() {
    let smtp = SmtpServer::start().await;
    let url = format!("smtp://127.0.0.1:{}", smtp.port);
    let app = TestApp::builder()
        .config(move |c| {
            c.mail.smtp_url = Some(plaza_platform::config::Dsn::new(url));
            c.mail.from = "Plaza <hello@plaza.test>".into();
        })
        .spawn()
        .await;
    app.register("ana@example.com").await;
    let mut received = Vec::new();
    for _ in 0..100 {
        received = smtp.received();
        received.retain(|m| m.contains("verify-email"));
        if !received.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(received.len(), 1, "one verification mail");
    let mail = received[0]
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    assert!(mail.contains("To: ana@example.com"), "{mail}");
    assert!(mail.contains("From: Plaza <hello@plaza.test>"), "{mail}");
    let token = link_token(&mail);
    let res = app
        .post_json("/api/auth/verify-email", &json!({"token": token}))
        .await;
    assert_eq!(res.status(), 204);
    assert!(
        !app.state.config.data_dir.join("mail").exists(),
        "nothing written to files"
    );
}

crate::on_both_databases! {
    async fn the_address_changes_once_the_new_one_is_proven(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        app.register("bob@example.com").await;
        let change = |body: serde_json::Value| {
            let (app, token) = (&app, ana.access.clone());
            async move { app.post_as("/api/auth/email/change", &token, &body).await }
        };
        let res = change(json!({"new_email": "ana@new.example", "password": "not my password"})).await;
        error_body(res, 422, "validation_error").await;
        let res = change(json!({"new_email": "BOB@example.com", "password": PASSWORD})).await;
        error_body(res, 409, "conflict").await;
        error_body(change(json!({"new_email": "nope", "password": PASSWORD})).await, 422, "validation_error").await;
        assert_eq!(change(json!({"new_email": "ana@new.example", "password": PASSWORD})).await.status(), 202);

        let mail = app.mail_to("ana@new.example", "confirm-email?token=").await;
        let token = link_token(&mail);
        error_body(app.post_json("/api/auth/email/confirm", &json!({"token": "forged"})).await, 422, "validation_error").await;
        let res = app.post_json("/api/auth/email/confirm", &json!({"token": token})).await;
        assert_eq!(res.status(), 204);
        let me: serde_json::Value = app.get_as("/api/auth/me", &ana.access).await.json().await.unwrap();
        assert_eq!((me["email"].clone(), me["email_verified"].clone()), (json!("ana@new.example"), json!(true)));
        app.mail_to("ana@example.com", "was changed").await;
        app.login("ana@new.example").await;
        error_body(app.post_json("/api/auth/email/confirm", &json!({"token": token})).await, 422, "validation_error").await;
    }
}
