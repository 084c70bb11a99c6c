//! Error tracking (seed 003's `SENTRY_DSN`): with a DSN set, panics (the
//! `panic` integration) and every 5xx answer, tagged with its request id,
//! code and route, go to a Sentry-compatible endpoint through the
//! `sentry` crate's reqwest transport. Without one nothing is sent.

use sentry::protocol::{Event, Level};

use crate::config::SentryConfig;

/// Keeps the client; dropping it flushes what is queued (two seconds).
pub struct SentryGuard {
    _client: Option<sentry::ClientInitGuard>,
}

/// Starts the client when `config` names a DSN (checked at start-up).
pub fn init_sentry(config: &SentryConfig) -> SentryGuard {
    let Some(dsn) = &config.dsn else {
        return SentryGuard { _client: None };
    };
    let options = sentry::ClientOptions::new()
        .dsn(dsn.expose())
        .release(format!("plaza@{}", env!("CARGO_PKG_VERSION")))
        .environment(config.environment.clone())
        .sample_rate(config.sample_rate);
    SentryGuard {
        _client: Some(sentry::init(options)),
    }
}

/// What a 5xx answer was, for [`report_failure`].
pub struct Failed<'a> {
    pub request_id: &'a str,
    pub status: u16,
    pub code: &'a str,
    pub method: &'a str,
    pub route: &'a str,
    /// The logged cause, when there was one (never sent to the client).
    pub cause: Option<&'a str>,
}

/// Sends a 5xx answer to Sentry; nothing without a client.
pub fn report_failure(f: &Failed<'_>) {
    if sentry::Hub::current().client().is_none() {
        return;
    }
    let mut event = Event {
        level: Level::Error,
        message: Some(match f.cause {
            Some(cause) => format!("{} {} {}: {cause}", f.status, f.method, f.route),
            None => format!("{} {} {} ({})", f.status, f.method, f.route, f.code),
        }),
        logger: Some("plaza.http".into()),
        ..Default::default()
    };
    for (tag, value) in [
        ("request_id", f.request_id.to_owned()),
        ("status", f.status.to_string()),
        ("code", f.code.to_owned()),
        ("route", f.route.to_owned()),
    ] {
        event.tags.insert(tag.into(), value);
    }
    sentry::capture_event(event);
}
