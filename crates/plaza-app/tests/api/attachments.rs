//! Attachments: uploaded, attached to a message, readable by the chat's
//! members only; sniffed and size-limited.

use std::io::Cursor;

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{TestApp, Tokens, error_body};

async fn upload(app: &TestApp, who: &Tokens, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    let part = Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str("application/octet-stream")
        .unwrap();
    app.client
        .post(app.url("/api/files"))
        .bearer_auth(&who.access)
        .multipart(Form::new().part("file", part))
        .send()
        .await
        .unwrap()
}

fn png() -> Vec<u8> {
    let mut out = Vec::new();
    image::RgbImage::from_pixel(300, 200, image::Rgb([1, 2, 3]))
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

async fn ok_json(res: reqwest::Response) -> Value {
    assert!(res.status().is_success(), "{}", res.status());
    res.json().await.unwrap()
}

#[tokio::test]
async fn files_ride_on_messages_and_only_members_read_them() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    let eve = app.register("eve@example.com").await;
    let group = ok_json(
        app.post_as(
            "/api/chats",
            &ana.access,
            &json!({"type": "group", "name": "G", "member_ids": [bob.user_id]}),
        )
        .await,
    )
    .await;
    let gid = group["id"].as_str().unwrap();

    let picture = ok_json(upload(&app, &ana, "../../photo.png", png()).await).await;
    assert_eq!(
        (picture["content_type"].clone(), picture["width"].clone()),
        (json!("image/jpeg"), json!(300))
    );
    assert_eq!(
        picture["name"], "photo.png",
        "only the last path segment is kept"
    );
    let pdf = ok_json(
        upload(
            &app,
            &ana,
            "report.pdf",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n".to_vec(),
        )
        .await,
    )
    .await;
    assert_eq!(pdf["content_type"], "application/pdf");
    let page = ok_json(
        upload(
            &app,
            &ana,
            "page.html",
            b"<html><script>alert(1)</script></html>".to_vec(),
        )
        .await,
    )
    .await;
    assert!(
        page["content_type"].as_str().unwrap().starts_with("text/"),
        "{page}"
    );

    // Before it is attached, only the uploader reads it.
    let url = picture["url"].as_str().unwrap();
    error_body(app.get_as(url, &bob.access).await, 404, "not_found").await;
    let ids = [&picture, &pdf, &page].map(|f| f["id"].clone());
    let sent = ok_json(
        app.post_as(
            &format!("/api/chats/{gid}/messages"),
            &ana.access,
            &json!({"content": "", "attachment_ids": ids}),
        )
        .await,
    )
    .await;
    assert_eq!(sent["attachments"].as_array().unwrap().len(), 3);
    let listed = ok_json(
        app.get_as(&format!("/api/chats/{gid}/messages"), &bob.access)
            .await,
    )
    .await;
    assert_eq!(listed["items"][0]["attachments"][1]["name"], "report.pdf");
    assert_eq!(app.get_as(url, &bob.access).await.status(), 200);
    assert_eq!(
        app.get_as(&format!("{url}?size=64"), &bob.access)
            .await
            .status(),
        200
    );
    error_body(app.get_as(url, &eve.access).await, 404, "not_found").await;
    error_body(app.get(url).await, 404, "not_found").await;
    // Non-pictures download rather than render.
    let res = app.get_as(page["url"].as_str().unwrap(), &bob.access).await;
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"page.html\""
    );

    // Someone else's file, a file attached before, too many files.
    let bobs = ok_json(upload(&app, &bob, "b.txt", b"hello".to_vec()).await).await;
    for ids in [
        json!([bobs["id"]]),
        json!([picture["id"]]),
        json!(["0199a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b"]),
    ] {
        let res = app
            .post_as(
                &format!("/api/chats/{gid}/messages"),
                &ana.access,
                &json!({"content": "x", "attachment_ids": ids}),
            )
            .await;
        error_body(res, 422, "validation_error").await;
    }
    let eleven: Vec<Value> = (0..11).map(|_| bobs["id"].clone()).collect();
    let res = app
        .post_as(
            &format!("/api/chats/{gid}/messages"),
            &bob.access,
            &json!({"content": "x", "attachment_ids": eleven}),
        )
        .await;
    error_body(res, 422, "validation_error").await;
    // Deleting the message hides its files from others.
    app.send(
        reqwest::Method::DELETE,
        &format!("/api/chats/{gid}/messages/{}", sent["id"].as_str().unwrap()),
        Some(&ana.access),
        None,
    )
    .await;
    error_body(app.get_as(url, &bob.access).await, 404, "not_found").await;
}

