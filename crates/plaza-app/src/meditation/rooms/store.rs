//! The group meditation tables' SQL: rooms, invitations, who is in a room
//! (one row per socket, kept fresh by its node), and the group session a
//! room has under way.

use std::collections::HashMap;

use plaza_core::{RoomId, RoundId, Timestamp, UserId};
use plaza_platform::db::placeholders;
use serde::Serialize;
use sqlx::AnyConnection;
use utoipa::ToSchema;

/// The columns [`Room`] reads.
macro_rules! room_columns {
    () => {
        "id, name, description, host_id, visibility, type, max_participants, created_at, \
         round_id, starts_at, ends_at"
    };
}

/// Rooms `$1` may see: public ones, their own, and those they are invited to.
macro_rules! visible_to {
    () => {
        "(visibility = 'public' OR host_id = $1 OR id IN \
         (SELECT room_id FROM meditation_room_invites WHERE user_id = $1))"
    };
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Room {
    pub id: RoomId,
    pub name: String,
    pub description: Option<String>,
    pub host_id: UserId,
    pub visibility: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub max_participants: i64,
    pub created_at: Timestamp,
    pub round_id: Option<RoundId>,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
}

/// Someone in a room.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Participant {
    #[schema(value_type = String)]
    pub user_id: UserId,
    pub username: String,
    pub display_name: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: Timestamp,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(conn: &mut AnyConnection, room: &Room) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO meditation_rooms (id, name, description, host_id, visibility, type, \
         max_participants, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(room.id)
    .bind(&room.name)
    .bind(&room.description)
    .bind(room.host_id)
    .bind(&room.visibility)
    .bind(&room.kind)
    .bind(room.max_participants)
    .bind(room.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find(conn: &mut AnyConnection, id: RoomId) -> Result<Option<Room>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        room_columns!(),
        " FROM meditation_rooms WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The room if `user` may see it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn visible(
    conn: &mut AnyConnection,
    id: RoomId,
    user: UserId,
) -> Result<Option<Room>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        room_columns!(),
        " FROM meditation_rooms WHERE id = $2 AND ",
        visible_to!()
    ))
    .bind(user)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// A page of the rooms `user` may see, newest first, and how many in all.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(
    conn: &mut AnyConnection,
    user: UserId,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Room>, i64), sqlx::Error> {
    let rooms = sqlx::query_as(concat!(
        "SELECT ",
        room_columns!(),
        " FROM meditation_rooms WHERE ",
        visible_to!(),
        " ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    ))
    .bind(user)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar(concat!(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM meditation_rooms WHERE ",
        visible_to!()
    ))
    .bind(user)
    .fetch_one(conn)
    .await?;
    Ok((rooms, total))
}

/// Invites `users`; how many were not invited before.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn invite(
    conn: &mut AnyConnection,
    room: RoomId,
    users: &[UserId],
) -> Result<u64, sqlx::Error> {
    let mut added = 0;
    for user in users {
        added += sqlx::query(
            "INSERT INTO meditation_room_invites (room_id, user_id) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(room)
        .bind(*user)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    Ok(added)
}

/// Holds the room's row until the transaction ends (a no-op update: a row
/// lock on PostgreSQL, the write lock on SQLite).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock(conn: &mut AnyConnection, id: RoomId) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE meditation_rooms SET max_participants = max_participants WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete(conn: &mut AnyConnection, id: RoomId) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM meditation_rooms WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// How many people are in each of `rooms` (sockets seen since `since`).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn counts(
    conn: &mut AnyConnection,
    rooms: &[RoomId],
    since: Timestamp,
) -> Result<HashMap<RoomId, i64>, sqlx::Error> {
    if rooms.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT room_id, CAST(COUNT(DISTINCT user_id) AS BIGINT) FROM meditation_room_members \
         WHERE seen_at >= $1 AND room_id IN ({}) GROUP BY room_id",
        placeholders(2, rooms.len())
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(since);
    for room in rooms {
        query = query.bind(room);
    }
    let rows: Vec<(RoomId, i64)> = query.fetch_all(conn).await?;
    Ok(rows.into_iter().collect())
}

/// Who is in `room`, in the order they came.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn participants(
    conn: &mut AnyConnection,
    room: RoomId,
    since: Timestamp,
) -> Result<Vec<Participant>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.user_id, u.username, u.display_name, MIN(m.joined_at) AS joined_at \
         FROM meditation_room_members m JOIN users u ON u.id = m.user_id \
         WHERE m.room_id = $1 AND m.seen_at >= $2 \
         GROUP BY m.user_id, u.username, u.display_name ORDER BY 4, 1",
    )
    .bind(room)
    .bind(since)
    .fetch_all(conn)
    .await
}

/// The people in `room`, once each.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn people(
    conn: &mut AnyConnection,
    room: RoomId,
    since: Timestamp,
) -> Result<Vec<UserId>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT user_id FROM meditation_room_members \
         WHERE room_id = $1 AND seen_at >= $2",
    )
    .bind(room)
    .bind(since)
    .fetch_all(conn)
    .await
}

/// Whether `user` has a socket in `room`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn is_in(
    conn: &mut AnyConnection,
    room: RoomId,
    user: UserId,
    since: Timestamp,
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM meditation_room_members WHERE room_id = $1 AND user_id = $2 \
         AND seen_at >= $3 LIMIT 1",
    )
    .bind(room)
    .bind(user)
    .bind(since)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// One socket, named `node`/`socket`, entering a room.
pub struct Member<'a> {
    pub room: RoomId,
    pub node: &'a str,
    pub socket: i64,
    pub user: UserId,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn add_member(
    conn: &mut AnyConnection,
    m: &Member<'_>,
    joined_at: Timestamp,
    seen_at: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO meditation_room_members (room_id, node, conn, user_id, joined_at, seen_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(m.room)
    .bind(m.node)
    .bind(m.socket)
    .bind(m.user)
    .bind(joined_at)
    .bind(seen_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn remove_member(conn: &mut AnyConnection, m: &Member<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM meditation_room_members WHERE room_id = $1 AND node = $2 AND conn = $3",
    )
    .bind(m.room)
    .bind(m.node)
    .bind(m.socket)
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets the sockets of `room` not seen since `since` (their node died).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn forget_stale(
    conn: &mut AnyConnection,
    room: RoomId,
    since: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM meditation_room_members WHERE room_id = $1 AND seen_at < $2")
        .bind(room)
        .bind(since)
        .execute(conn)
        .await?;
    Ok(())
}

/// The node's heartbeat: its sockets are still there.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn touch(
    conn: &mut AnyConnection,
    node: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE meditation_room_members SET seen_at = $2 WHERE node = $1")
        .bind(node)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks a group session under way; false if one already is.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn begin_round(
    conn: &mut AnyConnection,
    room: RoomId,
    round: RoundId,
    starts_at: Timestamp,
    ends_at: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE meditation_rooms SET round_id = $2, starts_at = $3, ends_at = $4 \
         WHERE id = $1 AND round_id IS NULL",
    )
    .bind(room)
    .bind(round)
    .bind(starts_at)
    .bind(ends_at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the group session `round` over; false if it was not under way.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn end_round(
    conn: &mut AnyConnection,
    room: RoomId,
    round: RoundId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE meditation_rooms SET round_id = NULL, starts_at = NULL, ends_at = NULL \
         WHERE id = $1 AND round_id = $2",
    )
    .bind(room)
    .bind(round)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
