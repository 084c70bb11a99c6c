//! The schema's object types: thin views of what the services return.
//! Fields that reach other records (a message's sender, a chat's members)
//! go through the request's loaders, so a page costs a few queries
//! whatever its size.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Enum, ID, Json, Object, SimpleObject};
use plaza_core::Timestamp;

use super::loaders::{Members, People};
use crate::chat::model::{self, MemberRole as Role};
use crate::chat::service::{ChatDetail, ChatSummary, Member as MemberRow};
use crate::files::model::FileView;
use crate::users::UserView;

/// RFC 3339, UTC.
fn time(t: Timestamp) -> String {
    t.to_string()
}

/// A person, as the caller may see them: the email, factors and settings
/// only to the person themselves (and admins).
pub struct User(pub UserView);

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn username(&self) -> &str {
        self.0.username.as_str()
    }
    async fn display_name(&self) -> Option<&str> {
        self.0.display_name.as_deref()
    }
    async fn bio(&self) -> Option<&str> {
        self.0.bio.as_deref()
    }
    /// `/api/files/{id}` of the 256 px avatar.
    async fn avatar_url(&self) -> Option<&str> {
        self.0.avatar_url.as_deref()
    }
    /// IANA time zone name.
    async fn timezone(&self) -> &str {
        &self.0.timezone
    }
    async fn locale(&self) -> &str {
        &self.0.locale
    }
    /// `user` or `admin`.
    async fn role(&self) -> &str {
        self.0.role.as_str()
    }
    async fn email_verified(&self) -> bool {
        self.0.email_verified
    }
    /// Only to the person and admins.
    async fn email(&self) -> Option<String> {
        self.0.email.as_ref().map(|e| e.as_str().to_owned())
    }
    /// Second factors enabled (`totp`, `email`); only to the person and admins.
    async fn two_factor(&self) -> Option<&[String]> {
        self.0.two_factor.as_deref()
    }
    /// Preferences; only to the person.
    async fn settings(&self) -> Option<Json<&serde_json::Value>> {
        self.0.settings.as_ref().map(Json)
    }
    async fn created_at(&self) -> String {
        time(self.0.created_at)
    }
}

/// What signing in or up gives: the account and its tokens.
pub struct AuthPayload(pub crate::auth::service::Issued);

#[Object]
impl AuthPayload {
    async fn user(&self) -> User {
        User(
            self.0
                .user
                .view(crate::users::Audience::Own, self.0.factors.clone()),
        )
    }
    async fn access_token(&self) -> &str {
        &self.0.access_token
    }
    /// Opaque, single use: each refresh returns a new one.
    async fn refresh_token(&self) -> &str {
        &self.0.refresh_token
    }
    async fn token_type(&self) -> &str {
        "Bearer"
    }
    /// Seconds until the access token expires.
    async fn expires_in(&self) -> u64 {
        self.0.expires_in
    }
}

/// A sign-in: tokens, or a second factor to give to `loginSecondFactor`.
#[derive(SimpleObject)]
pub struct LoginResult {
    /// Set when signed in.
    pub tokens: Option<AuthPayload>,
    pub mfa_required: bool,
    /// The challenge for `loginSecondFactor` and `sendLoginCode`.
    pub mfa_token: Option<String>,
    /// The factors offered (`totp`, `email`, `recovery` last).
    pub methods: Vec<String>,
}

/// A signed-in session of mine.
#[derive(SimpleObject)]
pub struct Session {
    pub id: ID,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: String,
    pub last_used_at: String,
    pub expires_at: String,
    /// The session of the token that asked.
    pub current: bool,
}

