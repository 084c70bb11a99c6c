//! Domain events: each is written to the outbox in the transaction that
//! makes the change, so it exists if and only if the change committed; the
//! relay then publishes it on the bus topic [`TOPIC`], at least once, in id
//! order, and the exporter hands it to a broker when one is configured.
//! Consumers are idempotent by event id.

mod export;
mod prune;
mod relay;
mod store;

use plaza_core::{EventId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::AnyConnection;

pub use export::ExportHealth;
pub use prune::PruneEvents;
pub use relay::{Relay, spawn};
pub use store::{Backlog, backlog};

/// The bus topic every published event goes to, as its JSON.
pub const TOPIC: &str = "events";

/// A domain event: `{id, type, occurred_at, actor_id, subject, data}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// UUIDv7, so ids sort by creation time.
    pub id: EventId,
    /// Dotted, past tense: `user.registered`, `chat.message.created`.
    #[serde(rename = "type")]
    pub kind: String,
    pub occurred_at: Timestamp,
    pub actor_id: Option<UserId>,
    /// What it is about, e.g. `chat:<id>`.
    pub subject: String,
    pub data: Value,
}

impl Event {
    pub fn new(
        kind: &str,
        subject: impl Into<String>,
        actor_id: Option<UserId>,
        data: Value,
        at: Timestamp,
    ) -> Self {
        Self {
            id: EventId::new(),
            kind: kind.to_owned(),
            occurred_at: at,
            actor_id,
            subject: subject.into(),
            data,
        }
    }
}

/// Writes `event` in the caller's transaction. Use cases record through
/// [`crate::work::Work::record`], which wakes the relay once they commit;
/// otherwise the relay finds it on its next poll.
pub async fn record(conn: &mut AnyConnection, event: &Event) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox (id, type, occurred_at, actor_id, subject, data) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(event.id)
    .bind(&event.kind)
    .bind(event.occurred_at)
    .bind(event.actor_id)
    .bind(&event.subject)
    .bind(event.data.to_string())
    .execute(conn)
    .await?;
    Ok(())
}
