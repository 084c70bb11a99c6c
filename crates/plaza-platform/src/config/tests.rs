use std::io::Write;

use super::*;

fn env(vars: &[(&str, &str)]) -> EnvVars {
    EnvVars::new(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
}

fn load(
    file: Option<&Path>,
    vars: &[(&str, &str)],
    overrides: Overrides,
) -> Result<Config, ConfigError> {
    Config::load(Sources {
        file: file.map(Path::to_path_buf),
        env: env(vars),
        overrides,
    })
}

fn toml_file(contents: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    f.write_all(contents.as_bytes()).unwrap();
    f
}

#[test]
fn defaults_match_the_documented_ones() {
    let c = load(None, &[], Overrides::default()).unwrap();
    assert_eq!(c.host, "0.0.0.0");
    assert_eq!(c.port, 8080);
    assert_eq!(c.data_dir, PathBuf::from("./data"));
    assert_eq!(c.log.dir, PathBuf::from("./logs"));
    assert!(c.database.url.is_none() && c.redis.url.is_none());
    assert_eq!(
        c.database_url().expose(),
        "sqlite://./data/plaza.db?mode=rwc"
    );
    assert_eq!(c.rate_limit.auth.to_string(), "5/15m");
    assert_eq!(c.rate_limit.ai.to_string(), "20/1m");
    assert_eq!(c.rate_limit.general.to_string(), "1000/15m");
    assert_eq!(c.rate_limit.upload.to_string(), "10/1m");
    assert!(c.features.websocket && c.features.rate_limit && !c.features.push_notifications);
}

#[test]
fn each_layer_overrides_the_one_before() {
    let file = toml_file(
        "port = 9000\nhost = \"127.0.0.1\"\ndata_dir = \"/srv/plaza\"\n[log]\nlevel = \"debug\"\n",
    );
    let c = load(
        Some(file.path()),
        &[
            ("PLAZA_PORT", "9100"),
            ("PLAZA_LOG_FORMAT", "json"),
            ("PLAZA_FEATURE_DEBUG", "true"),
        ],
        Overrides {
            port: Some(9200),
            ..Overrides::default()
        },
    )
    .unwrap();
    assert_eq!(c.port, 9200, "flag beats env beats file");
    assert_eq!(c.host, "127.0.0.1", "file beats default");
    assert_eq!(c.data_dir, PathBuf::from("/srv/plaza"));
    assert_eq!(c.log.level, "debug");
    assert_eq!(c.log.format, LogFormat::Json);
    assert!(c.features.debug);
    assert_eq!(
        c.database_url().expose(),
        "sqlite:///srv/plaza/plaza.db?mode=rwc"
    );
}

#[test]
fn environment_fills_nested_sections_and_lists() {
    let c = load(
        None,
        &[
            ("PLAZA_DATABASE_URL", "postgres://plaza:pw@db/plaza"),
            ("PLAZA_DATABASE_MAX_CONNECTIONS", "32"),
            ("PLAZA_REDIS_URL", "redis://127.0.0.1:6379"),
            ("PLAZA_RATE_LIMIT_AUTH", "10/1m"),
            (
                "PLAZA_HTTP_CORS_ORIGINS",
                "https://a.example.com,https://b.example.com",
            ),
            ("PLAZA_HTTP_BODY_LIMIT", "8MiB"),
            ("PLAZA_LOG_DIR", "/var/log/plaza"),
            ("PLAZA_CONFIG", "ignored-here"),
            ("HOME", "/root"),
        ],
        Overrides::default(),
    )
    .unwrap();
    assert_eq!(c.database_url().expose(), "postgres://plaza:pw@db/plaza");
    assert_eq!(c.database.max_connections, 32);
    assert_eq!(c.rate_limit.auth.to_string(), "10/1m");
    assert_eq!(c.http.cors_origins.0.len(), 2);
    assert_eq!(c.http.body_limit, ByteSize(8 << 20));
    assert_eq!(c.log.dir, PathBuf::from("/var/log/plaza"));
}

#[test]
fn bad_values_name_their_key() {
    let err = load(None, &[("PLAZA_PORT", "eighty")], Overrides::default()).unwrap_err();
    assert_eq!(err.0[0].key, "PLAZA_PORT", "{err}");

    let err = load(
        None,
        &[
            ("PLAZA_DATABASE_URL", "mysql://root@db/plaza"),
            ("PLAZA_REDIS_URL", "http://cache"),
            ("PLAZA_HTTP_CORS_ORIGINS", "example.com"),
            ("PLAZA_LOG_LEVEL", "plaza=loud"),
        ],
        Overrides::default(),
    )
    .unwrap_err();
    let keys: Vec<_> = err.0.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "PLAZA_DATABASE_URL",
            "PLAZA_REDIS_URL",
            "PLAZA_LOG_LEVEL",
            "PLAZA_HTTP_CORS_ORIGINS"
        ],
        "{err}"
    );
    assert!(err.to_string().contains("unsupported database"), "{err}");

    let err = load(
        None,
        &[("PLAZA_REDIS_URL", "rediss://cache:6380")],
        Overrides::default(),
    )
    .unwrap_err();
    assert_eq!(err.0[0].key, "PLAZA_REDIS_URL");
    assert!(err.0[0].message.contains("not supported yet"), "{err}");

    let err = load(
        None,
        &[("PLAZA_RATE_LIMIT_AUTH", "lots")],
        Overrides::default(),
    )
    .unwrap_err();
    assert_eq!(err.0[0].key, "PLAZA_RATE_LIMIT_AUTH");
    assert!(err.0[0].message.contains("not a rate"), "{err}");
}

