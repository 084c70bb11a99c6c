//! Readiness that fails; `http/error/map.rs` answers it with 503.

use std::collections::BTreeMap;

/// A backing service that did not answer.
#[derive(Debug, thiserror::Error)]
#[error("not ready: {} did not answer", failed.join(", "))]
pub struct NotReady {
    pub failed: Vec<&'static str>,
    pub checks: BTreeMap<&'static str, String>,
}
