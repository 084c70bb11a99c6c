//! The `plaza` binary, run the way a person runs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use plaza_platform::testing::TestPostgres;

/// `plaza` in `dir`, with no `PLAZA_*` variables from the outside.
fn plaza(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_plaza"));
    cmd.current_dir(dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("PLAZA_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// A running server and the address it announced.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(cmd: &mut Command) -> Self {
        let mut child = cmd
            .args(["serve", "--port", "0", "--host", "127.0.0.1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some((_, rest)) = line.split_once("plaza is listening on ") {
                    // Text or JSON logs: the URL ends at the first character a URL lacks.
                    let url: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || ":/.".contains(*c))
                        .collect();
                    let _ = tx.send(url);
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server announced its address");
        Self { child, base }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `method path` as the bearer of `token`, with `body` as JSON when
    /// given: the answer's status and JSON.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut req = client().request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        (res.status().as_u16(), res.json().await.unwrap())
    }

    async fn get_json(&self, path: &str) -> serde_json::Value {
        client()
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Sends SIGTERM and waits for a clean exit.
    fn terminate(mut self) -> i32 {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

#[tokio::test]
async fn serve_on_a_fresh_directory_answers_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&mut plaza(dir.path()));
    let client = client();
    for path in [
        "/health",
        "/ready",
        "/metrics",
        "/api-docs/",
        "/api-docs/openapi.json",
    ] {
        let res = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
    let missing = client.get(server.url("/nope")).send().await.unwrap();
    assert_eq!(missing.status(), 404);

    assert!(
        dir.path().join("data/plaza.db").is_file(),
        "the SQLite file is made in ./data"
    );
    assert_eq!(server.terminate(), 0);

    let logs: Vec<String> = std::fs::read_dir(dir.path().join("logs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let combined = logs
        .iter()
        .find(|f| f.starts_with("combined.") && f.ends_with(".log"))
        .expect("combined log");
    assert!(
        logs.iter()
            .any(|f| f.starts_with("error.") && f.ends_with(".log")),
        "{logs:?}"
    );
    let text = std::fs::read_to_string(dir.path().join("logs").join(combined)).unwrap();
    let latest = std::fs::read_to_string(dir.path().join("logs/combined.log")).unwrap();
    assert_eq!(latest, text, "logs/combined.log is today's file");
    assert!(dir.path().join("logs/error.log").exists());
    assert!(text.contains("plaza is listening on"), "{text}");
    assert!(text.contains("/ready"), "requests are logged: {text}");
    assert!(text.contains("shutting down"), "{text}");
}

#[tokio::test]
async fn old_log_files_are_pruned_to_the_retention() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    for day in ["2026-01-01", "2026-01-02", "2026-01-03"] {
        std::fs::write(logs.join(format!("combined.{day}.log")), "old\n").unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::write(logs.join("notes.txt"), "not a log").unwrap();
    let server = Server::start(plaza(dir.path()).env("PLAZA_LOG_RETENTION_DAYS", "2"));
    assert_eq!(server.terminate(), 0);
    let mut combined: Vec<String> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.starts_with("combined.20"))
        .collect();
    combined.sort();
    assert_eq!(combined.len(), 2, "{combined:?}");
    assert_eq!(
        combined[0], "combined.2026-01-03.log",
        "the newest old file is kept, older ones pruned"
    );
    assert!(
        logs.join("notes.txt").exists(),
        "other files are left alone"
    );
}

#[tokio::test]
async fn json_logs_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        plaza(dir.path())
            .env("PLAZA_LOG_FORMAT", "json")
            .env("PLAZA_LOG_DIR", "custom-logs"),
    );
    client().get(server.url("/health")).send().await.unwrap();
    assert_eq!(server.terminate(), 0);
    let combined = std::fs::read_dir(dir.path().join("custom-logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("combined")
        })
        .expect("combined log in PLAZA_LOG_DIR");
    let text = std::fs::read_to_string(combined).unwrap();
    assert!(text.lines().count() >= 3, "{text}");
    for line in text.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["level"].is_string());
    }
}

#[test]
fn bad_configuration_stops_start_up_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(plaza(dir.path()).arg("serve").env("PLAZA_PORT", "eighty"));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("PLAZA_PORT"), "{stderr}");

    std::fs::write(
        dir.path().join("plaza.toml"),
        "[database]\nurl = \"mysql://x\"\n",
    )
    .unwrap();
    let (code, _, stderr) = run(plaza(dir.path()).arg("serve"));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("PLAZA_DATABASE_URL") && stderr.contains("unsupported database"),
        "{stderr}"
    );

    let (code, _, stderr) =
        run(plaza(dir.path()).args(["--config", "missing.toml", "config", "show"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("missing.toml"), "{stderr}");
}

#[test]
fn unreachable_services_stop_start_up_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(plaza(dir.path())
        .arg("serve")
        .env("PLAZA_REDIS_URL", "redis://127.0.0.1:1"));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("PLAZA_REDIS_URL"), "{stderr}");
}

