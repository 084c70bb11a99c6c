//! Input no store can keep or no person should be shown: NUL anywhere,
//! hidden characters in names and addresses. All refused with a 422 in the
//! error format before anything is written, over REST and over sockets.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, error_body};

const NUL: &str = "a\u{0}b";

crate::on_both_databases! {
    async fn a_nul_in_any_string_is_422_and_nothing_is_written(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let bob = app.register("bob@example.com").await;
        let chat = app.group(&ana, "g", &[&bob]).await;
        let messages = format!("/api/chats/{chat}/messages");
        let cases: Vec<(Method, String, Option<&str>, Value)> = vec![
            (Method::POST, "/api/auth/login".into(), None, json!({"email": NUL, "password": PASSWORD})),
            (Method::POST, "/api/auth/login".into(), None, json!({"username": NUL, "password": PASSWORD})),
            (Method::POST, "/api/auth/login".into(), None, json!({"email": "ana@example.com", "password": NUL})),
            (Method::POST, "/api/auth/register".into(), None, json!({"email": "cy@example.com", "password": PASSWORD, "display_name": NUL})),
            (Method::POST, "/api/auth/password/forgot".into(), None, json!({"email": NUL})),
            (Method::PUT, "/api/user/profile".into(), Some(&ana.access), json!({"bio": NUL})),
            (Method::POST, "/api/chats".into(), Some(&ana.access), json!({"type": "group", "name": NUL, "member_ids": [bob.user_id]})),
            (Method::POST, messages.clone(), Some(&ana.access), json!({"content": NUL})),
            (Method::POST, messages.clone(), Some(&ana.access), json!({"content": "ok", "client_id": NUL})),
            (Method::POST, "/api/projects".into(), Some(&ana.access), json!({"title": "A title", "description": NUL, "skills": [], "currency": "usd"})),
            (Method::POST, "/api/projects".into(), Some(&ana.access), json!({"title": "A title", "description": "d", "skills": [NUL], "currency": "usd"})),
            (Method::POST, "/api/meditation/rooms".into(), Some(&ana.access), json!({"name": NUL})),
            (Method::POST, "/api/meditation/start".into(), Some(&ana.access), json!({"room_id": NUL})),
        ];
        for (method, path, token, body) in &cases {
            let res = app.send(method.clone(), path, *token, Some(body)).await;
            let err = error_body(res, 422, "validation_error").await;
            assert!(err["error"].as_str().unwrap().contains("NUL"), "{method} {path}: {err}");
        }
        for path in [
            "/api/messages/search?q=a%00b",
            "/api/projects?q=a%00b",
            "/api/v1/users?q=a%00b",
        ] {
            let err = error_body(app.get_as(path, &ana.access).await, 422, "validation_error").await;
            assert!(err["error"].as_str().unwrap().contains("NUL"), "{path}: {err}");
        }
        let history: Value = app.get_as(&messages, &ana.access).await.json().await.unwrap();
        assert_eq!(history["items"].as_array().unwrap().len(), 0, "nothing was sent");
        let projects: Value = app.get_as(&format!("/api/projects?owner_id={}&status=draft", ana.user_id), &ana.access).await.json().await.unwrap();
        assert_eq!(projects["total"], 0, "{projects}");

        let mut ws = app.ws(&ana).await;
        ws.send(json!({"type": "send_message", "id": 1, "data": {"room_id": chat, "content": NUL}})).await;
        let err = ws.next_of("error").await;
        assert_eq!((err["status"].as_u64(), err["type"].as_str()), (Some(422), Some("validation_error")), "{err}");
        assert!(err["error"].as_str().unwrap().contains("NUL"), "{err}");
    }
}

crate::on_both_databases! {
    async fn names_and_addresses_refuse_hidden_characters(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        for (field, value) in [
            ("email", json!("ad\u{202e}min@example.com")),
            ("email", json!("a\u{200b}b@example.com")),
            ("display_name", json!("ad\u{202e}nimda")),
            ("display_name", json!("Ana\u{7}")),
        ] {
            let mut body = json!({"email": "cy@example.com", "password": PASSWORD});
            body[field] = value;
            let res = app.post_json("/api/auth/register", &body).await;
            let err = error_body(res, 422, "validation_error").await;
            assert!(err["details"]["fields"][field].is_string(), "{field}: {err}");
        }
        let group = json!({"type": "group", "name": "Team\u{2066}", "member_ids": []});
        error_body(app.post_as("/api/chats", &ana.access, &group).await, 422, "validation_error").await;
        let room = json!({"name": "Sit\u{feff}"});
        error_body(app.post_as("/api/meditation/rooms", &ana.access, &room).await, 422, "validation_error").await;
        let project = json!({"title": "Pay\u{202e}ments", "description": "d", "skills": [], "currency": "usd"});
        error_body(app.post_as("/api/projects", &ana.access, &project).await, 422, "validation_error").await;

        // Names that need joiners are names: Persian with a zero-width
        // non-joiner, an emoji family with zero-width joiners.
        let res = app
            .post_json("/api/auth/register", &json!({"email": "dara@example.com", "password": PASSWORD, "display_name": "می\u{200c}خواهم 👨\u{200d}👩\u{200d}👧"}))
            .await;
        assert_eq!(res.status(), 201);
        let group = json!({"type": "group", "name": "Дом 🏠", "member_ids": []});
        assert_eq!(app.post_as("/api/chats", &ana.access, &group).await.status(), 201);
    }
}

#[tokio::test]
async fn deep_huge_and_broken_input_is_a_clear_4xx() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let raw = |body: Vec<u8>| {
        app.client
            .post(app.url("/api/auth/login"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    // Nested far past serde_json's recursion limit: refused, not a stack overflow.
    // (400 when the parser stops at its depth, 422 when the shape is wrong first.)
    let clear = |s: reqwest::StatusCode| matches!(s.as_u16(), 400 | 422);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(clear(raw(deep.into_bytes()).await.unwrap().status()));
    let deep_object = format!(
        "{{\"email\": {}1{}}}",
        "{\"a\":".repeat(5_000),
        "}".repeat(5_000)
    );
    assert!(clear(raw(deep_object.into_bytes()).await.unwrap().status()));
    let deep_field = format!(
        "{{\"email\": \"a@b.io\", \"password\": \"p\", \"x\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(clear(raw(deep_field.into_bytes()).await.unwrap().status()));
    // Not UTF-8.
    let mut broken = br#"{"email": "a"#.to_vec();
    broken.extend([0xff, 0xfe, b'"', b'}']);
    assert_eq!(raw(broken).await.unwrap().status(), 400);
    // Over the body limit (2 MiB): 413 before it is parsed.
    let huge = format!(r#"{{"email": "{}", "password": "x"}}"#, "a".repeat(3 << 20));
    assert_eq!(raw(huge.into_bytes()).await.unwrap().status(), 413);
    // Numbers past every type.
    let n = app
        .post_json(
            "/api/auth/login",
            &serde_json::from_str::<Value>(
                r#"{"email": 1e400, "password": 99999999999999999999999}"#,
            )
            .unwrap_or(json!({"email": 1, "password": 2})),
        )
        .await;
    assert_eq!(n.status(), 422);
    for path in [
        "/api/chats?limit=99999999999999999999",
        "/api/chats?offset=-1",
        "/api/projects?offset=4294967296",
        "/api/projects?limit=0",
        "/api/notifications?limit=1e9",
    ] {
        let res = app.get_as(path, &ana.access).await;
        assert_eq!(res.status(), 422, "{path}");
    }
}
