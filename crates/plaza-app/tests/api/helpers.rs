//! `TestApp`: plaza on 127.0.0.1:0 with a fresh database, a settable clock,
//! and optional extra routes, PostgreSQL and Redis.

use std::net::SocketAddr;
use std::sync::Arc;

use plaza_app::AppState;
use plaza_core::{ManualClock, Timestamp};
use std::time::Duration;

use plaza_platform::config::{Config, Dsn, Rate};
use plaza_platform::db::migrate;
use plaza_platform::testing::{TestPostgres, redis_url};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;

pub struct TestApp {
    pub addr: SocketAddr,
    pub state: AppState,
    pub clock: ManualClock,
    pub client: reqwest::Client,
    _data: tempfile::TempDir,
    _postgres: Option<TestPostgres>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

type Configure = Box<dyn FnOnce(&mut Config)>;

pub struct Builder {
    backend: Backend,
    /// Another app's PostgreSQL database, to act as a second node.
    database_url: Option<String>,
    /// Redis's address and the key prefix.
    redis: Option<(String, String)>,
    configure: Vec<Configure>,
    routes: OpenApiRouter<AppState>,
}

impl TestApp {
    pub fn builder() -> Builder {
        Builder {
            backend: Backend::Sqlite,
            database_url: None,
            redis: None,
            configure: Vec::new(),
            routes: OpenApiRouter::new(),
        }
    }

    pub async fn spawn() -> Self {
        Self::builder().spawn().await
    }

    pub async fn on(backend: Backend) -> Self {
        Self::builder().backend(backend).spawn().await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await.unwrap()
    }