#[test]
fn config_show_prints_the_effective_configuration_with_secrets_masked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plaza.toml"), "port = 9000\n").unwrap();
    let (code, stdout, stderr) = run(plaza(dir.path())
        .args(["config", "show"])
        .env("PLAZA_DATABASE_URL", "postgres://plaza:hunter2@db/plaza")
        .env("PLAZA_FEATURE_DEBUG", "true"));
    assert_eq!(code, 0, "{stderr}");
    let shown: toml::Value = toml::from_str(&stdout).unwrap();
    assert_eq!(shown["port"].as_integer(), Some(9000));
    assert_eq!(
        shown["database"]["url"].as_str(),
        Some("postgres://plaza:********@db/plaza")
    );
    assert_eq!(shown["features"]["debug"].as_bool(), Some(true));
    assert!(!stdout.contains("hunter2"));
}

#[test]
fn migrate_reports_applies_and_reverts() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, _) = run(plaza(dir.path()).args(["migrate", "status"]));
    assert_eq!(code, 0);
    assert!(
        stdout.contains("users") && stdout.contains("pending"),
        "{stdout}"
    );

    let (code, stdout, _) = run(plaza(dir.path()).args(["migrate", "up"]));
    assert_eq!(code, 0);
    let all = plaza_app::MIGRATIONS.len();
    assert!(
        stdout.starts_with(&format!("applied {all} migration(s) on sqlite")),
        "{stdout}"
    );
    let (_, stdout, _) = run(plaza(dir.path()).args(["migrate", "status"]));
    assert!(stdout.contains("applied 20"), "{stdout}");

    let (code, stdout, _) = run(plaza(dir.path()).args(["migrate", "down"]));
    assert_eq!(code, 0);
    assert!(stdout.starts_with("reverted 1 migration(s)"), "{stdout}");
    let (_, stdout, _) = run(plaza(dir.path()).args(["migrate", "status"]));
    assert!(stdout.contains("pending"), "{stdout}");
}

#[test]
fn migrate_create_writes_an_up_and_a_down_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("migrations")).unwrap();
    let (code, stdout, stderr) = run(plaza(dir.path()).args(["migrate", "create", "add_widgets"]));
    assert_eq!(code, 0, "{stderr}");
    let mut files: Vec<String> = std::fs::read_dir(dir.path().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(
        files[0].ends_with("_add_widgets.down.sql") && files[1].ends_with("_add_widgets.up.sql"),
        "{files:?}"
    );
    assert!(stdout.contains("rebuild"));
    let (code, _, stderr) = run(plaza(dir.path()).args(["migrate", "create", "Bad Name"]));
    assert_eq!(code, 1);
    assert!(stderr.contains("lower-case"), "{stderr}");
}

