//! Members, roles, edits, deletes, reads and channels: each role allowed and refused.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Tokens, error_body};

async fn ok_json(res: reqwest::Response) -> Value {
    assert!(res.status().is_success(), "{}", res.status());
    res.json().await.unwrap()
}

struct Team {
    app: TestApp,
    owner: Tokens,
    admin: Tokens,
    moderator: Tokens,
    member: Tokens,
    outsider: Tokens,
    group: String,
}

async fn team() -> Team {
    let app = TestApp::spawn().await;
    let owner = app.register("owner@example.com").await;
    let admin = app.register("admin@example.com").await;
    let moderator = app.register("mod@example.com").await;
    let member = app.register("member@example.com").await;
    let outsider = app.register("outsider@example.com").await;
    let ids = [&admin, &moderator, &member].map(|t| t.user_id.clone());
    let group = ok_json(
        app.post_as(
            "/api/chats",
            &owner.access,
            &json!({"type": "group", "name": "Team", "member_ids": ids}),
        )
        .await,
    )
    .await;
    let group = group["id"].as_str().unwrap().to_owned();
    for (who, role) in [(&admin, "admin"), (&moderator, "moderator")] {
        let res = app
            .send(
                Method::PUT,
                &format!("/api/chats/{group}/members/{}", who.user_id),
                Some(&owner.access),
                Some(&json!({"role": role})),
            )
            .await;
        assert_eq!(res.status(), 204);
    }
    Team {
        app,
        owner,
        admin,
        moderator,
        member,
        outsider,
        group,
    }
}

impl Team {
    async fn role_of(&self, user: &Tokens) -> Option<String> {
        let list = ok_json(
            self.app
                .get_as(
                    &format!("/api/chats/{}/members", self.group),
                    &self.owner.access,
                )
                .await,
        )
        .await;
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["user_id"] == user.user_id.as_str())
            .map(|m| m["role"].as_str().unwrap().to_owned())
    }

    async fn add(&self, by: &Tokens, user: &Tokens, role: &str) -> reqwest::Response {
        let path = format!("/api/chats/{}/members", self.group);
        self.app
            .post_as(
                &path,
                &by.access,
                &json!({"user_ids": [user.user_id], "role": role}),
            )
            .await
    }

    async fn remove(&self, by: &Tokens, user: &Tokens) -> reqwest::Response {
        let path = format!("/api/chats/{}/members/{}", self.group, user.user_id);
        self.app
            .send(Method::DELETE, &path, Some(&by.access), None)
            .await
    }

    async fn post(&self, who: &Tokens, text: &str) -> reqwest::Response {
        let path = format!("/api/chats/{}/messages", self.group);
        self.app
            .post_as(&path, &who.access, &json!({"content": text}))
            .await
    }

    async fn channels(&self, who: &Tokens) -> reqwest::Response {
        self.app
            .get_as(&format!("/api/chats/{}/channels", self.group), &who.access)
            .await
    }

    async fn join(&self, who: &Tokens, chat: &str) -> reqwest::Response {
        self.app
            .send(
                Method::POST,
                &format!("/api/chats/{chat}/join"),
                Some(&who.access),
                None,
            )
            .await
    }

    async fn put_role(&self, by: &Tokens, user: &Tokens, role: &str) -> reqwest::Response {
        self.app
            .send(
                Method::PUT,
                &format!("/api/chats/{}/members/{}", self.group, user.user_id),
                Some(&by.access),
                Some(&json!({"role": role})),
            )
            .await
    }
}

