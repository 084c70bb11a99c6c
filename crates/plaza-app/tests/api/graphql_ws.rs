//! GraphQL subscriptions at `/graphql` over `graphql-transport-ws` and
//! the older `subscriptions-transport-ws` (`graphql-ws`): every
//! subscription, resume by seq without gaps or duplicates, a revoked
//! session, a bad token, strangers.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::graphql::{gql, ok};
use crate::helpers::{TestApp, Tokens};
use crate::on_both_databases;

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A GraphQL socket speaking `protocol`.
pub struct GqlWs {
    stream: Stream,
    legacy: bool,
}

impl GqlWs {
    pub async fn open(app: &TestApp, protocol: &str) -> Self {
        let mut req = format!("ws://{}/graphql", app.addr)
            .into_client_request()
            .unwrap();
        req.headers_mut()
            .insert("sec-websocket-protocol", protocol.parse().unwrap());
        let (stream, res) = tokio_tungstenite::connect_async(req).await.unwrap();
        assert_eq!(
            res.headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok()),
            Some(protocol)
        );
        Self {
            stream,
            legacy: protocol == "graphql-ws",
        }
    }

    /// Opened and acknowledged with `token` in `connection_init`.
    pub async fn signed_in(app: &TestApp, user: &Tokens) -> Self {
        let mut ws = Self::open(app, "graphql-transport-ws").await;
        ws.init(json!({"Authorization": format!("Bearer {}", user.access)}))
            .await;
        assert_eq!(ws.next().await["type"], "connection_ack");
        ws
    }

    pub async fn send(&mut self, frame: Value) {
        self.stream
            .send(Message::text(frame.to_string()))
            .await
            .unwrap();
    }

    pub async fn init(&mut self, payload: Value) {
        self.send(json!({"type": "connection_init", "payload": payload}))
            .await;
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let kind = if self.legacy { "start" } else { "subscribe" };
        self.send(
            json!({"id": id, "type": kind, "payload": {"query": query, "variables": variables}}),
        )
        .await;
    }

    /// The next text frame (keep-alives skipped), within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let item = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()?;
            match item {
                Some(Ok(Message::Text(text))) => {
                    let frame: Value = serde_json::from_str(&text).unwrap();
                    if frame["type"] == "ka" || frame["type"] == "ping" {
                        continue;
                    }
                    return Some(frame);
                }
                Some(Ok(Message::Close(close))) => {
                    let (code, reason) = close
                        .map(|c| (u16::from(c.code), c.reason.to_string()))
                        .unwrap_or((1005, String::new()));
                    return Some(json!({"type": "close", "code": code, "reason": reason}));
                }
                Some(Ok(_)) => {}
                None => return Some(json!({"type": "close", "code": 1006})),
                Some(Err(e)) => panic!("socket failed: {e}"),
            }
        }
    }

    pub async fn next(&mut self) -> Value {
        self.next_within(Duration::from_secs(5))
            .await
            .expect("a frame within five seconds")
    }

    /// The payload of the next event of subscription `id`.
    pub async fn event(&mut self, id: &str) -> Value {
        let kind = if self.legacy { "data" } else { "next" };
        loop {
            let frame = self.next().await;
            if frame["id"] == id && frame["type"] == kind {
                return frame["payload"].clone();
            }
            assert_ne!(frame["type"], "close", "closed: {frame}");
        }
    }

    /// The code of the error a subscription ended with.
    pub fn error_code(frame: &Value) -> String {
        let errors = if frame["type"] == "error" {
            &frame["payload"]
        } else {
            &frame["payload"]["errors"]
        };
        errors[0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("expected an error: {frame}"))
            .to_owned()
    }

    pub async fn quiet(&mut self, wait: Duration) {
        if let Some(frame) = self.next_within(wait).await {
            panic!("expected nothing, got {frame}");
        }
    }
}

async fn user(app: &TestApp, email: &str) -> Tokens {
    app.register(email).await
}

async fn direct_chat(app: &TestApp, a: &Tokens, b: &Tokens) -> String {
    let body = gql(
        app,
        Some(&a.access),
        "mutation($u: ID!) { createChat(data: {memberIds: [$u]}) { id } }",
        json!({"u": b.user_id}),
    )
    .await;
    ok(&body)["createChat"]["id"].as_str().unwrap().to_owned()
}

