//! Sign-in through OAuth 2.0 / OpenID Connect, end to end against a small
//! provider the test runs on a local port, speaking the real wire format:
//! discovery, authorize with PKCE (S256), the token endpoint, userinfo.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{PASSWORD, TestApp, Tokens, client_builder, error_body, link_token};

const CLIENT_ID: &str = "plaza-test";
const CLIENT_SECRET: &str = "s3cret-of-the-client";

#[derive(Default)]
struct Fake {
    base: String,
    /// Who signs in at the provider next.
    user: Value,
    /// code → (PKCE challenge, redirect_uri, user)
    codes: HashMap<String, (String, String, Value)>,
    /// access token → user
    tokens: HashMap<String, Value>,
    issued: u32,
}

type Shared = Arc<Mutex<Fake>>;

struct Provider {
    state: Shared,
    base: String,
}

impl Provider {
    async fn start() -> Self {
        let state: Shared = Arc::default();
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            // GitHub's shape: the user, and their addresses apart.
            .route("/user", get(userinfo))
            .route("/user/emails", get(github_emails))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        state.lock().unwrap().base = base.clone();
        Self { state, base }
    }

    fn user(&self, user: Value) {
        self.state.lock().unwrap().user = user;
    }
}

async fn discovery(State(s): State<Shared>) -> Json<Value> {
    let base = s.lock().unwrap().base.clone();
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn authorize(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut fake = s.lock().unwrap();
    if q.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || q.get("response_type").map(String::as_str) != Some("code")
        || q.get("code_challenge_method").map(String::as_str) != Some("S256")
        || !q
            .get("scope")
            .is_some_and(|s| s.split(' ').any(|x| x == "openid" || x == "user:email"))
    {
        return (StatusCode::BAD_REQUEST, "bad authorization request").into_response();
    }
    fake.issued += 1;
    let code = format!("code-{}", fake.issued);
    let redirect_uri = q["redirect_uri"].clone();
    let user = fake.user.clone();
    fake.codes.insert(
        code.clone(),
        (q["code_challenge"].clone(), redirect_uri.clone(), user),
    );
    Redirect::to(&format!("{redirect_uri}?code={code}&state={}", q["state"])).into_response()
}

async fn token(State(s): State<Shared>, Form(f): Form<HashMap<String, String>>) -> Response {
    let mut fake = s.lock().unwrap();
    let refuse =
        |error: &str| (StatusCode::BAD_REQUEST, Json(json!({"error": error}))).into_response();
    if f.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || f.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        return refuse("invalid_client");
    }
    if f.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return refuse("unsupported_grant_type");
    }
    let Some((challenge, redirect_uri, user)) = f.get("code").and_then(|c| fake.codes.remove(c))
    else {
        return refuse("invalid_grant");
    };
    let verifier = f.get("code_verifier").cloned().unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != challenge
        || f.get("redirect_uri") != Some(&redirect_uri)
    {
        return refuse("invalid_grant");
    }
    let access = format!("at-{}", fake.tokens.len());
    fake.tokens.insert(access.clone(), user);
    Json(json!({"access_token": access, "token_type": "Bearer", "expires_in": 3600}))
        .into_response()
}

