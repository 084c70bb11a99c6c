//! The web app as the binary serves it (docs/web.md): the page on `/` and
//! on the app's own paths, hashed assets cached for a year, ETags, the
//! strict CSP, the JSON 404 everywhere else, and the flag that turns it off.
//! The browser tests (web/tests) drive the app itself.

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_body, header};

/// The `src` of the page's entry script.
fn entry_script(html: &str) -> String {
    let at = html
        .find("<script type=\"module\"")
        .expect("a module script");
    let src = &html[at..];
    let start = src.find("src=\"").expect("a src") + 5;
    let end = src[start..].find('"').expect("a closing quote");
    src[start..start + end].to_owned()
}

#[tokio::test]
async fn the_page_answers_on_the_app_paths_with_a_strict_policy() {
    let app = TestApp::spawn().await;
    let mut page = String::new();
    for path in [
        "/",
        "/chats",
        "/chats/0199-some-chat",
        "/admin/queues",
        "/meditate/rooms/x",
        "/sign-in",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert!(
            header(&res, "content-type")
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        assert_eq!(header(&res, "cache-control").as_deref(), Some("no-cache"));
        let csp = header(&res, "content-security-policy").unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"));
        page = res.text().await.unwrap();
    }
    // No inline script: every <script> tag has a src.
    for tag in page.split("<script").skip(1) {
        let open = &tag[..tag.find('>').unwrap()];
        assert!(open.contains(" src=\"/assets/"), "an inline script: {page}");
    }
    assert!(entry_script(&page).starts_with("/assets/"));
}

#[tokio::test]
async fn assets_are_cached_for_a_year_and_revalidate_by_etag() {
    let app = TestApp::spawn().await;
    let page = app.get("/").await.text().await.unwrap();
    let script = entry_script(&page);
    let res = app.get(&script).await;
    assert_eq!(res.status(), 200);
    assert!(header(&res, "content-type").unwrap().contains("javascript"));
    assert_eq!(
        header(&res, "cache-control").as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    let etag = header(&res, "etag").unwrap();
    assert!(res.bytes().await.unwrap().len() > 1000);

    let again = crate::helpers::http_client()
        .get(app.url(&script))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());

    // The page revalidates too.
    let page = app.get("/").await;
    let tag = header(&page, "etag").unwrap();
    let again = crate::helpers::http_client()
        .get(app.url("/"))
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
}

#[tokio::test]
async fn other_paths_keep_the_json_404() {
    let app = TestApp::spawn().await;
    for path in [
        "/nope",
        "/assets/missing-abc123.js",
        "/chatsx",
        "/api/unknown",
        "/api",
    ] {
        let body = error_body(app.get(path).await, 404, "not_found").await;
        assert_eq!(body["code"], "route.not_found", "{path}");
    }
    // The API and the sockets are untouched by the app's paths.
    assert_eq!(app.get("/health").await.status(), 200);
    let body = error_body(app.get("/api/chats").await, 401, "authentication_error").await;
    assert_eq!(body["code"], "auth.token_missing");
}

#[tokio::test]
async fn the_flag_turns_the_app_off() {
    let app = TestApp::builder()
        .config(|c| c.features.web_app = false)
        .spawn()
        .await;
    for path in ["/", "/chats", "/admin"] {
        error_body(app.get(path).await, 404, "not_found").await;
    }
    assert_eq!(app.get("/health").await.status(), 200);
}

/// The app's pages (web/src/routes.ts) and the paths the server answers
/// with the page (`APP_PATHS`) are the same list.
#[test]
fn the_server_knows_every_page_of_the_app() {
    let routes = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../web/src/routes.ts"
    ))
    .unwrap();
    let mut pages: Vec<&str> = routes
        .split("path: '/")
        .skip(1)
        .map(|rest| rest.split(['/', '\'']).next().unwrap_or_default())
        .filter(|p| !p.is_empty())
        .collect();
    pages.sort_unstable();
    pages.dedup();
    let mut served: Vec<&str> = plaza_app::web::APP_PATHS.to_vec();
    served.sort_unstable();
    assert_eq!(pages, served);
}

