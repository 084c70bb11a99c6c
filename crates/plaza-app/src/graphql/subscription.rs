//! Subscriptions, over `graphql-transport-ws` (and the older
//! `subscriptions-transport-ws`) at `/graphql`. Each reads a live feed of
//! the hub — the connection `/ws` uses, with its ordering and resume — and
//! picks the events it names. A subscription that ends because its
//! session was revoked, its token expired or the node is stopping sends
//! one error saying so, then completes.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Json, Result, SimpleObject, Subscription};
use futures_util::Stream;
use plaza_core::ChatId;
use serde_json::Value;

use super::context::signed_in;
use super::ids;
use super::shared::{self, Shape, Shared};
use super::types::Message;
use crate::http::ApiError;
use crate::http::error::codes;
use crate::realtime::Close;
use crate::realtime::feed::{self, Feed, Item, Rooms};

#[derive(Default)]
pub struct Subscription;

/// Where a resuming subscriber left a chat.
#[derive(InputObject)]
pub struct ChatSeq {
    pub chat_id: ID,
    /// The last seq seen; what came after is sent first, in order.
    pub last_seq: i64,
}

/// A deleted message (its tombstone).
#[derive(SimpleObject)]
pub struct DeletedMessage {
    pub id: ID,
    pub chat_id: ID,
    pub seq: i64,
}

/// A reaction added or taken back, with the message's counts now.
#[derive(SimpleObject)]
pub struct ReactionChange {
    pub message_id: ID,
    pub chat_id: ID,
    pub user_id: ID,
    pub emoji: String,
    pub added: bool,
    pub counts: Vec<ReactionCount>,
}

#[derive(SimpleObject)]
pub struct ReactionCount {
    pub emoji: String,
    pub count: i64,
}

/// Someone in a chat of mine is typing.
#[derive(SimpleObject)]
pub struct Typing {
    pub chat_id: ID,
    pub user_id: ID,
}

/// Someone I share a direct chat with came online or went offline.
#[derive(SimpleObject)]
pub struct Presence {
    pub user_id: ID,
    pub online: bool,
    pub at: String,
}

/// A member moved their read marker.
#[derive(SimpleObject)]
pub struct ReadReceipt {
    pub chat_id: ID,
    pub user_id: ID,
    pub last_read_seq: i64,
}

/// A new notification; `id` is null for one sent to sockets only.
#[derive(SimpleObject)]
pub struct NotificationEvent {
    pub id: Option<ID>,
    #[graphql(name = "type")]
    pub kind: String,
    pub title: String,
    pub body: String,
    pub data: Json<Value>,
    pub created_at: String,
}

