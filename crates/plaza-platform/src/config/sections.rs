//! The sections of the configuration and their defaults.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ByteSize, Dsn, HumanDuration, Rate, Secret, StringList};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path` or `postgres://…`; unset means SQLite in the data dir.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Dsn>,
    /// A read replica for queries that may lag (PostgreSQL only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_url: Option<Dsn>,
    /// Pool size; 0 sizes it for the machine.
    pub max_connections: u32,
    /// How long a request waits for a free connection.
    pub acquire_timeout: HumanDuration,
    /// Apply pending migrations when `serve` starts.
    pub migrate_on_start: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://…`; unset keeps cache, bus and limits in-process.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Dsn>,
    /// Connections in the command pool; 0 sizes it for the machine.
    pub pool_size: usize,
    /// Put before every key and channel, so several deployments can share a server.
    pub key_prefix: String,
    /// How long one command may take before its caller falls back (an
    /// in-process limit, a cache miss); three in a row open the circuit.
    pub timeout: HumanDuration,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Memory the in-process cache may hold.
    pub memory_capacity: ByteSize,
    /// With Redis: how long a node keeps a value read from Redis before
    /// asking again (writes and deletes reach every node at once).
    pub local_ttl: HumanDuration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Readable lines for a terminal.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A tracing filter: `info`, `plaza=debug,info`, …
    pub level: String,
    pub format: LogFormat,
    /// Where `combined.log` and `error.log` go.
    pub dir: PathBuf,
    /// Write log files at all (the terminal always gets logs).
    pub files: bool,
    /// Days of rotated files to keep.
    pub retention_days: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Largest request body accepted.
    pub body_limit: ByteSize,
    /// A request that takes longer is answered 504.
    pub request_timeout: HumanDuration,
    /// How long shutdown waits for requests in flight.
    pub shutdown_timeout: HumanDuration,
    /// Origins allowed by CORS: `*` or a list of `https://app.example.com`.
    pub cors_origins: StringList,
    /// Send `Strict-Transport-Security` on every response. Without it, it is
    /// sent when `public_url` is `https://`, or (with `trust_proxy_headers`)
    /// to requests whose `X-Forwarded-Proto` is `https`.
    pub hsts: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_proxy_headers: bool,
    /// How clients reach plaza (OAuth providers call back to it). An
    /// `https://` URL turns `Strict-Transport-Security` on.
    pub public_url: String,
    /// `/metrics` answers only `Authorization: Bearer <this>`; unset, it
    /// answers only clients on this machine (127.0.0.1, ::1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_token: Option<Secret>,
}

/// Request rates per class, from seed 003.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Sign-in and sign-up, per client address.
    pub auth: Rate,
    /// AI endpoints, per user.
    pub ai: Rate,
    /// Everything else under `/api`, per user (or address when anonymous).
    pub general: Rate,
    /// Uploads, per user.
    pub upload: Rate,
}

/// Sign-in: tokens, sessions and the lock on repeated failures.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// HS256 key for access tokens, at least 32 bytes. Unset: a random key is
    /// made on first start and kept in the database, so every node shares it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt_secret: Option<Secret>,
    /// Key that seals secrets plaza must read back (TOTP seeds) in the
    /// database, at least 32 bytes. Unset: a random key kept in the
    /// database, which a dump then holds too; set it (from a secret store)
    /// so a dump alone reveals nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_key: Option<Secret>,
    /// The key `encryption_key` replaced: still opens what it sealed, and
    /// each start re-seals those values with the new key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_encryption_key: Option<Secret>,
    /// `iss` of access tokens.
    pub issuer: String,
    /// `aud` of access tokens; a token for another audience is refused.
    pub audience: String,
    /// Lifetime of an access token.
    pub access_ttl: HumanDuration,
    /// Lifetime of a refresh token (and of an idle session).
    pub refresh_ttl: HumanDuration,
    /// How long a just-rotated refresh token may be used again (two tabs
    /// refreshing at once); at most 10s, 0 for none.
    pub refresh_grace: HumanDuration,
    /// Failed sign-ins in a row from one address before that address is
    /// locked out of the account.
    pub lockout_threshold: u32,
    /// The first lock; each further failure doubles it.
    pub lockout_base: HumanDuration,
    /// The longest lock.
    pub lockout_max: HumanDuration,
    /// The app that mail links open: `{app_url}/reset-password?token=…`.
    pub app_url: String,
}

/// Outgoing mail: `.eml` files in `<data_dir>/mail` unless SMTP is set.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// The sender, `Name <address>`.
    pub from: String,
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://…:465`,
    /// or plain `smtp://host:25`. Unset: mail is written to files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_url: Option<Dsn>,
}

/// Where uploaded files live: `<data_dir>/files` unless an S3 bucket is set.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// An S3-compatible bucket (AWS S3, R2, MinIO); unset keeps files on disk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_bucket: Option<String>,
    /// The S3 endpoint for non-AWS services, e.g. `http://127.0.0.1:9000`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_endpoint: Option<String>,
    pub s3_region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_access_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_secret_access_key: Option<Secret>,
    /// Largest file a user may upload as an attachment.
    pub max_file_size: ByteSize,
}