#[tokio::test]
async fn uploads_are_limited_and_checked() {
    let app = TestApp::builder()
        .config(|c| c.storage.max_file_size = plaza_platform::config::ByteSize(64 << 10))
        .spawn()
        .await;
    let ana = app.register("ana@example.com").await;
    error_body(
        upload(&app, &ana, "big.bin", vec![7u8; 65 << 10]).await,
        413,
        "payload_too_large",
    )
    .await;
    error_body(
        upload(&app, &ana, "empty.txt", Vec::new()).await,
        422,
        "validation_error",
    )
    .await;
    let mut broken = png();
    broken.truncate(100);
    error_body(
        upload(&app, &ana, "broken.png", broken).await,
        422,
        "validation_error",
    )
    .await;
    let res = app
        .post_as("/api/files", &ana.access, &json!({"file": "x"}))
        .await;
    error_body(res, 415, "unsupported_media_type").await;
    let res = app
        .client
        .post(app.url("/api/files"))
        .multipart(Form::new().text("file", "x"))
        .send()
        .await
        .unwrap();
    error_body(res, 401, "authentication_error").await;
    let binary = ok_json(upload(&app, &ana, "blob", vec![0u8, 159, 146, 150]).await).await;
    assert_eq!(binary["content_type"], "application/octet-stream");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM files")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(count, 1, "refused uploads stored nothing");
    assert_eq!(app.state.storage.list("files").await.unwrap().len(), 1);
}

#[tokio::test]
async fn uploaded_pages_and_scripts_are_served_as_inert_downloads() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let cases: [(&str, &[u8]); 3] = [
        ("page.html", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),
        ("pic.svg", b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"),
        ("notes.txt", b"plain words"),
    ];
    for (name, bytes) in cases {
        let file = ok_json(upload(&app, &ana, name, bytes.to_vec()).await).await;
        let res = app.get_as(file["url"].as_str().unwrap(), &ana.access).await;
        assert_eq!(res.status(), 200, "{name}");
        let header = |h: &str| {
            res.headers()
                .get(h)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        let served = header("content-type");
        assert!(
            !served.contains("html") && !served.contains("svg") && !served.contains("xml"),
            "{name}: {served}"
        );
        assert!(
            header("content-disposition").starts_with("attachment"),
            "{name}"
        );
        assert_eq!(
            header("content-security-policy"),
            "default-src 'none'; sandbox; frame-ancestors 'none'",
            "{name}"
        );
        assert_eq!(header("x-content-type-options"), "nosniff", "{name}");
    }
}

#[tokio::test]
async fn a_signed_link_serves_a_file_without_a_token_until_it_expires() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let eve = app.register("eve@example.com").await;
    let picture = ok_json(upload(&app, &ana, "photo.png", png()).await).await;
    let id = picture["id"].as_str().unwrap();
    let link = ok_json(
        app.post_as(&format!("/api/files/{id}/link"), &ana.access, &json!({}))
            .await,
    )
    .await;
    let url = link["url"].as_str().unwrap().to_owned();
    assert!(link["expires_at"].is_string());
    let anonymous = |path: String| app.client.get(app.url(&path)).send();

    let res = anonymous(url.clone()).await.unwrap();
    assert_eq!(res.status(), 200, "no bearer needed");
    assert_eq!(
        res.bytes().await.unwrap().len() as i64,
        picture["byte_size"].as_i64().unwrap()
    );
    // Without the signature it is a private file again.
    assert_eq!(
        anonymous(format!("/api/files/{id}"))
            .await
            .unwrap()
            .status(),
        404
    );
    // An altered signature, expiry or size is no link.
    let sig_at = url.find("sig=").unwrap() + 4;
    let mut forged = url.clone();
    forged.replace_range(
        sig_at..sig_at + 1,
        if &url[sig_at..=sig_at] == "A" {
            "B"
        } else {
            "A"
        },
    );
    assert_eq!(anonymous(forged).await.unwrap().status(), 404);
    let later = url.replace("expires=", "expires=9");
    assert_eq!(anonymous(later).await.unwrap().status(), 404);
    assert_eq!(
        anonymous(url.replacen("?", "?size=64&", 1))
            .await
            .unwrap()
            .status(),
        404
    );
    // A thumbnail link names its size.
    let thumb = ok_json(
        app.post_as(
            &format!("/api/files/{id}/link?size=64"),
            &ana.access,
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(
        anonymous(thumb["url"].as_str().unwrap().to_owned())
            .await
            .unwrap()
            .status(),
        200
    );
    // Someone who may not read the file gets no link.
    error_body(
        app.post_as(&format!("/api/files/{id}/link"), &eve.access, &json!({}))
            .await,
        404,
        "not_found",
    )
    .await;
    // After an hour the link is dead.
    app.clock.advance(std::time::Duration::from_secs(3601));
    assert_eq!(anonymous(url).await.unwrap().status(), 404);
}