    pub async fn get_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.send(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    pub async fn post_as(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.send(reqwest::Method::POST, path, Some(token), Some(body))
            .await
    }

    /// Signs up `email` with [`PASSWORD`]; panics unless it works.
    pub async fn register(&self, email: &str) -> Tokens {
        let res = self
            .post_json(
                "/api/auth/register",
                &json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(res.status(), 201, "register {email}");
        Tokens::from(res.json::<Value>().await.unwrap())
    }

    /// Signs in `login` (email or username) with [`PASSWORD`].
    pub async fn login(&self, login: &str) -> Tokens {
        let field = if login.contains('@') {
            "email"
        } else {
            "username"
        };
        let res = self
            .post_json(
                "/api/auth/login",
                &json!({field: login, "password": PASSWORD}),
            )
            .await;
        assert_eq!(res.status(), 200, "login {login}");
        Tokens::from(res.json::<Value>().await.unwrap())
    }

    /// A group `name` made by `owner` with `members`; its id.
    pub async fn group(&self, owner: &Tokens, name: &str, members: &[&Tokens]) -> String {
        let ids: Vec<&str> = members.iter().map(|m| m.user_id.as_str()).collect();
        let res = self
            .post_as(
                "/api/chats",
                &owner.access,
                &json!({"type": "group", "name": name, "member_ids": ids}),
            )
            .await;
        assert_eq!(res.status(), 201, "group {name}");
        let body: Value = res.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    /// The OpenAPI document the app serves.
    pub async fn openapi(&self) -> Value {
        self.get("/api-docs/openapi.json")
            .await
            .json()
            .await
            .unwrap()
    }

    /// Makes `user_id` an admin directly in the database; their next token carries it.
    pub async fn make_admin(&self, email: &str) -> Tokens {
        sqlx::query("UPDATE users SET role = 'admin' WHERE lower(email) = lower($1)")
            .bind(email)
            .execute(self.state.db.writer())
            .await
            .unwrap();
        self.login(email).await
    }

    /// The newest mail to `to` whose text holds `about` (the subject, say),
    /// decoded, among the `.eml` files plaza wrote; waits up to five seconds
    /// for it (mail is sent in the background).
    pub async fn mail_to(&self, to: &str, about: &str) -> String {
        let dir = self.state.config.data_dir.join("mail");
        for _ in 0..100 {
            let mut found: Vec<(std::path::PathBuf, String)> = std::fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .filter_map(|p| std::fs::read_to_string(&p).ok().map(|t| (p, unfold(&t))))
                .filter(|(_, t)| t.contains(&format!("To: {to}")) && t.contains(about))
                .collect();
            found.sort();
            if let Some((_, text)) = found.pop() {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no mail to {to} about {about}");
    }

    /// How many mails whose text holds `about` went to `to` so far.
    pub fn mails_to(&self, to: &str, about: &str) -> usize {
        let dir = self.state.config.data_dir.join("mail");
        std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .map(|t| unfold(&t))
            .filter(|t| t.contains(&format!("To: {to}")) && t.contains(about))
            .count()
    }

    /// Stops serving, as SIGTERM would (the database and Redis stay
    /// reachable through `state`).
    pub fn stop(&self) {
        self.state
            .shutdown
            .begin(self.state.config.http.shutdown_timeout.0);
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.state.shutdown.halt();
    }
}

impl Builder {
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Use the real Redis, with keys under `prefix` (apps given the same
    /// prefix act as nodes of one deployment).
    pub fn redis(self, prefix: &str) -> Self {
        self.redis_at(&redis_url(), prefix)
    }

    /// Use the Redis at `url` (a test's own server), keys under `prefix`.
    pub fn redis_at(mut self, url: &str, prefix: &str) -> Self {
        self.redis = Some((url.to_owned(), prefix.to_owned()));
        self
    }

    /// The first node of a scaled-out deployment: PostgreSQL, and Redis
    /// under a prefix of its own (add nodes with [`Builder::node_of`]).
    pub fn scaled_out(self) -> Self {
        self.backend(Backend::Postgres).redis(&redis_prefix())
    }

    /// A second node of `first`'s deployment: same PostgreSQL database,
    /// and the same Redis keys when `first` uses Redis.
    pub fn node_of(mut self, first: &TestApp) -> Self {
        let url = first
            .state
            .config
            .database
            .url
            .as_ref()
            .expect("a PostgreSQL app");
        self.database_url = Some(url.expose().to_owned());
        if let Some(url) = &first.state.config.redis.url {
            let prefix = first.state.config.redis.key_prefix.clone();
            self.redis = Some((url.expose().to_owned(), prefix));
        }
        self.backend = Backend::Postgres;
        self
    }

    /// The PostgreSQL database at `url` (a test's own cluster).
    pub fn database_at(mut self, url: &str) -> Self {
        self.database_url = Some(url.to_owned());
        self.backend = Backend::Postgres;
        self
    }

    pub fn config(mut self, f: impl FnOnce(&mut Config) + 'static) -> Self {
        self.configure.push(Box::new(f));
        self
    }

    /// Routes mounted beside the product's `/api` routes, under the same
    /// middleware and the general rate limit.
    pub fn routes(mut self, routes: OpenApiRouter<AppState>) -> Self {
        self.routes = self.routes.merge(routes);
        self
    }

    pub async fn spawn(self) -> TestApp {
        let data = tempfile::tempdir().unwrap();
        let mut config = Config {
            host: "127.0.0.1".into(),
            port: 0,
            data_dir: data.path().to_path_buf(),
            ..Config::default()
        };
        config.log.files = false;
        // Tests sign up many accounts from one address; the ones about the
        // limit set their own.
        config.rate_limit.auth = Rate::new(10_000, Duration::from_secs(60));
        let postgres = match (self.backend, self.database_url) {
            (Backend::Sqlite, _) => None,
            (Backend::Postgres, Some(url)) => {
                config.database.url = Some(Dsn::new(url));
                config.database.max_connections = 4;
                None
            }
            (Backend::Postgres, None) => {
                let pg = TestPostgres::create().await;
                config.database.url = Some(Dsn::new(pg.url.clone()));
                config.database.max_connections = 4;
                Some(pg)
            }
        };
        if let Some((url, prefix)) = &self.redis {
            config.redis.url = Some(Dsn::new(url.clone()));
            config.redis.key_prefix = prefix.clone();
        }
        for f in self.configure {
            f(&mut config);
        }
        let clock = ManualClock::new(Timestamp::from_jiff(jiff::Timestamp::now()));
        let state = AppState::connect(config, Arc::new(clock.clone()), plaza_app::app::hooks())
            .await
            .unwrap();
        migrate::up(
            &state.db,
            plaza_app::MIGRATIONS,
            plaza_core::Clock::now(&clock),
        )
        .await
        .unwrap();
        state.start();
        let app = plaza_app::router_with(state.clone(), self.routes);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(plaza_app::serve(listener, app, state.shutdown.clone()));
        TestApp {
            addr,
            state,
            clock,
            client: http_client(),
            _data: data,
            _postgres: postgres,
        }
    }
}

/// A quoted-printable body as plain text (soft breaks joined, `=3D` as `=`).
fn unfold(eml: &str) -> String {
    eml.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

/// The `token=` of the link in a mail.
pub fn link_token(mail: &str) -> String {
    let start = mail.find("token=").expect("a link with a token") + "token=".len();
    mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// The password test accounts use.
pub const PASSWORD: &str = "correct horse battery staple";

/// What sign-up and sign-in return.
#[derive(Clone, Debug)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub user_id: String,
    pub body: Value,
}

impl From<Value> for Tokens {
    fn from(body: Value) -> Self {
        Self {
            access: body["access_token"]
                .as_str()
                .expect("access_token")
                .to_owned(),
            refresh: body["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_owned(),
            user_id: body["user"]["id"].as_str().expect("user.id").to_owned(),
            body,
        }
    }
}

/// A client for tests (plaza's one TLS backend installed first, as
/// reqwest here has no built-in provider).
pub fn http_client() -> reqwest::Client {
    client_builder().build().unwrap()
}

pub fn client_builder() -> reqwest::ClientBuilder {
    plaza_platform::tls::install();
    reqwest::Client::builder()
}

/// A response header as text.
pub fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

/// A unique Redis prefix for one test.
pub fn redis_prefix() -> String {
    format!("plaza-test:{}:", uuid::Uuid::now_v7().simple())
}

/// Asserts the body is in the error format and returns it.
pub async fn error_body(res: reqwest::Response, status: u16, kind: &str) -> serde_json::Value {
    assert_eq!(res.status().as_u16(), status, "status");
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "content type"
    );
    let request_id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("x-request-id header")
        .to_owned();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["type"], kind, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
    assert_eq!(body["requestId"], request_id.as_str(), "{body}");
    // Every error names itself with a code from docs/errors.md.
    assert!(
        body["code"]
            .as_str()
            .is_some_and(|c| c.contains('.') && !c.contains(' ')),
        "{body}"
    );
    let ts = body["timestamp"].as_str().expect("timestamp");
    assert!(ts.parse::<Timestamp>().is_ok(), "RFC 3339 timestamp: {ts}");
    body
}

/// Declares one test body twice: on SQLite, and on PostgreSQL (ignored
/// unless the services are there).
#[macro_export]
macro_rules! on_both_databases {
    ($(#[$meta:meta])* async fn $name:ident($backend:ident: Backend) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use $crate::helpers::Backend;

            async fn run($backend: Backend) $body

            #[tokio::test]
            async fn sqlite() {
                run(Backend::Sqlite).await;
            }

            #[tokio::test]
            #[ignore = "needs PostgreSQL"]
            async fn postgres() {
                run(Backend::Postgres).await;
            }
        }
    };
}

/// A WebSocket client of `/ws` or `/meditation/group`.
pub struct Ws {
    stream: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl TestApp {
    /// A socket opened with `?token=`, without waiting for `ready`.
    pub async fn ws_raw(&self, token: Option<&str>) -> Ws {
        self.ws_raw_at("/ws", token).await
    }

    /// A socket of the endpoint at `path`, opened with `?token=`.
    pub async fn ws_raw_at(&self, path: &str, token: Option<&str>) -> Ws {
        let url = match token {
            Some(t) => format!("ws://{}{path}?token={t}", self.addr),
            None => format!("ws://{}{path}", self.addr),
        };
        let (stream, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Ws { stream }
    }

    /// A group meditation socket of `user` (`/meditation/group`), ready.
    pub async fn group_ws(&self, user: &Tokens) -> Ws {
        let mut ws = self
            .ws_raw_at("/meditation/group", Some(&user.access))
            .await;
        ws.next_of("ready").await;
        ws
    }

    /// A socket of `user`, once the hub delivers their chats to it.
    pub async fn ws(&self, user: &Tokens) -> Ws {
        let mut ws = self.ws_raw(Some(&user.access)).await;
        ws.next_of("ready").await;
        ws
    }
}

impl Ws {
    pub async fn send(&mut self, frame: Value) {
        self.send_text(&frame.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        use futures_util::SinkExt;
        self.stream
            .send(tokio_tungstenite::tungstenite::Message::text(text))
            .await
            .unwrap();
    }

    pub async fn send_message(&mut self, message: tokio_tungstenite::tungstenite::Message) {
        use futures_util::SinkExt;
        self.stream.send(message).await.unwrap();
    }

    /// The next text frame, within `wait`; None when nothing came.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Value> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let item = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()?;
            match item {
                Some(Ok(Message::Text(text))) => return Some(serde_json::from_str(&text).unwrap()),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// The next text frame (five seconds at most).
    pub async fn next(&mut self) -> Value {
        self.next_within(Duration::from_secs(5))
            .await
            .expect("a frame within five seconds")
    }

    /// The `data` of the next frame of type `kind`, skipping others.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        for _ in 0..1000 {
            let frame = self.next().await;
            if frame["type"] == kind {
                return frame["data"].clone();
            }
        }
        panic!("no {kind} frame");
    }

    /// Asserts nothing but pings arrives for `wait`.
    pub async fn quiet(&mut self, wait: Duration) {
        if let Some(frame) = self.next_within(wait).await {
            panic!("expected nothing, got {frame}");
        }
    }

    /// Reads until the server closes; its close code and reason.
    pub async fn closed(&mut self) -> (u16, String) {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let item = tokio::time::timeout(Duration::from_secs(15), self.stream.next())
                .await
                .expect("a close within fifteen seconds");
            match item {
                Some(Ok(Message::Close(Some(frame)))) => {
                    return (u16::from(frame.code), frame.reason.to_string());
                }
                Some(Ok(Message::Close(None))) | None => return (1005, String::new()),
                Some(Ok(_)) => {}
                Some(Err(e)) => panic!("socket failed before a close frame: {e}"),
            }
        }
    }
}

/// A real SMTP server (aiosmtpd, from PyPI) on a free local port, storing
/// what it receives in a Maildir.
pub struct SmtpServer {
    child: std::process::Child,
    pub port: u16,
    maildir: tempfile::TempDir,
}

impl SmtpServer {
    pub async fn start() -> Self {
        Self::refusing("").await
    }

    /// One that refuses for good (550) every recipient whose address
    /// starts with `refused` (none when empty).
    pub async fn refusing(refused: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let maildir = tempfile::tempdir().unwrap();
        // A Maildir handler that answers RCPT like a server whose mailbox is gone.
        std::fs::write(
            maildir.path().join("plaza_smtp.py"),
            format!(
                "from aiosmtpd.handlers import Mailbox\n\
                 class Refusing(Mailbox):\n\
                 \x20   async def handle_RCPT(self, server, session, envelope, address, options):\n\
                 \x20       if {refused:?} and address.startswith({refused:?}):\n\
                 \x20           return '550 5.1.1 mailbox unavailable'\n\
                 \x20       envelope.rcpt_tos.append(address)\n\
                 \x20       return '250 OK'\n"
            ),
        )
        .unwrap();
        let child = std::process::Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "plaza_smtp.Refusing"])
            .arg(maildir.path().join("box"))
            .env("PYTHONPATH", maildir.path())
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd)");
        // Owned at once, so a failed start still kills and reaps it.
        let server = Self {
            child,
            port,
            maildir,
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("aiosmtpd did not start");
    }

    /// Every message received so far, as text.
    pub fn received(&self) -> Vec<String> {
        let new = self.maildir.path().join("box/new");
        std::fs::read_dir(new)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// This process's resident memory (the app runs in it), from /proc.
pub fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// CRC-32 as PNG chunks carry it, for tests that forge pictures.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(bytes);
    crc.sum()
}
