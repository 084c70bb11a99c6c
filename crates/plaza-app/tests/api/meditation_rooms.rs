//! Group meditation (seed 000): rooms over REST, sessions in step over
//! `WS /meditation/group`, and everyone's part recorded as a session.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, Tokens, Ws, error_body};

async fn create_room(app: &TestApp, who: &Tokens, body: Value) -> Value {
    let res = app
        .post_as("/api/meditation/rooms", &who.access, &body)
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    body["room"].clone()
}

async fn room_ids(app: &TestApp, who: &Tokens) -> Vec<String> {
    let page: Value = app
        .get_as("/api/meditation/rooms", &who.access)
        .await
        .json()
        .await
        .unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn delete_as(app: &TestApp, path: &str, who: &Tokens) -> reqwest::Response {
    app.send(reqwest::Method::DELETE, path, Some(&who.access), None)
        .await
}

crate::on_both_databases! {
    async fn rooms_are_created_listed_and_shown_only_to_whom_may_join(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let bob = app.register("bob@example.com").await;
        let cara = app.register("cara@example.com").await;
        let open = create_room(&app, &ana, json!({"name": "  Morning sit ", "type": "breathing"})).await;
        assert_eq!((open["name"].as_str(), open["visibility"].as_str(), open["type"].as_str()), (Some("Morning sit"), Some("public"), Some("breathing")));
        assert_eq!((open["host_id"].as_str(), open["max_participants"].as_i64(), open["participants"].as_i64()), (Some(ana.user_id.as_str()), Some(100), Some(0)));
        assert_eq!(open["session"], Value::Null);
        let closed = create_room(&app, &ana, json!({"name": "Team", "visibility": "invite_only", "invite": [bob.user_id], "max_participants": 5})).await;
        let closed_id = closed["id"].as_str().unwrap();

        let open_id = open["id"].as_str().unwrap();
        assert_eq!(room_ids(&app, &ana).await, [closed_id, open_id], "newest first");
        assert_eq!(room_ids(&app, &bob).await, [closed_id, open_id], "invited");
        assert_eq!(room_ids(&app, &cara).await, [open_id], "not invited");
        let path = format!("/api/meditation/rooms/{closed_id}");
        error_body(app.get_as(&path, &cara.access).await, 404, "not_found").await;
        let detail: Value = app.get_as(&path, &bob.access).await.json().await.unwrap();
        assert_eq!((detail["room"]["name"].as_str(), detail["participants"].as_array().map(Vec::len)), (Some("Team"), Some(0)));

        // Only the host invites, only people who exist.
        let invites = format!("{path}/invites");
        let cara_only = json!({"user_ids": [cara.user_id]});
        error_body(app.post_as(&invites, &bob.access, &cara_only).await, 403, "forbidden").await;
        let ghost = json!({"user_ids": ["00000000-0000-7000-8000-000000000000"]});
        let err = error_body(app.post_as(&invites, &ana.access, &ghost).await, 422, "validation_error").await;
        assert!(err["details"]["fields"]["user_ids"].is_string(), "{err}");
        error_body(app.post_as(&invites, &ana.access, &json!({"user_ids": []})).await, 422, "validation_error").await;
        let res: Value = app.post_as(&invites, &ana.access, &cara_only).await.json().await.unwrap();
        assert_eq!(res["invited"], 1);
        let res: Value = app.post_as(&invites, &ana.access, &cara_only).await.json().await.unwrap();
        assert_eq!(res["invited"], 0, "once");
        assert_eq!(app.get_as(&path, &cara.access).await.status(), 200);

        // Only the host (or an admin) closes a room.
        error_body(delete_as(&app, &path, &bob).await, 403, "forbidden").await;
        assert_eq!(delete_as(&app, &path, &ana).await.status(), 204);
        error_body(app.get_as(&path, &ana.access).await, 404, "not_found").await;
        let admin = app.make_admin("cara@example.com").await;
        let path = format!("/api/meditation/rooms/{open_id}");
        assert_eq!(delete_as(&app, &path, &admin).await.status(), 204);
        assert!(room_ids(&app, &ana).await.is_empty());
    }
}

#[tokio::test]
async fn wrong_input_to_rooms_is_refused_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    assert_eq!(
        app.post_json("/api/meditation/rooms", &json!({"name": "x"}))
            .await
            .status(),
        401
    );
    for (body, field) in [
        (json!({"name": "  "}), "name"),
        (json!({"name": "x".repeat(101)}), "name"),
        (
            json!({"name": "a", "description": "d".repeat(1001)}),
            "description",
        ),
        (
            json!({"name": "a", "max_participants": 1}),
            "max_participants",
        ),
        (
            json!({"name": "a", "max_participants": 5000}),
            "max_participants",
        ),
        (json!({"name": "a", "visibility": "secret"}), "visibility"),
        (json!({"name": "a", "type": "yoga"}), "type"),
        (json!({"name": "a", "invite": ["not-an-id"]}), "invite[0]"),
        (
            json!({"name": "a", "invite": ["00000000-0000-7000-8000-000000000000"]}),
            "invite",
        ),
    ] {
        let res = app
            .post_as("/api/meditation/rooms", &ana.access, &body)
            .await;
        let err = error_body(res, 422, "validation_error").await;
        assert!(err["details"]["fields"][field].is_string(), "{body}: {err}");
    }
    let res = app
        .post_as(
            "/api/meditation/rooms",
            &ana.access,
            &json!({"name": "a", "colour": "red"}),
        )
        .await;
    error_body(res, 422, "validation_error").await;
    assert!(room_ids(&app, &ana).await.is_empty());
    for query in ["limit=0", "limit=500", "offset=-1", "colour=red"] {
        let res = app
            .get_as(&format!("/api/meditation/rooms?{query}"), &ana.access)
            .await;
        error_body(res, 422, "validation_error").await;
    }
    let missing = "/api/meditation/rooms/nope";
    error_body(app.get_as(missing, &ana.access).await, 404, "not_found").await;
    error_body(delete_as(&app, missing, &ana).await, 404, "not_found").await;
}

