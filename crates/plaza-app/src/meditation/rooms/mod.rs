//! Group meditation (seed 000): rooms with a host, public or invite-only,
//! listed and created over REST; people gather in one over the socket
//! `/meditation/group`, the host starts a group session that everyone
//! begins in step, and each participant's part is recorded as a session.
//! See docs/meditation.md.

mod live;
pub mod round;
pub mod socket;
mod store;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use plaza_core::{Timestamp, UserId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

pub use live::Rooms;
pub use round::EndRound;
pub use store::Participant;

use self::live::fresh_since;
use self::round::Round;
use super::handlers::SessionType;
use crate::http::AuthUser;
use crate::http::{ApiError, ErrorBody, ValidJson, ValidQuery, page_limit};
use crate::state::AppState;

/// Who may find and join a room.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Listed to everyone; anyone may join.
    #[default]
    Public,
    /// Seen and joined only by the host and the people invited.
    InviteOnly,
}

impl Visibility {
    fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::InviteOnly => "invite_only",
        }
    }

    fn parse(stored: &str) -> Self {
        if stored == Self::InviteOnly.as_str() {
            Self::InviteOnly
        } else {
            Self::Public
        }
    }
}

/// A group meditation room.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    #[schema(value_type = String)]
    pub host_id: UserId,
    pub visibility: Visibility,
    /// The kind of session its group sessions record.
    #[serde(rename = "type")]
    pub kind: SessionType,
    pub max_participants: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// People in the room now.
    pub participants: i64,
    /// The group session under way, if any.
    pub session: Option<Round>,
}

impl RoomView {
    fn new(room: &store::Room, participants: i64) -> Self {
        Self {
            id: room.id.clone(),
            name: room.name.clone(),
            description: room.description.clone(),
            host_id: room.host_id,
            visibility: Visibility::parse(&room.visibility),
            kind: SessionType::parse(&room.kind).unwrap_or(SessionType::Mindfulness),
            max_participants: room.max_participants,
            created_at: room.created_at,
            participants,
            session: Round::of(room),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoomBody {
    pub room: RoomView,
}

/// A room with the people in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomDetail {
    pub room: RoomView,
    pub participants: Vec<Participant>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoomPage {
    pub items: Vec<RoomView>,
    pub total: i64,
    pub has_more: bool,
}

/// Up to this many people may be invited at once, and at most this many
/// may be in a room.
const MAX_PEOPLE: i64 = 1000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoomRequest {
    /// 1–100 characters.
    pub name: String,
    /// At most 1000 characters.
    pub description: Option<String>,
    /// Default `public`.
    pub visibility: Option<Visibility>,
    /// Default `mindfulness`.
    #[serde(rename = "type")]
    pub kind: Option<SessionType>,
    /// 2–1000, default 100.
    pub max_participants: Option<i64>,
    /// People to invite (for invite-only rooms).
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub invite: Vec<UserId>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    #[schema(value_type = Vec<String>)]
    pub user_ids: Vec<UserId>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Invited {
    /// How many of the people named were not invited before.
    pub invited: u64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RoomsQuery {
    /// 1–100, default 20.
    limit: Option<u32>,
    /// Default 0.
    offset: Option<u32>,
}

/// Checks who is invited: at most [`MAX_PEOPLE`], each an existing person.
async fn invitees(
    conn: &mut sqlx::AnyConnection,
    field: &str,
    users: &[UserId],
) -> Result<(), ApiError> {
    if users.len() as i64 > MAX_PEOPLE {
        return Err(ApiError::invalid_field(
            field,
            format!("at most {MAX_PEOPLE} people"),
        ));
    }
    let found = crate::users::service::live(conn, users).await?;
    if let Some(missing) = users.iter().find(|u| !found.contains(u)) {
        return Err(ApiError::invalid_field(
            field,
            format!("no such user: {missing}"),
        ));
    }
    Ok(())
}

/// `POST /api/meditation/rooms` — open a room; I am its host.
#[utoipa::path(post, path = "/api/meditation/rooms", tag = "meditation", security(("bearer" = [])),
    request_body = CreateRoomRequest,
    responses((status = 201, body = RoomBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    me: AuthUser,
    ValidJson(req): ValidJson<CreateRoomRequest>,
) -> Result<(StatusCode, Json<RoomBody>), ApiError> {
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid_field("name", "1 to 100 characters"));
    }
    let description = req
        .description
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty());
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 1000)
    {
        return Err(ApiError::invalid_field(
            "description",
            "at most 1000 characters",
        ));
    }
    let max = req.max_participants.unwrap_or(100);
    if !(2..=MAX_PEOPLE).contains(&max) {
        return Err(ApiError::invalid_field(
            "max_participants",
            format!("2 to {MAX_PEOPLE}"),
        ));
    }
    let room = store::Room {
        id: uuid::Uuid::now_v7().to_string(),
        name: name.to_owned(),
        description,
        host_id: me.user_id,
        visibility: req.visibility.unwrap_or_default().as_str().to_owned(),
        kind: req
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
    let mut tx = state.db.begin().await?;
    invitees(&mut tx, "invite", &req.invite).await?;
    store::insert(&mut tx, &room).await?;
    store::invite(&mut tx, &room.id, &req.invite).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(RoomBody {
            room: RoomView::new(&room, 0),
        }),
    ))
}

/// `GET /api/meditation/rooms?limit&offset` — the rooms I may join: public
/// ones, mine, and those I am invited to; newest first.
#[utoipa::path(get, path = "/api/meditation/rooms", tag = "meditation", security(("bearer" = [])),
    params(RoomsQuery),
    responses((status = 200, body = RoomPage), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    me: AuthUser,
    ValidQuery(query): ValidQuery<RoomsQuery>,
) -> Result<Json<RoomPage>, ApiError> {
    let limit = page_limit(query.limit, 20)?;
    let offset = i64::from(query.offset.unwrap_or(0));
    let mut conn = state.db.reader().acquire().await?;
    let (rooms, total) = store::list(&mut conn, me.user_id, limit, offset).await?;
    let ids: Vec<String> = rooms.iter().map(|r| r.id.clone()).collect();
    let counts = store::counts(&mut conn, &ids, fresh_since()).await?;
    let items: Vec<RoomView> = rooms
        .iter()
        .map(|r| RoomView::new(r, counts.get(&r.id).copied().unwrap_or(0)))
        .collect();
    Ok(Json(RoomPage {
        has_more: offset + (items.len() as i64) < total,
        items,
        total,
    }))
}

/// A room I may see (admins see every room), or 404.
async fn visible(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    me: &AuthUser,
) -> Result<store::Room, ApiError> {
    let room = if me.is_admin() {
        store::find(conn, id).await?
    } else {
        store::visible(conn, id, me.user_id).await?
    };
    room.ok_or_else(|| ApiError::not_found("no such room"))
}

/// `GET /api/meditation/rooms/{id}` — a room and who is in it.
#[utoipa::path(get, path = "/api/meditation/rooms/{id}", tag = "meditation", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = RoomDetail), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<RoomDetail>, ApiError> {
    let mut conn = state.db.reader().acquire().await?;
    let room = visible(&mut conn, &id, &me).await?;
    let participants = store::participants(&mut conn, &room.id, fresh_since()).await?;
    Ok(Json(RoomDetail {
        room: RoomView::new(&room, participants.len() as i64),
        participants,
    }))
}