/// Sign-in through OAuth 2.0 / OpenID Connect providers. A provider is on
/// when its `client_id` is set.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OAuthConfig {
    /// Where the browser goes after signing in, with the tokens in the URL
    /// fragment (`#access_token=…`); unset, the callback answers JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    pub google: OAuthProviderConfig,
    pub github: OAuthProviderConfig,
    /// Any OpenID Connect provider (Keycloak, Auth0, Azure AD, …), by issuer.
    pub oidc: OAuthProviderConfig,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OAuthProviderConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    /// OpenID Connect issuer; endpoints come from its discovery document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Explicit endpoints, overriding the preset or discovery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorize_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userinfo_url: Option<String>,
    /// Scopes to ask for; empty uses the preset's (`openid email profile`).
    pub scopes: StringList,
}

/// Payments (issue 17): the providers and the marketplace's fee. The
/// sandbox is on by default so the embedded mode takes payments with
/// nothing configured; Stripe and Cryptomus are on when their keys are set.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaymentsConfig {
    /// The provider a payment uses when it names none: `sandbox`,
    /// `stripe` or `cryptomus`.
    pub default_provider: String,
    /// Whether the sandbox (a checkout page served by plaza where the payer
    /// clicks pay or fail) takes payments. Turn it off in production.
    pub sandbox: bool,
    /// The platform's fee on an escrowed deal, in basis points of the
    /// amount (1000 = 10 %), kept as revenue when the money is released.
    pub fee_bps: u32,
    /// A payment still waiting for its provider this long is asked about
    /// by the reconciliation job (so a lost webhook leaves nothing in limbo).
    pub reconcile_after: HumanDuration,
    /// Webhooks signed longer ago than this are refused as replays.
    pub webhook_tolerance: HumanDuration,
    pub stripe: StripeConfig,
    pub cryptomus: CryptomusConfig,
}

/// Stripe: Checkout Sessions, refunds and signed webhooks. On when
/// `secret_key` is set.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StripeConfig {
    /// `sk_live_…` or `sk_test_…`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<Secret>,
    /// The endpoint's signing secret (`whsec_…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<Secret>,
    /// The secret being rotated out: webhooks signed with either are taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_webhook_secret: Option<Secret>,
    /// The API's address (a test points it at a fake).
    pub api_url: String,
}

/// Cryptomus: invoices and signed payment webhooks. On when `merchant`
/// and `api_key` are set.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CryptomusConfig {
    /// The merchant's UUID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant: Option<String>,
    /// The payment API key: signs requests and verifies webhooks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    pub api_url: String,
}

/// The WebSocket hub (`/ws`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WsConfig {
    /// Largest text frame a client may send; larger ones get an `error`
    /// event (up to 16 times this, beyond which the socket is closed 1009).
    pub max_message: ByteSize,
    /// Events waiting for a slow client before it is disconnected (1013).
    pub send_queue: u32,
    /// How often idle sockets are pinged; one silent for two intervals is dropped.
    pub ping_interval: HumanDuration,
    /// How long a new connection's live events are held for its first
    /// frame (a `resume`), so a resume is answered in order; `ready` and
    /// answers never wait.
    pub settle: HumanDuration,
}

/// The GraphQL API at `/graphql` (seed 004).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GraphqlConfig {
    /// Whether `__schema` and `__type` are answered; unset, they are in
    /// the embedded mode (SQLite) and not when plaza runs on PostgreSQL,
    /// as it does in production.
    pub introspection: Option<bool>,
    /// Deepest selection a query may nest.
    pub max_depth: u32,
    /// Most fields a query may ask for, lists counted by their `first`.
    pub max_complexity: u32,
    /// Longest query text.
    pub max_query: ByteSize,
    /// Whether one request may carry a list of operations, and how many.
    pub max_batch: u32,
    /// Automatic persisted queries: a client may send a query's SHA-256
    /// alone once the server has seen the query.
    pub persisted_queries: bool,
}

/// Background jobs.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// `plaza serve` runs job workers too (off: only `plaza worker` does).
    pub run: bool,
    /// Workers per queue on this node.
    pub concurrency: u32,
    /// Queues that differ from `concurrency`: `["email=4", "ai=1"]`
    /// (`PLAZA_JOBS_QUEUE_CONCURRENCY=email=4,ai=1`).
    pub queue_concurrency: StringList,
    /// How long a claimed job is held without its worker's heartbeat: a
    /// worker that dies has its jobs run again after this.
    pub lease: HumanDuration,
}

impl JobsConfig {
    /// Workers for `queue` on this node.
    pub fn concurrency_of(&self, queue: &str) -> u32 {
        self.queue_concurrency
            .0
            .iter()
            .filter_map(|item| item.split_once('='))
            .find(|(name, _)| name.trim() == queue)
            .and_then(|(_, n)| n.trim().parse().ok())
            .unwrap_or(self.concurrency)
    }
}

