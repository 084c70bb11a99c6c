//! `/ws`: authentication, live chat events, the client's frames and their
//! errors, resume by seq, presence, and how sockets are closed.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{TestApp, Tokens, error_body};

/// Ana and Bob on a fresh app, both in Ana's group "G" (its id last).
async fn ana_and_bob_in_a_group() -> (TestApp, Tokens, Tokens, String) {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    let gid = app.group(&ana, "G", &[&bob]).await;
    (app, ana, bob, gid)
}

async fn send_rest(app: &TestApp, chat: &str, who: &Tokens, content: &str) -> Value {
    let res = app
        .post_as(
            &format!("/api/chats/{chat}/messages"),
            &who.access,
            &json!({"content": content}),
        )
        .await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

async fn direct(app: &TestApp, a: &Tokens, b: &Tokens) -> String {
    let res = app
        .post_as(
            "/api/chats",
            &a.access,
            &json!({"type": "direct", "member_ids": [b.user_id]}),
        )
        .await;
    assert!(res.status().is_success());
    let body: Value = res.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_token_in_the_query_opens_a_socket_that_receives_every_chat_without_joining() {
    let (app, ana, bob, gid) = ana_and_bob_in_a_group().await;
    let dm = direct(&app, &ana, &bob).await;
    let mut ws = app.ws_raw(Some(&bob.access)).await;
    let ready = ws.next_of("ready").await;
    assert_eq!(ready["user_id"], json!(bob.user_id));
    assert_eq!(ready["chats"], json!(2));

    let sent = send_rest(&app, &gid, &ana, "to the group").await;
    let got = ws.next_of("new_message").await;
    assert_eq!(
        (got["id"].clone(), got["seq"].clone()),
        (sent["id"].clone(), json!(1))
    );
    send_rest(&app, &dm, &ana, "just you").await;
    let got = ws.next_of("new_message").await;
    assert_eq!(
        (got["chat_id"].as_str(), got["content"].as_str()),
        (Some(dm.as_str()), Some("just you"))
    );

    // Edits, reactions, reads and deletions follow.
    let mid = sent["id"].as_str().unwrap();
    let path = format!("/api/chats/{gid}/messages/{mid}");
    app.send(
        Method::PUT,
        &path,
        Some(&ana.access),
        Some(&json!({"content": "edited"})),
    )
    .await;
    assert_eq!(ws.next_of("edit_message").await["content"], "edited");
    app.post_as(
        &format!("/api/v1/messages/{mid}/reactions"),
        &ana.access,
        &json!({"emoji": "👍"}),
    )
    .await;
    let reaction = ws.next_of("new_reaction").await;
    assert_eq!(
        (
            reaction["emoji"].as_str(),
            reaction["counts"]["👍"].as_i64()
        ),
        (Some("👍"), Some(1))
    );
    app.send(
        Method::DELETE,
        &format!("/api/v1/messages/{mid}/reactions?emoji=👍"),
        Some(&ana.access),
        None,
    )
    .await;
    assert_eq!(ws.next_of("remove_reaction").await["emoji"], "👍");
    app.post_as(
        &format!("/api/chats/{gid}/read"),
        &ana.access,
        &json!({"seq": 1}),
    )
    .await;
    let receipt = ws.next_of("read_receipt").await;
    assert_eq!(
        (
            receipt["user_id"].as_str(),
            receipt["last_read_seq"].as_i64()
        ),
        (Some(ana.user_id.as_str()), Some(1))
    );
    app.send(Method::DELETE, &path, Some(&ana.access), None)
        .await;
    assert_eq!(ws.next_of("delete_message").await["seq"], 1);
}

#[tokio::test]
async fn a_socket_authenticates_by_header_query_or_first_frame_and_refuses_bad_tokens() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;

    // First frame.
    let mut ws = app.ws_raw(None).await;
    ws.send(json!({"type": "auth", "data": {"token": ana.access}}))
        .await;
    assert_eq!(ws.next_of("ready").await["user_id"], json!(ana.user_id));
    // A first frame that is not auth closes with the way to do it.
    let mut ws = app.ws_raw(None).await;
    ws.send(json!({"type": "ping"})).await;
    let (code, reason) = ws.closed().await;
    assert_eq!(code, 1008);
    assert!(reason.contains("auth"), "{reason}");
    let mut ws = app.ws_raw(None).await;
    ws.send(json!({"type": "auth", "data": {"token": "nope"}}))
        .await;
    assert_eq!(ws.closed().await.0, 1008);

    // A bad token in the query is refused before the upgrade, in the error format.
    let err = tokio_tungstenite::connect_async(format!("ws://{}/ws?token=nope", app.addr))
        .await
        .unwrap_err();
    let tokio_tungstenite::tungstenite::Error::Http(res) = err else {
        panic!("expected an HTTP refusal, got {err:?}");
    };
    assert_eq!(res.status(), 401);
    let body: Value = serde_json::from_slice(res.body().as_deref().unwrap()).unwrap();
    assert_eq!(body["type"], "authentication_error");

    // Plain HTTP to /ws is told to upgrade.
    let res = app.get_as("/ws", &ana.access).await;
    assert!(res.status().is_client_error(), "{}", res.status());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["type"], "validation_error");
}

