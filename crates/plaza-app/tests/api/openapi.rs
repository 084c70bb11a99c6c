//! The OpenAPI document covers every surface, every operation it marks as
//! needing a bearer token refuses requests without one, and every id in a
//! path answers a malformed value as an unknown one.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{TestApp, error_body};

const ACCOUNT_PATHS: &[&str] = &[
    "/api/auth/register",
    "/api/auth/login",
    "/api/auth/login/mfa",
    "/api/auth/login/mfa/send",
    "/api/auth/refresh",
    "/api/auth/logout",
    "/api/auth/logout-all",
    "/api/auth/me",
    "/api/auth/sessions",
    "/api/auth/sessions/{id}",
    "/api/auth/verify-email/request",
    "/api/auth/verify-email",
    "/api/auth/password/forgot",
    "/api/auth/password/reset",
    "/api/auth/password/change",
    "/api/auth/email/change",
    "/api/auth/email/confirm",
    "/api/auth/2fa/totp/setup",
    "/api/auth/2fa/totp/enable",
    "/api/auth/2fa/email/enable",
    "/api/auth/2fa/disable",
    "/api/auth/2fa/recovery-codes",
    "/api/auth/oauth/{provider}/start",
    "/api/auth/oauth/{provider}/callback",
    "/api/user/profile",
    "/api/profiles/{id}",
    "/api/profiles/{id}/avatar",
    "/api/v1/users",
    "/api/v1/users/{id}",
    "/api/admin/users",
    "/api/admin/users/{id}",
    "/api/files/{id}",
    "/api/admin/queues",
    "/api/admin/queues/{queue}/jobs",
    "/api/admin/jobs/{id}",
    "/api/admin/jobs/{id}/retry",
    "/api/admin/jobs/{id}/cancel",
    "/api/notifications",
    "/api/notifications/{id}",
    "/api/notifications/unread-count",
    "/api/notifications/read-all",
    "/api/notifications/subscriptions",
    "/api/notifications/templates",
    "/api/notifications/templates/{id}",
    "/api/meditation/start",
    "/api/meditation/end",
    "/api/sessions",
    "/api/user/stats",
    "/api/analytics/daily",
    "/api/analytics/weekly",
    "/api/analytics/monthly",
    "/api/meditation/rooms",
    "/api/meditation/rooms/{id}",
    "/api/meditation/rooms/{id}/invites",
    "/meditation/group",
    "/api/projects",
    "/api/projects/{id}",
    "/api/projects/{id}/responses",
    "/api/projects/{id}/responses/{rid}",
];

#[tokio::test]
async fn every_account_endpoint_is_documented_and_guarded() {
    let app = TestApp::spawn().await;
    let doc: Value = app.openapi().await;
    let paths = doc["paths"].as_object().unwrap();
    for path in ACCOUNT_PATHS {
        assert!(
            paths.contains_key(*path),
            "{path} is not in the OpenAPI document"
        );
    }
    let mut guarded = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let needs_token = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{method} {path} has no tag"
            );
            if !needs_token {
                continue;
            }
            guarded += 1;
            let concrete = path
                .replace("{id}", "0199a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b")
                .replace("{provider}", "oidc")
                .replace("{rid}", "0199a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5c");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = app.send(method.clone(), &concrete, None, None).await;
            error_body(res, 401, "authentication_error").await;
            let res = app
                .send(method.clone(), &concrete, Some("not-a-token"), None)
                .await;
            let body = error_body(res, 401, "authentication_error").await;
            assert!(body["error"].is_string(), "{method} {path}");
        }
    }
    assert!(guarded >= 20, "only {guarded} operations need a token");
}

/// Every route with an id in its path, walked from the OpenAPI document:
/// a malformed id answers the 404 an unknown one gets — the error format,
/// the entity's own code — before any body or permission is looked at.
#[tokio::test]
async fn a_malformed_id_is_not_found_on_every_route() {
    let app = TestApp::builder()
        .config(|c| {
            c.rate_limit.general =
                plaza_platform::config::Rate::new(100_000, std::time::Duration::from_secs(60));
        })
        .spawn()
        .await;
    app.register("walker@example.com").await;
    let admin = app.make_admin("walker@example.com").await;
    let doc: Value = app.openapi().await;
    let unknown = "0199a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b";
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Ok(method) = Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue;
            };
            let params: Vec<&Value> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .collect();
            let is_id = |p: &Value| p["schema"]["format"] == "uuid";
            for bad in params.iter().filter(|p| is_id(p)) {
                let mut concrete = path.clone();
                for p in &params {
                    let name = p["name"].as_str().unwrap();
                    let value = if std::ptr::eq(*p, *bad) {
                        "not-an-id"
                    } else if is_id(p) {
                        unknown
                    } else {
                        "x"
                    };
                    concrete = concrete.replace(&format!("{{{name}}}"), value);
                }
                let body = serde_json::json!({});
                let res = app
                    .send(method.clone(), &concrete, Some(&admin.access), Some(&body))
                    .await;
                let status = res.status().as_u16();
                assert_eq!(status, 404, "{method} {concrete}");
                let error = error_body(res, 404, "not_found").await;
                let code = error["code"].as_str().unwrap();
                assert!(
                    code.ends_with("not_found") && code != "route.not_found",
                    "{method} {concrete}: {error}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 40, "only {checked} id parameters checked");
}

/// Every `$ref` of a JSON value, collected.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_has_no_dangling_refs_and_path_parameters_are_in_paths() {
    let app = TestApp::spawn().await;
    let doc: Value = app.openapi().await;
    let mut found = Vec::new();
    refs(&doc, &mut found);
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let dangling: Vec<&String> = found
        .iter()
        .filter(|r| {
            r.strip_prefix("#/components/schemas/")
                .is_none_or(|name| !schemas.contains_key(name))
        })
        .collect();
    assert!(dangling.is_empty(), "dangling: {dangling:?}");
    let mut misplaced = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                if p["in"] == "path" && !path.contains(&format!("{{{name}}}")) {
                    misplaced.push(format!("{method} {path} {name}"));
                }
            }
        }
    }
    assert!(
        misplaced.is_empty(),
        "path parameters not in their path: {misplaced:?}"
    );
}
