//! The outbox: an event exists if and only if its transaction committed,
//! and the relay publishes each one, in id order, even after a crash.

use std::time::Duration;

use plaza_app::events::{Event, TOPIC, record};
use plaza_platform::bus::Subscription;
use serde_json::json;

use crate::helpers::TestApp;

async fn next(sub: &mut Subscription, wait: Duration) -> Option<Event> {
    let message = tokio::time::timeout(wait, sub.recv()).await.ok()?.unwrap();
    Some(serde_json::from_slice(&message.payload).unwrap())
}

fn event(app: &TestApp, n: usize) -> Event {
    Event::new(
        "test.happened",
        format!("test:{n}"),
        None,
        json!({"n": n}),
        plaza_core::Clock::now(&app.clock),
    )
}

async fn published_at(app: &TestApp, id: &str) -> Option<Option<String>> {
    sqlx::query_scalar("SELECT published_at FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_optional(app.state.db.writer())
        .await
        .unwrap()
}

crate::on_both_databases! {
    async fn an_event_exists_only_if_its_transaction_commits(backend: Backend) {
        let app = TestApp::on(backend).await;
        let mut sub = app.state.bus.subscribe(TOPIC).await.unwrap();

        let lost = event(&app, 1);
        let mut tx = app.state.db.begin().await.unwrap();
        record(&mut tx, &lost).await.unwrap();
        tx.rollback().await.unwrap();

        let kept = event(&app, 2);
        let mut tx = app.state.db.begin().await.unwrap();
        record(&mut tx, &kept).await.unwrap();
        tx.commit().await.unwrap();
        app.state.relay.wake();

        let got = next(&mut sub, Duration::from_secs(5)).await.expect("the committed event");
        assert_eq!(got, kept);
        assert!(next(&mut sub, Duration::from_millis(1500)).await.is_none(), "nothing else");
        assert_eq!(published_at(&app, &lost.id).await, None);
        assert!(published_at(&app, &kept.id).await.unwrap().is_some());
    }
}

crate::on_both_databases! {
    async fn a_burst_is_published_once_each_in_id_order(backend: Backend) {
        let app = TestApp::on(backend).await;
        let mut sub = app.state.bus.subscribe(TOPIC).await.unwrap();
        let events: Vec<Event> = (0..600).map(|n| event(&app, n)).collect();
        let mut tx = app.state.db.begin().await.unwrap();
        for e in &events {
            record(&mut tx, e).await.unwrap();
        }
        tx.commit().await.unwrap();
        app.state.relay.wake();
        let mut got = Vec::new();
        while got.len() < events.len() {
            got.push(next(&mut sub, Duration::from_secs(5)).await.expect("an event").id);
        }
        let want: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
        assert_eq!(got, want);
        assert!(next(&mut sub, Duration::from_millis(1200)).await.is_none());
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis"]
async fn events_a_stopped_node_left_behind_are_published_by_another() {
    let one = TestApp::builder().scaled_out().spawn().await;
    let mut sub = one.state.bus.subscribe(TOPIC).await.unwrap();
    // Node one stops (its relay with it) right after committing events it
    // never published, as if it had crashed.
    one.stop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let left: Vec<Event> = (0..20).map(|n| event(&one, n)).collect();
    let mut tx = one.state.db.begin().await.unwrap();
    for e in &left {
        record(&mut tx, e).await.unwrap();
    }
    tx.commit().await.unwrap();
    assert!(next(&mut sub, Duration::from_millis(1500)).await.is_none());

    let _two = TestApp::builder().node_of(&one).spawn().await;
    let mut got = Vec::new();
    while got.len() < left.len() {
        got.push(
            next(&mut sub, Duration::from_secs(5))
                .await
                .expect("an event")
                .id,
        );
    }
    let want: Vec<String> = left.iter().map(|e| e.id.clone()).collect();
    assert_eq!(got, want);
}

#[tokio::test]
async fn signing_up_announces_user_registered_and_a_refused_sign_up_nothing() {
    let app = TestApp::spawn().await;
    let mut sub = app.state.bus.subscribe(TOPIC).await.unwrap();
    let ana = app.register("ana@example.com").await;
    let got = next(&mut sub, Duration::from_secs(5))
        .await
        .expect("an event");
    assert_eq!(
        (
            got.kind.as_str(),
            got.subject.clone(),
            got.actor_id.map(|u| u.to_string())
        ),
        (
            "user.registered",
            format!("user:{}", ana.user_id),
            Some(ana.user_id.clone())
        )
    );
    assert_eq!(got.data["user_id"], json!(ana.user_id));
    // The same email again is refused, and leaves no event behind.
    let res = app
        .post_json(
            "/api/auth/register",
            &json!({"email": "ana@example.com", "password": crate::helpers::PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 409);
    assert!(next(&mut sub, Duration::from_millis(1500)).await.is_none());
}
