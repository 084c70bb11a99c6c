//! SQL for chats and their members. Functions take the caller's
//! connection or transaction.

use plaza_core::{ChatId, Timestamp, UserId};
use sqlx::AnyConnection;

use super::model::{Chat, MemberRole};

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_chat(
    conn: &mut AnyConnection,
    chat: &Chat,
    direct_key: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO chats (id, kind, name, visibility, group_id, direct_key, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(chat.id)
    .bind(chat.kind)
    .bind(&chat.name)
    .bind(chat.visibility)
    .bind(chat.group_id)
    .bind(direct_key)
    .bind(chat.created_by)
    .bind(chat.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn add_member(
    conn: &mut AnyConnection,
    chat: ChatId,
    user: UserId,
    role: MemberRole,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO chat_members (chat_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(chat)
    .bind(user)
    .bind(role)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_chat(conn: &mut AnyConnection, id: ChatId) -> Result<Option<Chat>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, kind, name, visibility, group_id, created_by, last_seq, last_message_at, created_at \
         FROM chats WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// A chat with one user's membership in it, read in one query.
#[derive(sqlx::FromRow)]
pub struct ChatAndMember {
    #[sqlx(flatten)]
    pub chat: Chat,
    pub role: Option<MemberRole>,
    pub muted_until: Option<Timestamp>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_with_member(
    conn: &mut AnyConnection,
    id: ChatId,
    user: UserId,
) -> Result<Option<ChatAndMember>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id, c.kind, c.name, c.visibility, c.group_id, c.created_by, c.last_seq, \
         c.last_message_at, c.created_at, m.role, m.muted_until \
         FROM chats c LEFT JOIN chat_members m ON m.chat_id = c.id AND m.user_id = $2 \
         WHERE c.id = $1",
    )
    .bind(id)
    .bind(user)
    .fetch_optional(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_direct(
    conn: &mut AnyConnection,
    key: &str,
) -> Result<Option<ChatId>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM chats WHERE direct_key = $1")
        .bind(key)
        .fetch_optional(conn)
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn member_role(
    conn: &mut AnyConnection,
    chat: ChatId,
    user: UserId,
) -> Result<Option<MemberRole>, sqlx::Error> {
    sqlx::query_scalar("SELECT role FROM chat_members WHERE chat_id = $1 AND user_id = $2")
        .bind(chat)
        .bind(user)
        .fetch_optional(conn)
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_read(
    conn: &mut AnyConnection,
    chat: ChatId,
    user: UserId,
    seq: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE chat_members SET last_read_seq = $3 WHERE chat_id = $1 AND user_id = $2 AND last_read_seq < $3",
    )
    .bind(chat)
    .bind(user)
    .bind(seq)
    .execute(conn)
    .await?;
    Ok(())
}

/// One row of "my chats".
#[derive(Debug, sqlx::FromRow)]
pub struct MyChat {
    #[sqlx(flatten)]
    pub chat: Chat,
    pub role: MemberRole,
    pub last_read_seq: i64,
    pub unread: i64,
}

/// `user`'s chats, most recent activity first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn my_chats(
    conn: &mut AnyConnection,
    user: UserId,
    limit: i64,
    offset: i64,
) -> Result<Vec<MyChat>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id, c.kind, c.name, c.visibility, c.group_id, c.created_by, c.last_seq, \
         c.last_message_at, c.created_at, m.role, m.last_read_seq, \
         (SELECT COUNT(*) FROM messages x WHERE x.chat_id = c.id AND x.seq > m.last_read_seq \
          AND x.deleted_at IS NULL AND (x.sender_id IS NULL OR x.sender_id <> m.user_id)) AS unread \
         FROM chat_members m JOIN chats c ON c.id = m.chat_id WHERE m.user_id = $1 \
         ORDER BY COALESCE(c.last_message_at, c.created_at) DESC, c.id DESC LIMIT $2 OFFSET $3",
    )
    .bind(user)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await
}

/// A member as listed.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Member {
    #[schema(value_type = String)]
    pub user_id: UserId,
    #[schema(value_type = String)]
    pub username: String,
    pub display_name: Option<String>,
    pub role: MemberRole,
    pub last_read_seq: i64,
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: Timestamp,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn members(conn: &mut AnyConnection, chat: ChatId) -> Result<Vec<Member>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.user_id, u.username, u.display_name, m.role, m.last_read_seq, m.joined_at \
         FROM chat_members m JOIN users u ON u.id = m.user_id WHERE m.chat_id = $1 \
         ORDER BY m.joined_at, m.user_id",
    )
    .bind(chat)
    .fetch_all(conn)
    .await
}

/// A member and the chat they are in.
#[derive(Debug, sqlx::FromRow)]
pub struct ChatMember {
    pub chat_id: ChatId,
    #[sqlx(flatten)]
    pub member: Member,
}

/// The members of those of `chats` that `me` is in, in one query.
#[tracing::instrument(level = "debug", skip_all, fields(n = chats.len()))]
pub async fn members_of(
    conn: &mut AnyConnection,
    me: UserId,
    chats: &[ChatId],
) -> Result<Vec<ChatMember>, sqlx::Error> {
    if chats.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT m.chat_id, m.user_id, u.username, u.display_name, m.role, m.last_read_seq, \
         m.joined_at FROM chat_members m JOIN users u ON u.id = m.user_id \
         WHERE m.chat_id IN ({}) AND EXISTS (SELECT 1 FROM chat_members mine \
         WHERE mine.chat_id = m.chat_id AND mine.user_id = $1) \
         ORDER BY m.chat_id, m.joined_at, m.user_id",
        plaza_platform::db::placeholders(2, chats.len())
    );
    // Only numbered placeholders are spliced in; the ids are bound.
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(me);
    for chat in chats {
        query = query.bind(*chat);
    }
    query.fetch_all(conn).await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_role(
    conn: &mut AnyConnection,
    chat: ChatId,
    user: UserId,
    role: MemberRole,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE chat_members SET role = $3 WHERE chat_id = $1 AND user_id = $2")
        .bind(chat)
        .bind(user)
        .bind(role)
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes `user` from `chat` and, for a group, from its channels.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn remove_member(
    conn: &mut AnyConnection,
    chat: ChatId,
    user: UserId,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM chat_members WHERE user_id = $2 AND (chat_id = $1 OR chat_id IN \
         (SELECT id FROM chats WHERE group_id = $1))",
    )
    .bind(chat)
    .bind(user)
    .execute(conn)
    .await?;
    Ok(())
}

/// Channels of `group` that `user` may see: public ones and those they are in.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn channels(
    conn: &mut AnyConnection,
    group: ChatId,
    user: UserId,
) -> Result<Vec<Chat>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id, c.kind, c.name, c.visibility, c.group_id, c.created_by, c.last_seq, \
         c.last_message_at, c.created_at FROM chats c WHERE c.group_id = $1 AND (c.visibility = 'public' \
         OR EXISTS (SELECT 1 FROM chat_members m WHERE m.chat_id = c.id AND m.user_id = $2)) \
         ORDER BY c.created_at, c.id",
    )
    .bind(group)
    .bind(user)
    .fetch_all(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_muted_until(
    conn: &mut AnyConnection,
    chat: ChatId,
    user: UserId,
    until: Option<Timestamp>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE chat_members SET muted_until = $3 WHERE chat_id = $1 AND user_id = $2")
        .bind(chat)
        .bind(user)
        .bind(until)
        .execute(conn)
        .await?;
    Ok(())
}

/// Every chat `user` is a member of.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn chat_ids_of(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<Vec<ChatId>, sqlx::Error> {
    sqlx::query_scalar("SELECT chat_id FROM chat_members WHERE user_id = $1")
        .bind(user)
        .fetch_all(conn)
        .await
}

