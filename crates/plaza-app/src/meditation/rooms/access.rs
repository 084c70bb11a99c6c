//! Who may see a room: its members and anyone it is public to; admins see
//! every room. The one rule every room use case starts from.

use plaza_core::RoomId;

use super::store::{self, Room};
use crate::http::AuthUser;
use crate::meditation::error::MeditationError;

/// A room I may see (admins see every room), or `RoomNotFound`.
pub(super) async fn visible(
    conn: &mut sqlx::AnyConnection,
    id: RoomId,
    me: &AuthUser,
) -> Result<Room, MeditationError> {
    let room = if me.is_admin() {
        store::find(conn, id).await?
    } else {
        store::visible(conn, id, me.user_id).await?
    };
    room.ok_or(MeditationError::RoomNotFound)
}
