//! Real-time events of a chat, published on the bus once the change
//! commits (through the unit of work), on the topic `chat:<id>`, in seed
//! 002's frame shape `{"type": …, "data": {…}}`. Each event is serialised
//! once, whoever and however many receive it; the WebSocket hub fans them
//! out to members.
//!
//! Delivery is at most once: a client that misses an event catches up by
//! `seq` (`after_seq` over REST, `resume` on the socket).

use bytes::Bytes;
use plaza_core::{ChatId, MessageId, UserId};
use plaza_platform::Work;
use serde::Serialize;
use serde_json::json;

use super::model::Message;
use super::reactions::Reactions;
use crate::state::AppState;

/// The bus topic of a chat's events.
pub fn topic(chat: ChatId) -> String {
    format!("chat:{chat}")
}

/// Seed 002's frame.
#[derive(Serialize)]
pub struct Frame<'a, T: Serialize> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub data: T,
}

fn encode<T: Serialize>(kind: &str, data: T) -> Option<Bytes> {
    match serde_json::to_vec(&Frame { kind, data }) {
        Ok(p) => Some(Bytes::from(p)),
        Err(e) => {
            tracing::error!(error = %e, kind, "cannot encode a chat event");
            None
        }
    }
}

/// Publishes the frame once `work` commits. At most once: clients catch up
/// by seq; the change itself is stored.
fn publish<T: Serialize>(work: &mut Work<'_>, chat: ChatId, kind: &str, data: T) {
    if let Some(payload) = encode(kind, data) {
        work.publish(topic(chat), payload);
    }
}

pub fn new_message(work: &mut Work<'_>, m: &Message) {
    publish(work, m.chat_id, "new_message", m);
}

pub fn edit_message(work: &mut Work<'_>, m: &Message) {
    publish(work, m.chat_id, "edit_message", m);
}

pub fn delete_message(work: &mut Work<'_>, m: &Message) {
    let data = json!({"id": m.id, "chat_id": m.chat_id, "seq": m.seq});
    publish(work, m.chat_id, "delete_message", data);
}

pub fn reaction(
    work: &mut Work<'_>,
    chat: ChatId,
    message: MessageId,
    by: UserId,
    emoji: &str,
    added: bool,
    all: &Reactions,
) {
    let kind = if added {
        "new_reaction"
    } else {
        "remove_reaction"
    };
    // Counts only: whether "I" reacted differs per recipient.
    let counts: serde_json::Map<String, serde_json::Value> = all
        .iter()
        .map(|(e, r)| (e.clone(), json!(r.count)))
        .collect();
    let data = json!({"message_id": message, "chat_id": chat, "user_id": by, "emoji": emoji, "counts": counts});
    publish(work, chat, kind, data);
}

/// Bus topic on which every node's hub learns who joined or left which
/// chats, so their live connections start or stop receiving them.
pub const MEMBERSHIP_TOPIC: &str = "chat.membership";

#[derive(Serialize, serde::Deserialize)]
pub struct Membership {
    pub chat_ids: Vec<ChatId>,
    pub user_ids: Vec<UserId>,
    pub joined: bool,
}

/// Tells every node's hub, once `work` commits, that `users` joined or
/// left `chats`.
pub fn membership(work: &mut Work<'_>, chats: &[ChatId], users: &[UserId], joined: bool) {
    let change = Membership {
        chat_ids: chats.to_vec(),
        user_ids: users.to_vec(),
        joined,
    };
    match serde_json::to_vec(&change) {
        Ok(payload) => work.publish(MEMBERSHIP_TOPIC, Bytes::from(payload)),
        Err(e) => tracing::error!(error = %e, "cannot encode a membership change"),
    }
}

/// Someone is typing: never stored, so published at once.
pub async fn typing(state: &AppState, chat: ChatId, by: UserId) {
    let data = json!({"chat_id": chat, "user_id": by});
    let Some(payload) = encode("user_typing", data) else {
        return;
    };
    if let Err(e) = state.bus.publish(&topic(chat), payload).await {
        tracing::warn!(error = %e, chat_id = %chat, "cannot publish a typing signal");
    }
}

pub fn read_receipt(work: &mut Work<'_>, chat: ChatId, by: UserId, seq: i64) {
    let data = json!({"chat_id": chat, "user_id": by, "last_read_seq": seq});
    publish(work, chat, "read_receipt", data);
}
