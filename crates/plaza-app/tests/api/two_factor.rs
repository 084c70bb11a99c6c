//! Second factors: authenticator apps, codes by email, recovery codes.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use totp_rs::{Algorithm, Builder, Secret};

use crate::helpers::{PASSWORD, TestApp, Tokens, error_body, link_token};

fn code_at(secret: &str, app: &TestApp) -> String {
    let totp = Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap();
    let now = plaza_core::Clock::now(&app.clock).unix_seconds();
    totp.generate(u64::try_from(now).unwrap()).to_string()
}

async fn password_step(app: &TestApp, email: &str) -> Value {
    let res = app
        .post_json(
            "/api/auth/login",
            &json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn mfa(app: &TestApp, token: &Value, method: &str, code: &str) -> reqwest::Response {
    app.post_json(
        "/api/auth/login/mfa",
        &json!({"mfa_token": token, "method": method, "code": code}),
    )
    .await
}

crate::on_both_databases! {
    async fn an_authenticator_app_guards_sign_in(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let laptop = app.login("ana@example.com").await;
        error_body(app.post_as("/api/auth/2fa/totp/enable", &ana.access, &json!({"code": "123456"})).await, 409, "conflict").await;

        let setup: Value = app.post_as("/api/auth/2fa/totp/setup", &ana.access, &json!({})).await.json().await.unwrap();
        let secret = setup["secret"].as_str().unwrap().to_owned();
        assert!(setup["otpauth_url"].as_str().unwrap().starts_with("otpauth://totp/plaza:ana%40example.com?secret="));
        let res = app.post_as("/api/auth/2fa/totp/enable", &ana.access, &json!({"code": "000000"})).await;
        error_body(res, 422, "validation_error").await;
        let res = app.post_as("/api/auth/2fa/totp/enable", &ana.access, &json!({"code": code_at(&secret, &app)})).await;
        assert_eq!(res.status(), 200);
        let enabled: Value = res.json().await.unwrap();
        assert_eq!(enabled["two_factor"], json!(["totp"]));
        let recovery: Vec<String> = serde_json::from_value(enabled["recovery_codes"].clone()).unwrap();
        assert_eq!(recovery.len(), 10);
        let me: Value = app.get_as("/api/auth/me", &ana.access).await.json().await.unwrap();
        assert_eq!(me["two_factor"], json!(["totp"]));
        error_body(app.post_as("/api/auth/2fa/totp/setup", &ana.access, &json!({})).await, 409, "conflict").await;
        // Admins see each account's factors in the list (read for the whole page at once).
        app.register("bob@example.com").await;
        app.register("root@example.com").await;
        let admin = app.make_admin("root@example.com").await;
        let page: Value = app.get_as("/api/admin/users?limit=100", &admin.access).await.json().await.unwrap();
        let factors = |email: &str| page["items"].as_array().unwrap().iter().find(|u| u["email"] == email).unwrap()["two_factor"].clone();
        assert_eq!((factors("ana@example.com"), factors("bob@example.com")), (json!(["totp"]), json!([])));

        // The password alone is not enough now.
        app.clock.advance(Duration::from_secs(30));
        let step = password_step(&app, "ana@example.com").await;
        assert_eq!(step["mfa_required"], true);
        assert_eq!(step["methods"], json!(["totp", "recovery"]));
        assert!(step.get("access_token").is_none());
        error_body(mfa(&app, &step["mfa_token"], "totp", "000000").await, 401, "authentication_error").await;
        error_body(mfa(&app, &step["mfa_token"], "sms", "000000").await, 422, "validation_error").await;
        let code = code_at(&secret, &app);
        let res = mfa(&app, &step["mfa_token"], "totp", &code).await;
        assert_eq!(res.status(), 200);
        let tokens = Tokens::from(res.json::<Value>().await.unwrap());
        assert_eq!(app.get_as("/api/auth/me", &tokens.access).await.status(), 200);
        // A challenge works once, and a code works once.
        error_body(mfa(&app, &step["mfa_token"], "totp", &code).await, 401, "authentication_error").await;
        let again = password_step(&app, "ana@example.com").await;
        error_body(mfa(&app, &again["mfa_token"], "totp", &code).await, 401, "authentication_error").await;

        // A recovery code, once.
        let res = mfa(&app, &again["mfa_token"], "recovery", &recovery[0].to_uppercase()).await;
        assert_eq!(res.status(), 200);
        let third = password_step(&app, "ana@example.com").await;
        error_body(mfa(&app, &third["mfa_token"], "recovery", &recovery[0]).await, 401, "authentication_error").await;

        // Disabling needs the password and a code, and ends the other sessions.
        let res = app.post_as("/api/auth/2fa/disable", &ana.access, &json!({"password": "nope nope", "code": recovery[1]})).await;
        error_body(res, 422, "validation_error").await;
        let res = app.post_as("/api/auth/2fa/disable", &ana.access, &json!({"password": PASSWORD, "code": "111111"})).await;
        error_body(res, 422, "validation_error").await;
        let res = app.post_as("/api/auth/2fa/disable", &ana.access, &json!({"password": PASSWORD, "code": recovery[1]})).await;
        assert_eq!(res.status(), 204);
        assert_eq!(app.get_as("/api/auth/me", &ana.access).await.status(), 200);
        for t in [&laptop, &tokens] {
            error_body(app.get_as("/api/auth/me", &t.access).await, 401, "authentication_error").await;
        }
        let plain = password_step(&app, "ana@example.com").await;
        assert!(plain["access_token"].is_string());
    }
}

#[tokio::test]
async fn five_wrong_codes_void_the_challenge() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let setup: Value = app
        .post_as("/api/auth/2fa/totp/setup", &ana.access, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let secret = setup["secret"].as_str().unwrap().to_owned();
    app.post_as(
        "/api/auth/2fa/totp/enable",
        &ana.access,
        &json!({"code": code_at(&secret, &app)}),
    )
    .await;
    app.clock.advance(Duration::from_secs(30));
    let step = password_step(&app, "ana@example.com").await;
    for _ in 0..5 {
        error_body(
            mfa(&app, &step["mfa_token"], "totp", "999999").await,
            401,
            "authentication_error",
        )
        .await;
    }
    let res = mfa(&app, &step["mfa_token"], "totp", &code_at(&secret, &app)).await;
    error_body(res, 401, "authentication_error").await;
    // Challenges expire after ten minutes.
    let step = password_step(&app, "ana@example.com").await;
    app.clock.advance(Duration::from_secs(601));
    let res = mfa(&app, &step["mfa_token"], "totp", &code_at(&secret, &app)).await;
    error_body(res, 401, "authentication_error").await;
}

crate::on_both_databases! {
    async fn codes_by_email_complete_sign_in(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let res = app.post_as("/api/auth/2fa/email/enable", &ana.access, &json!({"password": PASSWORD})).await;
        error_body(res, 409, "conflict").await;
        let verify = link_token(&app.mail_to("ana@example.com", "verify-email").await);
        app.post_json("/api/auth/verify-email", &json!({"token": verify})).await;
        let res = app.post_as("/api/auth/2fa/email/enable", &ana.access, &json!({"password": "wrong wrong"})).await;
        error_body(res, 422, "validation_error").await;
        let res = app.post_as("/api/auth/2fa/email/enable", &ana.access, &json!({"password": PASSWORD})).await;
        assert_eq!(res.status(), 200);
        let enabled: Value = res.json().await.unwrap();
        assert_eq!(enabled["two_factor"], json!(["email"]));
        assert_eq!(enabled["recovery_codes"].as_array().unwrap().len(), 10);

        let step = password_step(&app, "ana@example.com").await;
        assert_eq!(step["methods"], json!(["email", "recovery"]));
        let mail = app.mail_to("ana@example.com", "sign-in code").await;
        let at = mail.find("code is ").unwrap() + "code is ".len();
        let code = &mail[at..at + 6];
        assert!(code.bytes().all(|b| b.is_ascii_digit()), "{mail}");
        error_body(mfa(&app, &step["mfa_token"], "email", "000000").await, 401, "authentication_error").await;
        error_body(mfa(&app, &step["mfa_token"], "totp", code).await, 401, "authentication_error").await;
        let res = mfa(&app, &step["mfa_token"], "email", code).await;
        assert_eq!(res.status(), 200);

        // A resent code replaces the first; an old one is refused.
        let step = password_step(&app, "ana@example.com").await;
        let codes = app.mails_to("ana@example.com", "sign-in code");
        let res = app.post_json("/api/auth/login/mfa/send", &json!({"mfa_token": step["mfa_token"]})).await;
        assert_eq!(res.status(), 202);
        while app.mails_to("ana@example.com", "sign-in code") <= codes {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let latest = app.mail_to("ana@example.com", "sign-in code").await;
        let at = latest.find("code is ").unwrap() + "code is ".len();
        let fresh = latest[at..at + 6].to_owned();
        app.clock.advance(Duration::from_secs(601));
        error_body(mfa(&app, &step["mfa_token"], "email", &fresh).await, 401, "authentication_error").await;
        let res = app.post_json("/api/auth/login/mfa/send", &json!({"mfa_token": "forged"})).await;
        error_body(res, 401, "authentication_error").await;
        let res = app.send(Method::POST, "/api/auth/2fa/recovery-codes", Some(&ana.access), Some(&json!({"password": PASSWORD}))).await;
        assert_eq!(res.json::<Value>().await.unwrap()["recovery_codes"].as_array().unwrap().len(), 10);
    }
}

#[tokio::test]
async fn second_factor_endpoints_refuse_bad_input() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    // Nothing on yet.
    let res = app
        .post_as(
            "/api/auth/2fa/recovery-codes",
            &ana.access,
            &json!({"password": PASSWORD}),
        )
        .await;
    error_body(res, 409, "conflict").await;
    let res = app
        .post_as(
            "/api/auth/2fa/disable",
            &ana.access,
            &json!({"password": PASSWORD, "code": "123456"}),
        )
        .await;
    error_body(res, 409, "conflict").await;
    let res = app
        .post_as(
            "/api/auth/2fa/recovery-codes",
            &ana.access,
            &json!({"password": "not mine at all"}),
        )
        .await;
    error_body(res, 422, "validation_error").await;
    for body in [
        json!({}),
        json!({"code": 123456}),
        json!({"code": "1", "extra": true}),
    ] {
        let res = app
            .post_as("/api/auth/2fa/totp/enable", &ana.access, &body)
            .await;
        error_body(res, 422, "validation_error").await;
    }
    for body in [
        json!({}),
        json!({"mfa_token": "x", "method": "totp"}),
        json!({"mfa_token": 1, "method": "totp", "code": "1"}),
    ] {
        let res = app.post_json("/api/auth/login/mfa", &body).await;
        error_body(res, 422, "validation_error").await;
    }
    let res = app
        .post_json(
            "/api/auth/login/mfa",
            &json!({"mfa_token": "forged", "method": "totp", "code": "123456"}),
        )
        .await;
    error_body(res, 401, "authentication_error").await;
    for body in [json!({}), json!({"email": "not an email"})] {
        let res = app.post_json("/api/auth/password/forgot", &body).await;
        error_body(res, 422, "validation_error").await;
    }
}

/// Turns an authenticator on for `user`; its secret.
async fn authenticator_on(app: &TestApp, user: &Tokens) -> String {
    let setup: Value = app
        .post_as("/api/auth/2fa/totp/setup", &user.access, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let res = app
        .post_as(
            "/api/auth/2fa/totp/enable",
            &user.access,
            &json!({"code": code_at(&secret, app)}),
        )
        .await;
    assert_eq!(res.status(), 200);
    secret
}

/// Signs `email` in on `app` with the authenticator's current code.
async fn signs_in_with(app: &TestApp, email: &str, secret: &str) -> bool {
    app.clock.advance(Duration::from_secs(30));
    let step = password_step(app, email).await;
    mfa(app, &step["mfa_token"], "totp", &code_at(secret, app))
        .await
        .status()
        == 200
}

async fn stored_secret(app: &TestApp, email: &str) -> String {
    sqlx::query_scalar(
        "SELECT t.secret FROM user_totp t JOIN users u ON u.id = t.user_id WHERE u.email = $1",
    )
    .bind(email)
    .fetch_one(app.state.db.writer())
    .await
    .unwrap()
}

crate::on_both_databases! {
    async fn authenticator_secrets_are_sealed_in_the_database(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let secret = authenticator_on(&app, &ana).await;
        let stored = stored_secret(&app, "ana@example.com").await;
        assert!(stored.starts_with("sealed:v1:"), "{stored}");
        assert!(!stored.contains(&secret), "the secret is not in the row");
        assert!(signs_in_with(&app, "ana@example.com", &secret).await);

        // Moved onto another account's row, it opens for no one.
        let bob = app.register("bob@example.com").await;
        let bobs = authenticator_on(&app, &bob).await;
        sqlx::query("UPDATE user_totp SET secret = $1 WHERE secret = $2")
            .bind(&stored)
            .bind(stored_secret(&app, "bob@example.com").await)
            .execute(app.state.db.writer())
            .await
            .unwrap();
        app.clock.advance(Duration::from_secs(30));
        let step = password_step(&app, "bob@example.com").await;
        for code in [code_at(&secret, &app), code_at(&bobs, &app)] {
            let res = mfa(&app, &step["mfa_token"], "totp", &code).await;
            assert_eq!(res.status(), 500, "a row that does not open is an error, never a pass");
        }

        // Secrets from before sealing (in the clear; both rows hold Ana's
        // now) still work, and are sealed at the next start.
        sqlx::query("UPDATE user_totp SET secret = $1 WHERE secret = $2")
            .bind(&secret)
            .bind(&stored)
            .execute(app.state.db.writer())
            .await
            .unwrap();
        assert!(signs_in_with(&app, "bob@example.com", &secret).await);
        let n = plaza_app::auth::mfa::service::reseal(&app.state).await.unwrap();
        assert_eq!(n, 2);
        for email in ["ana@example.com", "bob@example.com"] {
            assert!(stored_secret(&app, email).await.starts_with("sealed:v1:"), "{email}");
        }
        assert!(signs_in_with(&app, "ana@example.com", &secret).await);
        assert!(signs_in_with(&app, "bob@example.com", &secret).await);
        assert_eq!(plaza_app::auth::mfa::service::reseal(&app.state).await.unwrap(), 0);
    }
}

/// The row's secret once a node's start has sealed it again (it was `from`).
async fn resealed(app: &TestApp, email: &str, from: &str) -> String {
    let started = std::time::Instant::now();
    loop {
        let now = stored_secret(app, email).await;
        if now != from {
            return now;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not sealed again at start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn a_configured_encryption_key_takes_over_and_can_be_rotated() {
    use plaza_platform::config::Secret;
    const K1: &str = "the first configured key, thirty-two bytes or more";
    const K2: &str = "the second configured key, thirty-two bytes or more";
    let first = TestApp::builder()
        .backend(crate::helpers::Backend::Postgres)
        .spawn()
        .await;
    let ana = first.register("ana@example.com").await;
    let secret = authenticator_on(&first, &ana).await;
    let by_database_key = stored_secret(&first, "ana@example.com").await;
    let key_id = |s: &str| s.split(':').nth(2).unwrap().to_owned();

    // A key is set: what the database's key sealed still opens, and the
    // node's start seals it again with the configured key.
    let configured = TestApp::builder()
        .node_of(&first)
        .config(|c| c.auth.encryption_key = Some(Secret::new(K1)))
        .spawn()
        .await;
    let by_k1 = resealed(&first, "ana@example.com", &by_database_key).await;
    assert_ne!(key_id(&by_k1), key_id(&by_database_key));
    assert!(signs_in_with(&configured, "ana@example.com", &secret).await);

    // Rotated: K2 seals, K1 (now previous) opens what it sealed until the
    // start has sealed it again.
    let rotated = TestApp::builder()
        .node_of(&first)
        .config(|c| {
            c.auth.encryption_key = Some(Secret::new(K2));
            c.auth.previous_encryption_key = Some(Secret::new(K1));
        })
        .spawn()
        .await;
    let by_k2 = resealed(&first, "ana@example.com", &by_k1).await;
    assert_ne!(key_id(&by_k2), key_id(&by_k1));
    // Each node has a clock of its own; a code works once across them.
    rotated.clock.advance(Duration::from_secs(60));
    assert!(signs_in_with(&rotated, "ana@example.com", &secret).await);

    // K1 is dropped: a node with K2 alone signs in, with nothing to re-seal.
    let after = TestApp::builder()
        .node_of(&first)
        .config(|c| c.auth.encryption_key = Some(Secret::new(K2)))
        .spawn()
        .await;
    after.clock.advance(Duration::from_secs(120));
    assert!(signs_in_with(&after, "ana@example.com", &secret).await);
    let reseal = plaza_app::auth::mfa::service::reseal;
    assert_eq!(reseal(&after.state).await.unwrap(), 0);
    assert_eq!(stored_secret(&first, "ana@example.com").await, by_k2);
}
