//! Membership: listing, adding, removing, changing roles, leaving (the last
//! owner's leaving passes ownership on), and joining public channels.
//!
//! Rules: owners and admins add and remove members and change roles, never
//! granting a role above their own and never acting on someone of their own
//! rank or higher (owners excepted); direct chats have fixed members.

use plaza_core::{ChatId, UserId};

use super::membership;
use crate::chat::error::{ChatError, invalid};
use crate::chat::events;
use crate::chat::model::{Chat, ChatKind, MemberRole, Visibility};
use crate::chat::store;
pub use crate::chat::store::Member;
use crate::state::AppState;

fn may_manage(actor: MemberRole, target: MemberRole) -> bool {
    actor == MemberRole::Owner
        || (actor.rank() >= MemberRole::Admin.rank() && actor.rank() > target.rank())
}

/// The members of a chat I am in.
#[tracing::instrument(skip(state))]
pub async fn list_members(
    state: &AppState,
    me: UserId,
    chat: ChatId,
) -> Result<Vec<Member>, ChatError> {
    let mut conn = state.db.fresh().acquire().await?;
    membership(&mut conn, chat, me).await?;
    Ok(store::members(&mut conn, chat).await?)
}

/// The members of each of `chats` that `me` is in, in one query (chats I
/// am not in are absent, as `list_members` would refuse them).
#[tracing::instrument(skip(state, chats), fields(n = chats.len()))]
pub async fn members_of(
    state: &AppState,
    me: UserId,
    chats: &[ChatId],
) -> Result<std::collections::HashMap<ChatId, Vec<Member>>, ChatError> {
    let mut conn = state.db.fresh().acquire().await?;
    let mut by_chat: std::collections::HashMap<ChatId, Vec<Member>> = Default::default();
    for row in store::members_of(&mut conn, me, chats).await? {
        by_chat.entry(row.chat_id).or_default().push(row.member);
    }
    Ok(by_chat)
}

/// Owners and admins add 1–100 people, with a role no higher than their own.
#[tracing::instrument(skip(state))]
pub async fn add_members(
    state: &AppState,
    me: UserId,
    chat: ChatId,
    users: &[UserId],
    role: MemberRole,
) -> Result<Vec<Member>, ChatError> {
    if users.is_empty() || users.len() > 100 {
        return Err(invalid("user_ids", "give 1 to 100 users"));
    }
    let now = state.clock.now();
    let mut tx = state.work().await?;
    let (found, my_role) = membership(&mut tx, chat, me).await?;
    if found.kind == ChatKind::Direct {
        return Err(ChatError::Forbidden("a direct chat's members are fixed"));
    }
    if my_role.rank() < MemberRole::Admin.rank() {
        return Err(ChatError::Forbidden("only owners and admins add members"));
    }
    if role.rank() > my_role.rank() {
        return Err(invalid("role", "you cannot grant a role above your own"));
    }
    let live = crate::users::service::live(&mut tx, users).await?;
    for user in users {
        if !live.contains(user) {
            return Err(invalid("user_ids", format!("no such user: {user}")));
        }
        if let Some(group) = found.group_id
            && store::member_role(&mut tx, group, *user).await?.is_none()
        {
            return Err(invalid("user_ids", format!("{user} is not in the group")));
        }
        if store::member_role(&mut tx, chat, *user).await?.is_none() {
            store::add_member(&mut tx, chat, *user, role, now).await?;
        }
    }
    let members = store::members(&mut tx, chat).await?;
    events::membership(&mut tx, &[chat], users, true);
    tx.commit().await?;
    Ok(members)
}

#[tracing::instrument(skip(state))]
pub async fn change_role(
    state: &AppState,
    me: UserId,
    chat: ChatId,
    user: UserId,
    role: MemberRole,
) -> Result<(), ChatError> {
    let mut tx = state.db.begin().await?;
    let (found, my_role) = membership(&mut tx, chat, me).await?;
    if found.kind == ChatKind::Direct {
        return Err(ChatError::Forbidden("a direct chat has no roles"));
    }
    let target = store::member_role(&mut tx, chat, user)
        .await?
        .ok_or_else(|| ChatError::MemberNotFound)?;
    if user == me || !may_manage(my_role, target) {
        return Err(ChatError::Forbidden(
            "you may not change this member's role",
        ));
    }
    if role.rank() > my_role.rank() {
        return Err(invalid("role", "you cannot grant a role above your own"));
    }
    store::set_role(&mut tx, chat, user, role).await?;
    tx.commit().await?;
    Ok(())
}

