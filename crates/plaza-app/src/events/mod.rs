//! Domain events (issue 5): each is written to the outbox in the
//! transaction that makes the change, so it exists if and only if the change
//! committed; the relay then publishes it on the bus topic [`TOPIC`], at
//! least once, in id order. Consumers are idempotent by event id.

mod export;
mod outbox;
mod prune;
mod relay;

pub use outbox::{Event, record};
pub use prune::PruneEvents;
pub use relay::Relay;

/// Tells the relay and the job workers (of every node) that a transaction
/// holding events or jobs just committed.
pub async fn committed(state: &crate::state::AppState) {
    state.relay.wake();
    crate::jobs::added(state).await;
}

/// The bus topic every published event goes to, as its JSON.
pub const TOPIC: &str = "events";