#[test]
fn queues_may_have_their_own_concurrency() {
    let c = load(
        None,
        &[("PLAZA_JOBS_QUEUE_CONCURRENCY", "email=4, ai=1")],
        Overrides::default(),
    )
    .unwrap();
    assert_eq!(
        (
            c.jobs.concurrency_of("email"),
            c.jobs.concurrency_of("ai"),
            c.jobs.concurrency_of("analytics")
        ),
        (4, 1, 2)
    );
    let err = load(
        None,
        &[("PLAZA_JOBS_QUEUE_CONCURRENCY", "email=0,ai")],
        Overrides::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("`email=0`") && err.contains("`ai`"), "{err}");
}

#[test]
fn event_export_needs_a_broker_url_it_knows() {
    let err = load(
        None,
        &[("PLAZA_FEATURE_EVENT_EXPORT", "true")],
        Overrides::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("PLAZA_EXPORT_URL") && err.contains("no broker URL"),
        "{err}"
    );
    let err = load(
        None,
        &[("PLAZA_EXPORT_URL", "kafka://user:hunter2@broker:9092")],
        Overrides::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("names no broker") && !err.contains("hunter2"),
        "{err}"
    );
    let c = load(
        None,
        &[
            ("PLAZA_FEATURE_EVENT_EXPORT", "true"),
            ("PLAZA_EXPORT_URL", "nats://127.0.0.1:4222"),
            ("PLAZA_EXPORT_STREAM", "EVENTS"),
        ],
        Overrides::default(),
    )
    .unwrap();
    assert_eq!(c.export.stream, "EVENTS");
    assert_eq!(c.export.exchange, "plaza.events");
}

#[test]
fn unknown_keys_are_refused_not_ignored() {
    let err = load(None, &[("PLAZA_PROT", "8080")], Overrides::default()).unwrap_err();
    assert_eq!(err.0[0].key, "PLAZA_PROT", "{err}");

    let file = toml_file("[database]\nurll = \"sqlite://x.db\"\n");
    let err = load(Some(file.path()), &[], Overrides::default()).unwrap_err();
    assert!(err.0[0].key.starts_with("database.urll (in "), "{err}");
}

#[test]
fn a_named_file_must_exist_and_parse() {
    let err = load(
        Some(Path::new("/nonexistent/plaza.toml")),
        &[],
        Overrides::default(),
    )
    .unwrap_err();
    assert!(err.0[0].message.contains("not found"), "{err}");

    let file = toml_file("port = [1");
    assert!(load(Some(file.path()), &[], Overrides::default()).is_err());
}

#[test]
fn shown_configuration_masks_secrets() {
    let c = load(
        None,
        &[
            ("PLAZA_DATABASE_URL", "postgres://plaza:hunter2@db/plaza"),
            ("PLAZA_REDIS_URL", "redis://:s3cret@cache:6379"),
        ],
        Overrides::default(),
    )
    .unwrap();
    let shown = c.to_masked_toml();
    assert!(
        !shown.contains("hunter2") && !shown.contains("s3cret"),
        "{shown}"
    );
    assert!(
        shown.contains("postgres://plaza:********@db/plaza"),
        "{shown}"
    );
    assert!(shown.contains("[rate_limit]"), "{shown}");
}