#[tokio::test]
async fn websockets_can_be_turned_off() {
    let app = TestApp::builder()
        .config(|c| c.features.websocket = false)
        .spawn()
        .await;
    let ana = app.register("ana@example.com").await;
    error_body(app.get_as("/ws", &ana.access).await, 404, "not_found").await;
}

#[tokio::test]
async fn send_message_is_acknowledged_with_the_stored_message_and_retries_are_idempotent() {
    let (app, ana, bob, gid) = ana_and_bob_in_a_group().await;
    let mut a = app.ws(&ana).await;
    let mut b = app.ws(&bob).await;

    let frame = json!({"type": "send_message", "id": 7, "data": {"room_id": gid, "content": "hello", "client_id": "c1"}});
    a.send(frame.clone()).await;
    let ack = a.next_of("ack").await;
    assert_eq!(
        (
            ack["id"].clone(),
            ack["for"].clone(),
            ack["created"].clone()
        ),
        (json!(7), json!("send_message"), json!(true))
    );
    assert_eq!(
        (
            ack["message"]["seq"].clone(),
            ack["message"]["content"].clone()
        ),
        (json!(1), json!("hello"))
    );
    assert_eq!(b.next_of("new_message").await["id"], ack["message"]["id"]);

    a.send(frame).await;
    let again = a.next_of("ack").await;
    assert_eq!(
        (again["created"].clone(), again["message"]["id"].clone()),
        (json!(false), ack["message"]["id"].clone())
    );
    // Nothing new was stored, so nothing new is announced.
    b.quiet(Duration::from_millis(300)).await;
    let page: Value = app
        .get_as(&format!("/api/chats/{gid}/messages"), &bob.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);

    // Seed 002's group + channel naming sends to the channel.
    let res = app
        .post_as("/api/chats", &ana.access, &json!({"type": "channel", "name": "news", "group_id": gid, "member_ids": [bob.user_id]}))
        .await;
    let channel: Value = res.json().await.unwrap();
    let cid = channel["id"].as_str().unwrap();
    a.send(json!({"type": "send_message", "data": {"room_id": gid, "channel_id": cid, "content": "in the channel"}})).await;
    assert_eq!(a.next_of("ack").await["message"]["chat_id"], json!(cid));
}