/// `POST /api/meditation/rooms/{id}/invites` — the host invites people.
#[utoipa::path(post, path = "/api/meditation/rooms/{id}/invites", tag = "meditation", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = InviteRequest,
    responses((status = 200, body = Invited),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn invite(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
    ValidJson(req): ValidJson<InviteRequest>,
) -> Result<Json<Invited>, ApiError> {
    if req.user_ids.is_empty() {
        return Err(ApiError::invalid_field(
            "user_ids",
            "name at least one person",
        ));
    }
    let mut tx = state.db.begin().await?;
    let room = visible(&mut tx, &id, &me).await?;
    if room.host_id != me.user_id {
        return Err(ApiError::forbidden("only the room's host invites"));
    }
    invitees(&mut tx, "user_ids", &req.user_ids).await?;
    let invited = store::invite(&mut tx, &room.id, &req.user_ids).await?;
    tx.commit().await?;
    Ok(Json(Invited { invited }))
}

/// `DELETE /api/meditation/rooms/{id}` — the host (or an admin) closes a
/// room: a group session under way ends for everyone, and the people in it
/// are told `room_closed`.
#[utoipa::path(delete, path = "/api/meditation/rooms/{id}", tag = "meditation", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn close(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let mut conn = state.db.writer().acquire().await?;
    let room = visible(&mut conn, &id, &me).await?;
    if room.host_id != me.user_id && !me.is_admin() {
        return Err(ApiError::forbidden(
            "only the room's host or an admin closes it",
        ));
    }
    drop(conn);
    if let Some(current) = &room.round_id {
        let now = state.clock.now();
        round::finish(&state, &room.id, current, now, round::Reason::Closed).await?;
    }
    let mut conn = state.db.writer().acquire().await?;
    store::delete(&mut conn, &room.id).await?;
    live::publish(
        &state,
        &room.id,
        "room_closed",
        json!({"room_id": room.id}),
        true,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
