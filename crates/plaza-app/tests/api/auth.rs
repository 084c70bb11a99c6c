//! Sign-up and sign-in: `/api/auth/register`, `/login`, `/me`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, error_body, header};

crate::on_both_databases! {
    async fn registering_signs_in_with_a_normalised_account(backend: Backend) {
        let app = TestApp::on(backend).await;
        let res = app
            .post_json(
                "/api/auth/register",
                &json!({"email": "  Ana.Lima@Example.COM ", "password": PASSWORD, "display_name": " Ana "}),
            )
            .await;
        assert_eq!(res.status(), 201);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 900);
        let user = &body["user"];
        assert_eq!(user["email"], "Ana.Lima@example.com");
        assert_eq!(user["username"], "ana.lima");
        assert_eq!(user["display_name"], "Ana");
        assert_eq!(user["role"], "user");
        assert_eq!(user["email_verified"], false);
        assert_eq!(user["timezone"], "UTC");
        assert_eq!(user["two_factor"], json!([]));
        assert_eq!(user["settings"], json!({}));
        assert!(user.get("password_hash").is_none() && !body.to_string().contains("argon2"));
        assert_eq!(body["refresh_token"].as_str().unwrap().len(), 43);

        let token = body["access_token"].as_str().unwrap();
        let me = app.get_as("/api/auth/me", token).await;
        assert_eq!(me.status(), 200);
        let me: Value = me.json().await.unwrap();
        assert_eq!(me["id"], user["id"]);

        // The same address in other case, and the same username in other case.
        let res = app
            .post_json("/api/auth/register", &json!({"email": "ana.lima@EXAMPLE.com", "password": PASSWORD}))
            .await;
        let err = error_body(res, 409, "conflict").await;
        assert_eq!(err["details"]["fields"]["email"], "taken");
        let res = app
            .post_json(
                "/api/auth/register",
                &json!({"email": "other@example.com", "password": PASSWORD, "username": "ANA.LIMA"}),
            )
            .await;
        let err = error_body(res, 409, "conflict").await;
        assert_eq!(err["details"]["fields"]["username"], "taken");
    }
}