#[tokio::test]
async fn bad_frames_get_an_error_event_and_the_socket_survives() {
    let app = TestApp::builder()
        .config(|c| c.ws.max_message = plaza_platform::config::ByteSize(4096))
        .spawn()
        .await;
    let ana = app.register("ana@example.com").await;
    let eve = app.register("eve@example.com").await;
    let gid = app.group(&ana, "G", &[]).await;
    let mut ws = app.ws(&eve).await;

    ws.send_text("{not json").await;
    let e = ws.next_of("error").await;
    assert_eq!(e["type"], "validation_error");
    assert!(
        e["error"].as_str().unwrap().contains("malformed JSON"),
        "{e}"
    );
    assert!(e["error"].as_str().unwrap().contains("column"), "{e}");

    ws.send(json!({"type": "fly", "id": "x"})).await;
    let e = ws.next_of("error").await;
    assert_eq!(
        (e["id"].clone(), e["for"].clone(), e["type"].clone()),
        (json!("x"), json!("fly"), json!("validation_error"))
    );
    assert!(e["error"].as_str().unwrap().contains("send_message"), "{e}");

    ws.send(json!({"type": "send_message", "data": {"room_id": gid}}))
        .await;
    let e = ws.next_of("error").await;
    assert_eq!(
        (e["status"].clone(), e["type"].clone()),
        (json!(422), json!("validation_error"))
    );
    assert!(e["error"].as_str().unwrap().contains("content"), "{e}");

    ws.send(json!({"type": "send_message", "data": {"room_id": gid, "content": "let me in"}}))
        .await;
    let e = ws.next_of("error").await;
    assert_eq!(
        (e["status"].clone(), e["type"].clone()),
        (json!(404), json!("not_found"))
    );
    ws.send(json!({"type": "join_room", "data": {"room_id": gid}}))
        .await;
    assert_eq!(ws.next_of("error").await["status"], 404);
    ws.send(json!({"type": "typing", "data": {"room_id": gid}}))
        .await;
    assert_eq!(ws.next_of("error").await["status"], 404);
    ws.send(json!({"type": "resume", "data": {"room_id": gid, "last_seq": 0}}))
        .await;
    assert_eq!(ws.next_of("error").await["status"], 404);
    ws.send(json!({"type": "mark_read", "data": {"room_id": "not-an-id", "seq": 1}}))
        .await;
    assert_eq!(ws.next_of("error").await["status"], 404);

    let big = "x".repeat(5000);
    ws.send(json!({"type": "ping", "data": {"pad": big}})).await;
    let e = ws.next_of("error").await;
    assert_eq!(
        (e["status"].clone(), e["type"].clone()),
        (json!(413), json!("payload_too_large"))
    );

    ws.send_message(Message::binary(vec![1, 2, 3])).await;
    assert_eq!(ws.next_of("error").await["status"], 415);

    // Still alive.
    ws.send(json!({"type": "ping", "id": 1})).await;
    let pong = ws.next_of("pong").await;
    assert_eq!(pong["id"], 1);
    assert!(pong["server_time"].is_string());

    // Sixteen times the limit is past reading: the socket closes with 1009.
    ws.send_text(&"y".repeat(16 * 4096 + 1)).await;
    assert_eq!(ws.closed().await.0, 1009);
}

