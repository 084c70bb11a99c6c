//! Hostile pictures, each sent both as an avatar and as an attachment: a
//! GIF whose logical screen is huge, a PNG whose compressed stream inflates
//! a thousandfold past what its header needs, pages with script sent as
//! images, and a GIF that is also a page. Refused from the header, bounded
//! while decoding, or re-encoded so nothing active is served back.

use std::io::Write;

use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::helpers::{TestApp, Tokens, crc32, error_body, resident_kib};

/// The smallest GIF: 1×1, two colours, `extra` blocks before its image.
fn gif(screen: (u16, u16), extra: &[u8]) -> Vec<u8> {
    let mut out = b"GIF89a".to_vec();
    out.extend_from_slice(&screen.0.to_le_bytes());
    out.extend_from_slice(&screen.1.to_le_bytes());
    out.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff]);
    out.extend_from_slice(extra);
    out.extend_from_slice(&[0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
    out.extend_from_slice(&[0x02, 0x02, 0x44, 0x01, 0x00, 0x3b]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A `width`×`height` RGBA PNG whose one IDAT inflates to `inflated` bytes
/// of zeros (each row filter 0, each pixel transparent black).
fn png_inflating_to(width: u32, height: u32, inflated: usize) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    let mut left = inflated;
    while left > 0 {
        let n = left.min(zeros.len());
        z.write_all(&zeros[..n]).unwrap();
        left -= n;
    }
    chunk(&mut out, b"IDAT", &z.finish().unwrap());
    chunk(&mut out, b"IEND", &[]);
    out
}

/// Sends `bytes` named `name` as `mime`: as Ana's avatar, and as an
/// attachment. The two answers.
async fn both(
    app: &TestApp,
    ana: &Tokens,
    name: &str,
    mime: &str,
    bytes: &[u8],
) -> [reqwest::Response; 2] {
    let form = || {
        let part = Part::bytes(bytes.to_vec())
            .file_name(name.to_owned())
            .mime_str(mime)
            .unwrap();
        Form::new().part("file", part)
    };
    let avatar = app
        .client
        .post(app.url(&format!("/api/profiles/{}/avatar", ana.user_id)))
        .bearer_auth(&ana.access)
        .multipart(form())
        .send()
        .await
        .unwrap();
    let attachment = app
        .client
        .post(app.url("/api/files"))
        .bearer_auth(&ana.access)
        .multipart(form())
        .send()
        .await
        .unwrap();
    [avatar, attachment]
}

async fn files(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM files")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap()
}

/// What a stored file's URL serves: its content type and bytes.
async fn served(app: &TestApp, ana: &Tokens, url: &str) -> (String, Vec<u8>) {
    let res = app.get_as(url, &ana.access).await;
    assert_eq!(res.status(), 200, "{url}");
    let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    (kind, res.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn a_gif_with_a_huge_logical_screen_is_refused_from_its_header() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let before = resident_kib();
    let bomb = gif((65_535, 65_535), &[]);
    for res in both(&app, &ana, "screen.gif", "image/gif", &bomb).await {
        let body = error_body(res, 422, "validation_error").await;
        assert!(
            body["error"].as_str().unwrap().contains("megapixels"),
            "{body}"
        );
    }
    eprintln!(
        "GIF bomb ({} bytes, 65 535 × 65 535 screen): resident {before} → {} KiB",
        bomb.len(),
        resident_kib()
    );
    assert_eq!(files(&app).await, 0);
    // The same picture with an honest screen is a picture.
    for res in both(&app, &ana, "dot.gif", "image/gif", &gif((1, 1), &[])).await {
        assert!(res.status().is_success(), "{}", res.status());
    }
}

#[tokio::test]
async fn a_png_that_inflates_past_its_header_is_decoded_only_as_far_as_the_header_says() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    // 100 × 100 RGBA needs 40 100 bytes; the stream holds 256 MiB.
    let bomb = png_inflating_to(100, 100, 256 << 20);
    let before = resident_kib();
    let [avatar, attachment] = both(&app, &ana, "deflate.png", "image/png", &bomb).await;
    eprintln!(
        "deflate bomb ({} KiB inflating to 256 MiB, 100 × 100 header): resident {before} → {} KiB",
        bomb.len() / 1024,
        resident_kib()
    );
    assert_eq!(avatar.status(), 200);
    let me: Value = avatar.json().await.unwrap();
    let (kind, bytes) = served(&app, &ana, me["avatar_url"].as_str().unwrap()).await;
    assert_eq!(kind, "image/png");
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!((img.width(), img.height()), (100, 100));
    assert!(bytes.len() < 64 << 10, "stored re-encoded, not as sent");
    assert_eq!(attachment.status(), 201);
    let file: Value = attachment.json().await.unwrap();
    assert_eq!(
        (file["width"].as_u64(), file["height"].as_u64()),
        (Some(100), Some(100))
    );
}

#[tokio::test]
async fn pages_with_script_sent_as_images_are_not_pictures_and_are_served_inert() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let cases: [(&str, &[u8]); 2] = [
        ("photo.png", b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"),
        ("photo.svg", b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><script>alert(1)</script></svg>"),
    ];
    for (name, bytes) in cases {
        let [avatar, attachment] = both(&app, &ana, name, "image/png", bytes).await;
        error_body(avatar, 415, "unsupported_media_type").await;
        // As an attachment it is a file, never an image or a page.
        assert_eq!(attachment.status(), 201, "{name}");
        let file: Value = attachment.json().await.unwrap();
        assert!(file["width"].is_null(), "{name}: not a picture");
        let res = app.get_as(file["url"].as_str().unwrap(), &ana.access).await;
        let header = |h: &str| res.headers()[h].to_str().unwrap().to_owned();
        assert_eq!(header("content-type"), "application/octet-stream", "{name}");
        assert!(
            header("content-disposition").starts_with("attachment"),
            "{name}"
        );
        assert!(
            header("content-security-policy").contains("sandbox"),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_gif_that_is_also_a_page_is_served_re_encoded_without_its_script() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    // A comment block holding a page, and the page again after the trailer:
    // a browser sniffing it as HTML would run the script.
    let script = b"<html><script>alert(document.domain)</script></html>";
    let mut comment = vec![0x21, 0xfe, u8::try_from(script.len()).unwrap()];
    comment.extend_from_slice(script);
    comment.push(0);
    let mut polyglot = gif((1, 1), &comment);
    polyglot.extend_from_slice(script);
    let [avatar, attachment] = both(&app, &ana, "cat.gif", "image/gif", &polyglot).await;
    assert_eq!(avatar.status(), 200);
    let me: Value = avatar.json().await.unwrap();
    assert_eq!(attachment.status(), 201);
    let file: Value = attachment.json().await.unwrap();
    for url in [
        me["avatar_url"].as_str().unwrap(),
        file["url"].as_str().unwrap(),
    ] {
        let (kind, bytes) = served(&app, &ana, url).await;
        assert!(kind == "image/png" || kind == "image/jpeg", "{url}: {kind}");
        assert!(
            !bytes.windows(7).any(|w| w.eq_ignore_ascii_case(b"<script")),
            "{url}: the script is gone"
        );
        image::load_from_memory(&bytes).unwrap();
    }
}