/// The error frame answering a frame of type `kind`, with its status.
async fn refused(ws: &mut Ws, kind: &str, status: u16) -> Value {
    let err = ws.next_of("error").await;
    assert_eq!(
        (err["for"].as_str(), err["status"].as_u64()),
        (Some(kind), Some(u64::from(status))),
        "{err}"
    );
    err
}

fn ids(participants: &Value) -> Vec<String> {
    participants
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["user_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn sessions_of(app: &TestApp, email: &str) -> Vec<Value> {
    let who = app.login(email).await;
    let page: Value = app
        .get_as("/api/sessions", &who.access)
        .await
        .json()
        .await
        .unwrap();
    page["items"].as_array().unwrap().clone()
}

fn at(v: &Value) -> jiff::Timestamp {
    v.as_str().unwrap().parse().unwrap()
}

crate::on_both_databases! {
    async fn a_group_session_starts_in_step_and_records_each_part(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let bob = app.register("bob@example.com").await;
        let cara = app.register("cara@example.com").await;
        let dan = app.register("dan@example.com").await;
        let room = create_room(&app, &ana, json!({"name": "Evening", "type": "body_scan"})).await;
        let room_id = room["id"].as_str().unwrap().to_owned();

        let mut a = app.group_ws(&ana).await;
        a.send(json!({"type": "join", "data": {"room_id": room_id}, "id": 1})).await;
        let joined = a.next_of("joined").await;
        assert_eq!((joined["id"].as_i64(), joined["room"]["id"].as_str()), (Some(1), Some(room_id.as_str())));
        assert_eq!(ids(&joined["participants"]), [ana.user_id.as_str()]);
        let mut b = app.group_ws(&bob).await;
        b.send(json!({"type": "join", "data": {"room_id": room_id}})).await;
        b.next_of("joined").await;
        // Everyone hears who came.
        let update = a.next_of("participants").await;
        let update = if update["count"] == 1 { a.next_of("participants").await } else { update };
        assert_eq!((update["count"].as_i64(), ids(&update["participants"])), (Some(2), vec![ana.user_id.clone(), bob.user_id.clone()]));
        let rest: Value = app.get_as(&format!("/api/meditation/rooms/{room_id}"), &cara.access).await.json().await.unwrap();
        assert_eq!(rest["room"]["participants"], 2);

        // Only the host starts; the duration is checked.
        b.send(json!({"type": "start", "data": {"duration_sec": 600}})).await;
        refused(&mut b, "start", 403).await;
        a.send(json!({"type": "start", "data": {"duration_sec": -5}})).await;
        refused(&mut a, "start", 422).await;
        a.send(json!({"type": "start", "data": {"duration_sec": 600}})).await;
        let on_a = a.next_of("session_started").await;
        let on_b = b.next_of("session_started").await;
        assert_eq!(on_a["starts_at"], on_b["starts_at"], "in step");
        assert_eq!(on_a["ends_at"], on_b["ends_at"]);
        let starts = at(&on_a["starts_at"]);
        assert_eq!(starts.duration_since(at(&on_a["server_time"])).as_secs(), 3, "a countdown");
        assert_eq!(at(&on_a["ends_at"]).duration_since(starts).as_secs(), 600);
        a.send(json!({"type": "start", "data": {"duration_sec": 60}})).await;
        refused(&mut a, "start", 409).await;

        // Cara comes late and joins what is left; Dan joins over REST.
        app.clock.advance(Duration::from_secs(103));
        let mut c = app.group_ws(&cara).await;
        c.send(json!({"type": "join", "data": {"room_id": room_id}})).await;
        let joined = c.next_of("joined").await;
        assert_eq!(joined["session"]["ends_at"], on_a["ends_at"]);
        assert_eq!(joined["my_session"]["planned_duration_sec"], 500);
        assert_eq!(joined["my_session"]["round_id"], on_a["round_id"]);
        let res = app.post_as("/api/meditation/start", &dan.access, &json!({"room_id": room_id})).await;
        assert_eq!(res.status(), 201);
        let dans: Value = res.json().await.unwrap();
        assert_eq!((dans["session"]["type"].as_str(), dans["session"]["round_id"].as_str()), (Some("body_scan"), on_a["round_id"].as_str()));

        // Bob leaves 300 s after the start: his part ends then.
        app.clock.advance(Duration::from_secs(200));
        b.send(json!({"type": "leave"})).await;
        assert_eq!(b.next_of("left").await["room_id"], room_id);
        b.send(json!({"type": "leave"})).await;
        refused(&mut b, "leave", 409).await;
        let bobs = sessions_of(&app, "bob@example.com").await;
        assert_eq!((bobs.len(), bobs[0]["duration_sec"].as_i64()), (1, Some(300)));

        // The host cannot be out-waited by someone else: only the host ends.
        c.send(json!({"type": "end"})).await;
        refused(&mut c, "end", 403).await;

        // The timer ends it for everyone still there, at its end time.
        app.clock.advance(Duration::from_secs(400));
        let ended = a.next_of("session_ended").await;
        assert_eq!((ended["reason"].as_str(), ended["ended_at"].as_str()), (Some("timer"), on_a["ends_at"].as_str()));
        assert_eq!(c.next_of("session_ended").await["round_id"], on_a["round_id"]);
        let anas = sessions_of(&app, "ana@example.com").await;
        assert_eq!((anas[0]["duration_sec"].as_i64(), anas[0]["room_id"].as_str()), (Some(600), Some(room_id.as_str())));
        assert_eq!(sessions_of(&app, "cara@example.com").await[0]["duration_sec"], 500);
        assert_eq!(sessions_of(&app, "dan@example.com").await[0]["duration_sec"], 500);
        let ana = app.login("ana@example.com").await;
        let stats: Value = app.get_as("/api/user/stats", &ana.access).await.json().await.unwrap();
        assert_eq!((stats["total_sessions"].as_i64(), stats["total_minutes"].as_f64()), (Some(1), Some(10.0)));

        // A second round, ended early by the host.
        a.send(json!({"type": "start", "data": {"duration_sec": 300}})).await;
        a.next_of("session_started").await;
        app.clock.advance(Duration::from_secs(63));
        a.send(json!({"type": "end"})).await;
        let ended = c.next_of("session_ended").await;
        assert_eq!(ended["reason"], "host");
        assert_eq!(sessions_of(&app, "cara@example.com").await[0]["duration_sec"], 60);
        a.send(json!({"type": "end"})).await;
        refused(&mut a, "end", 409).await;

        // Closing the room tells everyone in it.
        assert_eq!(delete_as(&app, &format!("/api/meditation/rooms/{room_id}"), &ana).await.status(), 204);
        assert_eq!(c.next_of("room_closed").await["room_id"], room_id);
        c.send(json!({"type": "start", "data": {"duration_sec": 60}})).await;
        refused(&mut c, "start", 409).await;
    }
}

#[tokio::test]
async fn bad_frames_on_the_group_socket_are_answered_and_the_socket_survives() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    let secret = create_room(
        &app,
        &bob,
        json!({"name": "Secret", "visibility": "invite_only"}),
    )
    .await;
    let mut a = app.group_ws(&ana).await;
    a.send_text("{not json").await;
    refused_untyped(&mut a, 400).await;
    a.send(json!({"type": "dance"})).await;
    refused(&mut a, "dance", 400).await;
    a.send(json!({"type": "join"})).await;
    refused(&mut a, "join", 422).await;
    a.send(json!({"type": "join", "data": {"room": "x"}})).await;
    refused(&mut a, "join", 422).await;
    a.send(json!({"type": "join", "data": {"room_id": "nope"}}))
        .await;
    refused(&mut a, "join", 404).await;
    a.send(json!({"type": "join", "data": {"room_id": secret["id"]}}))
        .await;
    refused(&mut a, "join", 404).await;
    a.send(json!({"type": "start", "data": {"duration_sec": 60}}))
        .await;
    refused(&mut a, "start", 409).await;
    a.send(json!({"type": "ping", "id": "p"})).await;
    let pong = a.next_of("pong").await;
    assert_eq!(pong["id"], "p");
    // A bad token is refused before the upgrade; a plain GET is no upgrade.
    let url = format!("ws://{}/meditation/group?token=bad", app.addr);
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 401),
        other => panic!("expected a 401, got {other:?}"),
    }
    let res = app.get("/meditation/group").await;
    error_body(res, 400, "validation_error").await;
}

