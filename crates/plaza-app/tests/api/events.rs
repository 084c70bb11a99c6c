//! The outbox: an event exists if and only if its transaction committed,
//! and the relay publishes each one, in id order, even after a crash.

use std::time::Duration;

use plaza_core::EventId;
use plaza_platform::bus::Subscription;
use plaza_platform::outbox::{Event, TOPIC, record};
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

async fn published_at(app: &TestApp, id: EventId) -> Option<Option<String>> {
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
        assert_eq!(published_at(&app, lost.id).await, None);
        assert!(published_at(&app, kept.id).await.unwrap().is_some());
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
        let want: Vec<EventId> = events.iter().map(|e| e.id).collect();
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
    let want: Vec<EventId> = left.iter().map(|e| e.id).collect();
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

/// The next event whose type starts with `prefix`.
async fn next_of(sub: &mut Subscription, prefix: &str) -> Option<Event> {
    loop {
        let event = next(sub, Duration::from_secs(5)).await?;
        if event.kind.starts_with(prefix) {
            return Some(event);
        }
    }
}

crate::on_both_databases! {
    async fn chat_changes_are_events_recorded_with_them(backend: Backend) {
        let app = TestApp::on(backend).await;
        let mut sub = app.state.bus.subscribe(TOPIC).await.unwrap();
        let ana = app.register("ana@example.com").await;
        let bob = app.register("bob@example.com").await;
        let eve = app.register("eve@example.com").await;
        let chat = app.group(&ana, "G", &[&bob]).await;
        let messages = format!("/api/chats/{chat}/messages");
        let body = json!({"content": "hello", "client_id": "c-1"});
        let sent: serde_json::Value = app.post_as(&messages, &ana.access, &body).await.json().await.unwrap();
        // A retry, and a refused send, record nothing.
        assert_eq!(app.post_as(&messages, &ana.access, &body).await.status(), 200);
        assert_eq!(app.post_as(&messages, &eve.access, &json!({"content": "x"})).await.status(), 404);
        let id = sent["id"].as_str().unwrap();
        let one = format!("{messages}/{id}");
        let res = app.send(reqwest::Method::PUT, &one, Some(&ana.access), Some(&json!({"content": "hello!"}))).await;
        assert_eq!(res.status(), 200);
        let reactions = format!("/api/v1/messages/{id}/reactions");
        for _ in 0..2 {
            assert_eq!(app.post_as(&reactions, &bob.access, &json!({"emoji": "👍"})).await.status(), 200);
        }
        let res = app.send(reqwest::Method::DELETE, &format!("{reactions}?emoji=%F0%9F%91%8D"), Some(&bob.access), None).await;
        assert_eq!(res.status(), 200);
        assert_eq!(app.send(reqwest::Method::DELETE, &one, Some(&ana.access), None).await.status(), 200);

        let mut got = Vec::new();
        while got.len() < 5 {
            got.push(next_of(&mut sub, "chat.").await.expect("a chat event"));
        }
        let kinds: Vec<&str> = got.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["chat.message.created", "chat.message.edited", "chat.reaction.added", "chat.reaction.removed", "chat.message.deleted"]);
        let created = &got[0];
        assert_eq!(created.id.to_string(), id, "the event's id is the message's");
        assert_eq!(created.subject, format!("chat:{chat}"));
        assert_eq!(created.actor_id.map(|u| u.to_string()), Some(ana.user_id.clone()));
        assert_eq!((created.data["message_id"].as_str(), created.data["seq"].as_i64()), (Some(id), Some(1)));
        assert_eq!(got[2].actor_id.map(|u| u.to_string()), Some(bob.user_id.clone()));
        assert_eq!(got[2].data["emoji"], "👍");
        assert!(next_of(&mut sub, "chat.").await.is_none(), "nothing more");
    }
}
