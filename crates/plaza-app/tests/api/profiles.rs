//! Profiles, the user directory, account deletion and admin actions.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, error_body, link_token};

async fn put(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.send(Method::PUT, path, Some(token), Some(body)).await
}

crate::on_both_databases! {
    async fn i_edit_my_profile_field_by_field(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let res = put(&app, "/api/user/profile", &ana.access, &json!({
            "display_name": "Ana Lima", "bio": "Breathing daily", "timezone": "Europe/Moscow",
            "locale": "pt-BR", "settings": {"theme": "dark", "reminders": [7, 21]},
        })).await;
        assert_eq!(res.status(), 200);
        let me: Value = res.json().await.unwrap();
        assert_eq!(me["display_name"], "Ana Lima");
        assert_eq!(me["timezone"], "Europe/Moscow");
        assert_eq!(me["locale"], "pt-BR");
        assert_eq!(me["settings"]["reminders"], json!([7, 21]));

        // null clears, absence keeps.
        let res = put(&app, "/api/user/profile", &ana.access, &json!({"bio": null})).await;
        let me: Value = res.json().await.unwrap();
        assert_eq!(me["bio"], Value::Null);
        assert_eq!(me["display_name"], "Ana Lima");

        for (body, field) in [
            (json!({"timezone": "Mars/Base"}), "timezone"),
            (json!({"locale": "english"}), "locale"),
            (json!({"settings": [1, 2]}), "settings"),
            (json!({"settings": {"x": "y".repeat(17_000)}}), "settings"),
            (json!({"bio": "b".repeat(501)}), "bio"),
            (json!({"display_name": "x".repeat(65)}), "display_name"),
            (json!({"email": "new@example.com"}), "email"),
            (json!({"timezone": 5}), "timezone"),
        ] {
            let res = put(&app, "/api/user/profile", &ana.access, &body).await;
            let err = error_body(res, 422, "validation_error").await;
            assert!(err["details"]["fields"].as_object().unwrap().keys().any(|k| k.contains(field)), "{err}");
        }
        let me: Value = app.get_as("/api/user/profile", &ana.access).await.json().await.unwrap();
        assert_eq!(me["timezone"], "Europe/Moscow", "refused edits changed nothing");
        error_body(app.get("/api/user/profile").await, 401, "authentication_error").await;
    }
}

