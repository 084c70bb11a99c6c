//! The `PLAZA_*` environment variables as a figment provider.
//!
//! Variables map onto configuration keys by section: `PLAZA_DATABASE_URL` is
//! `database.url`, `PLAZA_FEATURE_WEBSOCKET` is `features.websocket`,
//! `PLAZA_PORT` is `port`. The variables are passed in (not read from the
//! process here), so tests never touch the process environment.

use figment::value::{Dict, Map, Value};
use figment::{Metadata, Profile, Provider};

pub const PREFIX: &str = "PLAZA_";

/// Variables that configure how configuration is found, not a key of it.
const NOT_KEYS: &[&str] = &["PLAZA_CONFIG"];

/// `(variable section, key section)`, longest first so `RATE_LIMIT_` wins.
const SECTIONS: &[(&str, &str)] = &[
    ("oauth_google", "oauth.google"),
    ("oauth_github", "oauth.github"),
    ("oauth_oidc", "oauth.oidc"),
    ("payments_cryptomus", "payments.cryptomus"),
    ("payments_stripe", "payments.stripe"),
    ("rate_limit", "rate_limit"),
    ("payments", "payments"),
    ("oauth", "oauth"),
    ("ai", "ai"),
    ("sentry", "sentry"),
    ("database", "database"),
    ("feature", "features"),
    ("redis", "redis"),
    ("auth", "auth"),
    ("mail", "mail"),
    ("storage", "storage"),
    ("cache", "cache"),
    ("http", "http"),
    ("ws", "ws"),
    ("graphql", "graphql"),
    ("jobs", "jobs"),
    ("export", "export"),
    ("log", "log"),
];

/// `PLAZA_DATABASE_URL` → `database.url`; `None` for non-plaza variables.
pub fn key_for_var(var: &str) -> Option<String> {
    if NOT_KEYS.contains(&var) {
        return None;
    }
    let rest = var.strip_prefix(PREFIX)?.to_ascii_lowercase();
    if rest.is_empty() {
        return None;
    }
    for (var_section, key_section) in SECTIONS {
        if let Some(field) = rest
            .strip_prefix(var_section)
            .and_then(|r| r.strip_prefix('_'))
            .filter(|f| !f.is_empty())
        {
            return Some(format!("{key_section}.{field}"));
        }
    }
    Some(rest)
}

/// `database.url` → `PLAZA_DATABASE_URL`: how to name a key to a person.
pub fn var_for_key(key: &str) -> String {
    let (section, field) = match key.split_once('.') {
        Some(("features", field)) => ("feature", field),
        Some((section, field)) => (section, field),
        None => ("", key),
    };
    let joined = if section.is_empty() {
        field.to_owned()
    } else {
        format!("{section}_{field}")
    };
    format!("{PREFIX}{}", joined.replace('.', "_").to_ascii_uppercase())
}

/// The environment, filtered to `PLAZA_*` variables.
pub struct EnvVars {
    vars: Vec<(String, String)>,
}

impl EnvVars {
    pub fn new(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            vars: vars
                .into_iter()
                .filter(|(k, _)| k.starts_with(PREFIX))
                .collect(),
        }
    }

    /// The current process environment.
    pub fn from_process() -> Self {
        Self::new(std::env::vars())
    }
}

impl Provider for EnvVars {
    fn metadata(&self) -> Metadata {
        Metadata::named("PLAZA_* environment variables")
            .interpolater(|_profile, keys| var_for_key(&keys.join(".")))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut dict = Dict::new();
        for (var, raw) in &self.vars {
            let Some(key) = key_for_var(var) else {
                continue;
            };
            // Values parse as figment's `Env` does: `true`, `8080`, `[a, b]`;
            // except text with a backslash after a non-ASCII character,
            // which figment's parser cannot take without panicking (it
            // slices by character index), and which is text anyway.
            let value: Value = if raw.contains('\\') && !raw.is_ascii() {
                Value::from(raw.clone())
            } else {
                raw.parse().unwrap_or_else(|_| Value::from(raw.clone()))
            };
            let Some(nested) = figment::util::nest(&key, value).into_dict() else {
                continue;
            };
            for (k, v) in nested {
                merge_into(&mut dict, k, v);
            }
        }
        Ok(Profile::Default.collect(dict))
    }
}

fn merge_into(dict: &mut Dict, key: String, value: Value) {
    match (dict.get_mut(&key), value) {
        (Some(Value::Dict(_, existing)), Value::Dict(_, incoming)) => {
            for (k, v) in incoming {
                merge_into(existing, k, v);
            }
        }
        (_, value) => {
            dict.insert(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_map_to_keys_and_back() {
        for (var, key) in [
            ("PLAZA_PORT", "port"),
            ("PLAZA_DATA_DIR", "data_dir"),
            ("PLAZA_DATABASE_URL", "database.url"),
            ("PLAZA_DATABASE_MAX_CONNECTIONS", "database.max_connections"),
            ("PLAZA_REDIS_URL", "redis.url"),
            ("PLAZA_LOG_DIR", "log.dir"),
            ("PLAZA_RATE_LIMIT_AUTH", "rate_limit.auth"),
            ("PLAZA_FEATURE_AI_CHAT", "features.ai_chat"),
            ("PLAZA_HTTP_CORS_ORIGINS", "http.cors_origins"),
            ("PLAZA_AUTH_JWT_SECRET", "auth.jwt_secret"),
            ("PLAZA_OAUTH_GOOGLE_CLIENT_ID", "oauth.google.client_id"),
            ("PLAZA_OAUTH_REDIRECT_URL", "oauth.redirect_url"),
        ] {
            assert_eq!(key_for_var(var).as_deref(), Some(key), "{var}");
            assert_eq!(var_for_key(key), var, "{key}");
        }
        assert_eq!(key_for_var("PLAZA_CONFIG"), None);
        assert_eq!(key_for_var("HOME"), None);
        assert_eq!(key_for_var("PLAZA_"), None);
    }
}
