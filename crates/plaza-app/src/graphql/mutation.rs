//! Mutations: seed 004's `registerUser`, `loginUser`, `logoutUser`,
//! `updateUser`, `deleteUser`, `createChat` and `sendMessage`, and the
//! rest of what a messenger changes. Each calls the same service function
//! as REST; signing in and up draw from the same `auth` budget.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, Upload};
use plaza_core::{DisplayName, Email, Role, Username};
use serde_json::{Map, Value};

use super::context::{limit, parts, signed_in};
use super::ids;
use super::types::{
    AuthPayload, Chat, ChatType, File, LoginResult, Member, MemberRole, Message, MessageType,
    Notification, Reaction, Thread, User, Visibility,
};
use crate::auth::service::{self as auth, Login, Outcome};
use crate::chat::model::ChatKind;
use crate::chat::service::{self as chats, NewChat, NewMessage};
use crate::http::{ApiError, LimitClass};
use crate::profiles::{ProfileUpdate, ProfilesError, service as profiles};
use crate::users::NewUser;
use crate::users::password::Password;

/// Accounts, chats, messages, files and notifications.
#[derive(Default)]
pub struct MessengerMutation;

/// Profile fields to change (seed 004's `UserInput`): absent ones stay,
/// `null` clears `displayName` or `bio`.
#[derive(InputObject)]
pub struct UserInput {
    /// At most 64 characters.
    display_name: MaybeUndefined<String>,
    /// At most 500 characters.
    bio: MaybeUndefined<String>,
    /// IANA name, e.g. `Europe/Moscow`.
    timezone: Option<String>,
    /// e.g. `ru`.
    locale: Option<String>,
    /// Replaces the preferences object (at most 16 KiB).
    settings: Option<async_graphql::Json<Value>>,
}

/// A new chat (seed 004's `ChatInput`).
#[derive(InputObject)]
pub struct ChatInput {
    /// Absent: `DIRECT` for one other person and no name, else `GROUP`.
    #[graphql(name = "type")]
    kind: Option<ChatType>,
    /// Required for groups and channels; at most 100 characters.
    name: Option<String>,
    /// The other members (I am added as the owner).
    #[graphql(default)]
    member_ids: Vec<ID>,
    /// Channels only; `PRIVATE` when absent.
    visibility: Option<Visibility>,
    /// The group a channel belongs to.
    group_id: Option<ID>,
}

impl UserInput {
    /// The same change REST's `PATCH` takes, checked by the same rules.
    fn update(self) -> Result<ProfileUpdate, ApiError> {
        let mut fields = Map::new();
        let mut maybe = |name: &str, value: MaybeUndefined<String>| match value {
            MaybeUndefined::Undefined => {}
            MaybeUndefined::Null => drop(fields.insert(name.into(), Value::Null)),
            MaybeUndefined::Value(v) => drop(fields.insert(name.into(), Value::String(v))),
        };
        maybe("display_name", self.display_name);
        maybe("bio", self.bio);
        if let Some(tz) = self.timezone {
            fields.insert("timezone".into(), Value::String(tz));
        }
        if let Some(locale) = self.locale {
            fields.insert("locale".into(), Value::String(locale));
        }
        if let Some(settings) = self.settings {
            fields.insert("settings".into(), settings.0);
        }
        crate::realtime::parse(Value::Object(fields))
    }
}

fn user_ids(given: &[ID], field: &str) -> Result<Vec<plaza_core::UserId>, ApiError> {
    given
        .iter()
        .map(|id| {
            id.parse().map_err(|_| {
                ApiError::invalid_field(field, format!("`{}` is not a user id", id.as_str()))
            })
        })
        .collect()
}

fn login_result(outcome: Outcome) -> LoginResult {
    match outcome {
        Outcome::SignedIn(issued) => LoginResult {
            tokens: Some(AuthPayload(*issued)),
            mfa_required: false,
            mfa_token: None,
            methods: Vec::new(),
        },
        Outcome::SecondFactor { token, methods } => LoginResult {
            tokens: None,
            mfa_required: true,
            mfa_token: Some(token),
            methods,
        },
    }
}

