//! Rooms' use cases, for REST (open, list, look into, invite, close) and
//! for the `/meditation/group` socket (join, leave, and the host's start
//! and end of a group session).

use std::sync::Arc;

use plaza_core::{RoomId, UserId};
use serde_json::json;

use super::access::visible;
use super::fanout;
use super::live::{self, fresh_since};
use super::model::{RoomDetail, RoomView, Round, Visibility};
use super::round::{self, Reason};
use super::store::{self, Member, Participant, Room};
use crate::http::AuthUser;
use crate::meditation::error::{MeditationError, invalid};
use crate::meditation::model::{Session, SessionType};
use crate::realtime::Conn;
use crate::state::AppState;

/// Up to this many people may be invited at once, and at most this many
/// may be in a room.
const MAX_PEOPLE: i64 = 1000;

/// What a new room asks for.
#[derive(Debug, Default)]
pub struct NewRoom {
    pub name: String,
    pub description: Option<String>,
    pub visibility: Option<Visibility>,
    pub kind: Option<SessionType>,
    pub max_participants: Option<i64>,
    pub invite: Vec<UserId>,
}

/// A page of rooms, and how many there are in all.
#[derive(Debug)]
pub struct RoomPage {
    pub items: Vec<RoomView>,
    pub total: i64,
    pub has_more: bool,
}

/// Opens a room; `me` is its host.
#[tracing::instrument(skip(state, me, new))]
pub async fn create(
    state: &AppState,
    me: AuthUser,
    new: NewRoom,
) -> Result<RoomView, MeditationError> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid("name", "1 to 100 characters"));
    }
    if plaza_core::text::has_hidden(name) {
        return Err(invalid(
            "name",
            "must not contain control or invisible characters",
        ));
    }
    let description = new
        .description
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty());
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 1000)
    {
        return Err(invalid("description", "at most 1000 characters"));
    }
    let max = new.max_participants.unwrap_or(100);
    if !(2..=MAX_PEOPLE).contains(&max) {
        return Err(invalid("max_participants", format!("2 to {MAX_PEOPLE}")));
    }
    let room = Room {
        id: RoomId::new(),
        name: name.to_owned(),
        description,
        host_id: me.user_id,
        visibility: new.visibility.unwrap_or_default().as_str().to_owned(),
        kind: new
            .kind
            .unwrap_or(SessionType::Mindfulness)
            .as_str()
            .to_owned(),
        max_participants: max,
        created_at: state.clock.now(),
        round_id: None,
        starts_at: None,
        ends_at: None,
    };
    let mut work = state.work().await?;
    invitees(&mut work, "invite", &new.invite).await?;
    store::insert(&mut work, &room).await?;
    store::invite(&mut work, room.id, &new.invite).await?;
    work.commit().await?;
    Ok(RoomView::new(&room, 0))
}

/// Checks who is invited: at most [`MAX_PEOPLE`], each an existing person.
async fn invitees(
    conn: &mut sqlx::AnyConnection,
    field: &'static str,
    users: &[UserId],
) -> Result<(), MeditationError> {
    if users.len() as i64 > MAX_PEOPLE {
        return Err(invalid(field, format!("at most {MAX_PEOPLE} people")));
    }
    let found = crate::users::service::live(conn, users).await?;
    if let Some(missing) = users.iter().find(|u| !found.contains(u)) {
        return Err(invalid(field, format!("no such user: {missing}")));
    }
    Ok(())
}

/// The rooms I may join: public ones, mine, and those I am invited to;
/// newest first.
#[tracing::instrument(skip(state, me))]
pub async fn list(
    state: &AppState,
    me: AuthUser,
    (limit, offset): (i64, i64),
) -> Result<RoomPage, MeditationError> {
    let mut conn = state.db.reader().acquire().await?;
    let (rooms, total) = store::list(&mut conn, me.user_id, limit, offset).await?;
    let ids: Vec<RoomId> = rooms.iter().map(|r| r.id).collect();
    let counts = store::counts(&mut conn, &ids, fresh_since()).await?;
    let items: Vec<RoomView> = rooms
        .iter()
        .map(|r| RoomView::new(r, counts.get(&r.id).copied().unwrap_or(0)))
        .collect();
    Ok(RoomPage {
        has_more: offset + (items.len() as i64) < total,
        items,
        total,
    })
}