#[Subscription]
impl Subscription {
    /// New messages in one chat of mine, or all of them. With `chatId`
    /// and `lastSeq` (or `resume` for several chats), what came after is
    /// sent first, in order, without duplicates.
    async fn message_added<'a>(
        &self,
        ctx: &Context<'a>,
        chat_id: Option<ID>,
        last_seq: Option<i64>,
        #[graphql(default)] resume: Vec<ChatSeq>,
    ) -> Result<impl Stream<Item = Result<Shared<Message>>> + use<'a>> {
        let only = chat_id.as_ref().map(ids::chat).transpose()?;
        let mut from = Vec::new();
        match (only, last_seq) {
            (Some(chat), Some(seq)) => from.push((chat, seq)),
            (None, Some(_)) => {
                return Err(ApiError::invalid_field(
                    "lastSeq",
                    "give chatId with it, or use resume",
                )
                .into());
            }
            _ => {}
        }
        for r in &resume {
            from.push((ids::chat(&r.chat_id)?, r.last_seq));
        }
        let feed = open(ctx, only, &from).await?;
        Ok(events(
            feed,
            only,
            &["new_message"],
            |kind, data| match kind {
                "new_message" => message(data).map(Message),
                _ => None,
            },
        ))
    }

    /// Edited messages (one chat, or all of mine).
    async fn message_edited<'a>(
        &self,
        ctx: &Context<'a>,
        chat_id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<Shared<Message>>> + use<'a>> {
        let only = chat_id.as_ref().map(ids::chat).transpose()?;
        let feed = open(ctx, only, &[]).await?;
        Ok(events(
            feed,
            only,
            &["edit_message"],
            |kind, data| match kind {
                "edit_message" => message(data).map(Message),
                _ => None,
            },
        ))
    }

    /// Deleted messages (one chat, or all of mine).
    async fn message_deleted<'a>(
        &self,
        ctx: &Context<'a>,
        chat_id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<Shared<DeletedMessage>>> + use<'a>> {
        let only = chat_id.as_ref().map(ids::chat).transpose()?;
        let feed = open(ctx, only, &[]).await?;
        Ok(events(
            feed,
            only,
            &["delete_message"],
            |kind, data| match kind {
                "delete_message" => Some(DeletedMessage {
                    id: id(&data, "id")?,
                    chat_id: id(&data, "chat_id")?,
                    seq: data.get("seq")?.as_i64()?,
                }),
                _ => None,
            },
        ))
    }

    /// Reactions added or taken back (one chat, or all of mine).
    async fn reaction_changed<'a>(
        &self,
        ctx: &Context<'a>,
        chat_id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<Shared<ReactionChange>>> + use<'a>> {
        let only = chat_id.as_ref().map(ids::chat).transpose()?;
        let feed = open(ctx, only, &[]).await?;
        Ok(events(
            feed,
            only,
            &["new_reaction", "remove_reaction"],
            |kind, data| {
                let added = match kind {
                    "new_reaction" => true,
                    "remove_reaction" => false,
                    _ => return None,
                };
                let counts = data
                    .get("counts")?
                    .as_object()?
                    .iter()
                    .filter_map(|(emoji, n)| {
                        Some(ReactionCount {
                            emoji: emoji.clone(),
                            count: n.as_i64()?,
                        })
                    })
                    .collect();
                Some(ReactionChange {
                    message_id: id(&data, "message_id")?,
                    chat_id: id(&data, "chat_id")?,
                    user_id: id(&data, "user_id")?,
                    emoji: data.get("emoji")?.as_str()?.to_owned(),
                    added,
                    counts,
                })
            },
        ))
    }

    /// Who is typing in a chat of mine.
    async fn typing<'a>(
        &self,
        ctx: &Context<'a>,
        chat_id: ID,
    ) -> Result<impl Stream<Item = Result<Shared<Typing>>> + use<'a>> {
        let only = Some(ids::chat(&chat_id)?);
        let feed = open(ctx, only, &[]).await?;
        Ok(events(
            feed,
            only,
            &["user_typing"],
            |kind, data| match kind {
                "user_typing" => Some(Typing {
                    chat_id: id(&data, "chat_id")?,
                    user_id: id(&data, "user_id")?,
                }),
                _ => None,
            },
        ))
    }

    /// Read markers moved (one chat, or all of mine).
    async fn read_receipt<'a>(
        &self,
        ctx: &Context<'a>,
        chat_id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<Shared<ReadReceipt>>> + use<'a>> {
        let only = chat_id.as_ref().map(ids::chat).transpose()?;
        let feed = open(ctx, only, &[]).await?;
        Ok(events(
            feed,
            only,
            &["read_receipt"],
            |kind, data| match kind {
                "read_receipt" => Some(ReadReceipt {
                    chat_id: id(&data, "chat_id")?,
                    user_id: id(&data, "user_id")?,
                    last_read_seq: data.get("last_read_seq")?.as_i64()?,
                }),
                _ => None,
            },
        ))
    }

    /// People I share a direct chat with coming online and going offline.
    async fn presence<'a>(
        &self,
        ctx: &Context<'a>,
    ) -> Result<impl Stream<Item = Result<Shared<Presence>>> + use<'a>> {
        let feed = open_personal(ctx).await?;
        Ok(events(
            feed,
            None,
            &["user_online", "user_offline"],
            |kind, data| {
                let online = match kind {
                    "user_online" => true,
                    "user_offline" => false,
                    _ => return None,
                };
                Some(Presence {
                    user_id: id(&data, "user_id")?,
                    online,
                    at: data.get("at")?.as_str()?.to_owned(),
                })
            },
        ))
    }

    /// My new notifications, as they are delivered.
    async fn notification_added<'a>(
        &self,
        ctx: &Context<'a>,
    ) -> Result<impl Stream<Item = Result<Shared<NotificationEvent>>> + use<'a>> {
        let feed = open_personal(ctx).await?;
        Ok(events(
            feed,
            None,
            &["notification"],
            |kind, data| match kind {
                "notification" => {
                    let text =
                        |name: &str| data.get(name).and_then(Value::as_str).map(str::to_owned);
                    Some(NotificationEvent {
                        id: text("id").map(ID),
                        kind: text("type")?,
                        title: text("title").unwrap_or_default(),
                        body: text("body").unwrap_or_default(),
                        created_at: text("created_at")?,
                        data: Json(data.get("data").cloned().unwrap_or(Value::Null)),
                    })
                }
                _ => None,
            },
        ))
    }
}