/// Every key of a configuration, flattened (`database.url`).
fn keys(value: &toml::Value, prefix: &str, out: &mut Vec<String>) {
    if let toml::Value::Table(t) = value {
        for (k, v) in t {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            // A map of models, set in the file only.
            if v.is_table() && key != "ai.prices" {
                keys(v, &key, out);
            } else {
                out.push(key);
            }
        }
    }
}

fn workspace_file(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(name),
    )
    .unwrap()
}

/// Keys unset by default: absent from the defaults, present (commented) in
/// both example files.
const OPTIONAL_KEYS: [&str; 38] = [
    "graphql.introspection",
    "database.url",
    "database.read_url",
    "redis.url",
    "auth.jwt_secret",
    "auth.encryption_key",
    "auth.previous_encryption_key",
    "mail.smtp_url",
    "storage.s3_bucket",
    "storage.s3_endpoint",
    "storage.s3_access_key_id",
    "storage.s3_secret_access_key",
    "oauth.redirect_url",
    "oauth.google.client_id",
    "oauth.google.client_secret",
    "oauth.google.issuer",
    "oauth.google.authorize_url",
    "oauth.google.token_url",
    "oauth.google.userinfo_url",
    "oauth.github.client_id",
    "oauth.github.client_secret",
    "oauth.github.issuer",
    "oauth.github.authorize_url",
    "oauth.github.token_url",
    "oauth.github.userinfo_url",
    "oauth.oidc.client_id",
    "oauth.oidc.client_secret",
    "oauth.oidc.issuer",
    "oauth.oidc.authorize_url",
    "oauth.oidc.token_url",
    "oauth.oidc.userinfo_url",
    "payments.stripe.secret_key",
    "payments.stripe.webhook_secret",
    "payments.stripe.previous_webhook_secret",
    "payments.cryptomus.merchant",
    "payments.cryptomus.api_key",
    "ai.api_key",
    "sentry.dsn",
];

#[test]
fn the_example_files_list_every_key_with_its_default() {
    let defaults: toml::Value = toml::from_str(&Config::default().to_masked_toml()).unwrap();
    let mut default_keys = Vec::new();
    keys(&defaults, "", &mut default_keys);

    let example = workspace_file("plaza.example.toml");
    let parsed: toml::Value = toml::from_str(&example).unwrap();
    assert_eq!(
        parsed, defaults,
        "plaza.example.toml differs from the defaults"
    );
    for optional in OPTIONAL_KEYS {
        assert!(
            example.contains(&format!("# {}", optional.rsplit('.').next().unwrap())),
            "{optional}"
        );
    }

    let env_example = workspace_file(".env.example");
    let mut vars = Vec::new();
    for line in env_example.lines() {
        let line = line.trim_start_matches("# ");
        if let Some((var, value)) = line.split_once('=')
            && var.starts_with("PLAZA_")
            && !var.contains(' ')
        {
            vars.push((var.to_owned(), value.to_owned()));
        }
    }
    for key in default_keys
        .iter()
        .map(String::as_str)
        .filter(|k| *k != "ai.prices")
        .chain(OPTIONAL_KEYS)
    {
        let var = var_for_key(key);
        assert!(
            vars.iter().any(|(v, _)| *v == var),
            ".env.example lacks {var}"
        );
    }
    // The uncommented values are the defaults.
    let set: Vec<(String, String)> = env_example
        .lines()
        .filter(|l| l.starts_with("PLAZA_"))
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    let from_env = load(
        None,
        &set.iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
        Overrides::default(),
    )
    .unwrap();
    assert_eq!(
        from_env.to_masked_toml(),
        Config::default().to_masked_toml()
    );
}

