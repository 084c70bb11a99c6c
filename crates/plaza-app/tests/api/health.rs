//! Liveness, readiness and metrics.

use axum::routing::get;
use plaza_app::AppState;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;

use crate::helpers::{TestApp, error_body, redis_prefix};

#[tokio::test]
async fn health_answers_on_both_paths() {
    let app = TestApp::spawn().await;
    for path in ["/health", "/api/v1/health"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["status"], "ok");
        assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
        assert!(body["uptime_seconds"].is_u64());
    }
}

crate::on_both_databases! {
    async fn ready_checks_the_database(backend: Backend) {
        let app = TestApp::on(backend).await;
        let res = app.get("/ready").await;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body, serde_json::json!({"status": "ready", "checks": {"database": "ok"}}));

        app.state.db.close().await;
        let body = error_body(app.get("/ready").await, 503, "dependency_error").await;
        assert_eq!(body["details"]["failed"], serde_json::json!(["database"]));
        assert_eq!(body["details"]["checks"]["database"], "unavailable");
    }
}

#[tokio::test]
#[ignore = "needs Redis"]
async fn ready_checks_redis_and_names_it_when_down() {
    let app = TestApp::builder().redis(&redis_prefix()).spawn().await;
    let body: Value = app.get("/ready").await.json().await.unwrap();
    assert_eq!(
        body["checks"],
        serde_json::json!({"database": "ok", "redis": "ok"})
    );

    app.state.redis.as_ref().unwrap().quit().await;
    let body = error_body(app.get("/ready").await, 503, "dependency_error").await;
    assert_eq!(body["details"]["failed"], serde_json::json!(["redis"]));
    assert_eq!(body["details"]["checks"]["database"], "ok");
}

#[tokio::test]
async fn metrics_label_routes_by_template_not_path() {
    let routes: OpenApiRouter<AppState> = OpenApiRouter::new().route(
        "/api/test/items/{id}",
        get(|axum::extract::Path(id): axum::extract::Path<String>| async move { id }),
    );
    let app = TestApp::builder().routes(routes).spawn().await;
    for id in ["4242", "4343"] {
        assert_eq!(
            app.get(&format!("/api/test/items/{id}")).await.status(),
            200
        );
    }
    let _ = app.get("/api/raw-path-that-does-not-exist-xyz").await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();
    assert!(
        text.contains(
            r#"http_requests_total{method="GET",route="/api/test/items/{id}",status="2xx"}"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"http_request_duration_seconds_bucket{method="GET",route="/api/test/items/{id}",status="2xx",le="0.005"}"#));
    assert!(text.contains(r#"route="unmatched",status="4xx""#));
    assert!(
        // The ids as path segments: a bare "4242" can be digits of a value.
        !text.contains("/4242") && !text.contains("raw-path-that-does-not-exist"),
        "raw paths leaked"
    );
    assert!(text.contains("http_requests_in_flight"));
    let rss = text
        .lines()
        .find_map(|l| l.strip_prefix("process_resident_memory_bytes "))
        .expect("process memory gauge");
    assert!(rss.parse::<f64>().unwrap() > 1_000_000.0, "{rss}");
}

#[tokio::test]
async fn api_docs_are_served_by_the_binary() {
    let app = TestApp::spawn().await;
    let spec: Value = app
        .get("/api-docs/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(spec["info"]["title"], "plaza");
    for path in ["/health", "/api/v1/health", "/ready", "/metrics"] {
        assert!(
            spec["paths"][path]["get"].is_object(),
            "{path} missing from the spec"
        );
    }
    assert!(spec["components"]["schemas"]["ErrorBody"].is_object());
    let page = app.client.get(app.url("/api-docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("https://"),
        "the page must not load scripts from elsewhere"
    );
    let script = app.get("/api-docs/swagger-ui-bundle.js").await;
    assert_eq!(script.status(), 200, "the UI's script is bundled");
}