async fn userinfo(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let fake = s.lock().unwrap();
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match token.and_then(|t| fake.tokens.get(t)) {
        Some(user) => Json(user.clone()).into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

async fn github_emails(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let fake = s.lock().unwrap();
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match token.and_then(|t| fake.tokens.get(t)) {
        Some(user) => Json(user["_emails"].clone()).into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

async fn app_with(
    provider: &Provider,
    configure: impl FnOnce(&mut plaza_platform::config::Config) + 'static,
) -> TestApp {
    let issuer = provider.base.clone();
    TestApp::builder()
        .config(move |c| {
            c.oauth.oidc.client_id = Some(CLIENT_ID.into());
            c.oauth.oidc.client_secret = Some(plaza_platform::config::Secret::new(CLIENT_SECRET));
            c.oauth.oidc.issuer = Some(issuer);
            configure(c);
        })
        .spawn()
        .await
}

fn location(res: &reqwest::Response) -> String {
    assert!(
        matches!(res.status().as_u16(), 302 | 303),
        "a redirect, not {}",
        res.status()
    );
    res.headers()[header::LOCATION.as_str()]
        .to_str()
        .unwrap()
        .to_owned()
}

/// A browser: no automatic redirects, but it keeps cookies.
fn browser() -> reqwest::Client {
    client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

/// The browser's walk from plaza's `start` through the provider; returns
/// the provider URL it was sent to and the callback path on plaza.
async fn walk(app: &TestApp, browser: &reqwest::Client, provider: &str) -> (String, String) {
    let start = app.url(&format!("/api/auth/oauth/{provider}/start"));
    let to_provider = location(&browser.get(start).send().await.unwrap());
    let back = location(&browser.get(&to_provider).send().await.unwrap());
    // The callback URL names plaza's public address; this one listens elsewhere.
    let path = back
        .split_once("/api/")
        .map(|(_, p)| format!("/api/{p}"))
        .unwrap();
    (to_provider, path)
}

/// The browser's part: plaza → provider → back to plaza's callback.
async fn browse(app: &TestApp) -> reqwest::Response {
    let browser = browser();
    let (to_provider, path) = walk(app, &browser, "oidc").await;
    assert!(
        to_provider.contains("code_challenge_method=S256") && to_provider.contains("state="),
        "{to_provider}"
    );
    browser.get(app.url(&path)).send().await.unwrap()
}

fn person(sub: &str, email: &str, verified: bool) -> Value {
    json!({"sub": sub, "email": email, "email_verified": verified, "name": "Ana Lima", "preferred_username": "analima"})
}

#[tokio::test]
async fn a_new_person_gets_an_account_and_comes_back_to_it() {
    let provider = Provider::start().await;
    let app = app_with(&provider, |_| {}).await;
    provider.user(person("ana-123", "ana@example.com", true));
    let res = browse(&app).await;
    assert_eq!(res.status(), 200);
    let first = Tokens::from(res.json::<Value>().await.unwrap());
    assert_eq!(first.body["user"]["username"], "analima");
    assert_eq!(first.body["user"]["display_name"], "Ana Lima");
    assert_eq!(first.body["user"]["email_verified"], true);
    assert_eq!(
        app.get_as("/api/auth/me", &first.access).await.status(),
        200
    );

    // Same subject, even with another email now: the same account.
    provider.user(person("ana-123", "ana.new@example.com", true));
    let again = Tokens::from(browse(&app).await.json::<Value>().await.unwrap());
    assert_eq!(again.user_id, first.user_id);
    // No password was set: password sign-in stays closed.
    let res = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "ana@example.com", "password": PASSWORD}),
        )
        .await;
    error_body(res, 401, "authentication_error").await;
}

#[tokio::test]
async fn an_existing_account_is_linked_only_when_its_email_is_verified() {
    let provider = Provider::start().await;
    let app = app_with(&provider, |_| {}).await;
    let ana = app.register("ana@example.com").await;
    provider.user(person("g-1", "ana@example.com", true));
    error_body(browse(&app).await, 409, "conflict").await;

    let token = link_token(&app.mail_to("ana@example.com", "verify-email").await);
    app.post_json("/api/auth/verify-email", &json!({"token": token}))
        .await;
    let linked = Tokens::from(browse(&app).await.json::<Value>().await.unwrap());
    assert_eq!(linked.user_id, ana.user_id);

    // A provider that has not verified the address cannot claim an account.
    provider.user(person("g-2", "ana@example.com", false));
    error_body(browse(&app).await, 409, "conflict").await;
    // Nor sign in without an address at all.
    provider.user(json!({"sub": "g-3"}));
    error_body(browse(&app).await, 422, "validation_error").await;
}

#[tokio::test]
async fn forged_reused_and_declined_callbacks_are_refused() {
    let provider = Provider::start().await;
    let app = app_with(&provider, |_| {}).await;
    provider.user(person("ana-1", "ana@example.com", true));
    let browser = browser();
    let (_, path) = walk(&app, &browser, "oidc").await;
    let forged = path.replace("state=", "state=x");
    error_body(
        browser.get(app.url(&forged)).send().await.unwrap(),
        401,
        "authentication_error",
    )
    .await;
    // Another browser (without the cookie from start) cannot finish it.
    let victim = self::browser();
    let res = victim.get(app.url(&path)).send().await.unwrap();
    let body = error_body(res, 401, "authentication_error").await;
    assert!(
        body["error"].as_str().unwrap().contains("another browser"),
        "{body}"
    );
    assert_eq!(
        browser.get(app.url(&path)).send().await.unwrap().status(),
        200
    );
    // The state was single-use.
    error_body(
        browser.get(app.url(&path)).send().await.unwrap(),
        401,
        "authentication_error",
    )
    .await;

    let declined =
        "/api/auth/oauth/oidc/callback?error=access_denied&error_description=user%20said%20no";
    let body = error_body(app.get(declined).await, 401, "authentication_error").await;
    assert!(
        body["error"].as_str().unwrap().contains("user said no"),
        "{body}"
    );
    error_body(
        app.get("/api/auth/oauth/oidc/callback").await,
        422,
        "validation_error",
    )
    .await;
    error_body(
        app.get("/api/auth/oauth/facebook/start").await,
        404,
        "not_found",
    )
    .await;
    error_body(
        app.get("/api/auth/oauth/google/start").await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_wrong_client_secret_or_an_absent_provider_is_reported() {
    let provider = Provider::start().await;
    let app = app_with(&provider, |c| {
        c.oauth.oidc.client_secret = Some(plaza_platform::config::Secret::new("not the secret"));
    })
    .await;
    provider.user(person("ana-1", "ana@example.com", true));
    error_body(browse(&app).await, 401, "authentication_error").await;

    let gone = TestApp::builder()
        .config(|c| {
            c.oauth.oidc.client_id = Some(CLIENT_ID.into());
            c.oauth.oidc.client_secret = Some(plaza_platform::config::Secret::new(CLIENT_SECRET));
            c.oauth.oidc.issuer = Some("http://127.0.0.1:9".into());
        })
        .spawn()
        .await;
    error_body(
        gone.get("/api/auth/oauth/oidc/start").await,
        503,
        "dependency_error",
    )
    .await;
    let off = app_with(&provider, |c| c.features.social_login = false).await;
    error_body(
        off.get("/api/auth/oauth/oidc/start").await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn the_browser_can_be_sent_to_the_app_with_tokens_in_the_fragment() {
    let provider = Provider::start().await;
    let app = app_with(&provider, |c| {
        c.oauth.redirect_url = Some("https://app.example.com/signed-in".into())
    })
    .await;
    provider.user(person("ana-1", "ana@example.com", true));
    let res = browse(&app).await;
    let to_app = location(&res);
    let (base, fragment) = to_app.split_once('#').unwrap();
    assert_eq!(base, "https://app.example.com/signed-in");
    let pairs: HashMap<String, String> = form_urlencoded::parse(fragment.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(pairs["token_type"], "Bearer");
    assert_eq!(
        app.get_as("/api/auth/me", &pairs["access_token"])
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn the_github_preset_reads_its_user_and_verified_primary_email() {
    let provider = Provider::start().await;
    let base = provider.base.clone();
    let app = TestApp::builder()
        .config(move |c| {
            c.oauth.github.client_id = Some(CLIENT_ID.into());
            c.oauth.github.client_secret = Some(plaza_platform::config::Secret::new(CLIENT_SECRET));
            c.oauth.github.authorize_url = Some(format!("{base}/authorize"));
            c.oauth.github.token_url = Some(format!("{base}/token"));
            c.oauth.github.userinfo_url = Some(format!("{base}/user"));
        })
        .spawn()
        .await;
    provider.user(json!({
        "id": 583231, "login": "octocat", "name": "The Octocat", "email": null,
        "_emails": [
            {"email": "old@example.com", "primary": false, "verified": true},
            {"email": "octo@example.com", "primary": true, "verified": true},
        ],
    }));
    let browser = browser();
    let (to_provider, path) = walk(&app, &browser, "github").await;
    assert!(
        to_provider.contains("scope=read%3Auser+user%3Aemail"),
        "{to_provider}"
    );
    let res = browser.get(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let tokens = Tokens::from(res.json::<Value>().await.unwrap());
    assert_eq!(tokens.body["user"]["username"], "octocat");
    assert_eq!(tokens.body["user"]["email"], "octo@example.com");
    assert_eq!(tokens.body["user"]["email_verified"], true);
}

#[tokio::test]
async fn an_account_with_second_factors_still_needs_one_after_the_provider() {
    let provider = Provider::start().await;
    let app = app_with(&provider, |_| {}).await;
    provider.user(person("ana-1", "ana@example.com", true));
    let first = Tokens::from(browse(&app).await.json::<Value>().await.unwrap());
    let setup: Value = app
        .post_as("/api/auth/2fa/totp/setup", &first.access, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let secret = setup["secret"].as_str().unwrap();
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap();
    let now = plaza_core::Clock::now(&app.clock).unix_seconds();
    let code = totp.generate(u64::try_from(now).unwrap()).to_string();
    let res = app
        .post_as(
            "/api/auth/2fa/totp/enable",
            &first.access,
            &json!({"code": code}),
        )
        .await;
    assert_eq!(res.status(), 200);

    let answer: Value = browse(&app).await.json().await.unwrap();
    assert_eq!(answer["mfa_required"], true, "{answer}");
    assert!(answer.get("access_token").is_none());
}

#[tokio::test]
async fn a_suspended_account_cannot_sign_in_through_a_provider() {
    let provider = Provider::start().await;
    let app = app_with(&provider, |_| {}).await;
    provider.user(person("ana-123", "ana@example.com", true));
    let ana = Tokens::from(browse(&app).await.json::<Value>().await.unwrap());
    app.register("root@example.com").await;
    let admin = app.make_admin("root@example.com").await;
    let res = app
        .send(
            reqwest::Method::PUT,
            &format!("/api/admin/users/{}", ana.user_id),
            Some(&admin.access),
            Some(&json!({"banned": true})),
        )
        .await;
    assert_eq!(res.status(), 200);

    // Linked by subject, or found by its verified email: refused alike.
    let body = error_body(browse(&app).await, 403, "forbidden").await;
    assert_eq!(body["code"], "auth.banned");
    provider.user(person("ana-other-subject", "ana@example.com", true));
    let body = error_body(browse(&app).await, 403, "forbidden").await;
    assert_eq!(body["code"], "auth.banned");
}