/// Event export to a broker (`features.event_export` turns it on).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExportConfig {
    /// `amqp://user:pass@host:5672/%2f` (RabbitMQ) or `nats://host:4222`
    /// (NATS JetStream); the scheme picks the broker.
    pub url: Option<Dsn>,
    /// RabbitMQ: the durable topic exchange events are published to.
    pub exchange: String,
    /// NATS: the JetStream stream, created if missing.
    pub stream: String,
    /// NATS: events go to `<subject_prefix>.<type>`.
    pub subject_prefix: String,
}

/// The seeds' feature flags; each is honoured by its module.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Features {
    pub websocket: bool,
    pub event_export: bool,
    pub file_upload: bool,
    pub rate_limit: bool,
    pub debug: bool,
    pub ai_chat: bool,
    pub social_login: bool,
    pub push_notifications: bool,
    /// The web app at `/` and the console at `/admin` (docs/web.md).
    pub web_app: bool,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: None,
            read_url: None,
            max_connections: 0,
            acquire_timeout: HumanDuration(Duration::from_secs(5)),
            migrate_on_start: true,
        }
    }
}

impl Default for ExportConfig {
    fn default() -> Self {
        Self {
            url: None,
            exchange: "plaza.events".into(),
            stream: "PLAZA".into(),
            subject_prefix: "plaza".into(),
        }
    }
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: None,
            pool_size: 0,
            key_prefix: "plaza:".into(),
            timeout: HumanDuration(Duration::from_millis(250)),
        }
    }
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            memory_capacity: ByteSize(64 << 20),
            local_ttl: HumanDuration(Duration::from_secs(30)),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Text,
            dir: PathBuf::from("./logs"),
            files: true,
            retention_days: 14,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            body_limit: ByteSize(2 << 20),
            request_timeout: HumanDuration(Duration::from_secs(30)),
            shutdown_timeout: HumanDuration(Duration::from_secs(30)),
            cors_origins: StringList(vec!["*".into()]),
            hsts: false,
            metrics_token: None,
            trust_proxy_headers: false,
            public_url: "http://localhost:8080".into(),
        }
    }
}

impl Default for WsConfig {
    fn default() -> Self {
        Self {
            max_message: ByteSize(64 << 10),
            send_queue: 256,
            ping_interval: HumanDuration(Duration::from_secs(30)),
            settle: HumanDuration(Duration::from_millis(200)),
        }
    }
}

impl Default for GraphqlConfig {
    fn default() -> Self {
        Self {
            introspection: None,
            max_depth: 12,
            max_complexity: 2_000,
            max_query: ByteSize(32 << 10),
            max_batch: 0,
            persisted_queries: true,
        }
    }
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            run: true,
            concurrency: 2,
            queue_concurrency: StringList::default(),
            lease: HumanDuration(Duration::from_secs(30)),
        }
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        const MINUTE: Duration = Duration::from_secs(60);
        Self {
            auth: Rate::new(5, MINUTE * 15),
            ai: Rate::new(20, MINUTE),
            general: Rate::new(1000, MINUTE * 15),
            upload: Rate::new(10, MINUTE),
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            encryption_key: None,
            previous_encryption_key: None,
            issuer: "plaza".into(),
            audience: "plaza".into(),
            access_ttl: HumanDuration(Duration::from_secs(15 * 60)),
            refresh_ttl: HumanDuration(Duration::from_secs(7 * 24 * 3600)),
            refresh_grace: HumanDuration(Duration::from_secs(10)),
            lockout_threshold: 5,
            lockout_base: HumanDuration(Duration::from_secs(60)),
            lockout_max: HumanDuration(Duration::from_secs(3600)),
            app_url: "http://localhost:8080".into(),
        }
    }
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        Self {
            default_provider: "sandbox".into(),
            sandbox: true,
            fee_bps: 1000,
            reconcile_after: HumanDuration(Duration::from_secs(15 * 60)),
            webhook_tolerance: HumanDuration(Duration::from_secs(300)),
            stripe: StripeConfig::default(),
            cryptomus: CryptomusConfig::default(),
        }
    }
}

impl Default for StripeConfig {
    fn default() -> Self {
        Self {
            secret_key: None,
            webhook_secret: None,
            previous_webhook_secret: None,
            api_url: "https://api.stripe.com".into(),
        }
    }
}

impl Default for CryptomusConfig {
    fn default() -> Self {
        Self {
            merchant: None,
            api_key: None,
            api_url: "https://api.cryptomus.com".into(),
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            s3_bucket: None,
            s3_endpoint: None,
            s3_region: "us-east-1".into(),
            s3_access_key_id: None,
            s3_secret_access_key: None,
            max_file_size: ByteSize(25 << 20),
        }
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            from: "plaza <no-reply@localhost>".into(),
            smtp_url: None,
        }
    }
}

impl Default for Features {
    fn default() -> Self {
        Self {
            websocket: true,
            event_export: false,
            file_upload: true,
            rate_limit: true,
            debug: false,
            ai_chat: true,
            social_login: true,
            push_notifications: false,
            web_app: true,
        }
    }
}
