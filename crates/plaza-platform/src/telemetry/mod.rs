//! Telemetry: logs through `tracing` (a terminal, plus daily-rotated
//! `combined` and `error` files) and metrics in Prometheus format through
//! one process-wide registry that every module adds to, and error tracking
//! on a Sentry-compatible endpoint.

mod logs;
mod metrics;
mod sentry;

pub use self::logs::{LogGuards, LoggingError, init_logging};
pub use self::metrics::{metrics_handle, render_metrics};
pub use self::sentry::{Failed, SentryGuard, init_sentry, report_failure};
