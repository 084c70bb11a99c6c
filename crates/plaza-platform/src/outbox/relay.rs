//! The relay: publishes unpublished outbox events to the bus, in id order,
//! then marks them published. It wakes when a local commit says so and
//! polls as a fallback (another node's commits, a bus that was down).
//!
//! At least once: an event published but not yet marked (a crash, a failed
//! commit) is published again. On PostgreSQL one relay at a time works the
//! table (a transaction-scoped advisory lock), so several nodes neither
//! race nor reorder; SQLite is one node.

use std::time::Duration;

use plaza_core::EventId;
use tokio::sync::Notify;

use super::store::{self, Stage};
use super::{Event, TOPIC};
use crate::db::Backend;
use crate::export::SharedExporter;
use crate::platform::{Context, Platform};

/// Events published per round.
const BATCH: i64 = 256;
/// How often the table is looked at without being told.
const POLL: Duration = Duration::from_secs(1);
/// Advisory lock key for "the relay" on PostgreSQL.
const LOCK: i64 = 0x706c_617a_6101;

#[derive(Debug)]
pub struct Relay {
    wake: Notify,
    /// The broker events are exported to, when configured.
    pub(super) export: Option<super::export::Export>,
}

#[derive(Debug, thiserror::Error)]
enum RelayError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error("cannot publish: {0}")]
    Bus(String),
}

impl Relay {
    /// How this node's exporter is doing; None when no broker is configured.
    pub fn export_health(&self) -> Option<super::ExportHealth> {
        self.export.as_ref().map(super::export::Export::health)
    }

    /// A relay to the bus, and to `exporter` too if there is one.
    pub fn new(exporter: Option<SharedExporter>) -> Self {
        Self {
            wake: Notify::new(),
            export: exporter.map(super::export::Export::new),
        }
    }

    /// Something was just recorded and committed.
    pub fn wake(&self) {
        self.wake.notify_one();
        if let Some(export) = &self.export {
            export.wake();
        }
    }

    /// Whether events are exported to a broker.
    pub fn exporting(&self) -> bool {
        self.export.is_some()
    }
}

/// Runs the relay (and the exporter) of `ctx`'s platform until shutdown
/// begins.
pub fn spawn<C: Context>(ctx: C) {
    if ctx.as_ref().relay.export.is_some() {
        super::export::spawn(ctx.clone());
    }
    tokio::spawn(async move {
        let p: &Platform = ctx.as_ref();
        loop {
            let full = match round(p).await {
                Ok(n) => n as i64 == BATCH,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox relay round failed; retrying");
                    false
                }
            };
            if full {
                continue;
            }
            tokio::select! {
                () = p.relay.wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
                () = p.shutdown.stopping() => return,
            }
        }
    });
}

/// Publishes one batch; how many events.
async fn round(p: &Platform) -> Result<usize, RelayError> {
    match p.db.backend() {
        Backend::Postgres => {
            let Some(mut tx) = store::exclusive(&p.db, LOCK).await? else {
                return Ok(0);
            };
            let published = relay_batch(p, &mut tx).await?;
            tx.commit().await?;
            Ok(published)
        }
        // Read and publish without holding the write lock; this is the
        // only relay on an SQLite database.
        Backend::Sqlite => relay_batch(p, &mut *p.db.writer().acquire().await?).await,
    }
}

/// Reads the oldest unpublished events, publishes them, marks them.
async fn relay_batch(p: &Platform, conn: &mut sqlx::AnyConnection) -> Result<usize, RelayError> {
    let now = p.clock.now();
    let batch = store::pending(conn, Stage::Published, BATCH).await?;
    publish(p, &batch).await?;
    let ids: Vec<EventId> = batch.iter().map(|e| e.id).collect();
    store::mark(conn, Stage::Published, &ids, now).await?;
    Ok(batch.len())
}

async fn publish(p: &Platform, batch: &[Event]) -> Result<(), RelayError> {
    for event in batch {
        let payload = serde_json::to_vec(event).map_err(|e| RelayError::Bus(e.to_string()))?;
        p.bus
            .publish(TOPIC, bytes::Bytes::from(payload))
            .await
            .map_err(|e| RelayError::Bus(e.to_string()))?;
    }
    if !batch.is_empty() {
        metrics::counter!("plaza_events_published_total").increment(batch.len() as u64);
    }
    Ok(())
}
