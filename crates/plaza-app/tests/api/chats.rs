//! Chats over REST (seed 001): creating them, sending and paging messages,
//! and who may see what.

use serde_json::{Value, json};

use crate::helpers::{TestApp, Tokens, error_body};

async fn create(app: &TestApp, who: &Tokens, body: Value) -> reqwest::Response {
    app.post_as("/api/chats", &who.access, &body).await
}

async fn send(app: &TestApp, who: &Tokens, chat: &str, body: Value) -> reqwest::Response {
    app.post_as(&format!("/api/chats/{chat}/messages"), &who.access, &body)
        .await
}

async fn json_of(res: reqwest::Response, status: u16) -> Value {
    assert_eq!(res.status().as_u16(), status, "status");
    res.json().await.unwrap()
}

crate::on_both_databases! {
    async fn a_direct_chat_is_one_per_pair(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let bob = app.register("bob@example.com").await;
        let chat = json_of(create(&app, &ana, json!({"type": "direct", "member_ids": [bob.user_id]})).await, 201).await;
        assert_eq!(chat["type"], "direct");
        let again = json_of(create(&app, &bob, json!({"type": "direct", "member_ids": [ana.user_id]})).await, 200).await;
        assert_eq!(again["id"], chat["id"]);

        let kim = app.register("kim@example.com").await;
        for (body, field) in [
            (json!({"type": "direct", "member_ids": []}), "member_ids"),
            (json!({"type": "direct", "member_ids": [ana.user_id]}), "member_ids"),
            (json!({"type": "direct", "member_ids": [bob.user_id, kim.user_id]}), "member_ids"),
            (json!({"type": "direct", "member_ids": ["0199a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b"]}), "member_ids"),
            (json!({"type": "direct", "member_ids": ["nope"]}), "member_ids"),
            (json!({"type": "group", "member_ids": [bob.user_id]}), "name"),
            (json!({"type": "party", "name": "x"}), "type"),
            (json!({"type": "channel", "name": "x"}), "group_id"),
            (json!({"type": "group", "name": "x".repeat(101)}), "name"),
        ] {
            let err = error_body(create(&app, &ana, body.clone()).await, 422, "validation_error").await;
            assert!(err["details"]["fields"].as_object().unwrap().keys().any(|k| k.contains(field)), "{body}: {err}");
        }
        error_body(app.post_json("/api/chats", &json!({"type": "group", "name": "x"})).await, 401, "authentication_error").await;
    }
}

crate::on_both_databases! {
    async fn messages_get_gapless_seqs_and_retries_are_not_duplicated(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let bob = app.register("bob@example.com").await;
        let group = json_of(create(&app, &ana, json!({"type": "group", "name": "Team", "member_ids": [bob.user_id]})).await, 201).await;
        let id = group["id"].as_str().unwrap();

        let first = json_of(send(&app, &ana, id, json!({"content": "hello", "client_id": "c-1"})).await, 201).await;
        assert_eq!(first["seq"], 1);
        assert_eq!(first["message_type"], "text");
        let retry = json_of(send(&app, &ana, id, json!({"content": "hello", "client_id": "c-1"})).await, 200).await;
        assert_eq!(retry["id"], first["id"]);
        // Parallel senders: every seq used once, none skipped.
        let sends = (0..20).map(|n| {
            let who = if n % 2 == 0 { &ana } else { &bob };
            send(&app, who, id, json!({"content": format!("m{n}")}))
        });
        for res in futures_util::future::join_all(sends).await {
            assert_eq!(res.status(), 201);
        }
        let page = json_of(app.get_as(&format!("/api/chats/{id}/messages?limit=100"), &bob.access).await, 200).await;
        let seqs: Vec<i64> = page["items"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, (1..=21).collect::<Vec<_>>());
        assert_eq!(page["has_more"], false);

        // Replies join the thread root.
        let reply = json_of(send(&app, &bob, id, json!({"content": "re", "reply_to": first["id"]})).await, 201).await;
        let deeper = json_of(send(&app, &ana, id, json!({"content": "re re", "reply_to": reply["id"]})).await, 201).await;
        assert_eq!(deeper["reply_to"], first["id"]);

        for (body, field) in [
            (json!({"content": "   "}), "content"),
            (json!({"content": "x".repeat(4001)}), "content"),
            (json!({"content": "hi", "message_type": "system"}), "message_type"),
            (json!({"content": "hi", "message_type": "video"}), "message_type"),
            (json!({"content": "hi", "client_id": ""}), "client_id"),
            (json!({"content": "hi", "reply_to": "0199a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b"}), "reply_to"),
            (json!({}), "content"),
        ] {
            let err = error_body(send(&app, &ana, id, body.clone()).await, 422, "validation_error").await;
            assert!(err["details"]["fields"].as_object().unwrap().keys().any(|k| k.contains(field)), "{body}: {err}");
        }
    }
}

