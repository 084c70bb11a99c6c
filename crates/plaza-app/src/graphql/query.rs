//! Queries: seed 004's `getUser`, `getChats` and `getMessages`, and what
//! else a messenger reads. Each calls the same service function as REST.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, Result};

use super::context::{parts, signed_in};
use super::types::{Chat, File, Member, Message, Notification, Session, Thread, User};
use super::{ids, page};
use crate::chat::service as chats;
use crate::http::ApiError;

/// Accounts, people, chats, messages, files and notifications.
#[derive(Default)]
pub struct MessengerQuery;

#[Object]
impl MessengerQuery {
    /// The signed-in user, with email, factors and settings.
    async fn me(&self, ctx: &Context<'_>) -> Result<User> {
        let (state, me) = signed_in(ctx)?;
        let view = crate::profiles::service::profile(state, Some(me), me.user_id).await?;
        Ok(User(view))
    }

    /// Anyone's profile (seed 004); the email only to themselves and admins.
    async fn get_user(&self, ctx: &Context<'_>, id: ID) -> Result<User> {
        let (state, caller) = parts(ctx);
        let viewer = caller.maybe_user()?;
        let id = ids::user(&id)?;
        Ok(User(
            crate::profiles::service::profile(state, viewer, id).await?,
        ))
    }

