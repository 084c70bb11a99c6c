//! Every error leaves in the error format, with the right status and headers.

use std::time::Duration;

use axum::routing::{get, post};
use plaza_app::AppState;
use plaza_app::http::{ApiError, ValidJson, ValidQuery};
use plaza_platform::config::{ByteSize, HumanDuration};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;

use crate::helpers::{TestApp, error_body};

#[derive(Debug, serde::Deserialize, serde::Serialize)]
struct Item {
    name: String,
    count: u32,
}

#[derive(Debug, serde::Deserialize)]
struct Page {
    limit: Option<u32>,
}

fn test_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route(
            "/api/test/items",
            post(|ValidJson(item): ValidJson<Item>| async move { axum::Json(item) }),
        )
        .route(
            "/api/test/page",
            get(|ValidQuery(page): ValidQuery<Page>| async move {
                axum::Json(json!({ "limit": page.limit }))
            }),
        )
        .route(
            "/api/test/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "done"
            }),
        )
        .route(
            "/api/test/db",
            get(|| async {
                Err::<(), _>(ApiError::internal(anyhow::anyhow!(
                    "password=hunter2 at db.internal"
                )))
            }),
        )
}

async fn app() -> TestApp {
    TestApp::builder()
        .routes(test_routes())
        .config(|c| {
            c.http.body_limit = ByteSize(1024);
            c.http.request_timeout = HumanDuration(Duration::from_millis(300));
        })
        .spawn()
        .await
}

#[tokio::test]
async fn unknown_route_is_404_in_the_error_format() {
    let app = TestApp::spawn().await;
    let body = error_body(app.get("/api/does-not-exist").await, 404, "not_found").await;
    assert_eq!(body["error"], "no route for GET /api/does-not-exist");
}

#[tokio::test]
async fn wrong_method_is_405_naming_the_allowed_ones() {
    let app = TestApp::spawn().await;
    let res = app.client.delete(app.url("/health")).send().await.unwrap();
    let allow = res
        .headers()
        .get("allow")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(allow.contains("GET"), "{allow}");
    let body = error_body(res, 405, "method_not_allowed").await;
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("DELETE is not allowed on /health"),
        "{body}"
    );
}

#[tokio::test]
async fn malformed_json_is_400_with_the_position() {
    let app = app().await;
    let res = app
        .client
        .post(app.url("/api/test/items"))
        .header("content-type", "application/json")
        .body("{\"name\": \"tea\",\n  \"count\": ,}")
        .send()
        .await
        .unwrap();
    let body = error_body(res, 400, "validation_error").await;
    assert_eq!(body["details"], json!({"line": 2, "column": 12}), "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("malformed JSON"),
        "{body}"
    );
}

#[tokio::test]
async fn json_of_the_wrong_shape_is_422_naming_the_field() {
    let app = app().await;
    let body = error_body(
        app.post_json("/api/test/items", &json!({"name": "tea"}))
            .await,
        422,
        "validation_error",
    )
    .await;
    assert_eq!(body["details"]["fields"]["count"], "is required");
    let body = error_body(
        app.post_json("/api/test/items", &json!({"name": "tea", "count": -1}))
            .await,
        422,
        "validation_error",
    )
    .await;
    assert!(body["details"]["fields"]["count"].is_string(), "{body}");
    // And the right input still works.
    let res = app
        .post_json("/api/test/items", &json!({"name": "tea", "count": 2}))
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = app().await;
    let res = app
        .client
        .post(app.url("/api/test/items"))
        .header("content-type", "text/plain")
        .body("name=tea")
        .send()
        .await
        .unwrap();
    error_body(res, 415, "unsupported_media_type").await;
    let res = app
        .client
        .post(app.url("/api/test/items"))
        .body("{}")
        .send()
        .await
        .unwrap();
    error_body(res, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn an_oversize_body_is_413_with_the_limit() {
    let app = app().await;
    let big = json!({"name": "x".repeat(2000), "count": 1});
    let body = error_body(
        app.post_json("/api/test/items", &big).await,
        413,
        "payload_too_large",
    )
    .await;
    assert_eq!(body["details"]["limit_bytes"], 1024);
}

#[tokio::test]
async fn a_bad_query_parameter_is_422_naming_it() {
    let app = app().await;
    let body = error_body(
        app.get("/api/test/page?limit=many").await,
        422,
        "validation_error",
    )
    .await;
    assert!(body["details"]["fields"]["limit"].is_string(), "{body}");
    let ok: serde_json::Value = app
        .get("/api/test/page?limit=5")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ok["limit"], 5);
}

#[tokio::test]
async fn a_slow_handler_is_cut_off_with_504() {
    let app = app().await;
    error_body(app.get("/api/test/slow").await, 504, "timeout_error").await;
}

#[tokio::test]
async fn internal_errors_are_500_and_say_nothing_internal() {
    let app = app().await;
    let res = app.get("/api/test/db").await;
    let body = error_body(res, 500, "internal_error").await;
    assert_eq!(body["error"], "internal error");
    assert!(!body.to_string().contains("hunter2"));
}
