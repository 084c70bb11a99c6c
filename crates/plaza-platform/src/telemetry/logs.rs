use std::io::IsTerminal;

use tracing::level_filters::LevelFilter;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::config::{LogConfig, LogFormat, var_for_key};

/// Keeps the background log writers alive; logs are flushed when dropped.
#[must_use = "logs written to files are lost when the guards are dropped"]
pub struct LogGuards(#[allow(dead_code)] Vec<WorkerGuard>);

#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    #[error("{key}: cannot write logs to {dir}: {reason}")]
    Dir {
        key: String,
        dir: String,
        reason: String,
    },
    #[error("{key}: {reason}")]
    Filter { key: String, reason: String },
    #[error("logging was already set up: {0}")]
    Installed(String),
}

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// Sets up logging for the process: the terminal always, and when
/// `files` is on, `combined.YYYY-MM-DD.log` (everything the filter lets
/// through) and `error.YYYY-MM-DD.log` (errors only) under `dir`, rotated
/// daily and pruned to the newest `retention_days`, with `combined.log` and
/// `error.log` linking to today's files.
pub fn init_logging(config: &LogConfig, debug: bool) -> Result<LogGuards, LoggingError> {
    let level = if debug && config.level == "info" {
        "debug,hyper=info,h2=info,sqlx=info,fred=info"
    } else {
        config.level.as_str()
    };
    let filter = || {
        EnvFilter::try_new(level).map_err(|e| LoggingError::Filter {
            key: var_for_key("log.level"),
            reason: e.to_string(),
        })
    };
    // At debug and trace every span that closes logs how long it was busy
    // and idle, so a slow request shows which service and store call took
    // the time; at info that would be noise.
    let timings = if level.contains("debug") || level.contains("trace") {
        FmtSpan::CLOSE
    } else {
        FmtSpan::NONE
    };
    let mut layers: Vec<BoxedLayer> = Vec::new();
    let mut guards = Vec::new();

    let stdout = std::io::stdout();
    let ansi = stdout.is_terminal();
    let (writer, guard) = tracing_appender::non_blocking(stdout);
    guards.push(guard);
    layers.push(
        format_layer(config.format, writer, ansi, timings.clone())
            .with_filter(filter()?)
            .boxed(),
    );

    if config.files {
        let dir = log_dir(config)?;
        for (name, only_errors) in [("combined", false), ("error", true)] {
            let (writer, guard) = tracing_appender::non_blocking(rolling(config, &dir, name)?);
            guards.push(guard);
            let layer = format_layer(config.format, writer, false, timings.clone());
            layers.push(if only_errors {
                layer.with_filter(LevelFilter::ERROR).boxed()
            } else {
                layer.with_filter(filter()?).boxed()
            });
        }
    }

    tracing_subscriber::registry()
        .with(layers)
        .try_init()
        .map_err(|e| LoggingError::Installed(e.to_string()))?;
    Ok(LogGuards(guards))
}

/// `log.dir`, made if missing, as an absolute path, so the `combined.log`
/// link points at the file from any directory.
fn log_dir(config: &LogConfig) -> Result<std::path::PathBuf, LoggingError> {
    std::fs::create_dir_all(&config.dir).map_err(|e| dir_error(config, e.to_string()))?;
    config
        .dir
        .canonicalize()
        .map_err(|e| dir_error(config, e.to_string()))
}

/// `name.YYYY-MM-DD.log` under `dir`, rotated daily, pruned to the newest
/// `retention_days`, with `name.log` linking to today's.
fn rolling(
    config: &LogConfig,
    dir: &std::path::Path,
    name: &str,
) -> Result<RollingFileAppender, LoggingError> {
    RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(name)
        .filename_suffix("log")
        .latest_symlink(format!("{name}.log"))
        .max_log_files(config.retention_days.max(1) as usize)
        .build(dir)
        .map_err(|e| dir_error(config, e.to_string()))
}

fn dir_error(config: &LogConfig, reason: String) -> LoggingError {
    LoggingError::Dir {
        key: var_for_key("log.dir"),
        dir: config.dir.display().to_string(),
        reason,
    }
}

fn format_layer<W>(format: LogFormat, writer: W, ansi: bool, spans: FmtSpan) -> BoxedLayer
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let base = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_span_events(spans);
    match format {
        LogFormat::Json => base
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
        LogFormat::Text => base.with_ansi(ansi).with_target(true).boxed(),
    }
}
