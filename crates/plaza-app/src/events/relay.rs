//! The relay: publishes unpublished outbox events to the bus, in id order,
//! then marks them published. It wakes when a local commit says so and
//! polls as a fallback (another node's commits, a bus that was down).
//!
//! At least once: an event published but not yet marked (a crash, a failed
//! commit) is published again. On PostgreSQL one relay at a time works the
//! table (a transaction-scoped advisory lock), so several nodes neither
//! race nor reorder; SQLite is one node.

use std::time::Duration;

use plaza_platform::db::Backend;
use plaza_platform::export::SharedExporter;
use tokio::sync::Notify;

use super::TOPIC;
use super::outbox::{self, Event, Stage};
use crate::state::AppState;

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

    /// Runs the relay (and the exporter) until shutdown begins.
    pub fn spawn(state: &AppState) {
        if state.relay.export.is_some() {
            super::export::spawn(state);
        }
        let state = state.clone();
        tokio::spawn(async move {
            loop {
                let full = match round(&state).await {
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
                    () = state.relay.wake.notified() => {}
                    () = tokio::time::sleep(POLL) => {}
                    () = state.shutdown.stopping() => return,
                }
            }
        });
    }
}

/// Publishes one batch; how many events.
async fn round(state: &AppState) -> Result<usize, RelayError> {
    match state.db.backend() {
        Backend::Postgres => {
            let Some(mut tx) = outbox::exclusive(&state.db, LOCK).await? else {
                return Ok(0);
            };
            let published = relay_batch(state, &mut tx).await?;
            tx.commit().await?;
            Ok(published)
        }
        // Read and publish without holding the write lock; this is the
        // only relay on an SQLite database.
        Backend::Sqlite => relay_batch(state, &mut *state.db.writer().acquire().await?).await,
    }
}

/// Reads the oldest unpublished events, publishes them, marks them.
async fn relay_batch(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
) -> Result<usize, RelayError> {
    let now = state.clock.now();
    let batch = outbox::pending(conn, Stage::Published, BATCH).await?;
    publish(state, &batch).await?;
    let ids: Vec<&str> = batch.iter().map(|e| e.id.as_str()).collect();
    outbox::mark(conn, Stage::Published, &ids, now).await?;
    Ok(batch.len())
}

async fn publish(state: &AppState, batch: &[Event]) -> Result<(), RelayError> {
    for event in batch {
        let payload = serde_json::to_vec(event).map_err(|e| RelayError::Bus(e.to_string()))?;
        state
            .bus
            .publish(TOPIC, bytes::Bytes::from(payload))
            .await
            .map_err(|e| RelayError::Bus(e.to_string()))?;
    }
    if !batch.is_empty() {
        metrics::counter!("plaza_events_published_total").increment(batch.len() as u64);
    }
    Ok(())
}