#[tracing::instrument(skip(state))]
pub async fn remove(
    state: &AppState,
    me: UserId,
    chat: ChatId,
    user: UserId,
) -> Result<(), ChatError> {
    if user == me {
        return leave(state, me, chat).await;
    }
    let mut tx = state.work().await?;
    let (found, my_role) = membership(&mut tx, chat, me).await?;
    if found.kind == ChatKind::Direct {
        return Err(ChatError::Forbidden("a direct chat's members are fixed"));
    }
    let target = store::member_role(&mut tx, chat, user)
        .await?
        .ok_or_else(|| ChatError::MemberNotFound)?;
    if !may_manage(my_role, target) {
        return Err(ChatError::Forbidden("you may not remove this member"));
    }
    store::remove_member(&mut tx, chat, user).await?;
    let left = with_channels(&mut tx, chat).await?;
    events::membership(&mut tx, &left, &[user], false);
    tx.commit().await?;
    Ok(())
}

/// Leaves `chat`. When the last owner leaves, the longest-standing admin
/// (or else member) becomes owner.
#[tracing::instrument(skip(state))]
pub async fn leave(state: &AppState, me: UserId, chat: ChatId) -> Result<(), ChatError> {
    let mut tx = state.work().await?;
    let (_, my_role) = membership(&mut tx, chat, me).await?;
    store::remove_member(&mut tx, chat, me).await?;
    let left = with_channels(&mut tx, chat).await?;
    if my_role == MemberRole::Owner {
        let rest = store::members(&mut tx, chat).await?;
        if !rest.is_empty() && !rest.iter().any(|m| m.role == MemberRole::Owner) {
            let heir = rest
                .iter()
                .max_by_key(|m| (m.role.rank(), std::cmp::Reverse(m.joined_at)))
                .map(|m| m.user_id);
            if let Some(heir) = heir {
                store::set_role(&mut tx, chat, heir, MemberRole::Owner).await?;
            }
        }
    }
    events::membership(&mut tx, &left, &[me], false);
    tx.commit().await?;
    Ok(())
}

/// Joins a public channel of a group the caller is in.
#[tracing::instrument(skip(state))]
pub async fn join(state: &AppState, me: UserId, chat: ChatId) -> Result<(), ChatError> {
    let now = state.clock.now();
    let mut tx = state.work().await?;
    match membership(&mut tx, chat, me).await {
        Ok(_) => return Ok(()),
        Err(ChatError::NotJoined) => {}
        Err(e) => return Err(e),
    }
    let found = store::find_chat(&mut tx, chat)
        .await?
        .ok_or(ChatError::NotFound)?;
    if found.kind != ChatKind::Channel || found.visibility != Visibility::Public {
        return Err(ChatError::NotFound);
    }
    store::add_member(&mut tx, chat, me, MemberRole::Member, now).await?;
    events::membership(&mut tx, &[chat], &[me], true);
    tx.commit().await?;
    Ok(())
}

/// `chat` and its channels: leaving a group leaves them too.
async fn with_channels(
    conn: &mut sqlx::AnyConnection,
    chat: ChatId,
) -> Result<Vec<ChatId>, sqlx::Error> {
    let mut all = store::channel_ids(conn, chat).await?;
    all.push(chat);
    Ok(all)
}

/// A group's channels I may see.
#[tracing::instrument(skip(state))]
pub async fn channels(state: &AppState, me: UserId, group: ChatId) -> Result<Vec<Chat>, ChatError> {
    let mut conn = state.db.fresh().acquire().await?;
    let (found, _) = membership(&mut conn, group, me).await?;
    if found.kind != ChatKind::Group {
        return Err(invalid("id", "only groups have channels"));
    }
    Ok(store::channels(&mut conn, group, me).await?)
}

/// Mutes `user` for `minutes` (0 lifts it): moderators and above, over
/// members of lower rank.
#[tracing::instrument(skip(state))]
pub async fn mute(
    state: &AppState,
    me: UserId,
    chat: ChatId,
    user: UserId,
    minutes: u32,
) -> Result<(), ChatError> {
    if minutes > 60 * 24 * 30 {
        return Err(invalid("minutes", "at most 30 days (43200 minutes)"));
    }
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let (found, my_role) = membership(&mut tx, chat, me).await?;
    if found.kind == ChatKind::Direct {
        return Err(ChatError::Forbidden("nobody is muted in a direct chat"));
    }
    let target = store::member_role(&mut tx, chat, user)
        .await?
        .ok_or(ChatError::MemberNotFound)?;
    if my_role.rank() < MemberRole::Moderator.rank()
        || (my_role != MemberRole::Owner && my_role.rank() <= target.rank())
    {
        return Err(ChatError::Forbidden(
            "only moderators and above mute, and only those below them",
        ));
    }
    let until = (minutes > 0)
        .then(|| now.saturating_add(std::time::Duration::from_secs(u64::from(minutes) * 60)));
    store::set_muted_until(&mut tx, chat, user, until).await?;
    tx.commit().await?;
    Ok(())
}