    /// People whose username or name starts with `query`, exact matches first.
    #[graphql(complexity = "page::cost(first, 20, child_complexity)")]
    async fn search_users(
        &self,
        ctx: &Context<'_>,
        query: String,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<usize, User>> {
        let (state, me) = signed_in(ctx)?;
        let limit = page::first(first, 20)?;
        let offset = page::offset(after.as_deref())?;
        let found =
            crate::profiles::service::search(state, me, Some(&query), (limit, offset as i64))
                .await?;
        let mut connection = Connection::new(offset > 0, found.has_more);
        let edges = found.items.into_iter().enumerate();
        connection
            .edges
            .extend(edges.map(|(i, u)| Edge::new(offset + i + 1, User(u))));
        Ok(connection)
    }

    /// My sessions (devices signed in).
    async fn sessions(&self, ctx: &Context<'_>) -> Result<Vec<Session>> {
        let (state, me) = signed_in(ctx)?;
        let found = crate::auth::service::sessions(state, me.user_id).await?;
        Ok(found
            .into_iter()
            .map(|s| Session::of(s, me.session_id))
            .collect())
    }

    /// My chats, newest activity first, each with its last message and
    /// my unread count (seed 004); `first` 1 to 100, 20 when absent.
    #[graphql(complexity = "page::cost(first, 20, child_complexity)")]
    async fn get_chats(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<usize, Chat>> {
        let (state, me) = signed_in(ctx)?;
        let limit = page::first(first, 20)?;
        let offset = page::offset(after.as_deref())?;
        let (found, has_more) =
            chats::list_chats(state, me.user_id, (limit, offset as i64)).await?;
        let mut connection = Connection::new(offset > 0, has_more);
        let edges = found.into_iter().enumerate();
        connection
            .edges
            .extend(edges.map(|(i, c)| Edge::new(offset + i + 1, Chat::from(c))));
        Ok(connection)
    }

    /// One of my chats.
    async fn get_chat(&self, ctx: &Context<'_>, id: ID) -> Result<Chat> {
        let (state, me) = signed_in(ctx)?;
        let id = ids::chat(&id)?;
        Ok(chats::get_chat(state, me.user_id, id).await?.into())
    }

    /// A chat's messages by `seq`, oldest first within a page. Without
    /// arguments, the newest 50; `last`/`before` page back from the
    /// newest, `first`/`after` forward from a seq (catching up). Cursors
    /// are seqs.
    #[graphql(complexity = "page::cost(first.or(last), 50, child_complexity)")]
    async fn get_messages(
        &self,
        ctx: &Context<'_>,
        chat_id: ID,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<i64, Message>> {
        let (state, me) = signed_in(ctx)?;
        let chat = ids::chat(&chat_id)?;
        let forward = first.is_some() || after.is_some();
        if forward && (last.is_some() || before.is_some()) {
            return Err(ApiError::validation(
                "page forward (first/after) or back (last/before), not both",
            )
            .into());
        }
        let (after, before) = (
            page::seq(after.as_deref(), "after")?,
            page::seq(before.as_deref(), "before")?,
        );
        let (range, limit) = if forward {
            ((None, Some(after.unwrap_or(0))), page::first(first, 50)?)
        } else {
            ((before, None), page::limit(last, "last", 50)?)
        };
        let found = chats::list_messages(state, me.user_id, chat, range, limit).await?;
        let (previous, next) = if forward {
            (after.unwrap_or(0) > 0, found.has_more)
        } else {
            (found.has_more, before.is_some())
        };
        let mut connection = Connection::new(previous, next);
        connection.edges.extend(
            found
                .items
                .into_iter()
                .map(|m| Edge::new(m.seq, Message(m))),
        );
        Ok(connection)
    }

    /// The members of a chat I am in.
    async fn get_members(&self, ctx: &Context<'_>, chat_id: ID) -> Result<Vec<Member>> {
        let (state, me) = signed_in(ctx)?;
        let chat = ids::chat(&chat_id)?;
        let found = chats::list_members(state, me.user_id, chat).await?;
        Ok(found.into_iter().map(Member).collect())
    }

    /// The replies to a message (its thread), oldest first.
    async fn get_replies(&self, ctx: &Context<'_>, chat_id: ID, message_id: ID) -> Result<Thread> {
        let (state, me) = signed_in(ctx)?;
        let (chat, root) = (ids::chat(&chat_id)?, ids::message(&message_id)?);
        Ok(chats::replies(state, me.user_id, chat, root).await?.into())
    }

    /// Messages of my chats (or of one) matching `query`, best first.
    #[graphql(complexity = "page::cost(first, 20, child_complexity)")]
    async fn search_messages(
        &self,
        ctx: &Context<'_>,
        query: String,
        chat_id: Option<ID>,
        first: Option<i32>,
    ) -> Result<Connection<i64, Message>> {
        let (state, me) = signed_in(ctx)?;
        let limit = page::first(first, 20)?;
        let chat = chat_id.as_ref().map(|id| id.as_str());
        let mut found = chats::search(state, me.user_id, &query, chat, limit + 1).await?;
        let more = found.len() as i64 > limit;
        found.truncate(usize::try_from(limit).unwrap_or(0));
        let mut connection = Connection::new(false, more);
        let edges = found.into_iter().enumerate();
        connection
            .edges
            .extend(edges.map(|(i, m)| Edge::new(i as i64 + 1, Message(m))));
        Ok(connection)
    }

    /// My notifications, newest first; cursors are notification ids.
    #[graphql(complexity = "page::cost(first, 20, child_complexity)")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default)] unread_only: bool,
    ) -> Result<Connection<String, Notification>> {
        let (state, me) = signed_in(ctx)?;
        let limit = page::first(first, 20)?;
        let found =
            crate::notifications::service::list(state, me, unread_only, after.as_deref(), limit)
                .await?;
        let mut connection = Connection::new(after.is_some(), found.has_more);
        connection.edges.extend(
            found
                .items
                .into_iter()
                .map(|n| Edge::new(n.id.to_string(), Notification::from(n))),
        );
        Ok(connection)
    }

    /// How many of my notifications are unread.
    async fn unread_notification_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let (state, me) = signed_in(ctx)?;
        Ok(crate::notifications::service::unread_count(state, me).await?)
    }

    /// A file I may read (mine, or attached in a chat of mine).
    async fn file(&self, ctx: &Context<'_>, id: ID) -> Result<File> {
        let (state, me) = signed_in(ctx)?;
        let id = ids::file(&id)?;
        let row = crate::files::service::readable(state, Some(me), id).await?;
        Ok(File::from(crate::files::FileView::from(&row)))
    }
}