/// A room and who is in it.
#[tracing::instrument(skip(state, me))]
pub async fn get(
    state: &AppState,
    me: AuthUser,
    id: RoomId,
) -> Result<RoomDetail, MeditationError> {
    let mut conn = state.db.reader().acquire().await?;
    let room = visible(&mut conn, id, &me).await?;
    let participants = store::participants(&mut conn, room.id, fresh_since()).await?;
    Ok(RoomDetail {
        room: RoomView::new(&room, participants.len() as i64),
        participants,
    })
}

/// The host invites people; how many were not invited before.
#[tracing::instrument(skip(state, me))]
pub async fn invite(
    state: &AppState,
    me: AuthUser,
    id: RoomId,
    users: &[UserId],
) -> Result<u64, MeditationError> {
    if users.is_empty() {
        return Err(invalid("user_ids", "name at least one person"));
    }
    let mut work = state.work().await?;
    let room = visible(&mut work, id, &me).await?;
    if room.host_id != me.user_id {
        return Err(MeditationError::NotHost("only the room's host invites"));
    }
    invitees(&mut work, "user_ids", users).await?;
    let invited = store::invite(&mut work, room.id, users).await?;
    work.commit().await?;
    Ok(invited)
}

/// The host (or an admin) closes a room: a group session under way ends
/// for everyone, and the people in it are told `room_closed`.
#[tracing::instrument(skip(state, me))]
pub async fn close(state: &AppState, me: AuthUser, id: RoomId) -> Result<(), MeditationError> {
    let room = {
        let mut conn = state.db.writer().acquire().await?;
        visible(&mut conn, id, &me).await?
    };
    if room.host_id != me.user_id && !me.is_admin() {
        return Err(MeditationError::NotHost(
            "only the room's host or an admin closes it",
        ));
    }
    if let Some(current) = room.round_id {
        let now = state.clock.now();
        round::finish(state, room.id, current, now, Reason::Closed).await?;
    }
    let mut conn = state.db.writer().acquire().await?;
    store::delete(&mut conn, room.id).await?;
    let data = json!({"room_id": room.id});
    fanout::publish(state, room.id, "room_closed", data, true).await;
    Ok(())
}

/// One socket of the group socket endpoint: who, and its connection.
#[derive(Clone, Copy)]
pub struct Seat<'a> {
    pub me: &'a AuthUser,
    pub conn: &'a Arc<Conn>,
}

impl Seat<'_> {
    fn member<'s>(&self, state: &'s AppState, room: RoomId) -> Member<'s> {
        Member {
            room,
            node: state.rooms.node(),
            socket: i64::try_from(self.conn.id).unwrap_or(i64::MAX),
            user: self.me.user_id,
        }
    }
}

/// What a join answers: the room, who is in it, the group session under
/// way and my part of it.
#[derive(Debug)]
pub struct Joined {
    pub room: Room,
    pub participants: Vec<Participant>,
    pub mine: Option<Session>,
}

