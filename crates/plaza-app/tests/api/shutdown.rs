//! Graceful shutdown: requests in flight finish; past the deadline, they are dropped.

use std::time::Duration;

use axum::routing::get;
use plaza_app::AppState;
use plaza_platform::config::HumanDuration;
use utoipa_axum::router::OpenApiRouter;

use crate::helpers::TestApp;

fn slow(ms: u64) -> OpenApiRouter<AppState> {
    OpenApiRouter::new().route(
        "/api/test/slow",
        get(move || async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            "finished"
        }),
    )
}

#[tokio::test]
async fn requests_in_flight_finish_after_shutdown_starts() {
    let app = TestApp::builder().routes(slow(500)).spawn().await;
    let url = app.url("/api/test/slow");
    let client = app.client.clone();
    let in_flight = tokio::spawn(async move { client.get(url).send().await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    app.stop();
    let res = in_flight
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "finished");
    // No new connections once it has stopped.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        crate::helpers::http_client()
            .get(app.url("/health"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn requests_past_the_deadline_are_dropped() {
    let app = TestApp::builder()
        .routes(slow(60_000))
        .config(|c| {
            c.http.shutdown_timeout = HumanDuration(Duration::from_millis(200));
            c.http.request_timeout = HumanDuration(Duration::from_secs(120));
        })
        .spawn()
        .await;
    let url = app.url("/api/test/slow");
    let client = app.client.clone();
    let in_flight = tokio::spawn(async move { client.get(url).send().await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    app.stop();
    let res = tokio::time::timeout(Duration::from_secs(10), in_flight)
        .await
        .expect("the server gave up on the request instead of waiting a minute")
        .unwrap()
        .unwrap();
    crate::helpers::error_body(res, 503, "dependency_error").await;
}
