//! Avatars through the storage port: real images, hostile ones, and files
//! served by id.

use std::io::Cursor;
use std::time::Duration;

use image::{ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::helpers::{TestApp, error_body, resident_kib};

fn encoded(format: ImageFormat, width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    if format == ImageFormat::Png {
        RgbaImage::from_pixel(width, height, Rgba([200, 10, 10, 100]))
            .write_to(&mut Cursor::new(&mut out), format)
            .unwrap();
    } else {
        RgbImage::from_fn(width, height, |x, y| {
            Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        })
        .write_to(&mut Cursor::new(&mut out), format)
        .unwrap();
    }
    out
}

/// A PNG whose header claims `width`×`height` (valid checksum), over 1×1 pixels of data.
fn claiming(width: u32, height: u32) -> Vec<u8> {
    let mut png = encoded(ImageFormat::Png, 1, 1);
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crate::helpers::crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

async fn upload(
    app: &TestApp,
    user: &str,
    token: Option<&str>,
    name: &str,
    mime: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let part = Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str(mime)
        .unwrap();
    let mut req = app
        .client
        .post(app.url(&format!("/api/profiles/{user}/avatar")))
        .multipart(Form::new().part("file", part));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

async fn stored(app: &TestApp) -> (i64, Vec<String>) {
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM files")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    (rows, app.state.storage.list("files").await.unwrap())
}

pub async fn avatar_round_trip(app: &TestApp) {
    let ana = app.register("ana@example.com").await;
    let res = upload(
        app,
        &ana.user_id,
        Some(&ana.access),
        "me.png",
        "image/png",
        encoded(ImageFormat::Png, 400, 300),
    )
    .await;
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.unwrap();
    let url = me["avatar_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("/api/files/"), "{url}");

    let original = app.get(&url).await;
    assert_eq!(original.headers()["content-type"], "image/png");
    assert!(
        original.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let img = image::load_from_memory(&original.bytes().await.unwrap()).unwrap();
    assert_eq!((img.width(), img.height()), (400, 300));
    for size in [256u32, 64] {
        let res = app.get(&format!("{url}?size={size}")).await;
        assert_eq!(res.status(), 200);
        let thumb = image::load_from_memory(&res.bytes().await.unwrap()).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (size, size));
    }
    error_body(
        app.get(&format!("{url}?size=128")).await,
        422,
        "validation_error",
    )
    .await;
    let (rows, objects) = stored(app).await;
    assert_eq!((rows, objects.len()), (1, 3), "{objects:?}");

    // A new avatar replaces the old, objects and all.
    let res = upload(
        app,
        &ana.user_id,
        Some(&ana.access),
        "me.jpg",
        "image/jpeg",
        encoded(ImageFormat::Jpeg, 120, 160),
    )
    .await;
    let me: Value = res.json().await.unwrap();
    let new_url = me["avatar_url"].as_str().unwrap();
    assert_ne!(new_url, url);
    error_body(app.get(&url).await, 404, "not_found").await;
    let res = app.get(new_url).await;
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    let (rows, objects) = stored(app).await;
    assert_eq!((rows, objects.len()), (1, 3), "{objects:?}");

    let res = app
        .send(
            Method::DELETE,
            &format!("/api/profiles/{}/avatar", ana.user_id),
            Some(&ana.access),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    let me: Value = app
        .get_as("/api/user/profile", &ana.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["avatar_url"], Value::Null);
    assert_eq!(stored(app).await, (0, vec![]));
}

#[tokio::test]
async fn avatars_are_stored_with_thumbnails_and_replaced_whole() {
    let app = TestApp::spawn().await;
    avatar_round_trip(&app).await;
}

#[tokio::test]
async fn every_accepted_format_works() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    for (format, mime) in [
        (ImageFormat::Gif, "image/gif"),
        (ImageFormat::WebP, "image/webp"),
        (ImageFormat::Jpeg, "image/jpeg"),
    ] {
        // The client's type and name do not matter; the bytes do.
        let res = upload(
            &app,
            &ana.user_id,
            Some(&ana.access),
            "x.bin",
            "application/octet-stream",
            encoded(format, 70, 50),
        )
        .await;
        assert_eq!(res.status(), 200, "{mime}");
    }
}

#[tokio::test]
async fn hostile_and_wrong_uploads_are_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    let upload_as = |bytes: Vec<u8>, name: &'static str| {
        upload(
            &app,
            &ana.user_id,
            Some(&ana.access),
            name,
            "image/png",
            bytes,
        )
    };

    error_body(
        upload_as(b"just some text, honest".to_vec(), "avatar.png").await,
        415,
        "unsupported_media_type",
    )
    .await;
    let before = resident_kib();
    let body = error_body(
        upload_as(claiming(100_000, 100_000), "bomb.png").await,
        422,
        "validation_error",
    )
    .await;
    // Recorded, not asserted: the bomb is refused from its header.
    eprintln!(
        "upload bomb (100 000 × 100 000 PNG): resident {before} → {} KiB",
        resident_kib()
    );
    assert!(
        body["error"].as_str().unwrap().contains("megapixels"),
        "{body}"
    );
    let mut huge = encoded(ImageFormat::Png, 10, 10);
    huge.resize(6 << 20, 0);
    error_body(upload_as(huge, "huge.png").await, 413, "payload_too_large").await;
    let mut truncated = encoded(ImageFormat::Png, 64, 64);
    truncated.truncate(60);
    error_body(
        upload_as(truncated, "cut.png").await,
        422,
        "validation_error",
    )
    .await;
    error_body(
        upload_as(Vec::new(), "empty.png").await,
        422,
        "validation_error",
    )
    .await;

    // Not multipart at all; multipart without a file part.
    let res = app
        .post_as(
            &format!("/api/profiles/{}/avatar", ana.user_id),
            &ana.access,
            &serde_json::json!({"file": "x"}),
        )
        .await;
    error_body(res, 415, "unsupported_media_type").await;
    let res = app
        .client
        .post(app.url(&format!("/api/profiles/{}/avatar", ana.user_id)))
        .bearer_auth(&ana.access)
        .multipart(Form::new().text("note", "hi"))
        .send()
        .await
        .unwrap();
    error_body(res, 422, "validation_error").await;

    // Someone else's profile, nobody's, and no token.
    let png = || encoded(ImageFormat::Png, 8, 8);
    error_body(
        upload(
            &app,
            &ana.user_id,
            Some(&bob.access),
            "a.png",
            "image/png",
            png(),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    error_body(
        upload(&app, &ana.user_id, None, "a.png", "image/png", png()).await,
        401,
        "authentication_error",
    )
    .await;
    error_body(
        upload(
            &app,
            "0199a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b",
            Some(&ana.access),
            "a.png",
            "image/png",
            png(),
        )
        .await,
        404,
        "not_found",
    )
    .await;

    assert_eq!(stored(&app).await, (0, vec![]), "nothing stored");
    error_body(app.get("/api/files/not-an-id").await, 404, "not_found").await;
    error_body(
        app.get("/api/files/0199a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b")
            .await,
        404,
        "not_found",
    )
    .await;

    let admin = app.make_admin("bob@example.com").await;
    let res = upload(
        &app,
        &ana.user_id,
        Some(&admin.access),
        "a.png",
        "image/png",
        png(),
    )
    .await;
    assert_eq!(res.status(), 200, "admins may");
    // Deleting the account removes the avatar's objects.
    app.send(Method::DELETE, "/api/user/profile", Some(&ana.access), None)
        .await;
    assert_eq!(stored(&app).await, (0, vec![]));
}

/// moto's S3 server (from PyPI) on a free local port.
struct S3Server {
    child: std::process::Child,
    endpoint: String,
}

impl S3Server {
    async fn start(bucket: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("moto_server (pip install 'moto[server]')");
        // Owned at once, so a failed start still kills and reaps it.
        let server = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let client = crate::helpers::http_client();
        for _ in 0..200 {
            let created = client
                .put(format!("{}/{bucket}", server.endpoint))
                .send()
                .await;
            if created.is_ok_and(|r| r.status().is_success()) {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("moto_server did not start");
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
#[ignore = "needs moto (pip install 'moto[server]')"]
async fn avatars_live_in_an_s3_bucket_when_configured() {
    let s3 = S3Server::start("plaza-test").await;
    let endpoint = s3.endpoint.clone();
    let app = TestApp::builder()
        .config(move |c| {
            c.storage.s3_bucket = Some("plaza-test".into());
            c.storage.s3_endpoint = Some(endpoint);
            c.storage.s3_access_key_id = Some("testing".into());
            c.storage.s3_secret_access_key = Some(plaza_platform::config::Secret::new("testing"));
        })
        .spawn()
        .await;
    assert!(app.state.storage.describe.starts_with("s3:"));
    let ready: Value = app.get("/ready").await.json().await.unwrap();
    assert_eq!(ready["checks"]["storage"], "ok", "{ready}");
    avatar_round_trip(&app).await;
    assert!(
        !app.state.config.data_dir.join("files").exists(),
        "nothing on local disk"
    );
    // The bucket really held the objects while they existed.
    let ana = app.login("ana@example.com").await;
    upload(
        &app,
        &ana.user_id,
        Some(&ana.access),
        "a.png",
        "image/png",
        encoded(ImageFormat::Png, 9, 9),
    )
    .await;
    let listing = crate::helpers::http_client()
        .get(format!("{}/plaza-test?list-type=2", s3.endpoint))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(listing.matches("<Key>files/").count(), 3, "{listing}");
}

#[tokio::test]
async fn readiness_names_an_unreachable_bucket() {
    let app = TestApp::builder()
        .config(|c| {
            c.storage.s3_bucket = Some("nowhere".into());
            c.storage.s3_endpoint = Some("http://127.0.0.1:9".into());
            c.storage.s3_access_key_id = Some("x".into());
            c.storage.s3_secret_access_key = Some(plaza_platform::config::Secret::new("y"));
        })
        .spawn()
        .await;
    let body = error_body(app.get("/ready").await, 503, "dependency_error").await;
    assert_eq!(
        body["details"]["failed"],
        serde_json::json!(["storage"]),
        "{body}"
    );
    assert_eq!(body["details"]["checks"]["database"], "ok");
}
