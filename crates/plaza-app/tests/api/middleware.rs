//! Request ids, security headers, CORS and compression.

use plaza_platform::config::StringList;

use crate::helpers::{TestApp, header};

#[tokio::test]
async fn request_ids_are_kept_when_sane_and_made_otherwise() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "abc-123.x:y")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "x-request-id").as_deref(), Some("abc-123.x:y"));

    for insane in ["has spaces", "<script>", &"x".repeat(200)] {
        let res = app
            .client
            .get(app.url("/health"))
            .header("x-request-id", insane)
            .send()
            .await
            .unwrap();
        let id = header(&res, "x-request-id").unwrap();
        assert_ne!(id, insane);
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    }

    let a = header(&app.get("/health").await, "x-request-id").unwrap();
    let b = header(&app.get("/nope").await, "x-request-id").unwrap();
    assert_ne!(a, b);
    assert_eq!(uuid::Uuid::parse_str(&a).unwrap().get_version_num(), 7);
}

#[tokio::test]
async fn security_headers_are_on_every_response() {
    let app = TestApp::spawn().await;
    for path in ["/health", "/nope"] {
        let res = app.get(path).await;
        assert_eq!(
            header(&res, "x-content-type-options").as_deref(),
            Some("nosniff")
        );
        assert_eq!(header(&res, "x-frame-options").as_deref(), Some("DENY"));
        assert_eq!(
            header(&res, "referrer-policy").as_deref(),
            Some("no-referrer")
        );
        assert_eq!(
            header(&res, "content-security-policy").as_deref(),
            Some("default-src 'none'; frame-ancestors 'none'")
        );
        assert_eq!(
            header(&res, "strict-transport-security"),
            None,
            "HSTS is off by default"
        );
    }
    let docs = app.get("/api-docs/").await;
    assert!(
        header(&docs, "content-security-policy")
            .unwrap()
            .contains("script-src 'self'")
    );

    let behind_tls = TestApp::builder()
        .config(|c| c.http.hsts = true)
        .spawn()
        .await;
    let res = behind_tls.get("/health").await;
    assert!(
        header(&res, "strict-transport-security")
            .unwrap()
            .starts_with("max-age=31536000")
    );
}

#[tokio::test]
async fn cors_allows_any_origin_by_default() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/health"))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(
        header(&res, "access-control-allow-origin").as_deref(),
        Some("*")
    );
    let methods = header(&res, "access-control-allow-methods").unwrap();
    assert!(
        methods.contains("POST") && methods.contains("DELETE"),
        "{methods}"
    );
    assert!(
        header(&res, "access-control-allow-headers")
            .unwrap()
            .contains("authorization")
    );
}

#[tokio::test]
async fn cors_follows_the_configured_origins() {
    let app = TestApp::builder()
        .config(|c| c.http.cors_origins = StringList(vec!["https://app.example.com".into()]))
        .spawn()
        .await;
    let allowed = app
        .client
        .get(app.url("/health"))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&allowed, "access-control-allow-origin").as_deref(),
        Some("https://app.example.com")
    );
    let expose = header(&allowed, "access-control-expose-headers").unwrap();
    assert!(
        expose.contains("x-request-id") && expose.contains("ratelimit-remaining"),
        "{expose}"
    );
    let other = app
        .client
        .get(app.url("/health"))
        .header("origin", "https://evil.example.net")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&other, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn responses_are_compressed_by_accept_encoding() {
    let app = TestApp::spawn().await;
    let raw = crate::helpers::client_builder()
        .no_gzip()
        .no_brotli()
        .build()
        .unwrap();
    for (asked, expected) in [
        ("gzip", "gzip"),
        ("br", "br"),
        ("br;q=1.0, gzip;q=0.5", "br"),
    ] {
        let res = raw
            .get(app.url("/api-docs/openapi.json"))
            .header("accept-encoding", asked)
            .send()
            .await
            .unwrap();
        assert_eq!(
            header(&res, "content-encoding").as_deref(),
            Some(expected),
            "asked {asked}"
        );
    }
    let plain = raw
        .get(app.url("/api-docs/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&plain, "content-encoding"), None);
    let plain_len = plain.bytes().await.unwrap().len();
    let gz = raw
        .get(app.url("/api-docs/openapi.json"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert!(gz.bytes().await.unwrap().len() < plain_len);

    // A client that decodes gets the same document back.
    for enc in ["gzip", "br"] {
        let decoding = crate::helpers::http_client();
        let res = decoding
            .get(app.url("/api-docs/openapi.json"))
            .header("accept-encoding", enc)
            .send()
            .await
            .unwrap();
        let doc: serde_json::Value = res.json().await.unwrap();
        assert_eq!(doc["info"]["title"], "plaza");
    }
    // Errors are compressed too, and still decode.
    let res = crate::helpers::http_client()
        .get(app.url("/nope"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["type"], "not_found");
}

#[tokio::test]
async fn hsts_follows_an_https_public_url_or_a_trusted_forwarded_proto() {
    let public = TestApp::builder()
        .config(|c| c.http.public_url = "https://chat.example.com".into())
        .spawn()
        .await;
    assert!(header(&public.get("/health").await, "strict-transport-security").is_some());

    let proxied = TestApp::builder()
        .config(|c| c.http.trust_proxy_headers = true)
        .spawn()
        .await;
    let over = |proto: &'static str| {
        proxied
            .client
            .get(proxied.url("/api/nope"))
            .header("x-forwarded-proto", proto)
            .send()
    };
    let tls = over("https").await.unwrap();
    assert_eq!(tls.status(), 404);
    assert!(
        header(&tls, "strict-transport-security").is_some(),
        "errors too"
    );
    assert_eq!(
        header(&over("http").await.unwrap(), "strict-transport-security"),
        None
    );

    // An untrusted header says nothing.
    let direct = TestApp::spawn().await;
    let res = direct
        .client
        .get(direct.url("/health"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "strict-transport-security"), None);
}

#[tokio::test]
async fn metrics_with_a_token_answer_only_that_token() {
    let app = TestApp::builder()
        .config(|c| {
            c.http.metrics_token = Some(plaza_platform::config::Secret::new("scrape-me-please"))
        })
        .spawn()
        .await;
    let with = |token: Option<&'static str>| {
        let mut req = app.client.get(app.url("/metrics"));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send()
    };
    assert_eq!(
        with(None).await.unwrap().status(),
        404,
        "not even from this machine"
    );
    assert_eq!(with(Some("wrong")).await.unwrap().status(), 404);
    let ok = with(Some("scrape-me-please")).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(
        header(&ok, "content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    // Without a token, this machine may scrape (the tests' default).
    assert_eq!(TestApp::spawn().await.get("/metrics").await.status(), 200);
}