#[test]
fn admin_create_user_makes_an_account_once() {
    let dir = tempfile::tempdir().unwrap();
    let create = |email: &str| {
        run(plaza(dir.path()).args([
            "admin",
            "create-user",
            "--email",
            email,
            "--password",
            "correct horse battery",
            "--role",
            "admin",
        ]))
    };
    let (code, stdout, stderr) = create("Root@Example.com");
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("created admin root (Root@example.com) with id "),
        "{stdout}"
    );

    let (code, _, stderr) = create("root@example.com");
    assert_eq!(code, 1);
    assert!(stderr.contains("already exists"), "{stderr}");

    let (code, _, stderr) = run(plaza(dir.path()).args([
        "admin",
        "create-user",
        "--email",
        "x@y.io",
        "--password",
        "short",
    ]));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("--password") && stderr.contains("at least 8"),
        "{stderr}"
    );

    let mut child = plaza(dir.path())
        .args([
            "admin",
            "create-user",
            "--email",
            "piped@example.com",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"from standard input\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("created user piped"));
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn the_same_binary_uses_postgres_when_the_url_says_so() {
    let pg = TestPostgres::create().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(plaza(dir.path()).env("PLAZA_DATABASE_URL", &pg.url));
    let ready = server.get_json("/ready").await;
    assert_eq!(ready["checks"]["database"], "ok");
    assert!(
        !dir.path().join("data/plaza.db").exists(),
        "no SQLite file when PostgreSQL is used"
    );
    assert_eq!(server.terminate(), 0);

    let (code, stdout, _) = run(plaza(dir.path())
        .args(["migrate", "status"])
        .env("PLAZA_DATABASE_URL", &pg.url));
    assert_eq!(code, 0);
    assert!(stdout.contains("applied"), "{stdout}");
}

#[tokio::test]
#[ignore = "needs Redis"]
async fn serve_with_redis_reports_it_ready() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        plaza(dir.path())
            .env("PLAZA_REDIS_URL", plaza_platform::testing::redis_url())
            .env(
                "PLAZA_REDIS_KEY_PREFIX",
                format!("plaza-test:{}:", std::process::id()),
            ),
    );
    let ready = server.get_json("/ready").await;
    assert_eq!(ready["checks"]["redis"], "ok");
    assert_eq!(server.terminate(), 0);
}

/// A client for tests, with plaza's TLS backend installed first.
fn client() -> reqwest::Client {
    plaza_platform::tls::install();
    reqwest::Client::new()
}

