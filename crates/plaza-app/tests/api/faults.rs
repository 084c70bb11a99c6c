//! Backing services that die under a running plaza. Each test starts its
//! own instance of the service on a free port and kills that one; the
//! shared servers are never stopped.

use std::time::{Duration, Instant};

use plaza_platform::testing::RedisServer;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, redis_prefix};

/// Far longer than a request takes without Redis, far shorter than the
/// 5–20 s a request used to wait for it.
const NO_WAITING: Duration = Duration::from_secs(2);

/// `f`'s result, or a panic saying `what` hung on a dead Redis.
async fn at_once<T>(what: &str, f: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let out = tokio::time::timeout(NO_WAITING, f)
        .await
        .unwrap_or_else(|_| panic!("{what} waited on a dead Redis"));
    eprintln!("without Redis: {what} in {:?}", started.elapsed());
    out
}

/// How long until `check` holds, polling; a panic after 30 s.
async fn recovers(what: &str, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if check().await {
            eprintln!(
                "after the service returned: {what} in {:?}",
                started.elapsed()
            );
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not recover within 30 s of the service returning");
}

#[tokio::test]
#[ignore = "needs PostgreSQL and redis-server"]
async fn a_redis_outage_slows_nothing_and_heals_by_itself() {
    let mut redis = RedisServer::start().await;
    let one = TestApp::builder()
        .backend(Backend::Postgres)
        .redis_at(&redis.url, &redis_prefix())
        .spawn()
        .await;
    let two = TestApp::builder().node_of(&one).spawn().await;
    let ana = one.register("ana@example.com").await;
    let bob = one.register("bob@example.com").await;
    let chat = one.group(&ana, "g", &[&bob]).await;
    let bob_on_two = two.login("bob@example.com").await;
    // Node two has checked a token already, so it does not read the
    // database's revocations at start any more.
    assert_eq!(
        two.get_as("/api/auth/me", &bob_on_two.access)
            .await
            .status(),
        200
    );

    redis.kill();
    tokio::time::sleep(Duration::from_millis(200)).await;

    at_once("sign-in", one.login("ana@example.com")).await;
    at_once("sign-up", one.register("cy@example.com")).await;
    let me = at_once("/api/auth/me", one.get_as("/api/auth/me", &ana.access)).await;
    assert_eq!(me.status(), 200);
    let projects = at_once("/api/projects", one.get_as("/api/projects", &ana.access)).await;
    assert_eq!(projects.status(), 200);
    let mut socket = at_once("a socket's ready", one.ws(&ana)).await;
    let path = format!("/api/chats/{chat}/messages");
    let sent = at_once(
        "a send",
        one.post_as(
            &path,
            &bob.access,
            &json!({"content": "while Redis is away"}),
        ),
    )
    .await;
    assert_eq!(sent.status(), 201);
    let listed: Value = at_once("the history", one.get_as(&path, &ana.access))
        .await
        .json()
        .await
        .unwrap();
    let contents: Vec<&Value> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["content"])
        .collect();
    assert!(
        contents.contains(&&json!("while Redis is away")),
        "{listed}"
    );
    let ready = at_once("/ready", one.get("/ready")).await;
    assert_eq!(ready.status(), 503, "/ready names Redis as down");

    // A session ended on one node is refused on the other, although
    // neither the revocation marker nor the bus can cross: the database says.
    let out = at_once(
        "a sign-out",
        one.post_as("/api/auth/logout", &bob_on_two.access, &json!({})),
    )
    .await;
    assert_eq!(out.status(), 204);
    let refused = at_once(
        "a revoked token",
        two.get_as("/api/auth/me", &bob_on_two.access),
    )
    .await;
    assert_eq!(
        refused.status(),
        401,
        "the revocation holds on the other node"
    );

    redis.restart().await;
    recovers("/ready", async || one.get("/ready").await.status() == 200).await;
    // Live delivery on this node went on (the relay retries the bus) or
    // resumes; across nodes it resumes once both nodes resubscribed.
    let mut on_two = two.ws(&ana).await;
    recovers("delivery across nodes", async || {
        let _ = one
            .post_as(&path, &bob.access, &json!({"content": "after"}))
            .await;
        matches!(
            on_two.next_within(Duration::from_millis(500)).await,
            Some(frame) if frame["type"] == "new_message"
        )
    })
    .await;
    let got = socket.next_of("new_message").await;
    assert_eq!(
        got["content"], "while Redis is away",
        "nothing lost on the socket"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL (pg_createcluster)"]
async fn a_stopped_database_is_answered_503_at_once_and_plaza_comes_back() {
    let pg = plaza_platform::testing::PgCluster::create().await;
    let app = TestApp::builder()
        .backend(Backend::Postgres)
        .database_at(&pg.url)
        .spawn()
        .await;
    let ana = app.register("ana@example.com").await;
    let chat = app.group(&ana, "g", &[]).await;
    let path = format!("/api/chats/{chat}/messages");

    pg.stop();
    let stopped = Instant::now();
    // Until the watcher notices (a second or two) a request may wait for
    // its connection; none waits past the pool's acquire timeout.
    let mut fast = None;
    while stopped.elapsed() < Duration::from_secs(15) {
        let began = Instant::now();
        let res = tokio::time::timeout(Duration::from_secs(7), one_send(&app, &path, &ana.access))
            .await
            .expect("a request hung on a stopped database");
        assert_eq!(res.0, 503, "{}", res.1);
        if began.elapsed() < Duration::from_millis(100) {
            fast = Some(stopped.elapsed());
            break;
        }
    }
    let fast = fast.expect("requests were not answered at once while the database was down");
    eprintln!("database stopped: requests answered 503 at once after {fast:?}");
    let mut answers = Vec::new();
    for _ in 0..20 {
        let res = tokio::time::timeout(NO_WAITING, one_send(&app, &path, &ana.access))
            .await
            .expect("a request hung on a stopped database");
        answers.push(res.0);
    }
    assert!(answers.iter().all(|s| *s == 503), "{answers:?}");
    let err: Value = serde_json::from_str(&one_send(&app, &path, &ana.access).await.1).unwrap();
    assert_eq!(err["type"], "dependency_error", "{err}");
    assert_eq!(
        app.get("/health").await.status(),
        200,
        "liveness does not need the database"
    );

    tokio::time::sleep(Duration::from_secs(5)).await;
    pg.start().await;
    recovers("sends", async || {
        one_send(&app, &path, &ana.access).await.0 == 201
    })
    .await;
    let history: Value = app.get_as(&path, &ana.access).await.json().await.unwrap();
    assert!(!history["items"].as_array().unwrap().is_empty());
}

async fn one_send(app: &TestApp, path: &str, token: &str) -> (u16, String) {
    let res = app.post_as(path, token, &json!({"content": "hello"})).await;
    (res.status().as_u16(), res.text().await.unwrap_or_default())
}

/// A small tmpfs of a test's own, unmounted (lazily) when dropped.
struct SmallDisk(tempfile::TempDir);

impl SmallDisk {
    fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "mounting a tmpfs needs root");
        Self(dir)
    }

    /// Writes zeros until the disk is full; the filler's path.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let path = self.0.path().join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 16 * 1024];
        while file.write_all(&chunk).and_then(|()| file.flush()).is_ok() {}
        let _ = file.write_all(&[0u8; 512]);
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.0.path())
            .status();
    }
}