impl Session {
    pub fn of(s: crate::auth::service::Session, current: plaza_core::SessionId) -> Self {
        Self {
            id: ID(s.id.to_string()),
            current: s.id == current,
            user_agent: s.user_agent,
            ip: s.ip,
            created_at: time(s.created_at),
            last_used_at: time(s.last_used_at),
            expires_at: time(s.expires_at),
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ChatType {
    Direct,
    Group,
    Channel,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Public,
    Private,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum MemberRole {
    Owner,
    Admin,
    Moderator,
    Member,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    Text,
    Image,
    File,
    System,
}

/// Enums named once in the schema and once in the model, kept in step.
macro_rules! same_enum {
    ($ours:ident <=> $theirs:path { $($variant:ident),+ }) => {
        impl From<$theirs> for $ours {
            fn from(v: $theirs) -> Self {
                use $theirs as T;
                match v { $(T::$variant => Self::$variant),+ }
            }
        }
        impl From<$ours> for $theirs {
            fn from(v: $ours) -> Self {
                match v { $($ours::$variant => Self::$variant),+ }
            }
        }
    };
}

same_enum!(ChatType <=> model::ChatKind { Direct, Group, Channel });
same_enum!(Visibility <=> model::Visibility { Public, Private });
same_enum!(MemberRole <=> Role { Owner, Admin, Moderator, Member });
same_enum!(MessageType <=> model::MessageType { Text, Image, File, System });

/// A chat of mine, with my place in it.
pub struct Chat {
    pub chat: model::Chat,
    pub role: Role,
    pub last_read_seq: i64,
    pub unread_count: Option<i64>,
    pub member_count: Option<i64>,
    pub last_message: Option<model::Message>,
}

impl From<ChatSummary> for Chat {
    fn from(s: ChatSummary) -> Self {
        Self {
            chat: s.chat,
            role: s.role,
            last_read_seq: s.last_read_seq,
            unread_count: Some(s.unread_count),
            member_count: None,
            last_message: s.last_message,
        }
    }
}

impl From<ChatDetail> for Chat {
    fn from(d: ChatDetail) -> Self {
        let unread = (d.chat.last_seq - d.last_read_seq).max(0);
        Self {
            chat: d.chat,
            role: d.role,
            last_read_seq: d.last_read_seq,
            // An upper bound the list makes exact (it leaves out my own).
            unread_count: Some(unread),
            member_count: Some(d.member_count),
            last_message: None,
        }
    }
}

#[Object]
impl Chat {
    async fn id(&self) -> ID {
        ID(self.chat.id.to_string())
    }
    #[graphql(name = "type")]
    async fn kind(&self) -> ChatType {
        self.chat.kind.into()
    }
    async fn name(&self) -> Option<&str> {
        self.chat.name.as_deref()
    }
    async fn visibility(&self) -> Visibility {
        self.chat.visibility.into()
    }
    /// The group a channel belongs to.
    async fn group_id(&self) -> Option<ID> {
        self.chat.group_id.map(|g| ID(g.to_string()))
    }
    async fn created_by(&self) -> Option<ID> {
        self.chat.created_by.map(|u| ID(u.to_string()))
    }
    /// The seq of the newest message (0 when empty).
    async fn last_seq(&self) -> i64 {
        self.chat.last_seq
    }
    async fn last_message_at(&self) -> Option<String> {
        self.chat.last_message_at.map(time)
    }
    async fn created_at(&self) -> String {
        time(self.chat.created_at)
    }
    /// My role here.
    async fn my_role(&self) -> MemberRole {
        self.role.into()
    }
    /// The newest seq I have read.
    async fn last_read_seq(&self) -> i64 {
        self.last_read_seq
    }
    /// Others' messages after my read marker.
    async fn unread_count(&self) -> Option<i64> {
        self.unread_count
    }
    async fn last_message(&self) -> Option<Message> {
        self.last_message.clone().map(Message)
    }
    /// Everyone in the chat, oldest member first (one query for a page of chats).
    async fn members(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Member>> {
        let loader = ctx.data_unchecked::<DataLoader<Members>>();
        let found = loader.load_one(self.chat.id).await?.unwrap_or_default();
        Ok(found.into_iter().map(Member).collect())
    }
    async fn member_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        if let Some(n) = self.member_count {
            return Ok(n);
        }
        let loader = ctx.data_unchecked::<DataLoader<Members>>();
        let found = loader.load_one(self.chat.id).await?.unwrap_or_default();
        Ok(found.len() as i64)
    }
}

/// A member of a chat.
pub struct Member(pub MemberRow);

#[Object]
impl Member {
    async fn user_id(&self) -> ID {
        ID(self.0.user_id.to_string())
    }
    async fn username(&self) -> &str {
        &self.0.username
    }
    async fn display_name(&self) -> Option<&str> {
        self.0.display_name.as_deref()
    }
    async fn role(&self) -> MemberRole {
        self.0.role.into()
    }
    async fn last_read_seq(&self) -> i64 {
        self.0.last_read_seq
    }
    async fn joined_at(&self) -> String {
        time(self.0.joined_at)
    }
    /// Their profile (one query for every member on the page).
    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        person(ctx, self.0.user_id).await
    }
}

async fn person(ctx: &Context<'_>, id: plaza_core::UserId) -> async_graphql::Result<Option<User>> {
    let loader = ctx.data_unchecked::<DataLoader<People>>();
    Ok(loader.load_one(id).await?.map(User))
}

/// A message. Subscriptions share one resolved message among everyone on
/// a node who asked for it with the same document (graphql/shared.rs), so
/// no field here, nor of a type it leads to, may depend on the caller.
pub struct Message(pub model::Message);

#[Object]
impl Message {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn chat_id(&self) -> ID {
        ID(self.0.chat_id.to_string())
    }
    /// Per chat, gapless, in the order messages were stored.
    async fn seq(&self) -> i64 {
        self.0.seq
    }
    async fn sender_id(&self) -> Option<ID> {
        self.0.sender_id.map(|u| ID(u.to_string()))
    }
    /// The sender's profile (one query for every sender on the page);
    /// null for system messages and deleted accounts.
    async fn sender(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        match self.0.sender_id {
            Some(id) => person(ctx, id).await,
            None => Ok(None),
        }
    }
    /// Null once deleted.
    async fn content(&self) -> Option<&str> {
        self.0.content.as_deref()
    }
    async fn message_type(&self) -> MessageType {
        self.0.message_type.into()
    }
    /// The thread root this replies to.
    async fn reply_to(&self) -> Option<ID> {
        self.0.reply_to.map(|m| ID(m.to_string()))
    }
    async fn client_id(&self) -> Option<&str> {
        self.0.client_id.as_deref()
    }
    async fn edited_at(&self) -> Option<String> {
        self.0.edited_at.map(time)
    }
    async fn deleted(&self) -> bool {
        self.0.deleted
    }
    async fn created_at(&self) -> String {
        time(self.0.created_at)
    }
    async fn reactions(&self) -> Vec<Reaction> {
        self.0
            .reactions
            .iter()
            .map(|(emoji, r)| Reaction {
                emoji: emoji.clone(),
                count: r.count,
                me: r.me,
            })
            .collect()
    }
    async fn attachments(&self) -> Vec<File> {
        self.0.attachments.iter().cloned().map(File::from).collect()
    }
}

/// One emoji on a message.
#[derive(SimpleObject)]
pub struct Reaction {
    pub emoji: String,
    pub count: i64,
    /// Whether I reacted so.
    pub me: bool,
}

/// An uploaded file.
#[derive(SimpleObject)]
pub struct File {
    pub id: ID,
    /// `/api/files/{id}` (with the bearer token); pictures also take `?size=256|64`.
    pub url: String,
    pub content_type: String,
    pub byte_size: i64,
    pub name: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

impl From<FileView> for File {
    fn from(f: FileView) -> Self {
        Self {
            id: ID(f.id.to_string()),
            url: f.url,
            content_type: f.content_type,
            byte_size: f.byte_size,
            name: f.name,
            width: f.width,
            height: f.height,
        }
    }
}

/// A thread: replies to one message, and my place in it.
#[derive(SimpleObject)]
pub struct Thread {
    /// Oldest first.
    pub items: Vec<Message>,
    pub total: i64,
    pub last_read_seq: i64,
    /// Others' replies after my marker.
    pub unread_count: i64,
}

impl From<crate::chat::service::Thread> for Thread {
    fn from(t: crate::chat::service::Thread) -> Self {
        Self {
            items: t.items.into_iter().map(Message).collect(),
            total: t.total,
            last_read_seq: t.last_read_seq,
            unread_count: t.unread_count,
        }
    }
}

/// A notification of mine.
#[derive(SimpleObject)]
pub struct Notification {
    pub id: ID,
    #[graphql(name = "type")]
    pub kind: String,
    pub title: String,
    pub body: String,
    pub data: Json<serde_json::Value>,
    pub read: bool,
    pub read_at: Option<String>,
    pub created_at: String,
}

impl From<crate::notifications::Notification> for Notification {
    fn from(n: crate::notifications::Notification) -> Self {
        Self {
            id: ID(n.id.to_string()),
            kind: n.kind,
            title: n.title,
            body: n.body,
            data: Json(n.data),
            read: n.read,
            read_at: n.read_at.map(time),
            created_at: time(n.created_at),
        }
    }
}
