//! What the configuration must satisfy beyond its types; every problem is
//! collected and named by its variable.

use std::time::Duration;

use super::{Config, ConfigError, Problem, var_for_key};

impl Config {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
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
        self.validate_services(&mut bad);
        self.validate_runtime(&mut bad);
        self.validate_http(&mut bad);
        self.validate_accounts(&mut bad);
        self.validate_payments(&mut bad);
        self.validate_ai(&mut bad);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError(problems))
        }
    }

    /// The payment providers and the fee.
    fn validate_payments(&self, bad: &mut impl FnMut(&str, String)) {
        let p = &self.payments;
        let on = |name: &str| match name {
            "sandbox" => p.sandbox,
            "stripe" => p.stripe.secret_key.is_some(),
            "cryptomus" => p.cryptomus.merchant.is_some() && p.cryptomus.api_key.is_some(),
            _ => false,
        };
        if !matches!(
            p.default_provider.as_str(),
            "sandbox" | "stripe" | "cryptomus"
        ) {
            bad(
                "payments.default_provider",
                format!(
                    "`{}` is not sandbox, stripe or cryptomus",
                    p.default_provider
                ),
            );
        } else if !on(&p.default_provider) {
            bad(
                "payments.default_provider",
                format!(
                    "`{}` is not configured (set its keys, or name another)",
                    p.default_provider
                ),
            );
        }
        if p.fee_bps > 10_000 {
            bad("payments.fee_bps", "at most 10000 (100 %)".into());
        }
        if p.stripe.secret_key.is_some() && p.stripe.webhook_secret.is_none() {
            bad(
                "payments.stripe.webhook_secret",
                "Stripe is on (secret_key is set), so its webhooks need the signing secret (whsec_…)"
                    .into(),
            );
        }
        if p.cryptomus.merchant.is_some() != p.cryptomus.api_key.is_some() {
            bad(
                "payments.cryptomus.api_key",
                "Cryptomus needs both merchant and api_key".into(),
            );
        }
        if p.webhook_tolerance.0.is_zero() {
            bad(
                "payments.webhook_tolerance",
                "must be more than 0 (300s is Stripe's)".into(),
            );
        }
    }

    /// The database, Redis and the event broker.
    fn validate_services(&self, bad: &mut impl FnMut(&str, String)) {
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
        if self.redis.timeout.0.is_zero() {
            bad(
                "redis.timeout",
                "must be more than 0 (250ms is a good start)".into(),
            );
        }
        match (&self.export.url, self.features.event_export) {
            (Some(url), _) if crate::export::Broker::of(url.expose()).is_none() => bad(
                "export.url",
                format!(
                    "`{}` names no broker; use amqp://… (RabbitMQ) or nats://… (NATS JetStream)",
                    url.masked()
                ),
            ),
            (None, true) => bad(
                "export.url",
                "event export is on (features.event_export) but no broker URL is set".into(),
            ),
            _ => {}
        }
        if self.database.acquire_timeout.0.is_zero() {
            bad("database.acquire_timeout", "must be above zero".into());
        }
    }

    /// Sockets and job workers.
    fn validate_runtime(&self, bad: &mut impl FnMut(&str, String)) {
        if self.ws.max_message.0 < 1024 {
            bad("ws.max_message", "must be at least 1KiB".into());
        }
        if !(1..=64).contains(&self.jobs.concurrency) {
            bad("jobs.concurrency", "must be between 1 and 64".into());
        }
        if self.jobs.lease.0 < Duration::from_secs(1) {
            bad("jobs.lease", "must be at least 1s".into());
        }
        for item in &self.jobs.queue_concurrency.0 {
            let fine = item.split_once('=').is_some_and(|(name, n)| {
                !name.trim().is_empty()
                    && n.trim().parse::<u32>().is_ok_and(|n| (1..=64).contains(&n))
            });
            if !fine {
                bad(
                    "jobs.queue_concurrency",
                    format!("`{item}` is not queue=workers with 1 to 64 workers (e.g. email=4)"),
                );
            }
        }
        let graphql = &self.graphql;
        if !(2..=64).contains(&graphql.max_depth) {
            bad("graphql.max_depth", "must be between 2 and 64".into());
        }
        if graphql.max_complexity < 10 {
            bad("graphql.max_complexity", "must be at least 10".into());
        }
        if graphql.max_query.0 < 1024 {
            bad("graphql.max_query", "must be at least 1KiB".into());
        }
        if graphql.max_batch > 100 {
            bad(
                "graphql.max_batch",
                "must be at most 100 (0 turns batching off)".into(),
            );
        }
        if self.ws.send_queue < 8 {
            bad("ws.send_queue", "must be at least 8".into());
        }
        if self.ws.ping_interval.0 < Duration::from_secs(1) {
            bad("ws.ping_interval", "must be at least 1s".into());
        }
    }

    /// Logging and the HTTP server.
    fn validate_http(&self, bad: &mut impl FnMut(&str, String)) {
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
    }

    /// Sign-in, mail, storage and OAuth settings.
    fn validate_accounts(&self, bad: &mut impl FnMut(&str, String)) {
        let auth = &self.auth;
        if let Some(secret) = &auth.jwt_secret
            && secret.expose().len() < 32
        {
            bad("auth.jwt_secret", "must be at least 32 bytes".into());
        }
        for (key, secret) in [
            ("auth.encryption_key", &auth.encryption_key),
            (
                "auth.previous_encryption_key",
                &auth.previous_encryption_key,
            ),
        ] {
            if secret.as_ref().is_some_and(|s| s.expose().len() < 32) {
                bad(key, "must be at least 32 bytes".into());
            }
        }
        if auth.previous_encryption_key.is_some() && auth.encryption_key.is_none() {
            bad(
                "auth.previous_encryption_key",
                "needs auth.encryption_key (the key that replaced it)".into(),
            );
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
