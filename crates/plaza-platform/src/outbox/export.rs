//! Export: hands every recorded event to the configured broker (RabbitMQ
//! or NATS JetStream), in id order, at least once, then marks it exported.
//! It runs apart from the bus relay, so a broker that is down or slow
//! delays only export: requests and the bus carry on, and the events wait
//! in the outbox (the prune job keeps them until they are exported).
//!
//! On PostgreSQL one node at a time exports (a transaction-scoped advisory
//! lock). On SQLite the batch is read through the reader pool and marked
//! through the writer, so the single writer is never held across a call to
//! the broker.

use std::time::Duration;

use plaza_core::{EventId, Timestamp};
use serde::Serialize;
use tokio::sync::Notify;

use super::Event;
use super::store::{self, Stage};
use crate::db::Backend;
use crate::export::{Outgoing, SharedExporter};
use crate::platform::{Context, Platform};

/// Events per broker round trip.
const BATCH: i64 = 256;
/// How often the outbox is looked at without being told.
const POLL: Duration = Duration::from_secs(1);
/// A broker that has not confirmed a batch by then has failed it.
const CONFIRM_WITHIN: Duration = Duration::from_secs(30);
/// Waits after consecutive failures: 0.5 s doubling up to 30 s.
const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(30);
/// Advisory lock key for "the exporter" on PostgreSQL.
const LOCK: i64 = 0x706c_617a_6102;

#[derive(Debug)]
pub(super) struct Export {
    exporter: SharedExporter,
    wake: Notify,
    /// What this node's exporter last did, for the console.
    health: std::sync::Mutex<ExportHealth>,
}

/// How this node's exporter is doing.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ExportHealth {
    pub broker: &'static str,
    /// When a batch last reached the broker.
    pub last_export_at: Option<Timestamp>,
    /// The last failure and when it happened (kept after a recovery).
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
    /// Failures in a row now; 0 once export works again.
    pub failing_for: u32,
}

impl Export {
    pub(super) fn new(exporter: SharedExporter) -> Self {
        let broker = exporter.broker();
        Self {
            exporter,
            wake: Notify::new(),
            health: std::sync::Mutex::new(ExportHealth {
                broker,
                ..ExportHealth::default()
            }),
        }
    }

    pub(super) fn health(&self) -> ExportHealth {
        self.health.lock().map(|h| h.clone()).unwrap_or_default()
    }

    fn note(&self, f: impl FnOnce(&mut ExportHealth)) {
        if let Ok(mut h) = self.health.lock() {
            f(&mut h);
        }
    }

    pub(super) fn wake(&self) {
        self.wake.notify_one();
    }
}

#[derive(Debug, thiserror::Error)]
enum ExportError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Broker(#[from] crate::export::ExportError),
    #[error("cannot encode an event: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("the broker did not confirm within {0:?}")]
    Timeout(Duration),
}

/// Runs the exporter until shutdown begins.
pub(super) fn spawn<C: Context>(ctx: C) {
    tokio::spawn(async move {
        let state: &Platform = ctx.as_ref();
        let Some(export) = &state.relay.export else {
            return;
        };
        let broker = export.exporter.broker();
        let mut failures = 0u32;
        loop {
            let wait = match round(state, &export.exporter).await {
                Ok(n) => {
                    if failures > 0 {
                        tracing::info!(broker, "event export resumed");
                    }
                    failures = 0;
                    let now = state.clock.now();
                    export.note(|h| {
                        h.failing_for = 0;
                        if n > 0 {
                            h.last_export_at = Some(now);
                        }
                    });
                    if n as i64 == BATCH {
                        continue;
                    }
                    POLL
                }
                Err(e) => {
                    failures += 1;
                    let now = state.clock.now();
                    export.note(|h| {
                        h.last_error = Some(e.to_string());
                        h.last_error_at = Some(now);
                        h.failing_for = failures;
                    });
                    metrics::counter!("plaza_events_export_failures_total", "broker" => broker)
                        .increment(1);
                    let wait = RETRY_FIRST
                        .saturating_mul(1 << failures.min(10))
                        .min(RETRY_MAX);
                    tracing::warn!(broker, error = %e, retry_in = ?wait, "event export failed");
                    wait
                }
            };
            if failures > 0 {
                // Backing off: a new event does not cut the wait short.
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = state.shutdown.stopping() => return,
                }
            } else {
                tokio::select! {
                    () = export.wake.notified() => {}
                    () = tokio::time::sleep(wait) => {}
                    () = state.shutdown.stopping() => return,
                }
            }
        }
    });
}

/// Exports one batch; how many events.
async fn round(state: &Platform, exporter: &SharedExporter) -> Result<usize, ExportError> {
    match state.db.backend() {
        Backend::Postgres => {
            let Some(mut tx) = store::exclusive(&state.db, LOCK).await? else {
                return Ok(0);
            };
            let batch = store::pending(&mut tx, Stage::Exported, BATCH).await?;
            send(exporter, &batch).await?;
            mark(state, &mut tx, &batch).await?;
            tx.commit().await?;
            Ok(batch.len())
        }
        Backend::Sqlite => {
            let batch = {
                let mut conn = state.db.reader().acquire().await?;
                store::pending(&mut conn, Stage::Exported, BATCH).await?
            };
            send(exporter, &batch).await?;
            mark(state, &mut *state.db.writer().acquire().await?, &batch).await?;
            Ok(batch.len())
        }
    }
}

async fn send(exporter: &SharedExporter, batch: &[Event]) -> Result<(), ExportError> {
    if batch.is_empty() {
        return Ok(());
    }
    let payloads = batch
        .iter()
        .map(serde_json::to_vec)
        .collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<String> = batch.iter().map(|e| e.id.to_string()).collect();
    let outgoing: Vec<Outgoing<'_>> = batch
        .iter()
        .zip(&payloads)
        .enumerate()
        .map(|(i, (e, payload))| Outgoing {
            id: &ids[i],
            kind: &e.kind,
            payload,
        })
        .collect();
    tokio::time::timeout(CONFIRM_WITHIN, exporter.export(&outgoing))
        .await
        .map_err(|_| ExportError::Timeout(CONFIRM_WITHIN))??;
    metrics::counter!("plaza_events_exported_total", "broker" => exporter.broker())
        .increment(batch.len() as u64);
    Ok(())
}

async fn mark(
    state: &Platform,
    conn: &mut sqlx::AnyConnection,
    batch: &[Event],
) -> Result<(), sqlx::Error> {
    let ids: Vec<EventId> = batch.iter().map(|e| e.id).collect();
    store::mark(conn, Stage::Exported, &ids, state.clock.now()).await
}
