//! Group meditation (seed 000): rooms with a host, public or invite-only,
//! listed and created over REST; people gather in one over the socket
//! `/meditation/group`, the host starts a group session that everyone
//! begins in step, and each participant's part is recorded as a session.
//! See docs/meditation.md.

mod access;
mod fanout;
pub(super) mod handlers;
pub mod live;
pub mod model;
pub mod round;
pub mod service;
pub mod socket;
mod store;

pub use live::Rooms;
pub use model::Round;
pub use round::EndRound;
pub use store::Participant;
