//! Real-time events of a chat, published on the bus after the change
//! commits, on the topic `chat:<id>`, in seed 002's frame shape
//! `{"type": …, "data": {…}}`. Each event is serialised once, whoever and
//! however many receive it; the WebSocket hub fans them out to members.
//!
//! Delivery is at most once: a client that misses an event catches up by
//! `seq` (`after_seq` over REST, `resume` on the socket).

use bytes::Bytes;
use plaza_core::{ChatId, MessageId, UserId};
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

async fn publish<T: Serialize>(state: &AppState, chat: ChatId, kind: &str, data: T) {
    let payload = match serde_json::to_vec(&Frame { kind, data }) {
        Ok(p) => Bytes::from(p),
        Err(e) => {
            tracing::error!(error = %e, kind, "cannot encode a chat event");
            return;
        }
    };
    if let Err(e) = state.bus.publish(&topic(chat), payload).await {
        // Clients catch up by seq; the change itself is stored.
        tracing::warn!(error = %e, kind, chat_id = %chat, "cannot publish a chat event");
    }
}

pub async fn new_message(state: &AppState, m: &Message) {
    publish(state, m.chat_id, "new_message", m).await;
}

pub async fn edit_message(state: &AppState, m: &Message) {
    publish(state, m.chat_id, "edit_message", m).await;
}

pub async fn delete_message(state: &AppState, m: &Message) {
    let data = json!({"id": m.id, "chat_id": m.chat_id, "seq": m.seq});
    publish(state, m.chat_id, "delete_message", data).await;
}

pub async fn reaction(
    state: &AppState,
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
    publish(state, chat, kind, data).await;
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

pub async fn membership(state: &AppState, chats: &[ChatId], users: &[UserId], joined: bool) {
    let change = Membership {
        chat_ids: chats.to_vec(),
        user_ids: users.to_vec(),
        joined,
    };
    match serde_json::to_vec(&change) {
        Ok(payload) => {
            if let Err(e) = state
                .bus
                .publish(MEMBERSHIP_TOPIC, Bytes::from(payload))
                .await
            {
                tracing::warn!(error = %e, "cannot announce a membership change");
            }
        }
        Err(e) => tracing::error!(error = %e, "cannot encode a membership change"),
    }
}

/// Someone is typing; never stored.
pub async fn typing(state: &AppState, chat: ChatId, by: UserId) {
    publish(
        state,
        chat,
        "user_typing",
        json!({"chat_id": chat, "user_id": by}),
    )
    .await;
}

pub async fn read_receipt(state: &AppState, chat: ChatId, by: UserId, seq: i64) {
    publish(
        state,
        chat,
        "read_receipt",
        json!({"chat_id": chat, "user_id": by, "last_read_seq": seq}),
    )
    .await;
}