#[tokio::test]
#[ignore = "needs root (mounts a tmpfs)"]
async fn a_full_disk_answers_507_loses_nothing_and_heals_when_space_returns() {
    let disk = SmallDisk::mount("16m");
    let data = disk.0.path().join("data");
    let app = TestApp::builder()
        .config(move |c| c.data_dir = data)
        .spawn()
        .await;
    let ana = app.register("ana@example.com").await;
    let chat = app.group(&ana, "g", &[]).await;
    let path = format!("/api/chats/{chat}/messages");
    let filler = disk.fill();

    let mut acked = Vec::new();
    let mut full = 0;
    for i in 0..400 {
        let content = format!("{i:04} {}", "x".repeat(3000));
        let res = app
            .post_as(&path, &ana.access, &json!({"content": content}))
            .await;
        match res.status().as_u16() {
            201 => acked.push(content),
            507 => {
                let err: Value = res.json().await.unwrap();
                assert_eq!(err["code"], "server.storage_full", "{err}");
                full += 1;
                if full >= 3 {
                    break;
                }
            }
            other => panic!(
                "a send on a full disk answered {other}: {}",
                res.text().await.unwrap()
            ),
        }
    }
    assert!(
        full > 0,
        "the disk never filled ({} sends stored)",
        acked.len()
    );
    let part = reqwest::multipart::Part::bytes(vec![7u8; 64 * 1024]).file_name("blob.bin");
    let upload = app
        .client
        .post(app.url("/api/files"))
        .bearer_auth(&ana.access)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), 507, "{}", upload.text().await.unwrap());
    eprintln!(
        "full disk: {} sends stored, then 507 (server.storage_full); an upload 507",
        acked.len()
    );

    std::fs::remove_file(filler).unwrap();
    assert_eq!(
        app.post_as(&path, &ana.access, &json!({"content": "after"}))
            .await
            .status(),
        201,
        "space is back, so are writes"
    );
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(app.state.db.writer())
        .await
        .unwrap();
    assert_eq!(integrity, "ok");
    let mut stored = Vec::new();
    let mut after = 0;
    loop {
        let page: Value = app
            .get_as(&format!("{path}?after_seq={after}&limit=100"), &ana.access)
            .await
            .json()
            .await
            .unwrap();
        let items = page["items"].as_array().unwrap().clone();
        if items.is_empty() {
            break;
        }
        after = items.last().unwrap()["seq"].as_i64().unwrap();
        stored.extend(
            items
                .into_iter()
                .map(|m| m["content"].as_str().unwrap().to_owned()),
        );
    }
    for content in &acked {
        assert!(
            stored.contains(content),
            "an acknowledged message is missing"
        );
    }
    assert_eq!(stored.len(), acked.len() + 1, "nothing half-written");
    drop(app);
}