#[tokio::test]
async fn messages_page_both_ways() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let group = json_of(
        create(&app, &ana, json!({"type": "group", "name": "Solo"})).await,
        201,
    )
    .await;
    let id = group["id"].as_str().unwrap();
    for n in 1..=7 {
        send(&app, &ana, id, json!({"content": format!("m{n}")})).await;
    }
    let seqs = |page: &Value| -> Vec<i64> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_i64().unwrap())
            .collect()
    };
    let latest = json_of(
        app.get_as(&format!("/api/chats/{id}/messages?limit=3"), &ana.access)
            .await,
        200,
    )
    .await;
    assert_eq!(
        (seqs(&latest), latest["has_more"].clone()),
        (vec![5, 6, 7], json!(true))
    );
    let older = json_of(
        app.get_as(
            &format!("/api/chats/{id}/messages?limit=3&before_seq=5"),
            &ana.access,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(seqs(&older), [2, 3, 4]);
    let oldest = json_of(
        app.get_as(
            &format!("/api/chats/{id}/messages?limit=3&before_seq=2"),
            &ana.access,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (seqs(&oldest), oldest["has_more"].clone()),
        (vec![1], json!(false))
    );
    let newer = json_of(
        app.get_as(
            &format!("/api/chats/{id}/messages?limit=4&after_seq=2"),
            &ana.access,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (seqs(&newer), newer["has_more"].clone()),
        (vec![3, 4, 5, 6], json!(true))
    );
    for bad in [
        "limit=0",
        "limit=101",
        "before_seq=3&after_seq=1",
        "before_seq=x",
        "sort=asc",
    ] {
        let res = app
            .get_as(&format!("/api/chats/{id}/messages?{bad}"), &ana.access)
            .await;
        error_body(res, 422, "validation_error").await;
    }
}

crate::on_both_databases! {
    async fn my_chats_come_newest_first_with_unread_counts(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let bob = app.register("bob@example.com").await;
        let direct = json_of(create(&app, &ana, json!({"type": "direct", "member_ids": [bob.user_id]})).await, 201).await;
        let group = json_of(create(&app, &ana, json!({"type": "group", "name": "Team", "member_ids": [bob.user_id]})).await, 201).await;
        let (direct, group) = (direct["id"].as_str().unwrap(), group["id"].as_str().unwrap());
        send(&app, &ana, group, json!({"content": "one"})).await;
        send(&app, &ana, group, json!({"content": "two"})).await;
        app.clock.advance(std::time::Duration::from_secs(1));
        send(&app, &ana, direct, json!({"content": "psst"})).await;

        let list = json_of(app.get_as("/api/chats", &bob.access).await, 200).await;
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["id"], direct);
        assert_eq!(items[0]["unread_count"], 1);
        assert_eq!(items[0]["last_message"]["content"], "psst");
        assert_eq!(items[1]["unread_count"], 2);
        assert_eq!(items[1]["role"], "member");
        assert_eq!(items[1]["last_message"]["content"], "two", "each chat's own newest, read in one query");
        // The sender has read their own messages.
        let mine = json_of(app.get_as("/api/chats", &ana.access).await, 200).await;
        assert!(mine["items"].as_array().unwrap().iter().all(|c| c["unread_count"] == 0));
        assert_eq!(mine["items"][1]["role"], "owner");
        // A chat without messages has none.
        let quiet = json_of(create(&app, &ana, json!({"type": "group", "name": "Quiet", "member_ids": [bob.user_id]})).await, 201).await;
        let list = json_of(app.get_as("/api/chats", &bob.access).await, 200).await;
        let quiet = list["items"].as_array().unwrap().iter().find(|c| c["id"] == quiet["id"]).unwrap();
        assert_eq!(quiet["last_message"], Value::Null);
        error_body(app.get_as("/api/chats?limit=0", &ana.access).await, 422, "validation_error").await;
    }
}

#[tokio::test]
async fn outsiders_cannot_see_chats_or_probe_ids() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    let eve = app.register("eve@example.com").await;
    let id = app.group(&ana, "Team", &[&bob]).await;
    let id = id.as_str();
    send(&app, &ana, id, json!({"content": "secret"})).await;
    let unknown = "0199a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b";
    for chat in [id, unknown, "not-an-id"] {
        let read = app
            .get_as(&format!("/api/chats/{chat}/messages"), &eve.access)
            .await;
        let a = error_body(read, 404, "not_found").await;
        let write = send(&app, &eve, chat, json!({"content": "hi"})).await;
        let b = error_body(write, 404, "not_found").await;
        assert_eq!(
            a["error"], b["error"],
            "the same answer whether or not it exists"
        );
    }
    let list = json_of(app.get_as("/api/chats", &eve.access).await, 200).await;
    assert_eq!(list["items"], json!([]));
    for chat in [id, unknown, "not-an-id"] {
        error_body(
            app.get_as(&format!("/api/chats/{chat}"), &eve.access).await,
            404,
            "not_found",
        )
        .await;
    }
    let detail = json_of(
        app.get_as(&format!("/api/chats/{id}"), &bob.access).await,
        200,
    )
    .await;
    assert_eq!(
        (
            detail["member_count"].clone(),
            detail["role"].clone(),
            detail["name"].clone()
        ),
        (json!(2), json!("member"), json!("Team"))
    );
}

#[tokio::test]
async fn channels_live_in_groups_and_follow_roles() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    let eve = app.register("eve@example.com").await;
    let gid = app.group(&ana, "Team", &[&bob]).await;
    let gid = gid.as_str();
    // Members may not make channels; owners may, with group members only.
    let res = create(
        &app,
        &bob,
        json!({"type": "channel", "name": "general", "group_id": gid}),
    )
    .await;
    error_body(res, 403, "forbidden").await;
    let res = create(
        &app,
        &ana,
        json!({"type": "channel", "name": "general", "group_id": gid, "member_ids": [eve.user_id]}),
    )
    .await;
    error_body(res, 422, "validation_error").await;
    let res = create(
        &app,
        &eve,
        json!({"type": "channel", "name": "x", "group_id": gid}),
    )
    .await;
    error_body(res, 422, "validation_error").await;
    let channel = json_of(
        create(
            &app,
            &ana,
            json!({"type": "channel", "name": "news", "group_id": gid, "visibility": "public"}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(channel["group_id"], gid);
    let cid = channel["id"].as_str().unwrap();
    send(&app, &ana, cid, json!({"content": "announcement"})).await;
    // A group member who has not joined the public channel: 403; an outsider: 404.
    let res = app
        .get_as(&format!("/api/chats/{cid}/messages"), &bob.access)
        .await;
    error_body(res, 403, "forbidden").await;
    let res = app
        .get_as(&format!("/api/chats/{cid}/messages"), &eve.access)
        .await;
    error_body(res, 404, "not_found").await;
}
