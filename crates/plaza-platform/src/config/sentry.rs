//! Error tracking (seed 003's `SENTRY_DSN`): 5xx answers and panics go to a
//! Sentry-compatible endpoint when a DSN is set.

use serde::{Deserialize, Serialize};

use super::Secret;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SentryConfig {
    /// `https://<key>@<host>/<project>`; unset, nothing is sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dsn: Option<Secret>,
    /// Sent with every event (`production`, `staging`).
    pub environment: String,
    /// The share of events sent, 0–1.
    pub sample_rate: f32,
}

impl Default for SentryConfig {
    fn default() -> Self {
        Self {
            dsn: None,
            environment: "production".into(),
            sample_rate: 1.0,
        }
    }
}