#[test]
fn auth_settings_are_checked_and_the_key_never_shows() {
    let err = load(
        None,
        &[
            ("PLAZA_AUTH_JWT_SECRET", "short"),
            ("PLAZA_AUTH_REFRESH_GRACE", "11s"),
            ("PLAZA_AUTH_LOCKOUT_THRESHOLD", "0"),
        ],
        Overrides::default(),
    )
    .unwrap_err();
    let keys: Vec<&str> = err.0.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "PLAZA_AUTH_JWT_SECRET",
            "PLAZA_AUTH_REFRESH_GRACE",
            "PLAZA_AUTH_LOCKOUT_THRESHOLD"
        ]
    );

    let secret = "0123456789abcdef0123456789abcdef-secret";
    let config = load(
        None,
        &[
            ("PLAZA_AUTH_JWT_SECRET", secret),
            ("PLAZA_AUTH_REFRESH_GRACE", "0"),
        ],
        Overrides::default(),
    )
    .unwrap();
    assert_eq!(config.auth.jwt_secret.as_ref().unwrap().expose(), secret);
    assert!(config.auth.refresh_grace.0.is_zero());
    let shown = config.to_masked_toml();
    assert!(!shown.contains(secret) && shown.contains("jwt_secret = \"********\""));
    assert!(!format!("{config:?}").contains(secret));
}

#[test]
fn encryption_keys_are_long_and_a_previous_one_needs_a_current_one() {
    let long = "0123456789abcdef0123456789abcdef-key";
    let err = load(
        None,
        &[("PLAZA_AUTH_ENCRYPTION_KEY", "short")],
        Overrides::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("PLAZA_AUTH_ENCRYPTION_KEY: must be at least 32 bytes"),
        "{err}"
    );
    let err = load(
        None,
        &[("PLAZA_AUTH_PREVIOUS_ENCRYPTION_KEY", long)],
        Overrides::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("needs auth.encryption_key"),
        "{err}"
    );
    let config = load(
        None,
        &[
            ("PLAZA_AUTH_ENCRYPTION_KEY", long),
            ("PLAZA_AUTH_PREVIOUS_ENCRYPTION_KEY", long),
        ],
        Overrides::default(),
    )
    .unwrap();
    let shown = config.to_masked_toml();
    assert!(!shown.contains(long) && shown.contains("encryption_key = \"********\""));
}

/// Found by fuzzing: figment's value parser slices a quoted string by
/// character index, and panics when a non-ASCII character comes before a
/// backslash. Such a value is taken as the text it is.
#[test]
fn a_quoted_value_with_unicode_before_a_backslash_is_text_not_a_panic() {
    let c = load(
        None,
        &[("PLAZA_HTTP_PUBLIC_URL", "\"é\\n\"")],
        Overrides::default(),
    );
    assert_eq!(c.unwrap().http.public_url, "\"é\\n\"");
    let c = load(
        None,
        &[("PLAZA_LOG_LEVEL", "\"ü\\\"")],
        Overrides::default(),
    );
    assert_eq!(c.unwrap_err().0[0].key, "PLAZA_LOG_LEVEL");
}

#[test]
fn payment_keys_are_checked_and_never_show() {
    let err = load(
        None,
        &[
            ("PLAZA_PAYMENTS_DEFAULT_PROVIDER", "stripe"),
            ("PLAZA_PAYMENTS_FEE_BPS", "10001"),
            ("PLAZA_PAYMENTS_CRYPTOMUS_MERCHANT", "m-1"),
        ],
        Overrides::default(),
    )
    .unwrap_err();
    let keys: Vec<&str> = err.0.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "PLAZA_PAYMENTS_DEFAULT_PROVIDER",
            "PLAZA_PAYMENTS_FEE_BPS",
            "PLAZA_PAYMENTS_CRYPTOMUS_API_KEY"
        ]
    );
    let config = load(
        None,
        &[
            ("PLAZA_PAYMENTS_DEFAULT_PROVIDER", "stripe"),
            ("PLAZA_PAYMENTS_STRIPE_SECRET_KEY", "sk_test_very_secret"),
            ("PLAZA_PAYMENTS_STRIPE_WEBHOOK_SECRET", "whsec_also_secret"),
            ("PLAZA_PAYMENTS_CRYPTOMUS_MERCHANT", "m-1"),
            ("PLAZA_PAYMENTS_CRYPTOMUS_API_KEY", "cryptomus_secret"),
        ],
        Overrides::default(),
    )
    .unwrap();
    assert_eq!(
        config
            .payments
            .stripe
            .secret_key
            .as_ref()
            .map(|s| s.expose()),
        Some("sk_test_very_secret")
    );
    let shown = config.to_masked_toml();
    for secret in [
        "sk_test_very_secret",
        "whsec_also_secret",
        "cryptomus_secret",
    ] {
        assert!(!shown.contains(secret), "{secret} shows in {shown}");
    }
    assert!(shown.contains("secret_key = \"********\""));
    assert!(shown.contains("merchant = \"m-1\""));
}