/// The channels of `group`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn channel_ids(
    conn: &mut AnyConnection,
    group: ChatId,
) -> Result<Vec<ChatId>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM chats WHERE group_id = $1")
        .bind(group)
        .fetch_all(conn)
        .await
}

/// The other members of `user`'s direct chats: whom their presence concerns.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn direct_contacts(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<Vec<UserId>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT other.user_id FROM chat_members mine \
         JOIN chats c ON c.id = mine.chat_id AND c.kind = 'direct' \
         JOIN chat_members other ON other.chat_id = c.id AND other.user_id <> mine.user_id \
         WHERE mine.user_id = $1",
    )
    .bind(user)
    .fetch_all(conn)
    .await
}

/// Those of `users` who share at least one chat with `me` (or are `me`).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn share_a_chat(
    conn: &mut AnyConnection,
    me: UserId,
    users: &[UserId],
) -> Result<Vec<UserId>, sqlx::Error> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT DISTINCT other.user_id FROM chat_members mine JOIN chat_members other \
         ON other.chat_id = mine.chat_id WHERE mine.user_id = $1 AND other.user_id IN ({})",
        plaza_platform::db::placeholders(2, users.len())
    );
    // Only numbered placeholders are spliced in; the ids are bound.
    let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(me);
    for user in users {
        query = query.bind(*user);
    }
    let shared: Vec<UserId> = query.fetch_all(conn).await?;
    Ok(users
        .iter()
        .copied()
        .filter(|u| *u == me || shared.contains(u))
        .collect())
}

/// The seq of `chat`'s newest message (0 when it has none).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn last_seq(conn: &mut AnyConnection, chat: ChatId) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT last_seq FROM chats WHERE id = $1")
        .bind(chat)
        .fetch_optional(conn)
        .await
}
