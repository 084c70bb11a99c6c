//! Configuration: defaults → optional `plaza.toml` → `PLAZA_*` environment
//! variables → command-line flags, each layer overriding the one before.
//! Every problem names the key (as the variable a person would set) and what
//! was wrong with it, and start-up stops.

mod env;
mod units;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub use env::{EnvVars, key_for_var, var_for_key};
pub use units::{ByteSize, Dsn, HumanDuration, Rate, Secret, StringList, parse_duration};

/// The file read when no other is named and it exists.
pub const DEFAULT_FILE: &str = "plaza.toml";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub host: String,
    /// Port to listen on; 0 picks a free one.
    pub port: u16,
    /// Where the SQLite file, local files and mail live.
    pub data_dir: PathBuf,
    pub database: DatabaseConfig,
    pub redis: RedisConfig,
    pub cache: CacheConfig,
    pub log: LogConfig,
    pub http: HttpConfig,
    pub rate_limit: RateLimitConfig,
    pub auth: AuthConfig,
    pub mail: MailConfig,
    pub storage: StorageConfig,
    pub oauth: OAuthConfig,
    pub features: Features,
}

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
    /// Send `Strict-Transport-Security` (when served over TLS, e.g. behind a proxy).
    pub hsts: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_proxy_headers: bool,
    /// How clients reach plaza (OAuth providers call back to it).
    pub public_url: String,
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
    /// Failed sign-ins in a row before the account is locked.
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
}

impl Default for Config {
    fn default() -> Self {
        Self {
            host: "0.0.0.0".into(),
            port: 8080,
            data_dir: PathBuf::from("./data"),
            database: DatabaseConfig::default(),
            redis: RedisConfig::default(),
            cache: CacheConfig::default(),
            log: LogConfig::default(),
            http: HttpConfig::default(),
            rate_limit: RateLimitConfig::default(),
            auth: AuthConfig::default(),
            mail: MailConfig::default(),
            storage: StorageConfig::default(),
            oauth: OAuthConfig::default(),
            features: Features::default(),
        }
    }
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

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: None,
            pool_size: 0,
            key_prefix: "plaza:".into(),
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
            trust_proxy_headers: false,
            public_url: "http://localhost:8080".into(),
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

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            s3_bucket: None,
            s3_endpoint: None,
            s3_region: "us-east-1".into(),
            s3_access_key_id: None,
            s3_secret_access_key: None,
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
        }
    }
}

/// Values given on the command line; only those set override.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
}

/// Where configuration comes from.
pub struct Sources {
    /// A file that must exist (`--config` / `PLAZA_CONFIG`); otherwise
    /// `plaza.toml` in the working directory is read when present.
    pub file: Option<PathBuf>,
    pub env: EnvVars,
    pub overrides: Overrides,
}

impl Sources {
    /// The process environment, with the file and flags the command line
    /// gave (the CLI reads `--config` / `PLAZA_CONFIG`).
    pub fn from_process(file: Option<PathBuf>, overrides: Overrides) -> Self {
        Self {
            file,
            env: EnvVars::from_process(),
            overrides,
        }
    }
}

/// One thing wrong with the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The key as a variable (`PLAZA_DATABASE_URL`), or the file that failed.
    pub key: String,
    pub message: String,
}

/// Everything wrong with the configuration, reported at once.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError(pub Vec<Problem>);

impl ConfigError {
    fn one(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![Problem {
            key: key.into(),
            message: message.into(),
        }])
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration:")?;
        for p in &self.0 {
            writeln!(f, "  {}: {}", p.key, p.message)?;
        }
        Ok(())
    }
}

impl Config {
    /// Reads and checks the configuration from its sources.
    pub fn load(sources: Sources) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match &sources.file {
            Some(path) if !path.is_file() => {
                return Err(ConfigError::one(
                    path.display().to_string(),
                    "configuration file not found",
                ));
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new(DEFAULT_FILE).is_file() => {
                figment = figment.merge(Toml::file_exact(DEFAULT_FILE));
            }
            None => {}
        }
        let figment = figment
            .merge(sources.env)
            .merge(Serialized::defaults(sources.overrides));
        let config: Config = figment.extract().map_err(from_figment)?;
        config.validate()?;
        Ok(config)
    }