#[tokio::test]
async fn others_see_a_public_profile_and_may_not_edit_it() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    let path = format!("/api/profiles/{}", ana.user_id);

    let public: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(public["username"], "ana");
    assert!(
        public.get("email").is_none()
            && public.get("settings").is_none()
            && public.get("two_factor").is_none()
    );
    let by_bob: Value = app.get_as(&path, &bob.access).await.json().await.unwrap();
    assert!(by_bob.get("email").is_none());
    let own: Value = app.get_as(&path, &ana.access).await.json().await.unwrap();
    assert_eq!(own["email"], "ana@example.com");

    let res = put(&app, &path, &bob.access, &json!({"display_name": "Hacked"})).await;
    error_body(res, 403, "forbidden").await;
    let res = put(&app, &path, &ana.access, &json!({"display_name": "Ana"})).await;
    assert_eq!(res.status(), 200);
    let admin = app.make_admin("bob@example.com").await;
    let res = put(
        &app,
        &path,
        &admin.access,
        &json!({"display_name": "Ana L."}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let by_admin: Value = res.json().await.unwrap();
    assert_eq!(by_admin["email"], "ana@example.com");
    assert!(by_admin.get("settings").is_none());

    for missing in [
        "/api/profiles/0199a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b",
        "/api/profiles/not-an-id",
    ] {
        error_body(app.get(missing).await, 404, "not_found").await;
        error_body(
            put(&app, missing, &ana.access, &json!({})).await,
            404,
            "not_found",
        )
        .await;
    }
}

crate::on_both_databases! {
    async fn the_directory_finds_people_by_prefix_exact_first(backend: Backend) {
        let app = TestApp::on(backend).await;
        let me = app.register("me@example.com").await;
        for (email, name) in [("johnny@example.com", "Johnny B"), ("john@example.com", "John Doe"),
                              ("ajohn@example.com", "Jane Johnson"), ("mary@example.com", "Mary 50%")] {
            let t = app.register(email).await;
            put(&app, "/api/user/profile", &t.access, &json!({"display_name": name})).await;
        }
        let page: Value = app.get_as("/api/v1/users?q=JOHN&limit=20&offset=0", &me.access).await.json().await.unwrap();
        let names: Vec<&str> = page["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
        assert_eq!(names, ["john", "johnny", "ajohn"], "exact, then username prefix, then a name's word");
        assert_eq!(page["total"], 3);
        assert_eq!(page["has_more"], false);
        assert!(page["items"][0].get("email").is_none());

        let page: Value = app.get_as("/api/v1/users?q=john&limit=1&offset=1", &me.access).await.json().await.unwrap();
        assert_eq!(page["items"][0]["username"], "johnny");
        assert_eq!(page["has_more"], true);
        // Wildcards are literal.
        let page: Value = app.get_as("/api/v1/users?q=%25", &me.access).await.json().await.unwrap();
        assert_eq!(page["total"], 0);

        for bad in ["/api/v1/users", "/api/v1/users?q=", "/api/v1/users?q=a&limit=0",
                    "/api/v1/users?q=a&limit=101", "/api/v1/users?q=a&offset=-1", "/api/v1/users?q=a&sort=x"] {
            let res = app.get_as(bad, &me.access).await;
            assert_eq!(res.status().as_u16() / 100, 4, "{bad}");
            error_body(res, 422, "validation_error").await;
        }
        error_body(app.get("/api/v1/users?q=john").await, 401, "authentication_error").await;

        let one: Value = app.get_as(&format!("/api/v1/users/{}", me.user_id), &me.access).await.json().await.unwrap();
        assert_eq!(one["email"], "me@example.com");
        error_body(app.get_as("/api/v1/users/nope", &me.access).await, 404, "not_found").await;
    }
}

#[tokio::test]
async fn admins_create_users_with_a_password_or_an_invitation() {
    let app = TestApp::spawn().await;
    let bob = app.register("bob@example.com").await;
    let body = json!({"username": "john_doe", "email": "john@example.com", "display_name": "John Doe", "password": PASSWORD});
    error_body(
        app.post_as("/api/v1/users", &bob.access, &body).await,
        403,
        "forbidden",
    )
    .await;
    error_body(
        app.post_json("/api/v1/users", &body).await,
        401,
        "authentication_error",
    )
    .await;

    let admin = app.make_admin("bob@example.com").await;
    let res = app.post_as("/api/v1/users", &admin.access, &body).await;
    assert_eq!(res.status(), 201);
    let john: Value = res.json().await.unwrap();
    assert_eq!(john["username"], "john_doe");
    assert_eq!(john["email"], "john@example.com");
    app.login("john_doe").await;
    error_body(
        app.post_as("/api/v1/users", &admin.access, &body).await,
        409,
        "conflict",
    )
    .await;
    let bad = json!({"username": "x", "email": "e@example.com"});
    error_body(
        app.post_as("/api/v1/users", &admin.access, &bad).await,
        422,
        "validation_error",
    )
    .await;

    // Without a password: an invitation to choose one.
    let res = app
        .post_as(
            "/api/v1/users",
            &admin.access,
            &json!({"email": "kim@example.com"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let mail = app
        .mail_to("kim@example.com", "reset-password?token=")
        .await;
    let res = app
        .post_json(
            "/api/auth/password/reset",
            &json!({"token": link_token(&mail), "password": "kim's own secret"}),
        )
        .await;
    assert_eq!(res.status(), 204);
    let res = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "kim@example.com", "password": "kim's own secret"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let kim: Value = res.json().await.unwrap();
    assert_eq!(kim["user"]["email_verified"], true);
}

crate::on_both_databases! {
    async fn deleting_my_account_ends_sessions_and_frees_the_address(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let other = app.login("ana").await;
        let res = app.send(Method::DELETE, "/api/user/profile", Some(&ana.access), None).await;
        assert_eq!(res.status(), 204);
        error_body(app.get_as("/api/auth/me", &other.access).await, 401, "authentication_error").await;
        error_body(app.get(&format!("/api/profiles/{}", ana.user_id)).await, 404, "not_found").await;
        let res = app.post_json("/api/auth/login", &json!({"email": "ana@example.com", "password": PASSWORD})).await;
        error_body(res, 401, "authentication_error").await;
        // The row stays, stripped of what identified her.
        let (email, name, hash): (String, Option<String>, Option<String>) =
            sqlx::query_as("SELECT email, display_name, password_hash FROM users WHERE id = $1")
                .bind(&ana.user_id)
                .fetch_one(app.state.db.reader())
                .await
                .unwrap();
        assert!(email.ends_with("@deleted.invalid") && name.is_none() && hash.is_none(), "{email}");
        let again = app.register("ana@example.com").await;
        assert_ne!(again.user_id, ana.user_id);
    }
}

crate::on_both_databases! {
    async fn admins_ban_and_promote_with_immediate_effect(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        app.register("root@example.com").await;
        let admin = app.make_admin("root@example.com").await;
        error_body(app.get_as("/api/admin/users", &ana.access).await, 403, "forbidden").await;

        let page: Value = app.get_as("/api/admin/users?q=ana", &admin.access).await.json().await.unwrap();
        assert_eq!(page["total"], 1);
        assert_eq!(page["items"][0]["email"], "ana@example.com");
        assert_eq!(page["items"][0]["banned"], false);

        let path = format!("/api/admin/users/{}", ana.user_id);
        let res = put(&app, &path, &admin.access, &json!({"banned": true})).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Value>().await.unwrap()["banned"], true);
        error_body(app.get_as("/api/auth/me", &ana.access).await, 401, "authentication_error").await;
        let res = app.post_json("/api/auth/login", &json!({"email": "ana@example.com", "password": PASSWORD})).await;
        error_body(res, 403, "forbidden").await;
        let res = app.post_json("/api/auth/refresh", &json!({"refresh_token": ana.refresh})).await;
        error_body(res, 401, "authentication_error").await;

        put(&app, &path, &admin.access, &json!({"banned": false, "role": "admin"})).await;
        let again = app.login("ana@example.com").await;
        assert_eq!(again.body["user"]["role"], "admin");
        assert_eq!(app.get_as("/api/admin/users", &again.access).await.status(), 200);

        for (body, status) in [(json!({"role": "owner"}), 422), (json!({"banned": "yes"}), 422)] {
            let res = put(&app, &path, &admin.access, &body).await;
            error_body(res, status, "validation_error").await;
        }
        let own = format!("/api/admin/users/{}", admin.user_id);
        error_body(put(&app, &own, &admin.access, &json!({"role": "user"})).await, 409, "conflict").await;
        error_body(put(&app, "/api/admin/users/nope", &admin.access, &json!({})).await, 404, "not_found").await;

        // Deleting someone: their sessions end; their own turn is refused.
        let kim = app.register("kim@example.com").await;
        let res = app.send(Method::DELETE, &format!("/api/admin/users/{}", kim.user_id), Some(&ana.access), None).await;
        error_body(res, 401, "authentication_error").await;
        let ana_now = app.login("ana@example.com").await;
        let res = app.send(Method::DELETE, &format!("/api/admin/users/{}", kim.user_id), Some(&ana_now.access), None).await;
        assert_eq!(res.status(), 204);
        error_body(app.get_as("/api/auth/me", &kim.access).await, 401, "authentication_error").await;
        let res = app.send(Method::DELETE, &format!("/api/admin/users/{}", kim.user_id), Some(&ana_now.access), None).await;
        error_body(res, 404, "not_found").await;
        let res = app.send(Method::DELETE, &format!("/api/admin/users/{}", admin.user_id), Some(&admin.access), None).await;
        error_body(res, 409, "conflict").await;
        let bob = app.register("bob@example.com").await;
        let res = app.send(Method::DELETE, &format!("/api/admin/users/{}", ana.user_id), Some(&bob.access), None).await;
        error_body(res, 403, "forbidden").await;
    }
}