#[tokio::test]
async fn admins_read_metrics_and_preview_templates_through_the_api() {
    let app = TestApp::spawn().await;
    let user = app.register("someone@example.com").await;
    app.register("boss@example.com").await;
    let admin = app.make_admin("boss@example.com").await;

    error_body(
        app.get_as("/api/admin/metrics", &user.access).await,
        403,
        "forbidden",
    )
    .await;
    error_body(
        app.get("/api/admin/metrics").await,
        401,
        "authentication_error",
    )
    .await;
    let res = app.get_as("/api/admin/metrics", &admin.access).await;
    assert_eq!(res.status(), 200);
    assert!(
        header(&res, "content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(res.text().await.unwrap().contains("http_requests_total"));

    let preview = json!({
        "type": "chat.message", "channel": "email", "locale": "ru",
        "subject": "{{ data.count }} new from {{ data.name }}",
        "body": "Hi {{ user.name }}", "html": "<p>{{ data.name }}</p>",
        "data": {"count": 3, "name": "<Ana>"}
    });
    let res = app
        .post_as(
            "/api/notifications/templates/preview",
            &admin.access,
            &preview,
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["subject"], "3 new from <Ana>");
    let me: Value = app
        .get_as("/api/auth/me", &admin.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["body"],
        format!("Hi {}", me["username"].as_str().unwrap())
    );
    assert_eq!(body["html"], "<p>&lt;Ana&gt;</p>");
    // Nothing was kept.
    let list: Value = app
        .get_as("/api/notifications/templates", &admin.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([]));

    // Wrong input: a template that does not compile, a bad type, no body, not an admin.
    let broken =
        json!({"type": "chat.message", "channel": "in_app", "subject": "{% if %}", "body": "x"});
    let body = error_body(
        app.post_as(
            "/api/notifications/templates/preview",
            &admin.access,
            &broken,
        )
        .await,
        422,
        "validation_error",
    )
    .await;
    assert!(body["details"]["fields"]["subject"].is_string(), "{body}");
    let bad_type = json!({"type": "Not A Type", "channel": "in_app", "subject": "s", "body": "b"});
    error_body(
        app.post_as(
            "/api/notifications/templates/preview",
            &admin.access,
            &bad_type,
        )
        .await,
        422,
        "validation_error",
    )
    .await;
    let missing = json!({"type": "chat.message", "channel": "in_app", "subject": "s"});
    error_body(
        app.post_as(
            "/api/notifications/templates/preview",
            &admin.access,
            &missing,
        )
        .await,
        422,
        "validation_error",
    )
    .await;
    let extra = json!({"type": "chat.message", "channel": "in_app", "subject": "s", "body": "b", "colour": 1});
    error_body(
        app.post_as(
            "/api/notifications/templates/preview",
            &admin.access,
            &extra,
        )
        .await,
        422,
        "validation_error",
    )
    .await;
    error_body(
        app.post_as(
            "/api/notifications/templates/preview",
            &user.access,
            &preview,
        )
        .await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn the_sign_in_page_learns_which_providers_are_configured() {
    let app = TestApp::spawn().await;
    let body: Value = app.get("/api/auth/oauth").await.json().await.unwrap();
    assert_eq!(body, json!({"providers": []}));

    let with_github = TestApp::builder()
        .config(|c| {
            c.oauth.github.client_id = Some("id".into());
            c.oauth.github.client_secret = Some(plaza_platform::config::Secret::new("secret"));
            // An id without a secret is not a provider.
            c.oauth.google.client_id = Some("half".into());
        })
        .spawn()
        .await;
    let body: Value = with_github
        .get("/api/auth/oauth")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body, json!({"providers": ["github"]}));

    let off = TestApp::builder()
        .config(|c| {
            c.oauth.github.client_id = Some("id".into());
            c.oauth.github.client_secret = Some(plaza_platform::config::Secret::new("secret"));
            c.features.social_login = false;
        })
        .spawn()
        .await;
    let body: Value = off.get("/api/auth/oauth").await.json().await.unwrap();
    assert_eq!(body, json!({"providers": []}));
}

#[tokio::test]
async fn the_console_sees_the_outbox_and_a_failing_export() {
    let app = TestApp::spawn().await;
    let user = app.register("someone@example.com").await;
    app.register("boss@example.com").await;
    let admin = app.make_admin("boss@example.com").await;
    error_body(
        app.get_as("/api/admin/outbox", &user.access).await,
        403,
        "forbidden",
    )
    .await;
    error_body(
        app.get("/api/admin/outbox").await,
        401,
        "authentication_error",
    )
    .await;
    let body: Value = app
        .get_as("/api/admin/outbox", &admin.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["export"], Value::Null, "{body}");
    assert_eq!(body["unexported"], 0);
    assert!(body["unpublished"].is_i64() && body["publish_lag_seconds"].is_f64());

    // A broker that is not there: events wait, and the error is shown.
    let dead = TestApp::builder()
        .config(|c| {
            c.features.event_export = true;
            c.export.url = Some(plaza_platform::config::Dsn::new(
                "amqp://guest:guest@127.0.0.1:1/%2f",
            ));
        })
        .spawn()
        .await;
    dead.register("boss@example.com").await;
    let admin = dead.make_admin("boss@example.com").await;
    let mut body = Value::Null;
    for _ in 0..100 {
        body = dead
            .get_as("/api/admin/outbox", &admin.access)
            .await
            .json()
            .await
            .unwrap();
        if body["export"]["last_error"].is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(body["export"]["broker"], "rabbitmq", "{body}");
    assert!(body["export"]["last_error"].is_string(), "{body}");
    assert!(body["export"]["failing_for"].as_u64().unwrap() >= 1);
    assert!(body["unexported"].as_i64().unwrap() >= 1, "{body}");
    assert!(body["oldest_unexported"].is_string());
}