async fn send(app: &TestApp, who: &Tokens, chat: &str, text: &str) -> Value {
    let body = gql(
        app,
        Some(&who.access),
        "mutation($c: ID!, $t: String!) { sendMessage(chatId: $c, content: $t) { id seq } }",
        json!({"c": chat, "t": text}),
    )
    .await;
    ok(&body)["sendMessage"].clone()
}

/// Sends `text` to `chat` until `ws` has seen one on subscription `id`
/// (a subscription is live a moment after it is asked for); the event.
async fn first_live(ws: &mut GqlWs, id: &str, poke: impl AsyncFn()) -> Value {
    for _ in 0..50 {
        poke().await;
        if let Some(frame) = ws.next_within(Duration::from_millis(200)).await {
            assert_eq!(frame["id"], id, "{frame}");
            return frame["payload"].clone();
        }
    }
    panic!("the subscription never went live");
}

on_both_databases! {
    async fn messages_arrive_and_a_resume_replays_what_was_missed(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = user(&app, "ana@example.com").await;
        let bob = user(&app, "bob@example.com").await;
        let chat = direct_chat(&app, &ana, &bob).await;
        for i in 1..=5 {
            send(&app, &ana, &chat, &format!("early {i}")).await;
        }
        // Bob saw up to seq 2: resuming gives 3, 4, 5, then live ones, once each.
        let mut ws = GqlWs::signed_in(&app, &bob).await;
        let q = "subscription($c: ID, $s: Int) { messageAdded(chatId: $c, lastSeq: $s) { seq content chatId sender { username } } }";
        ws.subscribe("m", q, json!({"c": chat, "s": 2})).await;
        let mut seqs = Vec::new();
        for _ in 0..3 {
            let event = ws.event("m").await;
            seqs.push(event["data"]["messageAdded"]["seq"].as_i64().unwrap());
        }
        assert_eq!(seqs, [3, 4, 5]);
        for i in 6..=25 {
            send(&app, &ana, &chat, &format!("live {i}")).await;
        }
        for want in 6..=25 {
            let event = ws.event("m").await;
            let m = &event["data"]["messageAdded"];
            assert_eq!(m["seq"], want, "in order, no gaps or duplicates");
            assert_eq!(m["sender"]["username"], "ana");
        }
        ws.quiet(Duration::from_millis(300)).await;

        // A reconnect resumes from the last seq seen.
        drop(ws);
        for i in 26..=28 {
            send(&app, &ana, &chat, &format!("while away {i}")).await;
        }
        let mut ws = GqlWs::signed_in(&app, &bob).await;
        let q = "subscription($r: [ChatSeq!]!) { messageAdded(resume: $r) { seq } }";
        ws.subscribe("m2", q, json!({"r": [{"chatId": chat, "lastSeq": 25}]})).await;
        for want in 26..=28 {
            assert_eq!(ws.event("m2").await["data"]["messageAdded"]["seq"], want);
        }
        // Stopping a subscription completes it.
        ws.send(json!({"id": "m2", "type": "complete"})).await;
        assert_eq!(ws.next().await, json!({"id": "m2", "type": "complete"}));
        send(&app, &ana, &chat, "after stop").await;
        ws.quiet(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn edits_deletions_reactions_typing_receipts_and_presence() {
    let app = TestApp::spawn().await;
    let ana = user(&app, "ana@example.com").await;
    let bob = user(&app, "bob@example.com").await;
    let chat = direct_chat(&app, &ana, &bob).await;
    let sent = send(&app, &ana, &chat, "first").await;
    let id = sent["id"].as_str().unwrap().to_owned();

    let mut ws = GqlWs::signed_in(&app, &bob).await;
    ws.subscribe(
        "t",
        "subscription($c: ID!) { typing(chatId: $c) { chatId userId } }",
        json!({"c": chat}),
    )
    .await;
    let typing = first_live(&mut ws, "t", async || {
        let body = gql(
            &app,
            Some(&ana.access),
            "mutation($c: ID!) { typing(chatId: $c) }",
            json!({"c": chat}),
        )
        .await;
        ok(&body);
    })
    .await;
    assert_eq!(
        typing["data"]["typing"],
        json!({"chatId": chat, "userId": ana.user_id})
    );

    ws.subscribe(
        "e",
        "subscription { messageEdited { id content editedAt } }",
        json!({}),
    )
    .await;
    ws.subscribe(
        "d",
        "subscription { messageDeleted { id chatId seq } }",
        json!({}),
    )
    .await;
    ws.subscribe(
        "r",
        "subscription { reactionChanged { messageId emoji added userId counts { emoji count } } }",
        json!({}),
    )
    .await;
    ws.subscribe(
        "rr",
        "subscription { readReceipt { chatId userId lastReadSeq } }",
        json!({}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let q = "mutation($c: ID!, $m: ID!) { editMessage(chatId: $c, messageId: $m, content: \"edited\") { id } }";
    ok(&gql(&app, Some(&ana.access), q, json!({"c": chat, "m": id})).await);
    let edited = ws.event("e").await;
    assert_eq!(edited["data"]["messageEdited"]["content"], "edited");

    let q = "mutation($m: ID!) { addReaction(messageId: $m, emoji: \"🔥\") { count } }";
    ok(&gql(&app, Some(&ana.access), q, json!({"m": id})).await);
    let reaction = ws.event("r").await;
    assert_eq!(
        reaction["data"]["reactionChanged"],
        json!({"messageId": id, "emoji": "🔥", "added": true, "userId": ana.user_id, "counts": [{"emoji": "🔥", "count": 1}]})
    );

    ok(&gql(
        &app,
        Some(&ana.access),
        "mutation($c: ID!) { markRead(chatId: $c, seq: 1) }",
        json!({"c": chat}),
    )
    .await);
    let receipt = ws.event("rr").await;
    assert_eq!(receipt["data"]["readReceipt"]["lastReadSeq"], 1);

    let q = "mutation($c: ID!, $m: ID!) { deleteMessage(chatId: $c, messageId: $m) { id } }";
    ok(&gql(&app, Some(&ana.access), q, json!({"c": chat, "m": id})).await);
    let deleted = ws.event("d").await;
    assert_eq!(
        deleted["data"]["messageDeleted"],
        json!({"id": id, "chatId": chat, "seq": 1})
    );

    // Presence: Ana's own socket coming and going.
    ws.subscribe(
        "p",
        "subscription { presence { userId online } }",
        json!({}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ana_ws = app.ws(&ana).await;
    let online = ws.event("p").await;
    assert_eq!(
        online["data"]["presence"],
        json!({"userId": ana.user_id, "online": true})
    );
    drop(ana_ws);
    let offline = ws.event("p").await;
    assert_eq!(offline["data"]["presence"]["online"], false);
}

#[tokio::test]
async fn notifications_arrive_as_they_are_delivered() {
    let app = TestApp::spawn().await;
    app.register("root@example.com").await;
    let admin = app.make_admin("root@example.com").await;
    let bob = user(&app, "bob@example.com").await;
    let mut ws = GqlWs::signed_in(&app, &bob).await;
    ws.subscribe(
        "n",
        "subscription { notificationAdded { id type title body } }",
        json!({}),
    )
    .await;
    let mut event = first_live(&mut ws, "n", async || {
        let res = app
            .post_as(
                "/api/notifications",
                &admin.access,
                &json!({"to": [bob.user_id], "type": "admin.announcement", "title": "Hello", "body": "News"}),
            )
            .await;
        assert!(res.status().is_success(), "{}", res.status());
    })
    .await;
    // The welcome may come first: it is delivered in the background too.
    while event["data"]["notificationAdded"]["type"] == "user.registered" {
        event = ws.event("n").await;
    }
    let n = &event["data"]["notificationAdded"];
    assert_eq!(n["type"], "admin.announcement");
    assert_eq!(n["title"], "Hello");
    assert!(n["id"].is_string());
}

#[tokio::test]
async fn a_revoked_session_ends_its_subscriptions_at_once() {
    let app = TestApp::spawn().await;
    let ana = user(&app, "ana@example.com").await;
    let bob = user(&app, "bob@example.com").await;
    let chat = direct_chat(&app, &ana, &bob).await;
    let mut ws = GqlWs::signed_in(&app, &bob).await;
    ws.subscribe("m", "subscription { messageAdded { seq } }", json!({}))
        .await;
    first_live(&mut ws, "m", async || {
        send(&app, &ana, &chat, "ping").await;
    })
    .await;
    while ws.next_within(Duration::from_millis(300)).await.is_some() {}
    let started = std::time::Instant::now();
    ok(&gql(
        &app,
        Some(&bob.access),
        "mutation { logoutUser }",
        json!({}),
    )
    .await);
    let frame = ws.next().await;
    assert_eq!(frame["type"], "next", "{frame}");
    assert_eq!(
        frame["payload"]["errors"][0]["extensions"]["code"],
        "auth.token_invalid"
    );
    assert_eq!(ws.next().await, json!({"id": "m", "type": "complete"}));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    send(&app, &ana, &chat, "after logout").await;
    ws.quiet(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn bad_tokens_strangers_and_wrong_input_are_refused() {
    let app = TestApp::spawn().await;
    let ana = user(&app, "ana@example.com").await;
    let bob = user(&app, "bob@example.com").await;
    let eve = user(&app, "eve@example.com").await;
    let chat = direct_chat(&app, &ana, &bob).await;

    // A bad token in connection_init closes the socket.
    let mut ws = GqlWs::open(&app, "graphql-transport-ws").await;
    ws.init(json!({"Authorization": "Bearer nonsense"})).await;
    let frame = ws.next().await;
    assert_eq!(frame["type"], "close", "{frame}");
    assert!(
        frame["reason"].as_str().unwrap().contains("Forbidden"),
        "{frame}"
    );

    // No token: the socket opens, subscriptions need one.
    let mut ws = GqlWs::open(&app, "graphql-transport-ws").await;
    ws.init(json!({})).await;
    assert_eq!(ws.next().await["type"], "connection_ack");
    ws.subscribe("m", "subscription { messageAdded { seq } }", json!({}))
        .await;
    let frame = ws.next().await;
    assert_eq!(GqlWs::error_code(&frame), "auth.token_missing");
    assert_eq!(ws.next().await, json!({"id": "m", "type": "complete"}));

    // A stranger cannot watch someone else's chat, nor resume it.
    let mut ws = GqlWs::signed_in(&app, &eve).await;
    for (id, query, vars) in [
        (
            "t",
            "subscription($c: ID!) { typing(chatId: $c) { userId } }",
            json!({"c": chat}),
        ),
        (
            "m",
            "subscription($c: ID, $s: Int) { messageAdded(chatId: $c, lastSeq: $s) { content } }",
            json!({"c": chat, "s": 0}),
        ),
        (
            "r",
            "subscription($c: ID!) { messageAdded(resume: [{chatId: $c, lastSeq: 0}]) { content } }",
            json!({"c": chat}),
        ),
        (
            "e",
            "subscription($c: ID) { messageEdited(chatId: $c) { content } }",
            json!({"c": chat}),
        ),
    ] {
        ws.subscribe(id, query, vars).await;
        let frame = ws.next().await;
        assert_eq!(frame["id"], id, "{frame}");
        assert_eq!(GqlWs::error_code(&frame), "chat.not_found");
        assert_eq!(ws.next().await, json!({"id": id, "type": "complete"}));
    }
    // Wrong input.
    ws.subscribe(
        "x",
        "subscription { messageAdded(lastSeq: 3) { seq } }",
        json!({}),
    )
    .await;
    assert_eq!(GqlWs::error_code(&ws.next().await), "input.invalid");
    assert_eq!(ws.next().await["type"], "complete");
    ws.subscribe("y", "subscription { nothingLikeThis }", json!({}))
        .await;
    assert_eq!(GqlWs::error_code(&ws.next().await), "graphql.invalid");
    assert_eq!(ws.next().await["type"], "complete");
    // And nothing of the chat reached the stranger.
    send(&app, &ana, &chat, "private").await;
    ws.quiet(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn the_older_subscriptions_transport_ws_protocol_works() {
    let app = TestApp::spawn().await;
    let ana = user(&app, "ana@example.com").await;
    let bob = user(&app, "bob@example.com").await;
    let chat = direct_chat(&app, &ana, &bob).await;
    send(&app, &ana, &chat, "one").await;
    let mut ws = GqlWs::open(&app, "graphql-ws").await;
    ws.init(json!({"authToken": bob.access, "token": bob.access}))
        .await;
    assert_eq!(ws.next().await["type"], "connection_ack");
    let q =
        "subscription($c: ID, $s: Int) { messageAdded(chatId: $c, lastSeq: $s) { seq content } }";
    ws.subscribe("1", q, json!({"c": chat, "s": 0})).await;
    let event = ws.event("1").await;
    assert_eq!(
        event["data"]["messageAdded"],
        json!({"seq": 1, "content": "one"})
    );
    send(&app, &ana, &chat, "two").await;
    assert_eq!(ws.event("1").await["data"]["messageAdded"]["seq"], 2);
}

/// A node resolves an event once per document and shares it; each
/// subscriber still gets exactly what its own document (and variables)
/// ask for, under its own subscription id.
#[tokio::test]
async fn subscribers_sharing_an_event_each_get_their_own_selection() {
    let app = TestApp::spawn().await;
    let ana = user(&app, "ana@example.com").await;
    let bob = user(&app, "bob@example.com").await;
    let cid = user(&app, "cid@example.com").await;
    let dee = user(&app, "dee@example.com").await;
    let body = gql(
        &app,
        Some(&ana.access),
        "mutation($m: [ID!]!) { createChat(data: {name: \"four\", memberIds: $m}) { id } }",
        json!({"m": [bob.user_id, cid.user_id, dee.user_id]}),
    )
    .await;
    let chat = ok(&body)["createChat"]["id"].as_str().unwrap().to_owned();

    let same = "subscription($c: ID) { messageAdded(chatId: $c) { seq content } }";
    let with_sender = "subscription($c: ID, $who: Boolean!) { messageAdded(chatId: $c) { seq sender @include(if: $who) { username } } }";
    let mut bob_ws = GqlWs::signed_in(&app, &bob).await;
    bob_ws.subscribe("a", same, json!({"c": chat})).await;
    bob_ws.subscribe("b", same, json!({"c": chat})).await;
    let mut cid_ws = GqlWs::signed_in(&app, &cid).await;
    cid_ws.subscribe("x", same, json!({"c": chat})).await;
    let mut dee_ws = GqlWs::signed_in(&app, &dee).await;
    dee_ws
        .subscribe("yes", with_sender, json!({"c": chat, "who": true}))
        .await;
    dee_ws
        .subscribe("no", with_sender, json!({"c": chat, "who": false}))
        .await;
    // Live once the first poke arrives on each.
    let poke = async || {
        send(&app, &ana, &chat, "poke").await;
    };
    first_live(&mut cid_ws, "x", poke).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for ws in [&mut bob_ws, &mut cid_ws, &mut dee_ws] {
        while ws.next_within(Duration::from_millis(200)).await.is_some() {}
    }

    for n in 1..=3 {
        let sent = send(&app, &ana, &chat, &format!("hello {n}")).await;
        let seq = sent["seq"].clone();
        let plain =
            json!({"data": {"messageAdded": {"seq": seq, "content": format!("hello {n}")}}});
        let mut bob_got = [bob_ws.next().await, bob_ws.next().await];
        bob_got.sort_by_key(|f| f["id"].as_str().unwrap_or_default().to_owned());
        assert_eq!(
            bob_got[0],
            json!({"id": "a", "type": "next", "payload": plain})
        );
        assert_eq!(
            bob_got[1],
            json!({"id": "b", "type": "next", "payload": plain})
        );
        assert_eq!(cid_ws.event("x").await, plain);
        let mut dee_got = [dee_ws.next().await, dee_ws.next().await];
        dee_got.sort_by_key(|f| f["id"].as_str().unwrap_or_default().to_owned());
        assert_eq!(
            dee_got[0],
            json!({"id": "no", "type": "next", "payload": {"data": {"messageAdded": {"seq": seq}}}})
        );
        assert_eq!(
            dee_got[1],
            json!({"id": "yes", "type": "next", "payload": {"data": {"messageAdded": {"seq": seq, "sender": {"username": "ana"}}}}})
        );
    }
    for ws in [&mut bob_ws, &mut cid_ws, &mut dee_ws] {
        ws.quiet(Duration::from_millis(200)).await;
    }
}