#[Object]
impl MessengerMutation {
    /// A new account, signed in (seed 004).
    async fn register_user(
        &self,
        ctx: &Context<'_>,
        email: String,
        #[graphql(desc = "8 to 128 characters, not a common password")] password: String,
        #[graphql(desc = "Made from the email when absent")] username: Option<String>,
        display_name: Option<String>,
    ) -> Result<AuthPayload> {
        limit(ctx, LimitClass::Auth).await?;
        let (state, caller) = parts(ctx);
        let email = Email::parse(&email).map_err(|e| ApiError::invalid_field("email", e))?;
        let password =
            Password::parse(password).map_err(|e| ApiError::invalid_field("password", e))?;
        let username = username
            .map(|u| Username::parse(&u))
            .transpose()
            .map_err(|e| ApiError::invalid_field("username", e))?;
        let display_name = display_name
            .map(|d| DisplayName::parse(&d))
            .transpose()
            .map_err(|e| ApiError::invalid_field("displayName", e))?;
        let new = NewUser {
            email,
            username,
            display_name: display_name.map(String::from),
            password: Some(password),
            role: Role::User,
            email_verified: false,
        };
        Ok(AuthPayload(
            auth::register(state, new, &caller.client).await?,
        ))
    }

    /// Signs in with an email or username and a password (seed 004): the
    /// tokens, or a second factor to give to `loginSecondFactor`.
    async fn login_user(
        &self,
        ctx: &Context<'_>,
        email: Option<String>,
        username: Option<String>,
        password: String,
    ) -> Result<LoginResult> {
        limit(ctx, LimitClass::Auth).await?;
        let (state, caller) = parts(ctx);
        let login = Login {
            email,
            username,
            password,
        };
        Ok(login_result(
            auth::login(state, login, &caller.client).await?,
        ))
    }

    /// Mails (again) a sign-in code for a challenge that offers `email`.
    async fn send_login_code(&self, ctx: &Context<'_>, mfa_token: String) -> Result<bool> {
        limit(ctx, LimitClass::Auth).await?;
        let (state, _) = parts(ctx);
        crate::auth::mfa::service::send_code(state, &mfa_token).await?;
        Ok(true)
    }

    /// Completes a sign-in with a second factor: `totp`, `email` (the
    /// mailed code) or `recovery`.
    async fn login_second_factor(
        &self,
        ctx: &Context<'_>,
        mfa_token: String,
        method: String,
        code: String,
    ) -> Result<AuthPayload> {
        limit(ctx, LimitClass::Auth).await?;
        let (state, caller) = parts(ctx);
        let issued =
            crate::auth::mfa::service::finish(state, &mfa_token, &method, &code, &caller.client)
                .await?;
        Ok(AuthPayload(issued))
    }

    /// New tokens for a refresh token (which is spent).
    async fn refresh_token(&self, ctx: &Context<'_>, refresh_token: String) -> Result<AuthPayload> {
        let (state, caller) = parts(ctx);
        Ok(AuthPayload(
            auth::refresh(state, &refresh_token, &caller.client).await?,
        ))
    }

    /// Ends this session (seed 004); its subscriptions stop.
    async fn logout_user(&self, ctx: &Context<'_>) -> Result<bool> {
        let (state, me) = signed_in(ctx)?;
        auth::logout(state, me).await?;
        Ok(true)
    }

    /// Ends one of my sessions.
    async fn revoke_session(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let (state, me) = signed_in(ctx)?;
        auth::revoke(state, me, ids::session(&id)?).await?;
        Ok(true)
    }

    /// Changes my profile, or anyone's as an admin (seed 004).
    async fn update_user(&self, ctx: &Context<'_>, id: ID, data: UserInput) -> Result<User> {
        let (state, me) = signed_in(ctx)?;
        let id = ids::user(&id)?;
        let update = data.update()?;
        Ok(User(profiles::update(state, me, id, update).await?))
    }

    /// Deletes my account, or anyone's as an admin (seed 004).
    async fn delete_user(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let (state, me) = signed_in(ctx)?;
        let id = ids::user(&id)?;
        if id == me.user_id {
            profiles::delete_mine(state, me).await?;
        } else if me.is_admin() {
            profiles::admin_delete(state, crate::http::AdminUser(me), id).await?;
        } else {
            profiles::profile(state, Some(me), id).await?;
            return Err(ProfilesError::Forbidden("you may only delete your own account").into());
        }
        Ok(true)
    }