/// Takes a seat in a room (leaving the one it was in): the last place goes
/// once; a group session under way is joined for what is left of it.
/// `answer` is told before the room hears who is in it now.
#[tracing::instrument(skip(state, seat, answer))]
pub async fn join(
    state: &AppState,
    seat: Seat<'_>,
    room_id: &str,
    answer: impl FnOnce(&Joined) + Send,
) -> Result<(), MeditationError> {
    let id: RoomId = room_id.parse().map_err(|_| MeditationError::RoomNotFound)?;
    let room = {
        let mut db = state.db.writer().acquire().await?;
        visible(&mut db, id, seat.me).await?
    };
    let here = state.rooms.room_of(seat.conn);
    if here == Some(room.id) {
        let participants = participants(state, room.id).await?;
        answer(&Joined {
            room,
            participants,
            mine: None,
        });
        return Ok(());
    }
    if here.is_some() {
        leave(state, seat).await?;
    }
    let since = fresh_since();
    let mut work = state.work().await?;
    let now = work.now();
    // Joins of one room take turns, so the last place goes once.
    store::lock(&mut work, room.id).await?;
    store::forget_stale(&mut work, room.id, since).await?;
    let present = store::people(&mut work, room.id, since).await?;
    if present.len() as i64 >= room.max_participants && !present.contains(&seat.me.user_id) {
        return Err(MeditationError::RoomFull {
            max: room.max_participants,
        });
    }
    store::add_member(&mut work, &seat.member(state, room.id), now, live::wall()).await?;
    let mine = round::join(&mut work, &room, seat.me.user_id, now).await?;
    work.commit().await?;
    state.rooms.enter(room.id, seat.conn);
    let joined = Joined {
        participants: participants(state, room.id).await?,
        room,
        mine,
    };
    answer(&joined);
    announce(state, joined.room.id, &joined.participants).await;
    Ok(())
}

/// Takes the socket out of its room, ending my part of a group session if
/// no other socket of mine is there; the room it left, if any.
#[tracing::instrument(skip(state, seat))]
pub async fn leave(state: &AppState, seat: Seat<'_>) -> Result<Option<RoomId>, MeditationError> {
    let Some(room_id) = state.rooms.room_of(seat.conn) else {
        return Ok(None);
    };
    state.rooms.leave(room_id, seat.conn);
    let (still_here, room) = {
        let mut db = state.db.writer().acquire().await?;
        store::remove_member(&mut db, &seat.member(state, room_id)).await?;
        let still = store::is_in(&mut db, room_id, seat.me.user_id, fresh_since()).await?;
        (still, store::find(&mut db, room_id).await?)
    };
    if !still_here && let Some(current) = room.as_ref().and_then(Round::of) {
        round::leave(state, current.round_id, seat.me.user_id).await?;
    }
    if room.is_some() {
        announce(state, room_id, &participants(state, room_id).await?).await;
    }
    Ok(Some(room_id))
}

/// The room the socket is in, as it is now.
async fn room_of(state: &AppState, seat: Seat<'_>) -> Result<Room, MeditationError> {
    let id = state
        .rooms
        .room_of(seat.conn)
        .ok_or(MeditationError::NotInRoom)?;
    let mut conn = state.db.writer().acquire().await?;
    store::find(&mut conn, id)
        .await?
        .ok_or(MeditationError::RoomClosed)
}

/// The host starts a group session of `duration_sec` in the socket's room.
#[tracing::instrument(skip(state, seat))]
pub async fn start_round(
    state: &AppState,
    seat: Seat<'_>,
    duration_sec: i64,
) -> Result<(), MeditationError> {
    let room = room_of(state, seat).await?;
    round::start(state, &room, seat.me.user_id, duration_sec).await
}

/// The host ends the group session under way in the socket's room.
#[tracing::instrument(skip(state, seat))]
pub async fn end_round(state: &AppState, seat: Seat<'_>) -> Result<(), MeditationError> {
    let room = room_of(state, seat).await?;
    if room.host_id != seat.me.user_id {
        return Err(MeditationError::NotHost(
            "only the room's host ends a group session",
        ));
    }
    let Some(current) = Round::of(&room) else {
        return Err(MeditationError::NoRound("no group session is under way"));
    };
    let now = state.clock.now().min(current.ends_at);
    round::finish(state, room.id, current.round_id, now, Reason::Host).await?;
    Ok(())
}

/// Who is in `room` now.
async fn participants(state: &AppState, room: RoomId) -> Result<Vec<Participant>, MeditationError> {
    let mut db = state.db.writer().acquire().await?;
    Ok(store::participants(&mut db, room, fresh_since()).await?)
}

/// Tells everyone in `room`, on every node, who is in it.
async fn announce(state: &AppState, room: RoomId, participants: &[Participant]) {
    let data = json!({"room_id": room, "count": participants.len(), "participants": participants});
    fanout::publish(state, room, "participants", data, false).await;
}