#[tokio::test]
async fn roles_bound_who_may_add_promote_and_remove() {
    let t = team().await;
    let app = &t.app;
    let g = &t.group;
    assert_eq!(t.role_of(&t.admin).await.as_deref(), Some("admin"));
    let extra = app.register("extra@example.com").await;
    error_body(t.add(&t.member, &extra, "member").await, 403, "forbidden").await;
    error_body(
        t.add(&t.moderator, &extra, "member").await,
        403,
        "forbidden",
    )
    .await;
    error_body(
        t.add(&t.admin, &extra, "owner").await,
        422,
        "validation_error",
    )
    .await;
    assert!(
        t.add(&t.admin, &extra, "member")
            .await
            .status()
            .is_success()
    );
    let bad = app
        .post_as(
            &format!("/api/chats/{g}/members"),
            &t.owner.access,
            &json!({"user_ids": ["0199a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b"]}),
        )
        .await;
    error_body(bad, 422, "validation_error").await;
    error_body(
        app.post_as(
            &format!("/api/chats/{g}/members"),
            &t.owner.access,
            &json!({"user_ids": []}),
        )
        .await,
        422,
        "validation_error",
    )
    .await;

    // Never above one's own, never over an equal.
    error_body(
        t.put_role(&t.admin, &t.member, "owner").await,
        422,
        "validation_error",
    )
    .await;
    assert_eq!(
        t.put_role(&t.admin, &t.member, "moderator").await.status(),
        204
    );
    error_body(
        t.put_role(&t.admin, &t.admin, "member").await,
        403,
        "forbidden",
    )
    .await;
    error_body(
        t.put_role(&t.moderator, &t.member, "member").await,
        403,
        "forbidden",
    )
    .await;
    error_body(
        t.put_role(&t.member, &t.moderator, "member").await,
        403,
        "forbidden",
    )
    .await;
    let other_admin = app.register("admin2@example.com").await;
    t.add(&t.owner, &other_admin, "admin").await;
    error_body(
        t.put_role(&t.admin, &other_admin, "member").await,
        403,
        "forbidden",
    )
    .await;
    error_body(
        t.put_role(&t.owner, &t.outsider, "member").await,
        404,
        "not_found",
    )
    .await;
    error_body(
        t.put_role(&t.owner, &t.member, "king").await,
        422,
        "validation_error",
    )
    .await;

    // Removing: admins remove those below them; members remove nobody.
    error_body(t.remove(&t.moderator, &extra).await, 403, "forbidden").await;
    error_body(t.remove(&t.admin, &other_admin).await, 403, "forbidden").await;
    assert_eq!(t.remove(&t.admin, &extra).await.status(), 204);
    assert_eq!(t.role_of(&extra).await, None);
    error_body(
        app.get_as(&format!("/api/chats/{g}/messages"), &extra.access)
            .await,
        404,
        "not_found",
    )
    .await;
    // Outsiders see nothing.
    error_body(
        app.get_as(&format!("/api/chats/{g}/members"), &t.outsider.access)
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn edits_and_deletes_follow_authorship_and_moderation() {
    let t = team().await;
    let app = &t.app;
    let g = &t.group;
    let mine = ok_json(t.post(&t.member, "typo").await).await;
    let theirs = ok_json(t.post(&t.admin, "admin says").await).await;
    let path = |m: &Value| format!("/api/chats/{g}/messages/{}", m["id"].as_str().unwrap());

    let edited = ok_json(
        app.send(
            Method::PUT,
            &path(&mine),
            Some(&t.member.access),
            Some(&json!({"content": "fixed"})),
        )
        .await,
    )
    .await;
    assert_eq!(edited["content"], "fixed");
    assert!(edited["edited_at"].is_string());
    let res = app
        .send(
            Method::PUT,
            &path(&theirs),
            Some(&t.member.access),
            Some(&json!({"content": "hijack"})),
        )
        .await;
    error_body(res, 403, "forbidden").await;
    let res = app
        .send(
            Method::PUT,
            &path(&mine),
            Some(&t.member.access),
            Some(&json!({"content": ""})),
        )
        .await;
    error_body(res, 422, "validation_error").await;

    error_body(
        app.send(Method::DELETE, &path(&theirs), Some(&t.member.access), None)
            .await,
        403,
        "forbidden",
    )
    .await;
    let tomb = ok_json(
        app.send(
            Method::DELETE,
            &path(&theirs),
            Some(&t.moderator.access),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        (tomb["deleted"].clone(), tomb["content"].clone()),
        (json!(true), Value::Null)
    );
    let own = ok_json(
        app.send(Method::DELETE, &path(&mine), Some(&t.member.access), None)
            .await,
    )
    .await;
    assert_eq!(own["deleted"], true);
    // A tombstone keeps its seq; it cannot be edited or deleted again.
    let page = ok_json(
        app.get_as(&format!("/api/chats/{g}/messages"), &t.owner.access)
            .await,
    )
    .await;
    let seqs: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2]);
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["content"].is_null())
    );
    error_body(
        app.send(
            Method::PUT,
            &path(&mine),
            Some(&t.member.access),
            Some(&json!({"content": "again"})),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    error_body(
        app.send(Method::DELETE, &path(&mine), Some(&t.owner.access), None)
            .await,
        404,
        "not_found",
    )
    .await;
    error_body(
        app.send(
            Method::DELETE,
            &format!("/api/chats/{g}/messages/nope"),
            Some(&t.owner.access),
            None,
        )
        .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn the_last_owner_leaving_passes_ownership_on() {
    let t = team().await;
    let app = &t.app;
    let res = app
        .send(
            Method::POST,
            &format!("/api/chats/{}/leave", t.group),
            Some(&t.owner.access),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    let list = ok_json(
        app.get_as(&format!("/api/chats/{}/members", t.group), &t.member.access)
            .await,
    )
    .await;
    let owners: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "owner")
        .map(|m| m["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(owners, [t.admin.user_id.as_str()], "the admin inherits");
    error_body(
        app.get_as(&format!("/api/chats/{}/messages", t.group), &t.owner.access)
            .await,
        404,
        "not_found",
    )
    .await;
    // Leaving by removing oneself works too.
    let res = app
        .send(
            Method::DELETE,
            &format!("/api/chats/{}/members/{}", t.group, t.member.user_id),
            Some(&t.member.access),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
}

#[tokio::test]
async fn public_channels_are_joined_private_ones_are_invited_to() {
    let t = team().await;
    let app = &t.app;
    let g = &t.group;
    let public = ok_json(
        app.post_as(
            "/api/chats",
            &t.owner.access,
            &json!({"type": "channel", "name": "news", "group_id": g, "visibility": "public"}),
        )
        .await,
    )
    .await;
    let private = ok_json(app.post_as("/api/chats", &t.admin.access, &json!({"type": "channel", "name": "staff", "group_id": g, "member_ids": [t.moderator.user_id]})).await).await;
    let (public, private) = (
        public["id"].as_str().unwrap(),
        private["id"].as_str().unwrap(),
    );

    let names = |v: Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(ok_json(t.channels(&t.member).await).await), ["news"]);
    assert_eq!(
        names(ok_json(t.channels(&t.moderator).await).await),
        ["news", "staff"]
    );
    error_body(t.channels(&t.outsider).await, 404, "not_found").await;

    assert_eq!(t.join(&t.member, public).await.status(), 204);
    assert!(
        app.get_as(&format!("/api/chats/{public}/messages"), &t.member.access)
            .await
            .status()
            .is_success()
    );
    error_body(t.join(&t.member, private).await, 404, "not_found").await;
    error_body(t.join(&t.outsider, public).await, 404, "not_found").await;
    // Leaving the group leaves its channels.
    app.send(
        Method::POST,
        &format!("/api/chats/{g}/leave"),
        Some(&t.member.access),
        None,
    )
    .await;
    error_body(
        app.get_as(&format!("/api/chats/{public}/messages"), &t.member.access)
            .await,
        404,
        "not_found",
    )
    .await;
    // Channels only hold group members.
    let res = app
        .post_as(
            &format!("/api/chats/{private}/members"),
            &t.admin.access,
            &json!({"user_ids": [t.outsider.user_id]}),
        )
        .await;
    error_body(res, 422, "validation_error").await;
}

#[tokio::test]
async fn reading_moves_the_unread_count_and_direct_chats_stay_two() {
    let t = team().await;
    let app = &t.app;
    let g = &t.group;
    for text in ["a", "b", "c"] {
        app.post_as(
            &format!("/api/chats/{g}/messages"),
            &t.owner.access,
            &json!({"content": text}),
        )
        .await;
    }
    let unread = |v: &Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == g.as_str())
            .unwrap()["unread_count"]
            .clone()
    };
    assert_eq!(
        unread(&ok_json(app.get_as("/api/chats", &t.member.access).await).await),
        3
    );
    let read = ok_json(
        app.post_as(
            &format!("/api/chats/{g}/read"),
            &t.member.access,
            &json!({"seq": 2}),
        )
        .await,
    )
    .await;
    assert_eq!(read["last_read_seq"], 2);
    assert_eq!(
        unread(&ok_json(app.get_as("/api/chats", &t.member.access).await).await),
        1
    );
    for bad in [json!({"seq": 4}), json!({"seq": -1}), json!({})] {
        error_body(
            app.post_as(&format!("/api/chats/{g}/read"), &t.member.access, &bad)
                .await,
            422,
            "validation_error",
        )
        .await;
    }
    error_body(
        app.post_as(
            &format!("/api/chats/{g}/read"),
            &t.outsider.access,
            &json!({"seq": 1}),
        )
        .await,
        404,
        "not_found",
    )
    .await;

    let direct = ok_json(
        app.post_as(
            "/api/chats",
            &t.owner.access,
            &json!({"type": "direct", "member_ids": [t.member.user_id]}),
        )
        .await,
    )
    .await;
    let d = direct["id"].as_str().unwrap();
    let res = app
        .post_as(
            &format!("/api/chats/{d}/members"),
            &t.owner.access,
            &json!({"user_ids": [t.admin.user_id]}),
        )
        .await;
    error_body(res, 403, "forbidden").await;
    error_body(
        app.get_as(&format!("/api/chats/{d}/channels"), &t.owner.access)
            .await,
        422,
        "validation_error",
    )
    .await;
}

#[tokio::test]
async fn moderators_mute_members_for_a_while() {
    let t = team().await;
    let app = &t.app;
    let mute = |by: &Tokens, user: &Tokens, minutes: u32| {
        let path = format!("/api/chats/{}/members/{}/mute", t.group, user.user_id);
        let token = by.access.clone();
        async move {
            app.post_as(&path, &token, &json!({"minutes": minutes}))
                .await
        }
    };
    error_body(mute(&t.member, &t.moderator, 10).await, 403, "forbidden").await;
    error_body(mute(&t.moderator, &t.admin, 10).await, 403, "forbidden").await;
    error_body(
        mute(&t.moderator, &t.member, 50_000).await,
        422,
        "validation_error",
    )
    .await;
    assert_eq!(mute(&t.moderator, &t.member, 10).await.status(), 204);
    let res = t.post(&t.member, "can I speak?").await;
    error_body(res, 403, "forbidden").await;
    app.clock.advance(std::time::Duration::from_secs(601));
    assert_eq!(t.post(&t.member, "now I can").await.status(), 201);
    assert_eq!(mute(&t.admin, &t.member, 10).await.status(), 204);
    assert_eq!(mute(&t.admin, &t.member, 0).await.status(), 204);
    assert_eq!(t.post(&t.member, "lifted").await.status(), 201);
}