#[tokio::test]
async fn registration_refuses_bad_input_field_by_field() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({"password": PASSWORD}), "email"),
        (json!({"email": "ana@example.com"}), "password"),
        (
            json!({"email": "not-an-email", "password": PASSWORD}),
            "email",
        ),
        (
            json!({"email": "ana@example.com", "password": "short"}),
            "password",
        ),
        (
            json!({"email": "ana@example.com", "password": "x".repeat(129)}),
            "password",
        ),
        (
            json!({"email": "ana@example.com", "password": "Password1"}),
            "password",
        ),
        (
            json!({"email": "ana@example.com", "password": PASSWORD, "username": "a b"}),
            "username",
        ),
        (
            json!({"email": "ana@example.com", "password": PASSWORD, "display_name": ""}),
            "display_name",
        ),
        (json!({"email": 42, "password": PASSWORD}), "email"),
        (
            json!({"email": "ana@example.com", "password": PASSWORD, "role": "admin"}),
            "role",
        ),
    ];
    for (body, field) in cases {
        let res = app.post_json("/api/auth/register", &body).await;
        let err = error_body(res, 422, "validation_error").await;
        let fields = err["details"]["fields"].as_object().unwrap();
        assert!(
            fields.keys().any(|k| k.contains(field)),
            "{body} should blame {field}: {err}"
        );
    }
    let res = app
        .client
        .post(app.url("/api/auth/register"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    error_body(res, 400, "validation_error").await;
    let res = app
        .client
        .post(app.url("/api/auth/register"))
        .body("email=a")
        .send()
        .await
        .unwrap();
    error_body(res, 415, "unsupported_media_type").await;
    let huge = json!({"email": "ana@example.com", "password": "x".repeat(3 << 20)});
    error_body(
        app.post_json("/api/auth/register", &huge).await,
        413,
        "payload_too_large",
    )
    .await;

    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing was written");
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(sessions, 0);
}

crate::on_both_databases! {
    async fn unknown_accounts_and_wrong_passwords_answer_alike(backend: Backend) {
        let app = TestApp::on(backend).await;
        app.register("ana@example.com").await;
        app.login("ana@example.com").await;
        app.login("ANA").await;

        let wrong = app
            .post_json("/api/auth/login", &json!({"email": "ana@example.com", "password": "wrong password"}))
            .await;
        let wrong = error_body(wrong, 401, "authentication_error").await;
        let unknown = app
            .post_json("/api/auth/login", &json!({"email": "bob@example.com", "password": "wrong password"}))
            .await;
        let unknown = error_body(unknown, 401, "authentication_error").await;
        assert_eq!(wrong["error"], unknown["error"]);
        assert_eq!(wrong.get("details"), unknown.get("details"));

        for body in [
            json!({"password": PASSWORD}),
            json!({"email": "ana@example.com", "username": "ana", "password": PASSWORD}),
        ] {
            let res = app.post_json("/api/auth/login", &body).await;
            error_body(res, 422, "validation_error").await;
        }
        let res = app.post_json("/api/auth/login", &json!({"email": "ana@example.com"})).await;
        error_body(res, 422, "validation_error").await;
        let res = app.post_json("/api/auth/login", &json!({"email": "ana@example.com", "password": 5})).await;
        error_body(res, 422, "validation_error").await;
    }
}

crate::on_both_databases! {
    async fn repeated_failures_lock_the_account_for_a_growing_while(backend: Backend) {
        let app = TestApp::on(backend).await;
        app.register("ana@example.com").await;
        let wrong = json!({"email": "ana@example.com", "password": "not it at all"});
        let fail = || app.post_json("/api/auth/login", &wrong);
        for _ in 0..4 {
            error_body(fail().await, 401, "authentication_error").await;
        }
        // The fifth failure locks for a minute: even the right password waits.
        error_body(fail().await, 401, "authentication_error").await;
        let res = app
            .post_json("/api/auth/login", &json!({"email": "ana@example.com", "password": PASSWORD}))
            .await;
        assert_eq!(header(&res, "retry-after").as_deref(), Some("60"));
        error_body(res, 429, "rate_limit_error").await;

        // After the lock, one more failure locks for twice as long.
        app.clock.advance(Duration::from_secs(61));
        error_body(fail().await, 401, "authentication_error").await;
        let res = app
            .post_json("/api/auth/login", &json!({"email": "ana@example.com", "password": PASSWORD}))
            .await;
        assert_eq!(header(&res, "retry-after").as_deref(), Some("120"));

        // A success after the lock resets the count.
        app.clock.advance(Duration::from_secs(121));
        app.login("ana@example.com").await;
        for _ in 0..4 {
            error_body(fail().await, 401, "authentication_error").await;
        }
        app.login("ana@example.com").await;
    }
}

#[tokio::test]
async fn sign_in_attempts_are_limited_per_address_and_per_account() {
    let app = TestApp::builder()
        .config(|c| {
            c.rate_limit.auth = plaza_platform::config::Rate::new(3, Duration::from_secs(900));
            c.http.trust_proxy_headers = true;
        })
        .spawn()
        .await;
    let attempt = |ip: &'static str, email: &'static str| {
        app.client
            .post(app.url("/api/auth/login"))
            .header("x-forwarded-for", ip)
            .json(&json!({"email": email, "password": "guess guess"}))
            .send()
    };
    // One address, several accounts: the address runs out.
    for n in 0..3 {
        let email = ["a@example.com", "b@example.com", "c@example.com"][n];
        assert_eq!(attempt("203.0.113.1", email).await.unwrap().status(), 401);
    }
    let res = attempt("203.0.113.1", "d@example.com").await.unwrap();
    assert_eq!(
        error_body(res, 429, "rate_limit_error").await["details"]["class"],
        "auth"
    );
    // One account, many addresses: the account runs out, but only after
    // twenty addresses' budgets (so one address cannot lock its owner out).
    let ips: Vec<&'static str> = (2..61)
        .map(|n| &*Box::leak(format!("203.0.113.{n}").into_boxed_str()))
        .collect();
    for ip in ips {
        assert_eq!(
            attempt(ip, "a@example.com").await.unwrap().status(),
            401,
            "{ip}"
        );
    }
    let res = attempt("203.0.113.99", "A@Example.com").await.unwrap();
    assert!(header(&res, "retry-after").is_some());
    assert_eq!(
        error_body(res, 429, "rate_limit_error").await["details"]["class"],
        "auth_account"
    );
}

#[tokio::test]
async fn protected_routes_need_a_valid_token() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/auth/me").await;
    assert_eq!(header(&res, "www-authenticate").as_deref(), Some("Bearer"));
    error_body(res, 401, "authentication_error").await;

    let tokens = app.register("ana@example.com").await;
    for bad in [
        "garbage",
        "a.b.c",
        tokens.refresh.as_str(),
        &format!("{}x", tokens.access),
    ] {
        let res = app.get_as("/api/auth/me", bad).await;
        assert!(
            header(&res, "www-authenticate")
                .unwrap()
                .contains("invalid_token")
        );
        error_body(res, 401, "authentication_error").await;
    }
    let res = app
        .client
        .get(app.url("/api/auth/me"))
        .header("authorization", format!("Basic {}", tokens.access))
        .send()
        .await
        .unwrap();
    error_body(res, 401, "authentication_error").await;

    // Expiry follows plaza's clock.
    app.clock.advance(Duration::from_secs(899));
    assert_eq!(
        app.get_as("/api/auth/me", &tokens.access).await.status(),
        200
    );
    app.clock.advance(Duration::from_secs(1));
    let res = app.get_as("/api/auth/me", &tokens.access).await;
    let err = error_body(res, 401, "authentication_error").await;
    assert!(err["error"].as_str().unwrap().contains("expired"), "{err}");
}