async fn refused_untyped(ws: &mut Ws, status: u16) {
    let err = ws.next_of("error").await;
    assert_eq!(err["status"].as_u64(), Some(u64::from(status)), "{err}");
}

crate::on_both_databases! {
    async fn a_full_room_turns_people_away_and_a_busy_person_is_skipped(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let bob = app.register("bob@example.com").await;
        let cara = app.register("cara@example.com").await;
        let room = create_room(&app, &ana, json!({"name": "Pair", "max_participants": 2})).await;
        let room_id = room["id"].clone();
        let mut a = app.group_ws(&ana).await;
        a.send(json!({"type": "join", "data": {"room_id": room_id}})).await;
        a.next_of("joined").await;
        // Bob is meditating on his own when the group starts.
        let res = app.post_as("/api/meditation/start", &bob.access, &json!({"type": "focus"})).await;
        assert_eq!(res.status(), 201);
        let mut b = app.group_ws(&bob).await;
        b.send(json!({"type": "join", "data": {"room_id": room_id}})).await;
        b.next_of("joined").await;
        let mut c = app.group_ws(&cara).await;
        c.send(json!({"type": "join", "data": {"room_id": room_id}})).await;
        let err = refused(&mut c, "join", 409).await;
        assert_eq!(err["details"]["max_participants"], 2);
        // Not while nothing runs: a REST start with the room is refused.
        let res = app.post_as("/api/meditation/start", &cara.access, &json!({"room_id": room_id})).await;
        error_body(res, 409, "conflict").await;

        a.send(json!({"type": "start", "data": {"duration_sec": 120}})).await;
        let started = b.next_of("session_started").await;
        assert_eq!(started["skipped"], json!([bob.user_id]));
        let bobs = sessions_of(&app, "bob@example.com").await;
        assert_eq!((bobs.len(), bobs[0]["type"].as_str(), bobs[0]["round_id"].as_str()), (1, Some("focus"), None));

        // A socket closing is leaving: Ana's part ends when hers does.
        app.clock.advance(Duration::from_secs(33));
        drop(a);
        let update = b.next_of("participants").await;
        assert_eq!(ids(&update["participants"]), [bob.user_id.as_str()]);
        let anas = sessions_of(&app, "ana@example.com").await;
        assert_eq!(anas[0]["duration_sec"], 30);
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis"]
async fn a_group_session_spans_two_nodes() {
    let one = TestApp::builder().scaled_out().spawn().await;
    let two = TestApp::builder().node_of(&one).spawn().await;
    let ana = one.register("ana@example.com").await;
    let bob = one.register("bob@example.com").await;
    let cara = one.register("cara@example.com").await;
    let room = create_room(&one, &ana, json!({"name": "Across"})).await;
    let room_id = room["id"].clone();

    let mut a = one.group_ws(&ana).await;
    a.send(json!({"type": "join", "data": {"room_id": room_id}}))
        .await;
    a.next_of("joined").await;
    let mut b = two.group_ws(&bob).await;
    b.send(json!({"type": "join", "data": {"room_id": room_id}}))
        .await;
    let joined = b.next_of("joined").await;
    assert_eq!(
        ids(&joined["participants"]),
        [ana.user_id.clone(), bob.user_id.clone()]
    );
    // Node one's socket hears of Bob, who joined on node two.
    let update = a.next_of("participants").await;
    let update = if update["count"] == 1 {
        a.next_of("participants").await
    } else {
        update
    };
    assert_eq!(update["count"], 2);

    a.send(json!({"type": "start", "data": {"duration_sec": 300}}))
        .await;
    let on_a = a.next_of("session_started").await;
    let on_b = b.next_of("session_started").await;
    assert_eq!(on_a["starts_at"], on_b["starts_at"]);
    assert_eq!(on_a["ends_at"], on_b["ends_at"]);

    // Cara joins on node two while it runs; Ana, on node one, hears of it.
    let mut c = two.group_ws(&cara).await;
    c.send(json!({"type": "join", "data": {"room_id": room_id}}))
        .await;
    assert_eq!(
        c.next_of("joined").await["session"]["round_id"],
        on_a["round_id"]
    );
    loop {
        let update = a.next_of("participants").await;
        if update["count"] == 3 {
            break;
        }
    }

    // The timer ends it on whichever node runs the job; both nodes' sockets
    // hear, and everyone's part is recorded once.
    one.clock.advance(Duration::from_secs(400));
    two.clock.advance(Duration::from_secs(400));
    assert_eq!(b.next_of("session_ended").await["reason"], "timer");
    assert_eq!(a.next_of("session_ended").await["reason"], "timer");
    c.next_of("session_ended").await;
    for email in ["ana@example.com", "bob@example.com"] {
        let mine = sessions_of(&two, email).await;
        assert_eq!(
            (mine.len(), mine[0]["duration_sec"].as_i64()),
            (1, Some(300)),
            "{email}"
        );
    }
    assert_eq!(sessions_of(&one, "cara@example.com").await.len(), 1);
}

crate::on_both_databases! {
    async fn the_last_places_go_once_when_people_race_for_them(backend: Backend) {
        let app = TestApp::on(backend).await;
        let host = app.register("host@example.com").await;
        let room = create_room(&app, &host, json!({"name": "Small", "max_participants": 3})).await;
        let mut sockets = Vec::new();
        for i in 0..6 {
            let who = app.register(&format!("p{i}@example.com")).await;
            sockets.push(app.group_ws(&who).await);
        }
        let joins = sockets.iter_mut().map(|ws| {
            let room_id = room["id"].clone();
            async move {
                ws.send(json!({"type": "join", "data": {"room_id": room_id}})).await;
                loop {
                    let frame = ws.next().await;
                    match frame["type"].as_str() {
                        Some("joined") => return 200,
                        Some("error") => return frame["data"]["status"].as_u64().unwrap_or(0),
                        _ => {}
                    }
                }
            }
        });
        let mut answers = futures_util::future::join_all(joins).await;
        answers.sort_unstable();
        assert_eq!(answers, [200, 200, 200, 409, 409, 409]);
        let detail: Value = app.get_as(&format!("/api/meditation/rooms/{}", room["id"].as_str().unwrap()), &host.access).await.json().await.unwrap();
        assert_eq!(detail["participants"].as_array().unwrap().len(), 3);
    }
}
