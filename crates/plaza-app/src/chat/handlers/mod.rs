//! Chat's REST transport: seed 001's `/api/chats` surface and seed 002's
//! `/api/v1/messages` paths over the same service functions.

pub(super) mod chats;
pub(super) mod members;
pub(super) mod messages;
pub(super) mod v1;