    /// The database the configuration selects: the given URL, or a SQLite
    /// file in the data directory.
    pub fn database_url(&self) -> Dsn {
        match &self.database.url {
            Some(url) => url.clone(),
            None => Dsn::new(format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("plaza.db").display()
            )),
        }
    }

    /// The configuration as TOML, secrets masked (`plaza config show`).
    pub fn to_masked_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        let mut bad = |key: &str, message: String| {
            problems.push(Problem {
                key: var_for_key(key),
                message,
            })
        };
        if self.host.trim().is_empty() {
            bad("host", "must not be empty".into());
        }
        if let Some(url) = &self.database.url
            && !matches!(url.scheme().as_str(), "sqlite" | "postgres" | "postgresql")
        {
            bad(
                "database.url",
                format!(
                    "unsupported database `{}`; use sqlite://path or postgres://…",
                    url.masked()
                ),
            );
        }
        if let Some(url) = &self.database.read_url
            && !matches!(url.scheme().as_str(), "postgres" | "postgresql")
        {
            bad(
                "database.read_url",
                "a read replica must be a postgres:// URL".into(),
            );
        }
        if let Some(url) = &self.redis.url {
            match url.scheme().as_str() {
                "redis" => {}
                // Refused plainly rather than failing at connect time.
                "rediss" => bad(
                    "redis.url",
                    "rediss:// (TLS) is not supported yet; use redis:// on a private network"
                        .into(),
                ),
                _ => bad(
                    "redis.url",
                    format!("`{}` is not a redis:// URL", url.masked()),
                ),
            }
        }
        if self.database.acquire_timeout.0.is_zero() {
            bad("database.acquire_timeout", "must be above zero".into());
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            bad(
                "log.level",
                format!("`{}` is not a log filter: {e}", self.log.level),
            );
        }
        if self.log.retention_days == 0 {
            bad("log.retention_days", "keep at least 1 day of logs".into());
        }
        if self.http.body_limit.0 < 1024 {
            bad("http.body_limit", "must be at least 1KiB".into());
        }
        if self.http.request_timeout.0.is_zero() {
            bad("http.request_timeout", "must be above zero".into());
        }
        for origin in &self.http.cors_origins.0 {
            if origin != "*" && !is_origin(origin) {
                bad(
                    "http.cors_origins",
                    format!("`{origin}` is not an origin like https://app.example.com (or *)"),
                );
            }
        }
        self.validate_auth(&mut bad);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError(problems))
        }
    }
}

impl Config {
    fn validate_auth(&self, bad: &mut impl FnMut(&str, String)) {
        let auth = &self.auth;
        if let Some(secret) = &auth.jwt_secret
            && secret.expose().len() < 32
        {
            bad("auth.jwt_secret", "must be at least 32 bytes".into());
        }
        if auth.access_ttl.0 < Duration::from_secs(10) {
            bad("auth.access_ttl", "must be at least 10s".into());
        }
        if auth.refresh_ttl.0 <= auth.access_ttl.0 {
            bad(
                "auth.refresh_ttl",
                "must be longer than auth.access_ttl".into(),
            );
        }
        if auth.refresh_grace.0 > Duration::from_secs(10) {
            bad("auth.refresh_grace", "must be at most 10s".into());
        }
        if auth.lockout_threshold == 0 {
            bad("auth.lockout_threshold", "must be at least 1".into());
        }
        if auth.lockout_base.0.is_zero() || auth.lockout_max.0 < auth.lockout_base.0 {
            bad(
                "auth.lockout_max",
                "auth.lockout_base must be above zero and at most auth.lockout_max".into(),
            );
        }
        for (key, value) in [
            ("auth.issuer", &auth.issuer),
            ("auth.audience", &auth.audience),
        ] {
            if value.trim().is_empty() {
                bad(key, "must not be empty".into());
            }
        }
    }
}

fn is_origin(s: &str) -> bool {
    let Some((scheme, host)) = s.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https") && !host.is_empty() && !host.contains(['/', '?', '#', ' '])
}

fn from_figment(err: figment::Error) -> ConfigError {
    ConfigError(
        err.into_iter()
            .map(|e| {
                let path = e.path.join(".");
                let from_env = e
                    .metadata
                    .as_ref()
                    .is_some_and(|m| m.name.starts_with("PLAZA_"));
                let key = if path.is_empty() {
                    e.metadata
                        .as_ref()
                        .and_then(|m| m.source.as_ref())
                        .map_or_else(|| "configuration".into(), |s| s.to_string())
                } else if from_env {
                    var_for_key(&path)
                } else {
                    let file = e
                        .metadata
                        .as_ref()
                        .and_then(|m| m.source.as_ref())
                        .map(|s| s.to_string());
                    match file {
                        Some(file) => format!("{path} (in {file})"),
                        None => var_for_key(&path),
                    }
                };
                Problem {
                    key,
                    message: e.kind.to_string().trim_end().to_owned(),
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests;
