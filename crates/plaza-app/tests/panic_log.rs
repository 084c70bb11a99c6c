//! A panicking handler answers 500 without leaking the panic, and the panic
//! is logged with the request id. Its own test binary: it installs the
//! process-wide log subscriber to read what the server logged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use std::sync::{Arc, Mutex};

use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;

use helpers::{TestApp, error_body};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn explode() -> &'static str {
    panic!("secret internal detail")
}

#[tokio::test]
async fn a_panic_is_500_logged_with_the_request_id_and_not_leaked() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(true)
        .with_writer(move || writer.clone())
        .init();

    let app = TestApp::builder()
        .routes(OpenApiRouter::new().route("/api/test/panic", get(explode)))
        .spawn()
        .await;
    let res = app
        .client
        .get(app.url("/api/test/panic"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    let body = error_body(res, 500, "internal_error").await;
    assert_eq!(body["requestId"], "trace-me-123");
    assert_eq!(body["error"], "internal error");
    assert!(!body.to_string().contains("secret internal detail"));

    // The server keeps serving after a panic.
    assert_eq!(app.get("/health").await.status(), 200);

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line = logs
        .lines()
        .find(|l| l.contains("request handler panicked"))
        .unwrap_or_else(|| panic!("no panic log in:\n{logs}"));
    assert!(line.contains("trace-me-123"), "{line}");
    assert!(line.contains("secret internal detail"), "{line}");
    assert!(line.contains("\"level\":\"ERROR\""), "{line}");
}