    /// A new chat (seed 004); a direct chat with the same person is found,
    /// not made twice.
    async fn create_chat(&self, ctx: &Context<'_>, data: ChatInput) -> Result<Chat> {
        let (state, me) = signed_in(ctx)?;
        let member_ids = user_ids(&data.member_ids, "memberIds")?;
        let group_id = data.group_id.as_ref().map(ids::chat).transpose()?;
        let kind = match data.kind {
            Some(kind) => kind.into(),
            None if member_ids.len() == 1 && data.name.is_none() => ChatKind::Direct,
            None => ChatKind::Group,
        };
        let new = NewChat {
            kind,
            name: data.name,
            member_ids,
            visibility: data.visibility.map(Into::into),
            group_id,
        };
        let (chat, _) = chats::create_chat(state, me.user_id, new).await?;
        Ok(chats::get_chat(state, me.user_id, chat.id).await?.into())
    }

    /// Sends a message (seed 004); a retry with the same `clientId`
    /// returns the first one.
    #[allow(clippy::too_many_arguments)]
    async fn send_message(
        &self,
        ctx: &Context<'_>,
        chat_id: ID,
        content: String,
        #[graphql(desc = "A message of the chat: the reply joins its thread")] reply_to: Option<ID>,
        client_id: Option<String>,
        #[graphql(default)] attachment_ids: Vec<ID>,
        message_type: Option<MessageType>,
    ) -> Result<Message> {
        let (state, me) = signed_in(ctx)?;
        let chat = ids::chat(&chat_id)?;
        let reply_to = reply_to.as_ref().map(ids::message).transpose()?;
        let attachment_ids = attachment_ids
            .iter()
            .map(|id| {
                id.parse().map_err(|_| {
                    ApiError::invalid_field(
                        "attachmentIds",
                        format!("`{}` is not a file id", id.as_str()),
                    )
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        let new = NewMessage {
            content,
            message_type: message_type.map_or(crate::chat::model::MessageType::Text, Into::into),
            reply_to,
            client_id,
            attachment_ids,
        };
        let (message, _) = chats::send_message(state, me.user_id, chat, new).await?;
        Ok(Message(message))
    }

    /// Changes the text of my message.
    async fn edit_message(
        &self,
        ctx: &Context<'_>,
        chat_id: ID,
        message_id: ID,
        content: String,
    ) -> Result<Message> {
        let (state, me) = signed_in(ctx)?;
        let (chat, id) = (ids::chat(&chat_id)?, ids::message(&message_id)?);
        Ok(Message(
            chats::edit_message(state, me.user_id, chat, id, content).await?,
        ))
    }

    /// Deletes my message (or anyone's, for moderators): a tombstone stays.
    async fn delete_message(
        &self,
        ctx: &Context<'_>,
        chat_id: ID,
        message_id: ID,
    ) -> Result<Message> {
        let (state, me) = signed_in(ctx)?;
        let (chat, id) = (ids::chat(&chat_id)?, ids::message(&message_id)?);
        Ok(Message(
            chats::delete_message(state, me.user_id, chat, id).await?,
        ))
    }

    /// Reacts to a message with an emoji; the message's reactions now.
    async fn add_reaction(
        &self,
        ctx: &Context<'_>,
        message_id: ID,
        emoji: String,
    ) -> Result<Vec<Reaction>> {
        react(ctx, &message_id, &emoji, true).await
    }

    /// Takes my reaction back; the message's reactions now.
    async fn remove_reaction(
        &self,
        ctx: &Context<'_>,
        message_id: ID,
        emoji: String,
    ) -> Result<Vec<Reaction>> {
        react(ctx, &message_id, &emoji, false).await
    }

    /// Moves my read marker to `seq` (never back); the marker now.
    async fn mark_read(&self, ctx: &Context<'_>, chat_id: ID, seq: i64) -> Result<i64> {
        let (state, me) = signed_in(ctx)?;
        Ok(chats::mark_read(state, me.user_id, ids::chat(&chat_id)?, seq).await?)
    }

    /// Moves my read marker in a thread.
    async fn mark_thread_read(
        &self,
        ctx: &Context<'_>,
        chat_id: ID,
        message_id: ID,
        seq: i64,
    ) -> Result<Thread> {
        let (state, me) = signed_in(ctx)?;
        let (chat, root) = (ids::chat(&chat_id)?, ids::message(&message_id)?);
        Ok(chats::mark_thread_read(state, me.user_id, chat, root, seq)
            .await?
            .into())
    }

    /// Tells the chat's other members I am typing (not stored).
    async fn typing(&self, ctx: &Context<'_>, chat_id: ID) -> Result<bool> {
        let (state, me) = signed_in(ctx)?;
        chats::typing(state, ids::chat(&chat_id)?, me.user_id).await?;
        Ok(true)
    }

    /// Owners and admins add people, with a role no higher than their
    /// own; the chat's members now.
    async fn add_members(
        &self,
        ctx: &Context<'_>,
        chat_id: ID,
        user_ids: Vec<ID>,
        #[graphql(default_with = "MemberRole::Member")] role: MemberRole,
    ) -> Result<Vec<Member>> {
        let (state, me) = signed_in(ctx)?;
        let chat = ids::chat(&chat_id)?;
        let users = self::user_ids(&user_ids, "userIds")?;
        let added = chats::add_members(state, me.user_id, chat, &users, role.into()).await?;
        Ok(added.into_iter().map(Member).collect())
    }

    /// Changes a member's role.
    async fn change_role(
        &self,
        ctx: &Context<'_>,
        chat_id: ID,
        user_id: ID,
        role: MemberRole,
    ) -> Result<bool> {
        let (state, me) = signed_in(ctx)?;
        let (chat, user) = (ids::chat(&chat_id)?, ids::member(&user_id)?);
        chats::change_role(state, me.user_id, chat, user, role.into()).await?;
        Ok(true)
    }

    /// Removes a member.
    async fn remove_member(&self, ctx: &Context<'_>, chat_id: ID, user_id: ID) -> Result<bool> {
        let (state, me) = signed_in(ctx)?;
        let (chat, user) = (ids::chat(&chat_id)?, ids::member(&user_id)?);
        chats::remove(state, me.user_id, chat, user).await?;
        Ok(true)
    }

    /// Leaves a chat (the last owner's leaving passes ownership on).
    async fn leave_chat(&self, ctx: &Context<'_>, chat_id: ID) -> Result<bool> {
        let (state, me) = signed_in(ctx)?;
        chats::leave(state, me.user_id, ids::chat(&chat_id)?).await?;
        Ok(true)
    }

    /// Joins a public channel of a group I am in.
    async fn join_chat(&self, ctx: &Context<'_>, chat_id: ID) -> Result<bool> {
        let (state, me) = signed_in(ctx)?;
        chats::join(state, me.user_id, ids::chat(&chat_id)?).await?;
        Ok(true)
    }

    /// Uploads a file (the GraphQL multipart request spec), private until
    /// attached to a message with `sendMessage(attachmentIds:)`.
    async fn upload_file(&self, ctx: &Context<'_>, file: Upload) -> Result<File> {
        let (state, me) = signed_in(ctx)?;
        limit(ctx, LimitClass::Upload).await?;
        let upload = file
            .value(ctx)
            .map_err(|e| ApiError::bad_request(format!("cannot read the upload: {e}")))?;
        let max = crate::files::service::max_upload(state);
        if upload.content.len() > max {
            return Err(ApiError::payload_too_large(max as u64).into());
        }
        let sent = (Some(upload.filename), upload.content);
        let row = crate::files::service::upload(state, me, async { Ok(sent) }).await?;
        Ok(File::from(crate::files::FileView::from(&row)))
    }

    /// Marks one of my notifications read (or unread).
    async fn mark_notification_read(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(default = true)] read: bool,
    ) -> Result<Notification> {
        let (state, me) = signed_in(ctx)?;
        let id = ids::notification(&id)?;
        Ok(crate::notifications::service::mark(state, me, id, read)
            .await?
            .into())
    }

    /// Marks all my notifications read; how many changed.
    async fn mark_all_notifications_read(&self, ctx: &Context<'_>) -> Result<u64> {
        let (state, me) = signed_in(ctx)?;
        Ok(crate::notifications::service::read_all(state, me).await?)
    }

    /// Forgets one of my notifications.
    async fn delete_notification(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let (state, me) = signed_in(ctx)?;
        crate::notifications::service::delete(state, me, ids::notification(&id)?).await?;
        Ok(true)
    }
}

async fn react(ctx: &Context<'_>, message: &ID, emoji: &str, on: bool) -> Result<Vec<Reaction>> {
    let (state, me) = signed_in(ctx)?;
    let message = ids::message(message)?;
    let (_, all) = chats::react(state, me.user_id, message, emoji, on).await?;
    Ok(all
        .into_iter()
        .map(|(emoji, r)| Reaction {
            emoji,
            count: r.count,
            me: r.me,
        })
        .collect())
}
