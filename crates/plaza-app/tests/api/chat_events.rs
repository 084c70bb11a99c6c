//! Chat events on the bus, as the WebSocket hub will receive them.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;

async fn ok_json(res: reqwest::Response) -> Value {
    assert!(res.status().is_success(), "{}", res.status());
    res.json().await.unwrap()
}

async fn next(sub: &mut plaza_platform::bus::Subscription) -> Value {
    let message = tokio::time::timeout(Duration::from_secs(5), sub.recv())
        .await
        .expect("an event")
        .unwrap();
    serde_json::from_slice(&message.payload).unwrap()
}

#[tokio::test]
async fn every_change_is_announced_after_it_commits() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    let gid = app.group(&ana, "G", &[&bob]).await;
    let mut sub = app
        .state
        .bus
        .subscribe(&format!("chat:{gid}"))
        .await
        .unwrap();

    let sent = ok_json(
        app.post_as(
            &format!("/api/chats/{gid}/messages"),
            &ana.access,
            &json!({"content": "hi", "client_id": "k"}),
        )
        .await,
    )
    .await;
    let event = next(&mut sub).await;
    assert_eq!(
        (
            event["type"].clone(),
            event["data"]["seq"].clone(),
            event["data"]["content"].clone()
        ),
        (json!("new_message"), json!(1), json!("hi"))
    );
    // A retry stores nothing and announces nothing; the next event is the edit.
    app.post_as(
        &format!("/api/chats/{gid}/messages"),
        &ana.access,
        &json!({"content": "hi", "client_id": "k"}),
    )
    .await;
    let path = format!("/api/chats/{gid}/messages/{}", sent["id"].as_str().unwrap());
    app.send(
        Method::PUT,
        &path,
        Some(&ana.access),
        Some(&json!({"content": "hello"})),
    )
    .await;
    let event = next(&mut sub).await;
    assert_eq!(
        (event["type"].clone(), event["data"]["content"].clone()),
        (json!("edit_message"), json!("hello"))
    );

    let reactions = format!(
        "/api/v1/messages/{}/reactions",
        sent["id"].as_str().unwrap()
    );
    app.post_as(&reactions, &bob.access, &json!({"emoji": "👍"}))
        .await;
    let event = next(&mut sub).await;
    assert_eq!(
        (event["type"].clone(), event["data"]["counts"]["👍"].clone()),
        (json!("new_reaction"), json!(1))
    );
    app.send(
        Method::DELETE,
        &format!("{reactions}?emoji=%F0%9F%91%8D"),
        Some(&bob.access),
        None,
    )
    .await;
    assert_eq!(next(&mut sub).await["type"], "remove_reaction");

    app.post_as(
        &format!("/api/chats/{gid}/read"),
        &bob.access,
        &json!({"seq": 1}),
    )
    .await;
    let event = next(&mut sub).await;
    assert_eq!(
        (event["type"].clone(), event["data"]["user_id"].clone()),
        (json!("read_receipt"), json!(bob.user_id))
    );
    app.send(Method::DELETE, &path, Some(&ana.access), None)
        .await;
    let event = next(&mut sub).await;
    assert_eq!(
        (event["type"].clone(), event["data"]["seq"].clone()),
        (json!("delete_message"), json!(1))
    );
    assert!(
        event["data"].get("content").is_none(),
        "a deleted message's text is not repeated"
    );

    // Refused changes announce nothing.
    app.post_as(
        &format!("/api/chats/{gid}/messages"),
        &ana.access,
        &json!({"content": ""}),
    )
    .await;
    assert!(
        tokio::time::timeout(Duration::from_millis(200), sub.recv())
            .await
            .is_err()
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis"]
async fn a_message_sent_on_one_node_is_announced_on_another() {
    let a = TestApp::builder().scaled_out().spawn().await;
    let b = TestApp::builder().node_of(&a).spawn().await;
    let ana = a.register("ana@example.com").await;
    let bob = a.register("bob@example.com").await;
    let gid = a.group(&ana, "G", &[&bob]).await;
    let mut on_b = b.state.bus.subscribe(&format!("chat:{gid}")).await.unwrap();
    // Bob's node sees what Ana sends through hers.
    a.post_as(
        &format!("/api/chats/{gid}/messages"),
        &ana.access,
        &json!({"content": "across"}),
    )
    .await;
    let event = next(&mut on_b).await;
    assert_eq!(
        (event["type"].clone(), event["data"]["content"].clone()),
        (json!("new_message"), json!("across"))
    );
    // And the history is shared: Bob reads it through his node.
    let page = ok_json(
        b.get_as(&format!("/api/chats/{gid}/messages"), &bob.access)
            .await,
    )
    .await;
    assert_eq!(page["items"][0]["content"], "across");
}