#[tokio::test]
async fn public_channels_are_watched_with_join_room_and_private_ones_stay_hidden() {
    let (app, ana, bob, gid) = ana_and_bob_in_a_group().await;
    let make = |visibility: &'static str, name: &'static str| {
        let body = json!({"type": "channel", "name": name, "group_id": gid, "visibility": visibility, "member_ids": []});
        let token = ana.access.clone();
        let app = &app;
        async move {
            let res = app.post_as("/api/chats", &token, &body).await;
            let chat: Value = res.json().await.unwrap();
            chat["id"].as_str().unwrap().to_owned()
        }
    };
    let open = make("public", "open").await;
    let secret = make("private", "secret").await;
    let mut ws = app.ws(&bob).await;

    ws.send(json!({"type": "join_room", "data": {"room_id": secret}}))
        .await;
    assert_eq!(ws.next_of("error").await["status"], 404);
    ws.send(json!({"type": "join_room", "data": {"room_id": open}}))
        .await;
    assert_eq!(ws.next_of("ack").await["room_id"], json!(open));
    send_rest(&app, &open, &ana, "news").await;
    assert_eq!(ws.next_of("new_message").await["content"], "news");

    ws.send(json!({"type": "leave_room", "data": {"room_id": open}}))
        .await;
    ws.next_of("ack").await;
    send_rest(&app, &open, &ana, "unheard").await;
    send_rest(&app, &secret, &ana, "unheard too").await;
    ws.quiet(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn typing_reaches_the_others_and_is_never_stored() {
    let (app, ana, bob, gid) = ana_and_bob_in_a_group().await;
    let mut a = app.ws(&ana).await;
    let mut b = app.ws(&bob).await;
    a.send(json!({"type": "typing", "data": {"room_id": gid}}))
        .await;
    let typing = b.next_of("user_typing").await;
    assert_eq!(
        (typing["chat_id"].as_str(), typing["user_id"].as_str()),
        (Some(gid.as_str()), Some(ana.user_id.as_str()))
    );
    // Not echoed to the typist, and throttled per chat.
    a.send(json!({"type": "typing", "data": {"room_id": gid}}))
        .await;
    a.quiet(Duration::from_millis(300)).await;
    b.quiet(Duration::from_millis(100)).await;
    let page: Value = app
        .get_as(&format!("/api/chats/{gid}/messages"), &bob.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"], json!([]));
}

#[tokio::test]
async fn mark_read_over_the_socket_moves_the_read_marker() {
    let (app, ana, bob, gid) = ana_and_bob_in_a_group().await;
    send_rest(&app, &gid, &ana, "one").await;
    send_rest(&app, &gid, &ana, "two").await;
    let mut b = app.ws(&bob).await;
    b.send(json!({"type": "mark_read", "data": {"room_id": gid, "seq": 9}}))
        .await;
    assert_eq!(b.next_of("error").await["status"], 422);
    b.send(json!({"type": "mark_read", "data": {"room_id": gid, "seq": 2}}))
        .await;
    assert_eq!(b.next_of("ack").await["last_read_seq"], 2);
    let chats: Value = app
        .get_as("/api/chats", &bob.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(chats["items"][0]["unread_count"], 0);
}

#[tokio::test]
async fn joining_a_chat_while_connected_starts_its_events_and_leaving_stops_them() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    let mut b = app.ws(&bob).await;
    let gid = app.group(&ana, "G", &[&bob]).await;
    assert_eq!(b.next_of("chat_joined").await["chat_ids"], json!([gid]));
    send_rest(&app, &gid, &ana, "welcome").await;
    assert_eq!(b.next_of("new_message").await["content"], "welcome");

    let res = app
        .send(
            Method::DELETE,
            &format!("/api/chats/{gid}/members/{}", bob.user_id),
            Some(&ana.access),
            None,
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(b.next_of("chat_left").await["chat_ids"], json!([gid]));
    send_rest(&app, &gid, &ana, "gone").await;
    b.quiet(Duration::from_millis(300)).await;
}

/// Seqs of the `new_message` frames in `frames`.
fn seqs(frames: &[Value]) -> Vec<i64> {
    frames
        .iter()
        .filter(|f| f["type"] == "new_message")
        .map(|f| f["data"]["seq"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_reconnect_in_the_middle_of_a_burst_resumes_with_no_gap_and_no_duplicate() {
    let (app, ana, bob, gid) = ana_and_bob_in_a_group().await;
    const TOTAL: i64 = 150;

    let mut b = app.ws(&bob).await;
    let sender = {
        let (client, url, token, gid) = (
            app.client.clone(),
            app.url(""),
            ana.access.clone(),
            gid.clone(),
        );
        tokio::spawn(async move {
            for i in 1..=TOTAL {
                let res = client
                    .post(format!("{url}/api/chats/{gid}/messages"))
                    .bearer_auth(&token)
                    .json(&json!({"content": format!("m{i}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 201);
            }
        })
    };
    // Read some of the burst, then drop the socket mid-stream.
    let mut first = Vec::new();
    while seqs(&first).len() < 30 {
        first.push(b.next().await);
    }
    drop(b);
    let last = *seqs(&first).last().unwrap();
    assert_eq!(seqs(&first), (1..=last).collect::<Vec<_>>());
    tokio::time::sleep(Duration::from_millis(50)).await;

    let mut b = app.ws_raw(Some(&bob.access)).await;
    b.send(json!({"type": "resume", "data": {"room_id": gid, "last_seq": last}}))
        .await;
    let mut second = Vec::new();
    let mut acked = false;
    while seqs(&second).last().copied() != Some(TOTAL) {
        let frame = b.next().await;
        if frame["type"] == "ack" && frame["data"]["for"] == "resume" {
            assert!(!acked);
            assert_eq!(frame["data"]["more"], false);
            acked = true;
        }
        second.push(frame);
    }
    sender.await.unwrap();
    assert!(acked);
    assert_eq!(
        seqs(&second),
        (last + 1..=TOTAL).collect::<Vec<_>>(),
        "exactly what was missed, in order"
    );
    b.quiet(Duration::from_millis(200)).await;
}

#[tokio::test]
async fn a_resume_later_in_a_connection_fills_only_what_is_missing() {
    let (app, ana, bob, gid) = ana_and_bob_in_a_group().await;
    for i in 1..=5 {
        send_rest(&app, &gid, &ana, &format!("old {i}")).await;
    }
    let mut b = app.ws(&bob).await;
    send_rest(&app, &gid, &ana, "live 6").await;
    assert_eq!(b.next_of("new_message").await["seq"], 6);
    b.send(json!({"type": "resume", "data": {"rooms": [{"room_id": gid, "last_seq": 2}]}}))
        .await;
    let mut got = Vec::new();
    loop {
        let frame = b.next().await;
        if frame["type"] == "ack" {
            assert_eq!(frame["data"]["last_seq"], 6);
            break;
        }
        got.push(frame);
    }
    assert_eq!(seqs(&got), [3, 4, 5]);
    let res = app
        .get_as(&format!("/api/chats/{gid}/messages?limit=1"), &bob.access)
        .await;
    assert_eq!(res.status(), 200);
    b.send(json!({"type": "resume", "data": {"room_id": gid, "last_seq": -1}}))
        .await;
    assert_eq!(b.next_of("error").await["status"], 422);
}

#[tokio::test]
async fn presence_is_told_to_contacts_and_answered_over_rest() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    let eve = app.register("eve@example.com").await;
    direct(&app, &ana, &bob).await;
    let status = |who: &Tokens, ids: String| {
        let token = who.access.clone();
        let app = &app;
        async move {
            app.get_as(&format!("/api/users/online?ids={ids}"), &token)
                .await
        }
    };

    let mut b = app.ws(&bob).await;
    let a = app.ws(&ana).await;
    assert_eq!(
        b.next_of("user_online").await["user_id"],
        json!(ana.user_id)
    );
    let res = status(&bob, format!("{},{}", ana.user_id, eve.user_id)).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    // Eve shares no chat with Bob: left out.
    assert_eq!(
        body["users"],
        json!([{"user_id": ana.user_id, "online": true}])
    );
    // A second socket of Ana's changes nothing; closing one of two neither.
    let a2 = app.ws(&ana).await;
    drop(a);
    b.quiet(Duration::from_millis(300)).await;
    drop(a2);
    assert_eq!(
        b.next_of("user_offline").await["user_id"],
        json!(ana.user_id)
    );
    let body: Value = status(&bob, ana.user_id.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["users"][0]["online"], false);

    error_body(status(&bob, "nope".into()).await, 422, "validation_error").await;
    error_body(status(&bob, String::new()).await, 422, "validation_error").await;
    let many: Vec<String> = (0..101).map(|_| uuid_like()).collect();
    error_body(status(&bob, many.join(",")).await, 422, "validation_error").await;
    let res = app.get("/api/users/online?ids=x").await;
    assert_eq!(res.status(), 401);
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    format!(
        "00000000-0000-7000-8000-{:012x}",
        N.fetch_add(1, Ordering::Relaxed)
    )
}

#[tokio::test]
async fn ending_the_session_closes_its_sockets() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let other = app.login("ana@example.com").await;
    let mut mine = app.ws(&ana).await;
    let mut kept = app.ws(&other).await;
    let res = app
        .post_as("/api/auth/logout", &ana.access, &json!({}))
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(mine.closed().await, (1008, "session ended".into()));
    kept.send(json!({"type": "ping"})).await;
    kept.next_of("pong").await;
}

#[tokio::test]
async fn shutdown_closes_sockets_with_1001_so_clients_go_elsewhere() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let mut ws = app.ws(&ana).await;
    app.stop();
    let (code, reason) = ws.closed().await;
    assert_eq!(code, 1001);
    assert!(reason.contains("resume"), "{reason}");
    app.state.hub.drained(Duration::from_secs(5)).await;
    assert_eq!(app.state.hub.connections(), 0);
}

#[tokio::test]
async fn a_client_that_stops_answering_pings_is_dropped() {
    let app = TestApp::builder()
        .config(|c| {
            c.ws.ping_interval = plaza_platform::config::HumanDuration(Duration::from_secs(1))
        })
        .spawn()
        .await;
    let ana = app.register("ana@example.com").await;
    let _ws = app.ws(&ana).await;
    // Not reading means not answering pings.
    for _ in 0..100 {
        if app.state.hub.connections() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the silent socket is still open");
}

#[tokio::test]
async fn a_client_that_cannot_keep_up_is_disconnected_with_a_reason() {
    let app = TestApp::builder()
        .config(|c| c.ws.send_queue = 8)
        .spawn()
        .await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    let gid = app.group(&ana, "G", &[&bob]).await;
    let mut slow = app.ws(&bob).await;
    let content = "z".repeat(3900);
    // Bob reads nothing while messages pour in, until the hub gives up on him.
    let mut sent = 0;
    while app.state.hub.connections() > 0 && sent < 5000 {
        let mut batch = Vec::new();
        for _ in 0..16 {
            let (client, url, token, body) = (
                app.client.clone(),
                app.url(&format!("/api/chats/{gid}/messages")),
                ana.access.clone(),
                json!({"content": content}),
            );
            batch.push(tokio::spawn(async move {
                client
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
            }));
        }
        for task in batch {
            task.await.unwrap();
        }
        sent += 16;
        let metrics = app.get("/metrics").await.text().await.unwrap();
        if metrics.contains("plaza_ws_slow_disconnects_total") {
            break;
        }
    }
    assert_eq!(slow.closed().await.0, 1013);
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis"]
async fn two_users_on_two_nodes_chat_in_real_time() {
    let one = TestApp::builder().scaled_out().spawn().await;
    let two = TestApp::builder().node_of(&one).spawn().await;
    let ana = one.register("ana@example.com").await;
    let bob = one.register("bob@example.com").await;
    let dm = direct(&one, &ana, &bob).await;

    let mut a = one.ws(&ana).await;
    let mut b = two.ws(&bob).await;
    // Presence crosses nodes: Ana learns Bob came online, and asks either node.
    assert_eq!(
        a.next_of("user_online").await["user_id"],
        json!(bob.user_id)
    );
    let status: Value = one
        .get_as(
            &format!("/api/users/online?ids={}", bob.user_id),
            &ana.access,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["users"][0]["online"], true);

    for i in 1..=20 {
        b.send(
            json!({"type": "send_message", "data": {"room_id": dm, "content": format!("b{i}")}}),
        )
        .await;
        a.send(
            json!({"type": "send_message", "data": {"room_id": dm, "content": format!("a{i}")}}),
        )
        .await;
    }
    let mut on_a = Vec::new();
    let mut on_b = Vec::new();
    while on_a.len() < 40 {
        let frame = a.next().await;
        if frame["type"] == "new_message" {
            on_a.push(frame);
        }
    }
    while on_b.len() < 40 {
        let frame = b.next().await;
        if frame["type"] == "new_message" {
            on_b.push(frame);
        }
    }
    // Both see all forty, in seq order, with nothing missing or repeated.
    assert_eq!(seqs(&on_a), (1..=40).collect::<Vec<_>>());
    assert_eq!(seqs(&on_b), (1..=40).collect::<Vec<_>>());

    // A new group made on node one reaches Bob's socket on node two.
    let gid = one.group(&ana, "G", &[&bob]).await;
    assert_eq!(b.next_of("chat_joined").await["chat_ids"], json!([gid]));
    a.send(json!({"type": "typing", "data": {"room_id": gid}}))
        .await;
    assert_eq!(
        b.next_of("user_typing").await["user_id"],
        json!(ana.user_id)
    );

    // Bob's node stops: his socket is told 1001, he reconnects to node one
    // and resumes exactly where he was.
    send_rest(&one, &dm, &ana, "while you moved").await;
    let seen = b.next_of("new_message").await["seq"].as_i64().unwrap();
    two.stop();
    assert_eq!(b.closed().await.0, 1001);
    send_rest(&one, &dm, &ana, "after the move").await;
    let mut b = one.ws_raw(Some(&bob.access)).await;
    b.send(json!({"type": "resume", "data": {"room_id": dm, "last_seq": seen}}))
        .await;
    let got = b.next_of("new_message").await;
    assert_eq!(
        (got["seq"].as_i64(), got["content"].as_str()),
        (Some(seen + 1), Some("after the move"))
    );
}

/// Every frame up to and including a resume's ack.
async fn through_resume_ack(ws: &mut crate::helpers::Ws) -> Vec<Value> {
    let mut frames = Vec::new();
    loop {
        let frame = ws.next().await;
        let done = frame["type"] == "ack" && frame["data"]["for"] == "resume";
        frames.push(frame);
        if done {
            return frames;
        }
    }
}

/// Ana and Bob in a group on an app whose sockets wait `settle` for a
/// first frame.
async fn with_settle(settle: Duration) -> (TestApp, Tokens, Tokens, String) {
    let app = TestApp::builder()
        .config(move |c| c.ws.settle = plaza_platform::config::HumanDuration(settle))
        .spawn()
        .await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    let gid = app.group(&ana, "G", &[&bob]).await;
    (app, ana, bob, gid)
}

#[tokio::test]
async fn ready_comes_at_attach_and_nothing_sent_before_the_first_frame_is_lost() {
    // A resume window far longer than a frame's wait: `ready` must not
    // wait for it, and what is sent inside it must still arrive.
    let (app, ana, bob, gid) = with_settle(Duration::from_secs(30)).await;
    let mut b = app.ws_raw(Some(&bob.access)).await;
    let opened = std::time::Instant::now();
    b.next_of("ready").await;
    eprintln!("ready {:?} after the upgrade", opened.elapsed());
    send_rest(&app, &gid, &ana, "inside the window").await;
    b.send(json!({"type": "ping", "id": 1})).await;
    let mut frames: Vec<Value> = Vec::new();
    while !frames.iter().any(|f| f["type"] == "pong") {
        frames.push(b.next().await);
    }
    let got: Vec<&Value> = frames
        .iter()
        .filter(|f| f["type"] == "new_message")
        .collect();
    assert_eq!(got.len(), 1, "{frames:?}");
    assert_eq!(got[0]["data"]["content"], "inside the window");
    send_rest(&app, &gid, &ana, "after").await;
    assert_eq!(b.next_of("new_message").await["seq"], 2);
}

#[tokio::test]
async fn a_resume_sent_first_merges_with_what_arrived_since_attach() {
    let (app, ana, bob, gid) = with_settle(Duration::from_secs(30)).await;
    for i in 1..=3 {
        send_rest(&app, &gid, &ana, &format!("old {i}")).await;
    }
    let mut b = app.ws_raw(Some(&bob.access)).await;
    b.next_of("ready").await;
    // Committed after attach, before the client's first frame: held.
    send_rest(&app, &gid, &ana, "new 4").await;
    send_rest(&app, &gid, &ana, "new 5").await;
    b.send(json!({"type": "resume", "data": {"room_id": gid, "last_seq": 1}}))
        .await;
    let mut frames = through_resume_ack(&mut b).await;
    while let Some(f) = b.next_within(Duration::from_millis(300)).await {
        frames.push(f);
    }
    assert_eq!(
        seqs(&frames),
        vec![2, 3, 4, 5],
        "contiguous and each once: {frames:?}"
    );
    send_rest(&app, &gid, &ana, "live 6").await;
    assert_eq!(b.next_of("new_message").await["seq"], 6);
}

#[tokio::test]
async fn a_socket_closes_with_4001_when_its_access_token_expires() {
    let app = TestApp::builder()
        .config(|c| {
            c.ws.ping_interval = plaza_platform::config::HumanDuration(Duration::from_millis(100))
        })
        .spawn()
        .await;
    let ana = app.register("ana@example.com").await;
    let mut ws = app.ws(&ana).await;
    ws.send(json!({"type": "ping"})).await;
    ws.next_of("pong").await;
    // The token lives 15 minutes; one minute before, the socket is open.
    app.clock.advance(Duration::from_secs(14 * 60));
    ws.send(json!({"type": "ping"})).await;
    ws.next_of("pong").await;
    app.clock.advance(Duration::from_secs(60));
    let (code, reason) = ws.closed().await;
    assert_eq!(code, 4001, "{reason}");
    assert!(reason.contains("expired"), "{reason}");
    // A fresh token opens a socket again.
    let again = app.login("ana@example.com").await;
    app.ws(&again).await;
}

crate::on_both_databases! {
    async fn a_resume_with_since_replays_edits_deletions_and_reactions(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let bob = app.register("bob@example.com").await;
        let gid = app.group(&ana, "G", &[&bob]).await;
        let ids: Vec<String> = {
            let mut ids = Vec::new();
            for i in 1..=3 {
                ids.push(send_rest(&app, &gid, &ana, &format!("m{i}")).await["id"].as_str().unwrap().to_owned());
            }
            ids
        };
        let mut b = app.ws_raw(Some(&bob.access)).await;
        let since = b.next_of("ready").await["server_time"].clone();
        drop(b);

        app.clock.advance(Duration::from_secs(1));
        let message = |id: &str| format!("/api/chats/{gid}/messages/{id}");
        let edited = app.send(Method::PUT, &message(&ids[0]), Some(&ana.access), Some(&json!({"content": "m1 edited"}))).await;
        assert_eq!(edited.status(), 200);
        let deleted = app.send(Method::DELETE, &message(&ids[1]), Some(&ana.access), None).await;
        assert!(deleted.status().is_success());
        let reactions = format!("/api/v1/messages/{}/reactions", ids[2]);
        for emoji in ["👍", "🎉"] {
            assert_eq!(app.post_as(&reactions, &ana.access, &json!({"emoji": emoji})).await.status(), 200);
        }
        let removed = app.send(Method::DELETE, &format!("{reactions}?emoji=%F0%9F%8E%89"), Some(&ana.access), None).await;
        assert_eq!(removed.status(), 200);
        send_rest(&app, &gid, &ana, "m4").await;

        let mut b = app.ws_raw(Some(&bob.access)).await;
        b.send(json!({"type": "resume", "data": {"room_id": gid, "last_seq": 3, "since": since}})).await;
        let frames = through_resume_ack(&mut b).await;
        let kinds: Vec<(String, Value)> = frames
            .iter()
            .filter(|f| ["new_message", "edit_message", "delete_message"].contains(&f["type"].as_str().unwrap()))
            .map(|f| (f["type"].as_str().unwrap().to_owned(), f["data"]["seq"].clone()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("new_message".to_owned(), json!(4)),
                ("edit_message".to_owned(), json!(1)),
                ("delete_message".to_owned(), json!(2)),
                ("edit_message".to_owned(), json!(3)),
            ],
            "{frames:?}"
        );
        let by_seq = |seq: i64| frames.iter().find(|f| f["data"]["seq"] == seq && f["type"] != "new_message").unwrap();
        assert_eq!(by_seq(1)["data"]["content"], "m1 edited");
        assert_eq!(by_seq(3)["data"]["reactions"], json!({"👍": {"count": 1, "me": false}}), "the removal is replayed too");
        assert_eq!(frames.last().unwrap()["data"]["changes_truncated"], false);

        // Without `since`, only what is new.
        let mut c = app.ws_raw(Some(&bob.access)).await;
        c.send(json!({"type": "resume", "data": {"room_id": gid, "last_seq": 3}})).await;
        let kinds: Vec<String> = through_resume_ack(&mut c)
            .await
            .iter()
            .map(|f| f["type"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(kinds.iter().filter(|k| k.ends_with("_message")).collect::<Vec<_>>(), ["new_message"]);
    }
}

#[tokio::test]
async fn a_user_whose_node_died_is_announced_offline_by_the_survivors() {
    let app = TestApp::builder()
        .config(|c| {
            c.ws.ping_interval = plaza_platform::config::HumanDuration(Duration::from_millis(100))
        })
        .spawn()
        .await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    direct(&app, &ana, &bob).await;
    let mut a = app.ws(&ana).await;
    // Bob's socket lived on a node that died: its heartbeat is there, no
    // goodbye will come.
    let ttl = Duration::from_secs(6);
    app.state
        .presence
        .touch(&bob.user_id, "dead-node:1", ttl)
        .await;
    app.clock.advance(ttl + Duration::from_secs(1));
    let offline = a.next_of("user_offline").await;
    assert_eq!(offline["user_id"], json!(bob.user_id));
    a.quiet(Duration::from_secs(2)).await;
}
