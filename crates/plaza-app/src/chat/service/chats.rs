//! Chats themselves: making one (a direct chat is found, not made twice),
//! my chats with their last message and unread count, and one chat.

use plaza_core::{ChatId, UserId};
use plaza_platform::Work;
use plaza_platform::db::unique_violation;
use serde::Serialize;
use utoipa::ToSchema;

use super::membership;
use crate::chat::error::{ChatError, invalid};
use crate::chat::model::{Chat, ChatKind, MemberRole, Message, Visibility};
use crate::chat::{events, message_store, store};
use crate::state::AppState;
use crate::users;

/// What a new chat asks for.
#[derive(Debug, Clone)]
pub struct NewChat {
    pub kind: ChatKind,
    pub name: Option<String>,
    pub member_ids: Vec<UserId>,
    pub visibility: Option<Visibility>,
    pub group_id: Option<ChatId>,
}

/// One of my chats, as the list shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatSummary {
    #[serde(flatten)]
    pub chat: Chat,
    pub role: MemberRole,
    pub unread_count: i64,
    pub last_read_seq: i64,
    pub last_message: Option<Message>,
}

/// One chat, with my role and its size.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatDetail {
    #[serde(flatten)]
    pub chat: Chat,
    pub role: MemberRole,
    pub member_count: i64,
    pub last_read_seq: i64,
}

/// The chat, and whether it was made now (a direct chat with the same
/// person is found, not made twice).
#[tracing::instrument(skip(state, me, new), fields(kind = ?new.kind))]
pub async fn create_chat(
    state: &AppState,
    me: UserId,
    new: NewChat,
) -> Result<(Chat, bool), ChatError> {
    let mut others = others(me, &new.member_ids);
    let name = clean_name(new.name.as_deref())?;
    let mut work = state.work().await?;
    all_live(&mut work, &others).await?;
    let direct_key = match new.kind {
        ChatKind::Direct => {
            let key = direct_key(me, &others)?;
            if let Some(id) = store::find_direct(&mut work, &key).await? {
                return Ok((found(&mut work, id).await?, false));
            }
            Some(key)
        }
        ChatKind::Group if name.is_none() => return Err(invalid("name", "a group needs a name")),
        ChatKind::Group => None,
        ChatKind::Channel => {
            let group = may_make_channel(&mut work, me, new.group_id).await?;
            if name.is_none() {
                return Err(invalid("name", "a channel needs a name"));
            }
            all_in_group(&mut work, group, &others).await?;
            None
        }
    };
    let chat = Chat {
        id: ChatId::new(),
        kind: new.kind,
        name,
        visibility: new.visibility.unwrap_or(Visibility::Private),
        group_id: new.group_id.filter(|_| new.kind == ChatKind::Channel),
        created_by: Some(me),
        last_seq: 0,
        last_message_at: None,
        created_at: work.now(),
    };
    if let Err(e) = store::insert_chat(&mut work, &chat, direct_key.as_deref()).await {
        // Two people opening the same direct chat at once: the other won.
        if unique_violation(&e).is_some()
            && let Some(key) = &direct_key
        {
            drop(work);
            let mut conn = state.db.writer().acquire().await?;
            let id = store::find_direct(&mut conn, key)
                .await?
                .ok_or(ChatError::NotFound)?;
            return Ok((found(&mut conn, id).await?, false));
        }
        return Err(e.into());
    }
    add_founders(&mut work, &chat, me, &others).await?;
    others.push(me);
    events::membership(&mut work, &[chat.id], &others, true);
    work.commit().await?;
    Ok((chat, true))
}

/// The other members named, each once, in order.
fn others(me: UserId, named: &[UserId]) -> Vec<UserId> {
    let mut others: Vec<UserId> = named.iter().copied().filter(|u| *u != me).collect();
    others.sort();
    others.dedup();
    others
}

fn clean_name(name: Option<&str>) -> Result<Option<String>, ChatError> {
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    if name.is_some_and(|n| n.chars().count() > 100) {
        return Err(invalid("name", "at most 100 characters"));
    }
    if name.is_some_and(plaza_core::text::has_hidden) {
        return Err(invalid(
            "name",
            "must not contain control or invisible characters",
        ));
    }
    Ok(name.map(str::to_owned))
}