/// A feed of `only` (or of every chat of the caller), after checking they
/// may watch it.
async fn open(ctx: &Context<'_>, only: Option<ChatId>, resume: &[(ChatId, i64)]) -> Result<Live> {
    let (state, me) = signed_in(ctx)?;
    let rooms = match only {
        Some(chat) => {
            crate::chat::service::may_watch(state, chat, me.user_id).await?;
            if resume.iter().any(|(c, _)| *c != chat) {
                let e = ApiError::invalid_field("resume", "resume only the chat subscribed to");
                return Err(e.into());
            }
            Rooms::One(chat)
        }
        None => Rooms::All,
    };
    let feed = feed::open(state, me, rooms, resume).await?;
    Ok(Live::of(ctx, feed))
}

/// A feed of what is addressed to the caller alone.
async fn open_personal(ctx: &Context<'_>) -> Result<Live> {
    let (state, me) = signed_in(ctx)?;
    let feed = feed::open(state, me, Rooms::None, &[]).await?;
    Ok(Live::of(ctx, feed))
}

/// A subscriber's feed, and the shape of what it asked for.
struct Live {
    feed: Feed,
    shape: Option<Arc<Shape>>,
}

impl Live {
    fn of(ctx: &Context<'_>, feed: Feed) -> Self {
        let shape = ctx.data_opt::<Arc<Shape>>().cloned();
        Self { feed, shape }
    }
}

/// The feed's frames of `only` (or of every chat) of one of `kinds` that
/// `pick` takes, and one error when the feed ends for a reason the client
/// should act on. A busy chat's events reach many subscribers: frames are
/// told apart by their text before any is parsed, and one parsed is
/// shared by the subscribers on its thread (see [`parsed`]).
fn events<T, F>(
    live: Live,
    only: Option<ChatId>,
    kinds: &'static [&'static str],
    pick: F,
) -> impl Stream<Item = Result<Shared<T>>>
where
    T: Send + Sync + 'static,
    F: Fn(&str, Value) -> Option<T> + Send + Sync + 'static,
{
    // A feed of one chat also receives the chats its user joins while it
    // is open; their frames are told apart by the id in the text.
    let only =
        only.map(|c| memchr::memmem::Finder::new(&format!(r#""chat_id":"{c}""#)).into_owned());
    let Live { feed, shape } = live;
    futures_util::stream::unfold(
        (feed, pick, only, shape),
        move |(mut feed, pick, only, shape)| async move {
            loop {
                match feed.next().await? {
                    Item::Frame(text) => {
                        let Some(kind) = kind_of(&text).filter(|k| kinds.contains(k)) else {
                            continue;
                        };
                        if only
                            .as_ref()
                            .is_some_and(|chat| chat.find(text.as_bytes()).is_none())
                        {
                            continue;
                        }
                        let event = shared::parsed(&text, shape.as_ref(), || {
                            let frame = serde_json::from_str::<Frame>(&text).ok()?;
                            pick(kind, frame.data)
                        });
                        if let Some(event) = event {
                            return Some((Ok(event), (feed, pick, only, shape)));
                        }
                    }
                    Item::Closed(close) => {
                        let e = ended(close)?;
                        return Some((Err(e.into()), (feed, pick, only, shape)));
                    }
                }
            }
        },
    )
}

/// A frame's `type`, read from its text (`{"type":"…",…}`, as plaza
/// writes every frame).
fn kind_of(text: &str) -> Option<&str> {
    let rest = text.strip_prefix(r#"{"type":""#)?;
    rest.split('"').next()
}

#[derive(serde::Deserialize)]
struct Frame {
    #[serde(default)]
    data: Value,
}

/// The error a subscription ends with, when the client should act on why.
fn ended(close: Close) -> Option<ApiError> {
    let (code, message) = match close {
        Close::SESSION_ENDED => (
            codes::AUTH_TOKEN_INVALID,
            "the session ended; sign in again",
        ),
        Close::TOKEN_EXPIRED => (
            codes::AUTH_TOKEN_INVALID,
            "the access token expired; refresh it and subscribe again",
        ),
        Close::SHUTDOWN => (
            codes::SERVER_SHUTTING_DOWN,
            "the server is shutting down; subscribe again (with lastSeq) to resume",
        ),
        Close::TOO_SLOW => (
            codes::SERVER_UNAVAILABLE,
            "too slow: events queued past the limit; subscribe again with lastSeq to resume",
        ),
        _ => return None,
    };
    Some(ApiError::new(code, message))
}

fn message(data: Value) -> Option<crate::chat::model::Message> {
    serde_json::from_value(data).ok()
}

fn id(data: &Value, name: &str) -> Option<ID> {
    data.get(name)?.as_str().map(|s| ID(s.to_owned()))
}
