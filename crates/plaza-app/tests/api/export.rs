//! Event export to RabbitMQ and NATS JetStream: every committed event
//! reaches the broker, in order, even when the broker restarts in the
//! middle of a stream; while it is down, requests and the bus carry on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use plaza_platform::config::Dsn;
use plaza_platform::outbox::{Event, record};
use plaza_platform::testing::{self, NatsServer, RabbitServer, Received};
use serde_json::json;

use crate::helpers::{Backend, TestApp};

/// An app exporting to `url` (the exchange / stream named `name`).
async fn exporting_app(url: &str, name: &str, backend: Backend) -> TestApp {
    let (url, name) = (url.to_owned(), name.to_owned());
    TestApp::builder()
        .backend(backend)
        .config(move |c| {
            c.features.event_export = true;
            c.export.url = Some(Dsn::new(url));
            c.export.exchange = name.clone();
            c.export.stream = name;
        })
        .spawn()
        .await
}

/// Records events ten to a transaction until `stop`; their ids, in order.
fn produce(app: &TestApp, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<Vec<String>> {
    let state = app.state.clone();
    let clock = app.clock.clone();
    tokio::spawn(async move {
        let mut ids = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let mut tx = state.db.begin().await.unwrap();
            for _ in 0..10 {
                let n = ids.len();
                let event = Event::new(
                    "test.streamed",
                    format!("test:{n}"),
                    None,
                    json!({"n": n}),
                    plaza_core::Clock::now(&clock),
                );
                record(&mut tx, &event).await.unwrap();
                ids.push(event.id.to_string());
            }
            tx.commit().await.unwrap();
            state.relay.wake();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        ids
    })
}

/// Events in the outbox not yet exported.
async fn unexported(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM outbox WHERE exported_at IS NULL")
        .fetch_one(app.state.db.writer())
        .await
        .unwrap()
}

/// Waits until the outbox holds nothing unexported.
async fn all_exported(app: &TestApp) {
    for _ in 0..240 {
        if unexported(app).await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("events still unexported after a minute");
}

/// Every id in `want` arrived, the first copies in the order sent; extra
/// copies are allowed (at least once).
fn each_arrived_in_order(got: &[Received], want: &[String]) {
    let mut seen = std::collections::HashSet::new();
    let firsts: Vec<&String> = got
        .iter()
        .map(|r| &r.id)
        .filter(|id| want.contains(id) && seen.insert(*id))
        .collect();
    assert_eq!(firsts.len(), want.len(), "every event arrived");
    assert_eq!(
        firsts,
        want.iter().collect::<Vec<_>>(),
        "in the order recorded"
    );
}

/// Export rounds that failed against `broker`, as /metrics tells.
async fn failed_rounds(app: &TestApp, broker: &str) -> u64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    let series = format!("plaza_events_export_failures_total{{broker=\"{broker}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(series.as_str()))
        .map_or(0, |v| v.trim().parse().unwrap())
}

/// A sign-up while the broker is down: answered, and its event kept.
async fn sign_up_during_outage(app: &TestApp) -> String {
    let ana = app.register("ana@example.com").await;
    sqlx::query_scalar("SELECT id FROM outbox WHERE subject = $1")
        .bind(format!("user:{}", ana.user_id))
        .fetch_one(app.state.db.writer())
        .await
        .unwrap()
}

#[tokio::test]
#[ignore = "needs rabbitmq-server (a node of the test's own)"]
async fn rabbitmq_gets_every_event_across_a_broker_restart() {
    let mut broker = RabbitServer::start().await;
    let exchange = testing::unique_name("plaza_test_exchange");
    let queue = testing::rabbitmq_queue_at(&broker.url, &exchange).await;
    let app = exporting_app(&broker.url, &exchange, Backend::Sqlite).await;
    let stop = Arc::new(AtomicBool::new(false));
    let producer = produce(&app, stop.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;

    let broker = tokio::task::spawn_blocking(move || {
        broker.stop();
        broker
    })
    .await
    .unwrap();
    let signed_up = sign_up_during_outage(&app).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        unexported(&app).await > 0,
        "events wait while the broker is down"
    );
    let mut broker = broker;
    broker.restart().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let sent = producer.await.unwrap();
    all_exported(&app).await;

    let got = testing::rabbitmq_drain_at(&broker.url, &queue, &exchange).await;
    each_arrived_in_order(&got, &sent);
    assert!(
        got.iter()
            .any(|r| r.id == signed_up && r.key == "user.registered")
    );
    assert!(got.iter().all(|r| r.delivery_mode == Some(2)));
    assert!(
        failed_rounds(&app, "rabbitmq").await > 0,
        "the outage was seen"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL and nats-server"]
async fn nats_gets_every_event_across_a_server_restart() {
    let mut server = NatsServer::start().await;
    let app = exporting_app(&server.url, "PLAZA_EVENTS", Backend::Postgres).await;
    let stop = Arc::new(AtomicBool::new(false));
    let producer = produce(&app, stop.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;

    server.stop();
    let signed_up = sign_up_during_outage(&app).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        unexported(&app).await > 0,
        "events wait while the broker is down"
    );
    server.restart().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let sent = producer.await.unwrap();
    all_exported(&app).await;

    let got = testing::nats_drain(&server.url, "PLAZA_EVENTS").await;
    each_arrived_in_order(&got, &sent);
    assert!(
        got.iter()
            .any(|r| r.id == signed_up && r.key == "plaza.user.registered")
    );
    // JetStream dropped repeats by message id.
    let distinct: std::collections::HashSet<&String> = got.iter().map(|r| &r.id).collect();
    assert_eq!(distinct.len(), got.len());
}
