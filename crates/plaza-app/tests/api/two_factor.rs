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
