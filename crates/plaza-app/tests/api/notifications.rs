//! Notifications: delivered through jobs to the app, sockets and mail, as
//! each person subscribed, in their locale, after their quiet hours.

use std::time::Duration;

use plaza_core::Clock;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{SmtpServer, TestApp, Tokens, error_body};

/// Waits for `user`'s notification list to hold `n` items.
async fn notifications(app: &TestApp, user: &Tokens, n: usize) -> Value {
    for _ in 0..200 {
        let body: Value = app
            .get_as("/api/notifications", &user.access)
            .await
            .json()
            .await
            .unwrap();
        if body["items"].as_array().unwrap().len() >= n {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("fewer than {n} notifications");
}

async fn put(app: &TestApp, path: &str, user: &Tokens, body: &Value) -> reqwest::Response {
    app.send(Method::PUT, path, Some(&user.access), Some(body))
        .await
}

async fn count_jobs(app: &TestApp, kind: &str) -> i64 {
    sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM jobs WHERE kind = $1")
        .bind(kind)
        .fetch_one(app.state.db.writer())
        .await
        .unwrap()
}

crate::on_both_databases! {
    async fn a_sign_up_is_welcomed_in_the_app_and_by_mail_and_read_marks_stick(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let page = notifications(&app, &ana, 1).await;
        let welcome = &page["items"][0];
        assert_eq!(welcome["type"], "user.registered");
        assert_eq!(welcome["title"], "Welcome, ana!");
        assert_eq!(welcome["read"], false);
        assert_eq!((page["unread"].as_i64(), page["has_more"].as_bool()), (Some(1), Some(false)));
        let mail = app.mail_to("ana@example.com", "Welcome to plaza").await;
        assert!(mail.contains("your account is ready"), "{mail}");
        assert!(mail.contains("text/html"), "an HTML part beside the text: {mail}");

        // A refused sign-up queues nothing.
        let res = app.post_json("/api/auth/register", &json!({"email": "ana@example.com", "password": crate::helpers::PASSWORD})).await;
        assert_eq!(res.status(), 409);
        assert_eq!(count_jobs(&app, "notifications.deliver").await, 1);

        let id = welcome["id"].as_str().unwrap();
        let res = put(&app, &format!("/api/notifications/{id}"), &ana, &json!({"read": true})).await;
        assert_eq!(res.status(), 200);
        let read: Value = res.json().await.unwrap();
        assert_eq!(read["read"], true);
        let count: Value = app.get_as("/api/notifications/unread-count", &ana.access).await.json().await.unwrap();
        assert_eq!(count["unread"], 0);
        let unread: Value = app.get_as("/api/notifications?unread=true", &ana.access).await.json().await.unwrap();
        assert_eq!(unread["items"], json!([]));
        let res = put(&app, &format!("/api/notifications/{id}"), &ana, &json!({"read": false})).await;
        assert_eq!(res.json::<Value>().await.unwrap()["read"], false);
        let res = put(&app, "/api/notifications/read-all", &ana, &json!({})).await;
        assert_eq!(res.json::<Value>().await.unwrap()["updated"], 1);

        // Account mails' jobs keep no text once sent: links and codes are gone.
        for _ in 0..100 {
            let left: i64 = sqlx::query_scalar(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM jobs WHERE queue = 'email' AND (state <> 'completed' OR payload <> '{}')",
            )
            .fetch_one(app.state.db.writer())
            .await
            .unwrap();
            if left == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let payloads: Vec<String> = sqlx::query_scalar("SELECT payload FROM jobs WHERE queue = 'email'")
            .fetch_all(app.state.db.writer())
            .await
            .unwrap();
        assert_eq!(payloads, ["{}", "{}"], "verification and welcome mails, erased");

        let res = app.send(Method::DELETE, &format!("/api/notifications/{id}"), Some(&ana.access), None).await;
        assert_eq!(res.status(), 204);
        let page: Value = app.get_as("/api/notifications", &ana.access).await.json().await.unwrap();
        assert_eq!(page["items"], json!([]));
    }
}

#[tokio::test]
async fn wrong_input_to_notifications_is_refused() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    let bobs = notifications(&app, &bob, 1).await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_eq!(app.get("/api/notifications").await.status(), 401);
    error_body(
        app.get_as("/api/notifications?limit=0", &ana.access).await,
        422,
        "validation_error",
    )
    .await;
    error_body(
        app.get_as("/api/notifications?before=yesterday", &ana.access)
            .await,
        422,
        "validation_error",
    )
    .await;
    error_body(
        app.get_as("/api/notifications?colour=red", &ana.access)
            .await,
        422,
        "validation_error",
    )
    .await;
    // Someone else's notification, and no notification at all, are alike.
    error_body(
        put(
            &app,
            &format!("/api/notifications/{bobs}"),
            &ana,
            &json!({"read": true}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    error_body(
        put(
            &app,
            "/api/notifications/nope",
            &ana,
            &json!({"read": true}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    error_body(
        put(
            &app,
            &format!("/api/notifications/{bobs}"),
            &bob,
            &json!({"read": "yes"}),
        )
        .await,
        422,
        "validation_error",
    )
    .await;
    let res = app
        .send(
            Method::DELETE,
            &format!("/api/notifications/{bobs}"),
            Some(&ana.access),
            None,
        )
        .await;
    error_body(res, 404, "not_found").await;
    let page = notifications(&app, &bob, 1).await;
    assert_eq!(page["items"][0]["read"], false, "untouched");

    // Only admins send.
    let send =
        json!({"to": [bob.user_id], "type": "admin.announcement", "title": "Hi", "body": "there"});
    error_body(
        app.post_as("/api/notifications", &ana.access, &send).await,
        403,
        "forbidden",
    )
    .await;
    app.register("root@example.com").await;
    let admin = app.make_admin("root@example.com").await;
    for (body, field) in [
        (
            json!({"to": [], "type": "admin.announcement", "title": "Hi"}),
            "to",
        ),
        (
            json!({"to": ["not-an-id"], "type": "admin.announcement", "title": "Hi"}),
            "to",
        ),
        (
            json!({"to": [uuid::Uuid::now_v7()], "type": "admin.announcement", "title": "Hi"}),
            "to",
        ),
        (
            json!({"to": [bob.user_id], "type": "Big News!", "title": "Hi"}),
            "type",
        ),
        (
            json!({"to": [bob.user_id], "type": "admin.announcement", "title": " "}),
            "title",
        ),
        (
            json!({"to": [bob.user_id], "type": "admin.announcement", "body": "no title"}),
            "title",
        ),
        (
            json!({"to": [bob.user_id], "type": "admin.untemplated"}),
            "title",
        ),
        (
            json!({"to": [bob.user_id], "type": "admin.announcement", "title": "Hi", "data": [1]}),
            "data",
        ),
    ] {
        let err = error_body(
            app.post_as("/api/notifications", &admin.access, &body)
                .await,
            422,
            "validation_error",
        )
        .await;
        assert!(err["details"]["fields"][field].is_string(), "{body}: {err}");
    }
    let many: Vec<String> = (0..1001)
        .map(|_| uuid::Uuid::now_v7().to_string())
        .collect();
    let err = error_body(
        app.post_as(
            "/api/notifications",
            &admin.access,
            &json!({"to": many, "type": "a.b", "title": "x"}),
        )
        .await,
        422,
        "validation_error",
    )
    .await;
    assert!(err["details"]["fields"]["to"].is_string(), "{err}");
    assert_eq!(
        count_jobs(&app, "notifications.deliver").await,
        3,
        "only the three welcomes"
    );

    // Subscriptions.
    for (body, field) in [
        (
            json!({"types": {"Bad Type": {"email": true}}}),
            "types.Bad Type",
        ),
        (
            json!({"quiet_hours": {"start": "25:00", "end": "07:00"}}),
            "quiet_hours.start",
        ),
        (
            json!({"quiet_hours": {"start": "22:00", "end": "7"}}),
            "quiet_hours.end",
        ),
    ] {
        let err = error_body(
            put(&app, "/api/notifications/subscriptions", &ana, &body).await,
            422,
            "validation_error",
        )
        .await;
        assert!(err["details"]["fields"][field].is_string(), "{body}: {err}");
    }
    let res = put(
        &app,
        "/api/notifications/subscriptions",
        &ana,
        &json!({"types": {"user.registered": {"sms": true}}}),
    )
    .await;
    error_body(res, 422, "validation_error").await;
}

#[tokio::test]
async fn subscriptions_start_from_each_types_defaults_and_keep_my_choices() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let subs: Value = app
        .get_as("/api/notifications/subscriptions", &ana.access)
        .await
        .json()
        .await
        .unwrap();
    let welcome = subs["types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "user.registered")
        .unwrap();
    assert_eq!(
        welcome["channels"],
        json!({"in_app": true, "websocket": true, "email": true, "push": false})
    );
    assert_eq!(subs["quiet_hours"], Value::Null);
    assert_eq!(subs["time_zone"], "UTC");

    let res = put(&app, "/api/notifications/subscriptions", &ana, &json!({
        "types": {"admin.announcement": {"email": true, "websocket": false}, "project.response.created": {"in_app": false}},
        "quiet_hours": {"start": "22:00", "end": "07:00"},
    })).await;
    assert_eq!(res.status(), 200);
    let subs: Value = res.json().await.unwrap();
    let of = |kind: &str| {
        subs["types"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == kind)
            .unwrap()["channels"]
            .clone()
    };
    assert_eq!(
        of("admin.announcement"),
        json!({"in_app": true, "websocket": false, "email": true, "push": false})
    );
    // The marketplace's type also mails by default; only in-app was turned off.
    assert_eq!(
        of("project.response.created"),
        json!({"in_app": false, "websocket": true, "email": true, "push": false})
    );
    assert_eq!(
        subs["quiet_hours"],
        json!({"start": "22:00", "end": "07:00"})
    );
    // Leaving quiet hours out keeps them; null turns them off.
    let subs: Value = put(&app, "/api/notifications/subscriptions", &ana, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        subs["quiet_hours"],
        json!({"start": "22:00", "end": "07:00"})
    );
    let subs: Value = put(
        &app,
        "/api/notifications/subscriptions",
        &ana,
        &json!({"quiet_hours": null}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(subs["quiet_hours"], Value::Null);
}

crate::on_both_databases! {
    async fn admins_template_the_wording_per_locale_and_it_reaches_each_chosen_channel(backend: Backend) {
        let app = TestApp::on(backend).await;
        app.register("root@example.com").await;
        let admin = app.make_admin("root@example.com").await;
        let ana = app.register("ana@example.com").await;
        let ivan = app.register("ivan@example.com").await;
        let res = put(&app, "/api/user/profile", &ivan, &json!({"locale": "ru", "display_name": "Иван"})).await;
        assert_eq!(res.status(), 200);
        notifications(&app, &ana, 1).await;
        notifications(&app, &ivan, 1).await;

        let template = |locale: &str, channel: &str, subject: &str, body: &str| json!({
            "type": "project.update", "channel": channel, "locale": locale, "subject": subject, "body": body,
        });
        for t in [
            template("en", "in_app", "{{ data.project }} changed", "Hello {{ user.name }}"),
            template("ru", "in_app", "Проект {{ data.project }} изменён", "Привет, {{ user.name }}"),
        ] {
            let res = app.post_as("/api/notifications/templates", &admin.access, &t).await;
            assert_eq!(res.status(), 201, "{t}");
        }
        let mut mail = template("en", "email", "Update on {{ data.project }}", "{{ data.project }} changed.");
        mail["html"] = json!("<p>{{ data.project }} changed.</p>");
        assert_eq!(app.post_as("/api/notifications/templates", &admin.access, &mail).await.status(), 201);
        // Ana wants these by mail too, and not on her sockets.
        put(&app, "/api/notifications/subscriptions", &ana, &json!({"types": {"project.update": {"email": true, "websocket": false}}})).await;

        let mut ana_ws = app.ws(&ana).await;
        let mut ivan_ws = app.ws(&ivan).await;
        let res = app.post_as("/api/notifications", &admin.access, &json!({
            "to": [ana.user_id, ivan.user_id, ivan.user_id], "type": "project.update", "data": {"project": "<Bridge>"},
        })).await;
        assert_eq!(res.status(), 202);
        assert_eq!(res.json::<Value>().await.unwrap()["queued"], 2);

        let told = ivan_ws.next_of("notification").await;
        assert_eq!(told["title"], "Проект <Bridge> изменён");
        assert_eq!(told["body"], "Привет, Иван");
        let page = notifications(&app, &ivan, 2).await;
        assert_eq!(page["items"][0]["id"], told["id"]);
        assert_eq!(page["items"][0]["data"], json!({"project": "<Bridge>"}));
        let page = notifications(&app, &ana, 2).await;
        assert_eq!(page["items"][0]["title"], "<Bridge> changed");
        assert_eq!(page["items"][0]["body"], "Hello ana");
        let mail = app.mail_to("ana@example.com", "Update on <Bridge>").await;
        assert!(mail.contains("<p>&lt;Bridge&gt; changed.</p>"), "HTML escaped: {mail}");
        assert!(mail.contains("<Bridge> changed."), "text as is: {mail}");
        ana_ws.quiet(Duration::from_millis(300)).await;
        assert_eq!(app.mails_to("ivan@example.com", "Bridge"), 0, "Ivan left mail off");

        // Literal text needs no template.
        let res = app.post_as("/api/notifications", &admin.access, &json!({
            "to": [ivan.user_id], "type": "admin.announcement", "title": "Maintenance at 02:00", "body": "Ten minutes.",
        })).await;
        assert_eq!(res.status(), 202);
        let told = ivan_ws.next_of("notification").await;
        assert_eq!((told["type"].as_str(), told["title"].as_str()), (Some("admin.announcement"), Some("Maintenance at 02:00")));
    }
}

#[tokio::test]
async fn templates_are_checked_unique_and_managed_by_admins_only() {
    let app = TestApp::spawn().await;
    app.register("root@example.com").await;
    let admin = app.make_admin("root@example.com").await;
    let ana = app.register("ana@example.com").await;
    let t = json!({"type": "project.update", "channel": "in_app", "subject": "{{ data.project }}", "body": "changed"});
    error_body(
        app.post_as("/api/notifications/templates", &ana.access, &t)
            .await,
        403,
        "forbidden",
    )
    .await;
    let res = app
        .post_as("/api/notifications/templates", &admin.access, &t)
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["locale"], "en");
    error_body(
        app.post_as("/api/notifications/templates", &admin.access, &t)
            .await,
        409,
        "conflict",
    )
    .await;

    for (body, field) in [
        (
            json!({"type": "x.y", "channel": "in_app", "subject": "ok", "body": "one\n{% if %}"}),
            "body",
        ),
        (
            json!({"type": "x.y", "channel": "in_app", "subject": "{{ unclosed", "body": ""}),
            "subject",
        ),
        (
            json!({"type": "x.y", "channel": "in_app", "subject": "ok", "body": "", "html": "<p>"}),
            "html",
        ),
        (
            json!({"type": "x.y", "channel": "email", "locale": "English!", "subject": "ok", "body": ""}),
            "locale",
        ),
        (
            json!({"type": "X Y", "channel": "email", "subject": "ok", "body": ""}),
            "type",
        ),
        (
            json!({"type": "x.y", "channel": "email", "subject": "", "body": ""}),
            "subject",
        ),
    ] {
        let err = error_body(
            app.post_as("/api/notifications/templates", &admin.access, &body)
                .await,
            422,
            "validation_error",
        )
        .await;
        assert!(err["details"]["fields"][field].is_string(), "{body}: {err}");
    }
    let err = error_body(
        app.post_as(
            "/api/notifications/templates",
            &admin.access,
            &json!({"type": "x.y", "channel": "fax", "subject": "ok", "body": ""}),
        )
        .await,
        422,
        "validation_error",
    )
    .await;
    assert!(err.to_string().contains("channel"), "{err}");
    let err = error_body(
        app.post_as("/api/notifications/templates", &admin.access, &json!({"type": "x.y", "channel": "in_app", "subject": "ok", "body": "a\nb\n{% for %}"})).await,
        422,
        "validation_error",
    )
    .await;
    assert!(
        err["details"]["fields"]["body"]
            .as_str()
            .unwrap()
            .contains("line 3"),
        "{err}"
    );

    let id = created["id"].as_str().unwrap();
    let path = format!("/api/notifications/templates/{id}");
    let got: Value = app.get_as(&path, &admin.access).await.json().await.unwrap();
    assert_eq!(got["subject"], "{{ data.project }}");
    let mut changed = t.clone();
    changed["body"] = json!("changed by {{ user.name }}");
    changed["locale"] = json!("ru");
    let res = app
        .send(Method::PUT, &path, Some(&admin.access), Some(&changed))
        .await;
    assert_eq!(res.status(), 200);
    let updated: Value = res.json().await.unwrap();
    assert_eq!(
        (updated["locale"].as_str(), updated["created_at"].clone()),
        (Some("ru"), created["created_at"].clone())
    );
    let list: Value = app
        .get_as(
            "/api/notifications/templates?type=project.update",
            &admin.access,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.send(Method::DELETE, &path, Some(&admin.access), None)
            .await
            .status(),
        204
    );
    error_body(app.get_as(&path, &admin.access).await, 404, "not_found").await;
    error_body(
        app.get_as("/api/notifications/templates/nope", &admin.access)
            .await,
        404,
        "not_found",
    )
    .await;
    error_body(
        app.send(Method::DELETE, &path, Some(&admin.access), None)
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn quiet_hours_hold_mail_until_they_end_in_the_persons_time_zone() {
    let app = TestApp::spawn().await;
    app.register("root@example.com").await;
    let admin = app.make_admin("root@example.com").await;
    let ana = app.register("ana@example.com").await;
    notifications(&app, &ana, 1).await;
    app.mail_to("ana@example.com", "Welcome to plaza").await;
    put(
        &app,
        "/api/user/profile",
        &ana,
        &json!({"timezone": "Asia/Tokyo"}),
    )
    .await;
    // Quiet from an hour ago to an hour from now, Tokyo time.
    let tokyo = app
        .clock
        .now()
        .as_jiff()
        .to_zoned(jiff::tz::TimeZone::get("Asia/Tokyo").unwrap());
    let hhmm = |z: jiff::Zoned| format!("{:02}:{:02}", z.hour(), z.minute());
    let start = hhmm(
        tokyo
            .checked_sub(jiff::SignedDuration::from_hours(1))
            .unwrap(),
    );
    let end = hhmm(
        tokyo
            .checked_add(jiff::SignedDuration::from_hours(1))
            .unwrap(),
    );
    put(
        &app,
        "/api/notifications/subscriptions",
        &ana,
        &json!({
            "types": {"admin.announcement": {"email": true}},
            "quiet_hours": {"start": start, "end": end},
        }),
    )
    .await;
    let res = app.post_as("/api/notifications", &admin.access, &json!({
        "to": [ana.user_id], "type": "admin.announcement", "title": "Night shift", "body": "hello",
    })).await;
    assert_eq!(res.status(), 202);
    // The app shows it at once; the mail waits.
    let page = notifications(&app, &ana, 2).await;
    assert_eq!(page["items"][0]["title"], "Night shift");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.mails_to("ana@example.com", "Night shift"), 0);
    let run_at: plaza_core::Timestamp = sqlx::query_scalar(
        "SELECT run_at FROM jobs WHERE kind = 'mail.notification' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(app.state.db.writer())
    .await
    .unwrap();
    let wait = run_at.duration_since(app.clock.now());
    assert!(
        wait > Duration::from_secs(59 * 60) && wait <= Duration::from_secs(3600),
        "{wait:?}"
    );
    app.clock.advance(Duration::from_secs(3601));
    app.mail_to("ana@example.com", "Night shift").await;
}

#[tokio::test]
#[ignore = "needs aiosmtpd (pip install aiosmtpd)"]
async fn an_address_the_mail_server_refuses_is_marked_and_skipped() {
    let smtp = SmtpServer::refusing("gone").await;
    let url = format!("smtp://127.0.0.1:{}", smtp.port);
    let app = TestApp::builder()
        .config(move |c| c.mail.smtp_url = Some(plaza_platform::config::Dsn::new(url)))
        .spawn()
        .await;
    app.register("gone@example.com").await;
    app.register("ana@example.com").await;
    // Two mails each (verification, welcome): Ana's arrive; the refused
    // address is suppressed after its first and the second is skipped.
    let mut suppressed: Vec<String> = Vec::new();
    for _ in 0..200 {
        suppressed = sqlx::query_scalar("SELECT email FROM mail_suppressions")
            .fetch_all(app.state.db.writer())
            .await
            .unwrap();
        let settled: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM jobs WHERE queue = 'email' AND state = 'completed'",
        )
        .fetch_one(app.state.db.writer())
        .await
        .unwrap();
        if settled == 4 && smtp.received().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(suppressed, ["gone@example.com"]);
    let received = smtp.received();
    assert_eq!(received.len(), 2, "Ana's two");
    assert!(received.iter().all(|m| m.contains("To: ana@example.com")));
    let dead: i64 =
        sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM jobs WHERE state = 'dead'")
            .fetch_one(app.state.db.writer())
            .await
            .unwrap();
    assert_eq!(dead, 0, "a refusal is not retried");
}
