//! Configuration: defaults → optional `plaza.toml` → `PLAZA_*` environment
//! variables → command-line flags, each layer overriding the one before.
//! Every problem names the key (as the variable a person would set) and what
//! was wrong with it, and start-up stops.

mod ai;
mod env;
mod sections;
mod sentry;
mod units;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub use ai::{AiConfig, Price};
pub use env::{EnvVars, key_for_var, var_for_key};
pub use sections::*;
pub use sentry::SentryConfig;
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
    pub ws: WsConfig,
    pub graphql: GraphqlConfig,
    pub jobs: JobsConfig,
    pub export: ExportConfig,
    pub rate_limit: RateLimitConfig,
    pub auth: AuthConfig,
    pub mail: MailConfig,
    pub storage: StorageConfig,
    pub oauth: OAuthConfig,
    pub payments: PaymentsConfig,
    pub ai: AiConfig,
    pub sentry: SentryConfig,
    pub features: Features,
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
            ws: WsConfig::default(),
            graphql: GraphqlConfig::default(),
            jobs: JobsConfig::default(),
            export: ExportConfig::default(),
            rate_limit: RateLimitConfig::default(),
            auth: AuthConfig::default(),
            mail: MailConfig::default(),
            storage: StorageConfig::default(),
            oauth: OAuthConfig::default(),
            payments: PaymentsConfig::default(),
            ai: AiConfig::default(),
            sentry: SentryConfig::default(),
            features: Features::default(),
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
        Self::extract(
            figment
                .merge(sources.env)
                .merge(Serialized::defaults(sources.overrides)),
        )
    }

    /// The configuration `toml` and then `env` give over the defaults, as
    /// [`Config::load`] reads a file (also the fuzzers' entry point).
    pub fn parse(toml: &str, env: EnvVars) -> Result<Self, ConfigError> {
        let figment = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(toml))
            .merge(env);
        Self::extract(figment)
    }

    fn extract(figment: Figment) -> Result<Self, ConfigError> {
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
