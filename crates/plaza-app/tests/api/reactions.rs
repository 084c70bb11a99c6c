//! Seed 002's message paths, reactions and threads.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_body};

async fn ok_json(res: reqwest::Response) -> Value {
    assert!(res.status().is_success(), "{}", res.status());
    res.json().await.unwrap()
}

crate::on_both_databases! {
    async fn seed_002_messages_and_reactions(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let bob = app.register("bob@example.com").await;
        let eve = app.register("eve@example.com").await;
        let group = ok_json(app.post_as("/api/chats", &ana.access, &json!({"type": "group", "name": "G", "member_ids": [bob.user_id]})).await).await;
        let gid = group["id"].as_str().unwrap();
        let channel = ok_json(app.post_as("/api/chats", &ana.access, &json!({"type": "channel", "name": "c", "group_id": gid, "member_ids": [bob.user_id]})).await).await;
        let cid = channel["id"].as_str().unwrap();

        let res = app.post_as("/api/v1/messages", &bob.access, &json!({"group_id": gid, "channel_id": cid, "content": "Hello, world!", "message_type": "text"})).await;
        let in_channel = ok_json(res).await;
        assert_eq!(in_channel["chat_id"], cid);
        for n in 0..3 {
            app.post_as("/api/v1/messages", &ana.access, &json!({"group_id": gid, "content": format!("g{n}")})).await;
        }
        // A channel of another group, and an outsider: not found.
        let other = ok_json(app.post_as("/api/chats", &eve.access, &json!({"type": "group", "name": "E"})).await).await;
        let res = app.post_as("/api/v1/messages", &ana.access, &json!({"group_id": other["id"], "channel_id": cid, "content": "x"})).await;
        error_body(res, 404, "not_found").await;
        let res = app.post_as("/api/v1/messages", &eve.access, &json!({"group_id": gid, "content": "x"})).await;
        error_body(res, 404, "not_found").await;
        error_body(app.post_as("/api/v1/messages", &ana.access, &json!({"content": "x"})).await, 422, "validation_error").await;

        let page = ok_json(app.get_as(&format!("/api/v1/messages/group/{gid}?limit=2&offset=0"), &bob.access).await).await;
        let texts: Vec<&str> = page["items"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap()).collect();
        assert_eq!(texts, ["g2", "g1"]);
        assert_eq!((page["total"].clone(), page["has_more"].clone()), (json!(3), json!(true)));
        error_body(app.get_as(&format!("/api/v1/messages/group/{gid}?limit=0"), &bob.access).await, 422, "validation_error").await;
        error_body(app.get_as(&format!("/api/v1/messages/group/{gid}"), &eve.access).await, 404, "not_found").await;

        // Reactions: counted per emoji, with my own marked; twice is once.
        let target = page["items"][0]["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/messages/{target}/reactions");
        for who in [&ana, &bob, &bob] {
            ok_json(app.post_as(&path, &who.access, &json!({"emoji": "👍"})).await).await;
        }
        let state = ok_json(app.post_as(&path, &ana.access, &json!({"emoji": "🎉"})).await).await;
        assert_eq!(state["reactions"]["👍"], json!({"count": 2, "me": true}));
        assert_eq!(state["reactions"]["🎉"], json!({"count": 1, "me": true}));
        let seen = ok_json(app.get_as(&format!("/api/chats/{gid}/messages"), &bob.access).await).await;
        let newest = seen["items"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(newest["reactions"]["🎉"], json!({"count": 1, "me": false}));
        let after = ok_json(app.send(Method::DELETE, &format!("{path}?emoji=%F0%9F%91%8D"), Some(&bob.access), None).await).await;
        assert_eq!(after["reactions"]["👍"], json!({"count": 1, "me": false}));
        for bad in [json!({"emoji": ""}), json!({"emoji": "not an emoji at all"}), json!({})] {
            error_body(app.post_as(&path, &ana.access, &bad).await, 422, "validation_error").await;
        }
        error_body(app.post_as(&path, &eve.access, &json!({"emoji": "👍"})).await, 404, "not_found").await;
        error_body(app.post_as("/api/v1/messages/nope/reactions", &ana.access, &json!({"emoji": "👍"})).await, 404, "not_found").await;
        error_body(app.send(Method::DELETE, &path, Some(&ana.access), None).await, 422, "validation_error").await;
    }
}

crate::on_both_databases! {
    async fn a_thread_lists_its_replies_and_tracks_my_reading(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let bob = app.register("bob@example.com").await;
        let group = ok_json(app.post_as("/api/chats", &ana.access, &json!({"type": "group", "name": "G", "member_ids": [bob.user_id]})).await).await;
        let gid = group["id"].as_str().unwrap();
        let root = ok_json(app.post_as(&format!("/api/chats/{gid}/messages"), &ana.access, &json!({"content": "root"})).await).await;
        let rid = root["id"].as_str().unwrap();
        app.post_as(&format!("/api/chats/{gid}/messages"), &ana.access, &json!({"content": "elsewhere"})).await;
        let mut replies = Vec::new();
        for text in ["r1", "r2", "r3"] {
            replies.push(ok_json(app.post_as(&format!("/api/chats/{gid}/messages"), &bob.access, &json!({"content": text, "reply_to": rid})).await).await);
        }
        let path = format!("/api/chats/{gid}/messages/{rid}/replies");
        let thread = ok_json(app.get_as(&path, &ana.access).await).await;
        let texts: Vec<&str> = thread["items"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap()).collect();
        assert_eq!(texts, ["r1", "r2", "r3"]);
        assert_eq!((thread["unread_count"].clone(), thread["last_read_seq"].clone()), (json!(3), json!(0)));
        assert_eq!(ok_json(app.get_as(&path, &bob.access).await).await["unread_count"], 0, "my own replies are read");

        let read = format!("/api/chats/{gid}/messages/{rid}/read");
        let after = ok_json(app.post_as(&read, &ana.access, &json!({"seq": replies[1]["seq"]})).await).await;
        assert_eq!(after["unread_count"], 1);
        // Markers only move forward.
        let again = ok_json(app.post_as(&read, &ana.access, &json!({"seq": 1})).await).await;
        assert_eq!(again["last_read_seq"], replies[1]["seq"]);
        error_body(app.post_as(&read, &ana.access, &json!({"seq": 999})).await, 422, "validation_error").await;

        let reply_as_root = format!("/api/chats/{gid}/messages/{}/replies", replies[0]["id"].as_str().unwrap());
        error_body(app.get_as(&reply_as_root, &ana.access).await, 404, "not_found").await;
        error_body(app.get_as(&format!("/api/chats/{gid}/messages/nope/replies"), &ana.access).await, 404, "not_found").await;
        let eve = app.register("eve@example.com").await;
        error_body(app.get_as(&path, &eve.access).await, 404, "not_found").await;
    }
}

crate::on_both_databases! {
    async fn search_finds_words_in_my_chats_only(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let eve = app.register("eve@example.com").await;
        let mine = ok_json(app.post_as("/api/chats", &ana.access, &json!({"type": "group", "name": "Mine"})).await).await;
        let theirs = ok_json(app.post_as("/api/chats", &eve.access, &json!({"type": "group", "name": "Theirs"})).await).await;
        let (mine, theirs) = (mine["id"].as_str().unwrap(), theirs["id"].as_str().unwrap());
        let post = |chat: &str, who: &crate::helpers::Tokens, text: &str| {
            let (path, token, body) = (format!("/api/chats/{chat}/messages"), who.access.clone(), json!({"content": text}));
            let app = &app;
            async move { ok_json(app.post_as(&path, &token, &body).await).await }
        };
        post(mine, &ana, "Release notes are ready").await;
        post(mine, &ana, "release party tonight").await;
        let gone = post(mine, &ana, "release secrets").await;
        post(mine, &ana, "Заметки к релизу готовы").await;
        post(theirs, &eve, "release notes of someone else").await;
        app.send(Method::DELETE, &format!("/api/chats/{mine}/messages/{}", gone["id"].as_str().unwrap()), Some(&ana.access), None).await;

        let texts = |v: Value| -> Vec<String> { v["items"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap().to_owned()).collect() };
        let found = ok_json(app.get_as("/api/messages/search?q=release%20notes", &ana.access).await).await;
        assert_eq!(texts(found), ["Release notes are ready"]);
        let found = ok_json(app.get_as("/api/messages/search?q=RELEASE", &ana.access).await).await;
        let mut all = texts(found);
        all.sort();
        assert_eq!(all, ["Release notes are ready", "release party tonight"], "tombstones and others' chats excluded");
        let found = ok_json(app.get_as("/api/messages/search?q=%D0%B7%D0%B0%D0%BC%D0%B5%D1%82%D0%BA%D0%B8", &ana.access).await).await;
        assert_eq!(texts(found), ["Заметки к релизу готовы"]);
        let found = ok_json(app.get_as(&format!("/api/messages/search?q=release&chat_id={theirs}"), &ana.access).await).await;
        assert_eq!(texts(found), Vec::<String>::new());
        // Operators are words, not syntax.
        let found = ok_json(app.get_as("/api/messages/search?q=release%20OR%20%22", &ana.access).await).await;
        assert!(texts(found).is_empty());
        for bad in ["q=", "q=%20", "q=a&limit=0", "q=a&chat_id=nope"] {
            error_body(app.get_as(&format!("/api/messages/search?{bad}"), &ana.access).await, 422, "validation_error").await;
        }
    }
}
