//! A stranger with a valid account tries every id-bearing operation of the
//! OpenAPI document on someone else's things (broken object-level
//! authorisation, OWASP API1): each is refused with 403 or 404, and nothing
//! of the owner's changes.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Public reads a stranger may make (a profile, the directory).
const PUBLIC: &[&str] = &["GET /api/profiles/{id}", "GET /api/v1/users/{id}"];

/// Bodies that would succeed for the owner, so a refusal is about who asks,
/// not about a body's shape.
fn body_for(method: &Method, path: &str, stranger: &str) -> Value {
    match (method.as_str(), path) {
        ("PUT", "/api/chats/{id}/messages/{message_id}") => json!({"content": "pwned"}),
        ("POST", "/api/chats/{id}/messages") => json!({"content": "pwned"}),
        ("POST", "/api/chats/{id}/members") => json!({"user_ids": [stranger]}),
        ("PUT", "/api/chats/{id}/members/{user_id}") => json!({"role": "admin"}),
        ("POST", "/api/chats/{id}/members/{user_id}/mute") => json!({"minutes": 5}),
        ("POST", "/api/chats/{id}/messages/{message_id}/read")
        | ("POST", "/api/chats/{id}/read") => json!({"seq": 1}),
        ("POST", "/api/v1/messages/{message_id}/reactions") => json!({"emoji": "👍"}),
        ("POST", "/api/meditation/rooms/{id}/invites") => json!({"user_ids": [stranger]}),
        ("PUT", "/api/projects/{id}") => json!({"title": "pwned project"}),
        ("POST", "/api/projects/{id}/responses") => {
            json!({"cover_letter": "pwned", "bid_amount": 100, "currency": "usd", "eta_days": 3})
        }
        ("PUT", "/api/projects/{id}/responses/{rid}") => json!({"status": "accepted"}),
        ("PUT", "/api/profiles/{id}") => json!({"bio": "pwned"}),
        ("PUT", "/api/notifications/{id}") => json!({"read": true}),
        ("PUT", "/api/notifications/templates/{id}") => {
            json!({"type": "x.y", "channel": "in_app", "locale": "en", "subject": "pwned", "body": "pwned"})
        }
        ("PUT", "/api/admin/users/{id}") => json!({"role": "admin"}),
        ("POST", "/api/payments/{id}/refund") => json!({"amount": 100}),
        _ => json!({}),
    }
}