#[tokio::test]
async fn forged_tokens_are_refused() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    let app = TestApp::spawn().await;
    let tokens = app.register("ana@example.com").await;
    let parts: Vec<&str> = tokens.access.split('.').collect();
    let header_json: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let enc = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());

    // alg: none, with the real kid and claims, unsigned.
    let mut none = header_json.clone();
    none["alg"] = json!("none");
    let unsigned = format!("{}.{}.", enc(&none), enc(&claims));
    // A promoted role under the old signature.
    claims["role"] = json!("admin");
    let tampered = format!("{}.{}.{}", parts[0], enc(&claims), parts[2]);
    // Signed with a key plaza does not have.
    let key = jsonwebtoken::EncodingKey::from_secret(b"guessed secret that is long enough!!");
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    h.kid = header_json["kid"].as_str().map(str::to_owned);
    let wrong_key = jsonwebtoken::encode(&h, &claims, &key).unwrap();
    h.kid = Some("someone-else".into());
    let unknown_kid = jsonwebtoken::encode(&h, &claims, &key).unwrap();

    for token in [unsigned, tampered, wrong_key, unknown_kid] {
        let res = app.get_as("/api/auth/me", &token).await;
        error_body(res, 401, "authentication_error").await;
    }
}

#[tokio::test]
async fn the_signing_key_is_shared_through_the_database() {
    let app = TestApp::spawn().await;
    let tokens = app.register("ana@example.com").await;
    let keys: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM signing_keys")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(keys, 1);
    // Another node on the same database accepts the token.
    let other = plaza_app::auth::Signer::load(
        &app.state.db,
        &app.state.config.auth,
        plaza_core::Clock::now(&app.clock),
    )
    .await
    .unwrap();
    let claims = other
        .verify(&tokens.access, plaza_core::Clock::now(&app.clock))
        .unwrap();
    assert_eq!(claims.sub.to_string(), tokens.user_id);
}

#[tokio::test]
async fn sign_ins_are_counted_on_metrics() {
    let app = TestApp::spawn().await;
    app.register("ana@example.com").await;
    app.login("ana@example.com").await;
    let res = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "ana@example.com", "password": "wrong password"}),
        )
        .await;
    assert_eq!(res.status(), 401);
    let metrics = app.get("/metrics").await.text().await.unwrap();
    for outcome in ["success", "invalid"] {
        assert!(
            metrics.contains(&format!("plaza_auth_logins_total{{outcome=\"{outcome}\"}}")),
            "{outcome} missing"
        );
    }
}

crate::on_both_databases! {
    async fn guessing_from_one_address_never_locks_the_owner_out_from_another(backend: Backend) {
        let app = TestApp::builder()
            .backend(backend)
            .config(|c| c.http.trust_proxy_headers = true)
            .spawn()
            .await;
        app.register("ana@example.com").await;
        let login = |ip: &'static str, password: &'static str| {
            app.client
                .post(app.url("/api/auth/login"))
                .header("x-forwarded-for", ip)
                .json(&json!({"email": "ana@example.com", "password": password}))
                .send()
        };
        for _ in 0..5 {
            assert_eq!(login("198.51.100.66", "guess guess").await.unwrap().status(), 401);
        }
        // The guesser's address is locked, even with the right password…
        let res = login("198.51.100.66", PASSWORD).await.unwrap();
        assert!(header(&res, "retry-after").is_some());
        error_body(res, 429, "rate_limit_error").await;
        // …and Ana, elsewhere, signs in as ever.
        assert_eq!(login("203.0.113.7", PASSWORD).await.unwrap().status(), 200);
        // Her success does not unlock the guesser.
        error_body(login("198.51.100.66", PASSWORD).await.unwrap(), 429, "rate_limit_error").await;
    }
}

#[tokio::test]
async fn a_correctly_signed_token_must_name_a_session_of_its_user() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    let now = plaza_core::Clock::now(&app.clock);
    let signer = plaza_app::auth::Signer::load(&app.state.db, &app.state.config.auth, now)
        .await
        .unwrap();
    let bobs = signer.verify(&bob.access, now).unwrap();
    let anas = signer.verify(&ana.access, now).unwrap();
    let ttl = Duration::from_secs(600);
    let never_opened = signer
        .issue(anas.sub, anas.role, plaza_core::SessionId::new(), now, ttl)
        .unwrap();
    let someone_elses = signer
        .issue(anas.sub, anas.role, bobs.sid, now, ttl)
        .unwrap();
    for token in [never_opened, someone_elses] {
        let err = error_body(
            app.get_as("/api/auth/me", &token).await,
            401,
            "authentication_error",
        )
        .await;
        assert!(err["error"].as_str().unwrap().contains("session"), "{err}");
    }
    // The real ones still work (and are cached).
    for _ in 0..2 {
        assert_eq!(app.get_as("/api/auth/me", &ana.access).await.status(), 200);
    }
}