async fn all_live(conn: &mut sqlx::AnyConnection, users: &[UserId]) -> Result<(), ChatError> {
    let found = users::service::live(conn, users).await?;
    if found.len() == users.len() {
        return Ok(());
    }
    let missing: Vec<String> = users
        .iter()
        .filter(|u| !found.contains(u))
        .map(ToString::to_string)
        .collect();
    Err(invalid(
        "member_ids",
        format!("no such users: {}", missing.join(", ")),
    ))
}

/// The key that makes a direct chat between two people one chat.
fn direct_key(me: UserId, others: &[UserId]) -> Result<String, ChatError> {
    let [other] = others else {
        return Err(invalid(
            "member_ids",
            "a direct chat is with exactly one other person",
        ));
    };
    let (a, b) = if me < *other {
        (me, *other)
    } else {
        (*other, me)
    };
    Ok(format!("{a}:{b}"))
}

/// A channel belongs to a group whose owners and admins make it; the group.
async fn may_make_channel(
    conn: &mut sqlx::AnyConnection,
    me: UserId,
    group: Option<ChatId>,
) -> Result<ChatId, ChatError> {
    let group = group.ok_or_else(|| invalid("group_id", "a channel belongs to a group"))?;
    let is_group = store::find_chat(conn, group)
        .await?
        .is_some_and(|c| c.kind == ChatKind::Group);
    let role = if is_group {
        store::member_role(conn, group, me).await?
    } else {
        None
    };
    match role {
        None => Err(invalid("group_id", "no such group")),
        Some(r) if r.rank() < MemberRole::Admin.rank() => Err(ChatError::Forbidden(
            "only a group's owners and admins make channels",
        )),
        Some(_) => Ok(group),
    }
}

/// A channel's members come from its group.
async fn all_in_group(
    conn: &mut sqlx::AnyConnection,
    group: ChatId,
    others: &[UserId],
) -> Result<(), ChatError> {
    for other in others {
        if store::member_role(conn, group, *other).await?.is_none() {
            return Err(invalid(
                "member_ids",
                format!("{other} is not in the group"),
            ));
        }
    }
    Ok(())
}

async fn add_founders(
    work: &mut Work<'_>,
    chat: &Chat,
    me: UserId,
    others: &[UserId],
) -> Result<(), sqlx::Error> {
    let now = chat.created_at;
    let my_role = if chat.kind == ChatKind::Direct {
        MemberRole::Member
    } else {
        MemberRole::Owner
    };
    store::add_member(work, chat.id, me, my_role, now).await?;
    for other in others {
        store::add_member(work, chat.id, *other, MemberRole::Member, now).await?;
    }
    Ok(())
}

async fn found(conn: &mut sqlx::AnyConnection, id: ChatId) -> Result<Chat, ChatError> {
    store::find_chat(conn, id).await?.ok_or(ChatError::NotFound)
}

/// My chats, newest activity first, with the last message and unread
/// count; whether more follow.
#[tracing::instrument(skip(state, me))]
pub async fn list_chats(
    state: &AppState,
    me: UserId,
    (limit, offset): (i64, i64),
) -> Result<(Vec<ChatSummary>, bool), ChatError> {
    let mut conn = state.db.fresh().acquire().await?;
    let mut rows = store::my_chats(&mut conn, me, limit + 1, offset).await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let newest: Vec<(ChatId, i64)> = rows.iter().map(|r| (r.chat.id, r.chat.last_seq)).collect();
    let mut last = message_store::last_messages(&mut conn, &newest).await?;
    let items = rows
        .into_iter()
        .map(|row| ChatSummary {
            last_message: last.remove(&row.chat.id),
            chat: row.chat,
            role: row.role,
            unread_count: row.unread,
            last_read_seq: row.last_read_seq,
        })
        .collect();
    Ok((items, has_more))
}

/// One of my chats.
#[tracing::instrument(skip(state, me))]
pub async fn get_chat(state: &AppState, me: UserId, id: ChatId) -> Result<ChatDetail, ChatError> {
    let mut conn = state.db.fresh().acquire().await?;
    let (chat, role) = membership(&mut conn, id, me).await?;
    let members = store::members(&mut conn, id).await?;
    let last_read_seq = members
        .iter()
        .find(|m| m.user_id == me)
        .map_or(0, |m| m.last_read_seq);
    Ok(ChatDetail {
        chat,
        role,
        member_count: members.len() as i64,
        last_read_seq,
    })
}