#[test]
fn worker_runs_the_queues_it_is_given_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = plaza(dir.path())
        .args(["worker", "--queues", "maintenance,email"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server {
        child,
        base: String::new(),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("plaza worker is running") {
                let _ = tx.send(line);
            }
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the worker announced itself");
    assert!(
        line.contains("maintenance") && line.contains("email"),
        "{line}"
    );
    assert_eq!(server.terminate(), 0);
}

/// Sends SIGKILL: the process gets no chance to hand anything back.
fn kill_9(child: &mut Child) {
    assert!(
        Command::new("kill")
            .args(["-KILL", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let _ = child.wait();
}

async fn job_state(db: &mut sqlx::PgConnection, id: &str) -> (String, i64) {
    sqlx::query_as("SELECT state, CAST(attempts AS BIGINT) FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap()
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn a_job_whose_worker_is_killed_runs_again_on_another_worker() {
    use sqlx::Connection;
    let pg = TestPostgres::create().await;
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(plaza(dir.path())
        .args(["migrate", "up"])
        .env("PLAZA_DATABASE_URL", &pg.url));
    assert_eq!(code, 0, "{stderr}");
    // A mail job, and a "mail server" that accepts connections and never
    // answers, so the first worker is stuck in it when it is killed.
    let mut db = sqlx::PgConnection::connect(&pg.url).await.unwrap();
    let id = "0199aaaa-0000-7000-8000-000000000001";
    sqlx::query(
        "INSERT INTO jobs (id, queue, kind, payload, priority, state, max_attempts, run_at, created_at) \
         VALUES ($1, 'email', 'mail.account', $2, 0, 'waiting', 5, '1970-01-01T00:00:00Z', '1970-01-01T00:00:00Z')",
    )
    .bind(id)
    .bind(r#"{"mail": {"to": "ana@example.com", "subject": "Your code", "text": "123456"}}"#)
    .execute(&mut db)
    .await
    .unwrap();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let smtp = format!("smtp://127.0.0.1:{}", silent.local_addr().unwrap().port());
    let worker = |extra: &[(&str, &str)]| {
        let mut cmd = plaza(dir.path());
        cmd.args(["worker", "--queues", "email"])
            .env("PLAZA_DATABASE_URL", &pg.url)
            .env("PLAZA_JOBS_LEASE", "2s")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd.spawn().unwrap()
    };

    let mut first = worker(&[("PLAZA_MAIL_SMTP_URL", &smtp)]);
    let started = Instant::now();
    while job_state(&mut db, id).await.0 != "active" {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the first worker never took the job"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    kill_9(&mut first);

    // The second worker writes mail to files; it finds the lease run out,
    // takes the job back and sends it.
    let second = worker(&[]);
    let second = Server {
        child: second,
        base: String::new(),
    };
    let started = Instant::now();
    loop {
        let (state, attempts) = job_state(&mut db, id).await;
        if state == "completed" {
            assert_eq!(attempts, 2, "run again after the kill");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the job was not run again: {state}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mails: Vec<_> = std::fs::read_dir(dir.path().join("data/mail"))
        .unwrap()
        .collect();
    assert_eq!(mails.len(), 1);
    assert_eq!(second.terminate(), 0);
    drop(silent);
}

/// Signs up `email` on `server` (or signs in, once it exists); the token.
async fn token_of(server: &Server, email: &str) -> (String, String) {
    let body = serde_json::json!({"email": email, "password": "correct horse battery staple"});
    let mut res = client()
        .post(server.url("/api/auth/register"))
        .json(&body)
        .send()
        .await
        .unwrap();
    if res.status() == 409 {
        res = client()
            .post(server.url("/api/auth/login"))
            .json(&body)
            .send()
            .await
            .unwrap();
    }
    let v: serde_json::Value = res.json().await.unwrap();
    (
        v["access_token"].as_str().unwrap().to_owned(),
        v["user"]["id"].as_str().unwrap().to_owned(),
    )
}

/// Sends messages to `chat` as fast as answers come, until the server
/// dies; the contents it acknowledged (201).
async fn send_until_killed(server: &Server, token: &str, chat: &str, round: usize) -> Vec<String> {
    let url = server.url(&format!("/api/chats/{chat}/messages"));
    let mut acked = Vec::new();
    for i in 0.. {
        let content = format!("r{round}-m{i}");
        let sent = client()
            .post(&url)
            .bearer_auth(token)
            .json(&serde_json::json!({"content": content}))
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        match sent {
            Ok(res) if res.status() == 201 => acked.push(content),
            Ok(res) => panic!("a send answered {}", res.status()),
            Err(_) => break,
        }
    }
    acked
}

/// `plaza` in `dir` on `database_url` (SQLite in `dir` when none), with
/// limits out of a load test's way: started again on the same data after
/// each kill.
fn on_data(dir: &Path, database_url: Option<&str>) -> Command {
    let mut cmd = plaza(dir);
    if let Some(url) = database_url {
        cmd.env("PLAZA_DATABASE_URL", url);
    }
    cmd.env("PLAZA_RATE_LIMIT_GENERAL", "1000000/1m");
    cmd
}

async fn kill_9_during_sends_loses_nothing_acknowledged(database_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let start = || Server::start(&mut on_data(dir.path(), database_url));
    let mut server = start();
    let (token, _) = token_of(&server, "crash@example.com").await;
    let body = serde_json::json!({"type": "group", "name": "crash", "member_ids": []});
    let (_, chat) = server
        .call(reqwest::Method::POST, "/api/chats", &token, Some(body))
        .await;
    let chat = chat["id"].as_str().unwrap().to_owned();
    let mut acked = Vec::new();
    for round in 0..3 {
        let pid = server.child.id();
        let killer = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(700 + 300 * round as u64)).await;
            Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status()
                .unwrap();
        });
        let token = token_of(&server, "crash@example.com").await.0;
        acked.extend(send_until_killed(&server, &token, &chat, round).await);
        killer.await.unwrap();
        let _ = server.child.wait();
        server = start();
    }
    let (token, _) = token_of(&server, "crash@example.com").await;
    let mut stored: Vec<(i64, String)> = Vec::new();
    let mut after = 0;
    loop {
        let path = format!("/api/chats/{chat}/messages?after_seq={after}&limit=100");
        let (_, page) = server.call(reqwest::Method::GET, &path, &token, None).await;
        let items = page["items"].as_array().unwrap();
        if items.is_empty() {
            break;
        }
        for m in items {
            stored.push((
                m["seq"].as_i64().unwrap(),
                m["content"].as_str().unwrap().to_owned(),
            ));
        }
        after = stored.last().unwrap().0;
    }
    let seqs: Vec<i64> = stored.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "seq is gapless"
    );
    let contents: Vec<&String> = stored.iter().map(|(_, c)| c).collect();
    for content in &acked {
        assert_eq!(
            contents.iter().filter(|c| **c == content).count(),
            1,
            "{content} once"
        );
    }
    eprintln!(
        "kill -9 ×3 during sends: {} acknowledged, {} stored, none lost, seq 1..{} gapless",
        acked.len(),
        stored.len(),
        seqs.len()
    );
    assert!(acked.len() >= 3, "the sends ran");
    assert_eq!(server.terminate(), 0);
}

#[tokio::test]
async fn kill_9_during_sends_loses_no_acknowledged_message_on_sqlite() {
    kill_9_during_sends_loses_nothing_acknowledged(None).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn kill_9_during_sends_loses_no_acknowledged_message_on_postgres() {
    let pg = TestPostgres::create().await;
    kill_9_during_sends_loses_nothing_acknowledged(Some(&pg.url)).await;
}

/// Job counts by state, read straight from the database.
async fn jobs_by_state(db: &mut sqlx::AnyConnection) -> std::collections::BTreeMap<String, i64> {
    sqlx::query_as::<_, (String, i64)>(
        "SELECT state, CAST(COUNT(*) AS BIGINT) FROM jobs GROUP BY state",
    )
    .fetch_all(db)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

/// `kill -9` while jobs run, restarted on the same data until the queue is
/// empty: every job completes once, and what the jobs did — an accepted
/// response's chat, a notice to each side, a mail per notice — exists once,
/// even for the jobs that ran again because the kill caught them.
async fn kill_9_during_job_runs_completes_each_once(database_url: Option<&str>) {
    use sqlx::Connection;
    const PROJECTS: usize = 60;
    let dir = tempfile::tempdir().unwrap();
    let url = database_url.map_or_else(
        || {
            format!(
                "sqlite://{}?mode=rw",
                dir.path().join("data/plaza.db").display()
            )
        },
        str::to_owned,
    );
    let start = |jobs: bool| {
        let mut cmd = on_data(dir.path(), database_url);
        cmd.env("PLAZA_JOBS_RUN", jobs.to_string())
            .env("PLAZA_JOBS_LEASE", "2s");
        Server::start(&mut cmd)
    };

    // The work piles up while no worker runs: a project per response, each
    // accepted, so each has a `projects.accepted` job, whose run opens the
    // chat and queues a delivery per side, each of which queues a mail.
    let server = start(false);
    let (owner, owner_id) = token_of(&server, "owner@example.com").await;
    let (freelancer, freelancer_id) = token_of(&server, "freelancer@example.com").await;
    use reqwest::Method;
    for i in 0..PROJECTS {
        let body = serde_json::json!({"title": format!("Job {i}"), "description": "Crash-proof.",
            "skills": ["rust"], "currency": "EUR", "status": "open"});
        let (_, project) = server
            .call(Method::POST, "/api/projects", &owner, Some(body))
            .await;
        let project = project["project"]["id"].as_str().unwrap().to_owned();
        let body = serde_json::json!({"cover_letter": "Yes.", "bid_amount": 100, "currency": "EUR", "eta_days": 1});
        let path = format!("/api/projects/{project}/responses");
        let (_, response) = server
            .call(Method::POST, &path, &freelancer, Some(body))
            .await;
        let response = response["response"]["id"].as_str().unwrap();
        let path = format!("/api/projects/{project}/responses/{response}");
        let body = serde_json::json!({"status": "accepted"});
        let (status, _) = server.call(Method::PUT, &path, &owner, Some(body)).await;
        assert_eq!(status, 200);
    }
    assert_eq!(server.terminate(), 0);

    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(&url).await.unwrap();
    let queued = jobs_by_state(&mut db).await;
    assert!(
        queued.get("waiting").copied().unwrap_or(0) >= 2 * PROJECTS as i64,
        "{queued:?}"
    );

    // Killed while jobs are in hand, again and again, until a kill caught
    // some (they are left active, their lease running out).
    let mut kills = 0;
    let mut caught = std::collections::BTreeSet::<String>::new();
    let mut server = start(true);
    loop {
        let polled = Instant::now();
        loop {
            let counts = jobs_by_state(&mut db).await;
            if counts.get("completed").copied().unwrap_or(0) > kills * 40 {
                break;
            }
            assert!(
                polled.elapsed() < Duration::from_secs(60),
                "no job ran: {counts:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        kill_9(&mut server.child);
        kills += 1;
        let active: Vec<String> = sqlx::query_scalar("SELECT id FROM jobs WHERE state = 'active'")
            .fetch_all(&mut db)
            .await
            .unwrap();
        caught.extend(active);
        let left = jobs_by_state(&mut db)
            .await
            .get("waiting")
            .copied()
            .unwrap_or(0);
        server = start(true);
        if (kills >= 3 && !caught.is_empty()) || kills >= 10 || left == 0 {
            break;
        }
    }
    assert!(
        !caught.is_empty(),
        "no kill caught a job running ({kills} kills)"
    );

    // Restarted for good: the lease runs out, the caught jobs run again,
    // and the queue empties.
    let waited = Instant::now();
    let counts = loop {
        let counts = jobs_by_state(&mut db).await;
        if counts.keys().all(|state| state == "completed") {
            break counts;
        }
        assert!(!counts.contains_key("dead"), "a job died: {counts:?}");
        assert!(
            waited.elapsed() < Duration::from_secs(90),
            "the queue did not empty: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Every job a kill caught in hand ran again to completion.
    for id in &caught {
        let (state, attempts) = sqlx::query_as::<_, (String, i64)>(
            "SELECT state, CAST(attempts AS BIGINT) FROM jobs WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&mut db)
        .await
        .unwrap();
        assert_eq!(state, "completed", "{id}");
        assert!(attempts >= 2, "{id} ran again after the kill");
    }
    let rerun = caught.len();

    // Each accepted response told each side once, in the app and by mail.
    for (token, id) in [(&owner, &owner_id), (&freelancer, &freelancer_id)] {
        let mut told = std::collections::BTreeMap::<String, usize>::new();
        let mut before = String::new();
        loop {
            let path = format!("/api/notifications?limit=100{before}");
            let (_, page) = server.call(Method::GET, &path, token, None).await;
            let items = page["items"].as_array().unwrap();
            for n in items
                .iter()
                .filter(|n| n["type"] == "project.response.accepted")
            {
                *told
                    .entry(n["data"]["response_id"].as_str().unwrap().to_owned())
                    .or_default() += 1;
            }
            if page["has_more"] != true {
                break;
            }
            before = format!("&before={}", items.last().unwrap()["id"].as_str().unwrap());
        }
        assert_eq!(told.len(), PROJECTS, "{id}: every accept told");
        assert!(told.values().all(|n| *n == 1), "{id}: each once: {told:?}");
    }
    let mails = std::fs::read_dir(dir.path().join("data/mail"))
        .unwrap()
        .filter(|f| {
            f.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".eml")
        })
        .count();
    let mail_jobs: i64 =
        sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM jobs WHERE kind LIKE 'mail.%'")
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!(mails as i64, mail_jobs, "one mail file per mail job");
    assert!(mail_jobs >= 2 * PROJECTS as i64);
    let (_, chats) = server.call(Method::GET, "/api/chats", &owner, None).await;
    let chats = chats["items"].as_array().unwrap().len();
    assert_eq!(
        chats, 1,
        "one direct chat between the two, however often it was opened"
    );
    eprintln!(
        "kill -9 ×{kills} during job runs: {} jobs completed, {rerun} caught running and run again, {} notices and {mails} mails, each once",
        counts["completed"],
        2 * PROJECTS
    );
    assert_eq!(server.terminate(), 0);
}

#[tokio::test]
async fn kill_9_during_job_runs_completes_each_job_once_on_sqlite() {
    kill_9_during_job_runs_completes_each_once(None).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn kill_9_during_job_runs_completes_each_job_once_on_postgres() {
    let pg = TestPostgres::create().await;
    kill_9_during_job_runs_completes_each_once(Some(&pg.url)).await;
}

/// A Stripe that makes Checkout Sessions (its wire format, minimal).
async fn fake_stripe() -> String {
    use axum::routing::post;
    async fn create(
        axum::Form(form): axum::Form<std::collections::HashMap<String, String>>,
    ) -> axum::Json<serde_json::Value> {
        let id = format!("cs_test_{}", form["metadata[payment_id]"].replace('-', ""));
        axum::Json(serde_json::json!({
            "id": id, "object": "checkout.session", "mode": "payment",
            "url": format!("https://checkout.stripe.com/c/pay/{id}"),
            "payment_status": "unpaid", "status": "open",
        }))
    }
    let app = axum::Router::new().route("/v1/checkout/sessions", post(create));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

const WHSEC: &str = "whsec_crash_test";

/// Stripe's `checkout.session.completed` for a paid session, signed now.
fn paid_event(payment: &serde_json::Value, attempt: usize) -> (String, String) {
    use hmac::{KeyInit, Mac};
    let session = serde_json::json!({
        "id": payment["provider_ref"], "object": "checkout.session",
        "metadata": {"payment_id": payment["id"]}, "client_reference_id": payment["id"],
        "payment_status": "paid", "status": "complete",
        "amount_total": payment["amount"], "currency": "usd", "payment_intent": "pi_1",
    });
    let body = serde_json::json!({
        "id": format!("evt_{}", payment["id"].as_str().unwrap()), "object": "event",
        "type": "checkout.session.completed", "data": {"object": session},
        "delivery_attempt": attempt,
    })
    .to_string();
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(WHSEC.as_bytes()).unwrap();
    mac.update(format!("{at}.{body}").as_bytes());
    let sig: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (body, format!("t={at},v1={sig}"))
}

/// Kill -9 while Stripe's webhooks arrive (some mid-write), restart, and
/// let Stripe retry every one: each payment is credited exactly once.
async fn kill_9_during_webhooks_credits_each_payment_once(database_url: Option<&str>) {
    let stripe = fake_stripe().await;
    let dir = tempfile::tempdir().unwrap();
    let start = || {
        let mut cmd = on_data(dir.path(), database_url);
        cmd.env("PLAZA_PAYMENTS_STRIPE_SECRET_KEY", "sk_test_crash")
            .env("PLAZA_PAYMENTS_STRIPE_WEBHOOK_SECRET", WHSEC)
            .env("PLAZA_PAYMENTS_STRIPE_API_URL", &stripe);
        Server::start(&mut cmd)
    };
    let mut server = start();
    let (token, _) = token_of(&server, "payer@example.com").await;
    let mut payments = Vec::new();
    for _ in 0..150 {
        let body = serde_json::json!({"amount": 100, "currency": "USD", "purpose": "top_up", "provider": "stripe"});
        let (status, answer) = server
            .call(reqwest::Method::POST, "/api/payments", &token, Some(body))
            .await;
        assert_eq!(status, 201, "{answer}");
        payments.push(answer["payment"].clone());
    }
    // Deliver until the process dies under the webhooks.
    let pid = server.child.id();
    let killer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap();
    });
    let mut delivered = 0;
    for payment in &payments {
        let (body, sig) = paid_event(payment, 1);
        let sent = client()
            .post(server.url("/api/payments/webhooks/stripe"))
            .header("stripe-signature", sig)
            .body(body)
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        match sent {
            Ok(res) if res.status() == 200 => delivered += 1,
            Ok(res) => panic!("a webhook answered {}", res.status()),
            Err(_) => break,
        }
    }
    killer.await.unwrap();
    let _ = server.child.wait();
    assert!(
        delivered < payments.len(),
        "the kill came after every webhook"
    );

    // Stripe retries every delivery it has no 200 for — and some it has.
    server = start();
    let (mut applied, mut replayed) = (0, 0);
    for payment in &payments {
        let (body, sig) = paid_event(payment, 2);
        let res = client()
            .post(server.url("/api/payments/webhooks/stripe"))
            .header("stripe-signature", sig)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let answer: serde_json::Value = res.json().await.unwrap();
        match answer["outcome"].as_str() {
            Some("applied") => applied += 1,
            Some("replayed") => replayed += 1,
            other => panic!("a retry was {other:?}"),
        }
    }
    let (token, _) = token_of(&server, "payer@example.com").await;
    let (_, wallet) = server
        .call(reqwest::Method::GET, "/api/wallet", &token, None)
        .await;
    assert_eq!(
        wallet["balances"][0]["amount"],
        100 * payments.len() as i64,
        "{wallet}"
    );
    let (_, paid) = server
        .call(
            reqwest::Method::GET,
            "/api/transactions?status=succeeded&limit=1",
            &token,
            None,
        )
        .await;
    assert_eq!(paid["total"], payments.len());
    eprintln!(
        "kill -9 during webhooks: {delivered} answered before the kill; after restart \
         {replayed} retries were replays, {applied} applied; each of {} payments credited once",
        payments.len()
    );
    assert_eq!(server.terminate(), 0);
}

#[tokio::test]
async fn kill_9_during_webhooks_credits_each_payment_once_on_sqlite() {
    kill_9_during_webhooks_credits_each_payment_once(None).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn kill_9_during_webhooks_credits_each_payment_once_on_postgres() {
    let pg = TestPostgres::create().await;
    kill_9_during_webhooks_credits_each_payment_once(Some(&pg.url)).await;
}

/// A Sentry-compatible endpoint: `POST /api/{project}/envelope/` with the
/// `X-Sentry-Auth` header; keeps each envelope's items as JSON values.
async fn fake_sentry() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<serde_json::Value>)>>>,
) {
    use axum::routing::post;
    type Seen = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<serde_json::Value>)>>>;
    async fn envelope(
        axum::extract::State(seen): axum::extract::State<Seen>,
        headers: axum::http::HeaderMap,
        body: axum::body::Bytes,
    ) -> &'static str {
        let auth = headers
            .get("x-sentry-auth")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        // An envelope: a header line, then item headers each followed by their payload.
        let lines = String::from_utf8_lossy(&body)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        seen.lock().unwrap().push((auth, lines));
        "{}"
    }
    let seen: Seen = Default::default();
    let app = axum::Router::new()
        .route("/api/{project}/envelope/", post(envelope))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://publickey@{addr}/42"), seen)
}

#[tokio::test]
async fn a_5xx_reaches_sentry_with_its_request_id_and_a_4xx_does_not() {
    let (dsn, seen) = fake_sentry().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = plaza(dir.path());
    // A model nobody answers at: the coach's 503.
    cmd.env("PLAZA_SENTRY_DSN", &dsn)
        .env("PLAZA_SENTRY_ENVIRONMENT", "ci")
        .env("PLAZA_AI_PROVIDER", "openai")
        .env("PLAZA_AI_BASE_URL", "http://127.0.0.1:9/v1")
        .env("PLAZA_AI_RETRIES", "0");
    let server = Server::start(&mut cmd);
    let (token, _) = token_of(&server, "ana@example.com").await;
    let ask = |body: serde_json::Value| {
        client()
            .post(server.url("/api/ai/enhanced-chat"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let bad = ask(serde_json::json!({"message": ""})).await.unwrap();
    assert_eq!(bad.status(), 422);
    let bad_id = bad.headers()["x-request-id"].to_str().unwrap().to_owned();
    let res = ask(serde_json::json!({"message": "hi"})).await.unwrap();
    assert_eq!(res.status(), 503);
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();

    let mut event = None;
    for _ in 0..200 {
        let found = seen.lock().unwrap().iter().find_map(|(auth, items)| {
            let e = items
                .iter()
                .find(|i| i["tags"]["request_id"] == id.as_str())?;
            Some((auth.clone(), items[1].clone(), e.clone()))
        });
        if found.is_some() {
            event = found;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (auth, item, event) = event.expect("the 503 reached the fake Sentry");
    assert!(auth.contains("sentry_key=publickey"), "{auth}");
    assert_eq!(item["type"], "event");
    // `error` is the protocol's default level, so it may be left out.
    assert!(
        matches!(event["level"].as_str(), None | Some("error")),
        "{event}"
    );
    let message = event["message"]
        .as_str()
        .or(event["logentry"]["message"].as_str())
        .unwrap_or_default();
    assert!(
        message.starts_with("503 POST /api/ai/enhanced-chat"),
        "{event}"
    );
    assert_eq!(event["environment"], "ci");
    assert_eq!(event["tags"]["status"], "503");
    assert_eq!(event["tags"]["code"], "ai.unavailable");
    assert_eq!(event["tags"]["route"], "/api/ai/enhanced-chat");
    assert!(event["release"].as_str().unwrap().starts_with("plaza@"));
    let everything = format!("{:?}", seen.lock().unwrap());
    assert!(
        !everything.contains(&bad_id),
        "a 4xx is not an error to track"
    );
    assert_eq!(server.terminate(), 0);
}