#[tokio::test]
async fn a_stranger_is_refused_every_id_bearing_operation() {
    let app = TestApp::builder()
        .config(|c| {
            c.rate_limit.general =
                plaza_platform::config::Rate::new(100_000, Duration::from_secs(60));
        })
        .spawn()
        .await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    let eve = app.register("eve@example.com").await;
    app.register("root@example.com").await;
    let admin = app.make_admin("root@example.com").await;
    let ok = |res: reqwest::Response| async move {
        assert!(res.status().is_success(), "{}", res.status());
        res.json::<Value>().await.unwrap()
    };

    // Ana's things.
    let chat = app.group(&ana, "private", &[&bob]).await;
    let message = ok(app
        .post_as(
            &format!("/api/chats/{chat}/messages"),
            &ana.access,
            &json!({"content": "mine"}),
        )
        .await)
    .await;
    let draft = ok(app
        .post_as(
            "/api/projects",
            &ana.access,
            &json!({"title": "My draft", "description": "d", "skills": [], "currency": "usd"}),
        )
        .await)
    .await;
    let open = ok(app.post_as("/api/projects", &ana.access, &json!({"title": "Open one", "description": "d", "skills": [], "currency": "usd", "status": "open"})).await).await;
    let open_id = open["project"]["id"].as_str().unwrap().to_owned();
    let response = ok(app.post_as(&format!("/api/projects/{open_id}/responses"), &bob.access, &json!({"cover_letter": "hire me", "bid_amount": 100, "currency": "usd", "eta_days": 3})).await).await;
    let room = ok(app
        .post_as(
            "/api/meditation/rooms",
            &ana.access,
            &json!({"name": "Closed", "visibility": "invite_only"}),
        )
        .await)
    .await;
    let template = ok(app.post_as("/api/notifications/templates", &admin.access, &json!({"type": "project.update", "channel": "in_app", "locale": "en", "subject": "s", "body": "b"})).await).await;
    ok(app
        .post_as(
            "/api/notifications",
            &admin.access,
            &json!({"to": [ana.user_id], "type": "admin.announcement", "title": "Hi"}),
        )
        .await)
    .await;
    let mut notification = None;
    for _ in 0..100 {
        let list: Value = app
            .get_as("/api/notifications", &ana.access)
            .await
            .json()
            .await
            .unwrap();
        if let Some(id) = list["items"][0]["id"].as_str() {
            notification = Some(id.to_owned());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let sessions: Value = app
        .get_as("/api/auth/sessions", &ana.access)
        .await
        .json()
        .await
        .unwrap();
    let file = {
        let part = reqwest::multipart::Part::bytes(b"secret notes".to_vec()).file_name("notes.txt");
        let res = app
            .client
            .post(app.url("/api/files"))
            .bearer_auth(&ana.access)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .unwrap();
        ok(res).await
    };
    let payment = ok(app
        .post_as(
            "/api/payments",
            &ana.access,
            &json!({"amount": 500, "currency": "USD", "purpose": "top_up"}),
        )
        .await)
    .await;
    let fitness_plan = ok(app
        .post_as(
            "/api/fitness/plans",
            &ana.access,
            &json!({"kind": "workout", "generate": true}),
        )
        .await)
    .await;
    let coached = ok(app
        .post_as(
            "/api/ai/enhanced-chat",
            &ana.access,
            &json!({"message": "How do I squat?"}),
        )
        .await)
    .await;
    let id_of = |v: &Value| {
        v["id"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no id in {v}"))
    };
    let ids: BTreeMap<&str, String> = BTreeMap::from([
        ("/api/chats/", chat.clone()),
        ("/api/projects/", id_of(&draft["project"])),
        ("/api/payments/", id_of(&payment["payment"])),
        ("/api/fitness/plans/", id_of(&fitness_plan["plan"])),
        (
            "/api/ai/chats/",
            coached["conversation_id"].as_str().unwrap().to_owned(),
        ),
        ("/api/ai/requests/", id_of(&coached["request"])),
        (
            "/api/meditation/rooms/",
            id_of(
                &room["room"]
                    .as_object()
                    .map_or(room.clone(), |_| room["room"].clone()),
            ),
        ),
        ("/api/notifications/templates/", id_of(&template)),
        (
            "/api/notifications/",
            notification.expect("Ana's notification"),
        ),
        (
            "/api/auth/sessions/",
            sessions["items"][0]["id"].as_str().unwrap().to_owned(),
        ),
        ("/api/files/", id_of(&file)),
        ("/api/profiles/", ana.user_id.clone()),
        ("/api/v1/users/", ana.user_id.clone()),
        ("/api/admin/users/", ana.user_id.clone()),
        ("/api/admin/jobs/", uuid::Uuid::now_v7().to_string()),
    ]);
    let message_id = id_of(
        &message["message"]
            .as_object()
            .map_or(message.clone(), |_| message["message"].clone()),
    );

    let doc: Value = app.openapi().await;
    let mut tried = 0;
    let mut refused = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.contains('{') || path.contains("{provider}") || path.contains("{queue}") {
            continue;
        }
        for (method, _) in item.as_object().unwrap() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let name = format!("{method} {path}");
            // Which project: the open one where a response is named, Ana's draft elsewhere.
            let mut concrete = path
                .replace("{message_id}", &message_id)
                .replace("{group_id}", &chat);
            concrete = concrete.replace("{user_id}", &bob.user_id);
            if path.contains("{rid}") {
                concrete = concrete.replace("{id}", &open_id).replace(
                    "{rid}",
                    &id_of(
                        &response["response"]
                            .as_object()
                            .map_or(response.clone(), |_| response["response"].clone()),
                    ),
                );
            }
            if concrete.contains("{id}") {
                let (_, id) = ids
                    .iter()
                    .filter(|(prefix, _)| path.starts_with(*prefix))
                    .max_by_key(|(prefix, _)| prefix.len())
                    .unwrap_or_else(|| panic!("no id for {name}"));
                concrete = concrete.replace("{id}", id);
            }
            if name == "DELETE /api/v1/messages/{message_id}/reactions" {
                concrete.push_str("?emoji=%F0%9F%91%8D");
            }
            let body = body_for(&method, path, &eve.user_id);
            let res = app
                .send(method.clone(), &concrete, Some(&eve.access), Some(&body))
                .await;
            let status = res.status().as_u16();
            tried += 1;
            if PUBLIC.contains(&name.as_str()) {
                assert!(status < 500, "{name}: {status}");
                continue;
            }
            if !matches!(status, 403 | 404) {
                refused.push(format!(
                    "{name} → {status}: {}",
                    res.text().await.unwrap_or_default()
                ));
            }
        }
    }
    assert!(
        refused.is_empty(),
        "a stranger got through:\n{}",
        refused.join("\n")
    );
    assert!(tried >= 45, "only {tried} operations tried");
    eprintln!("BOLA: {tried} id-bearing operations tried as a stranger, all refused");

    // Nothing of Ana's changed.
    let history: Value = app
        .get_as(&format!("/api/chats/{chat}/messages"), &ana.access)
        .await
        .json()
        .await
        .unwrap();
    let contents: Vec<&Value> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["content"])
        .collect();
    assert_eq!(contents, [&json!("mine")]);
    let members: Value = app
        .get_as(&format!("/api/chats/{chat}/members"), &ana.access)
        .await
        .json()
        .await
        .unwrap();
    assert!(!members.to_string().contains(&eve.user_id), "{members}");
    let mine: Value = app
        .get_as(
            &format!("/api/projects/{}", ids["/api/projects/"]),
            &ana.access,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        mine["project"]["title"].as_str().or(mine["title"].as_str()),
        Some("My draft")
    );
    assert_eq!(
        app.get_as("/api/auth/me", &ana.access).await.status(),
        200,
        "her session lives"
    );
}
