//! One live socket as the hub sees it: who it is, and a bounded queue of
//! frames its writer task drains. Producers never wait on a client: when
//! the queue is full the connection is told to close instead.

use std::collections::VecDeque;
use std::sync::Mutex;

use axum::extract::ws::Utf8Bytes;
use plaza_core::{ChatId, SessionId, UserId};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// What the writer is asked to send.
#[derive(Debug)]
pub enum Out {
    /// An answer to this client (ack, error, pong) or a notice for it.
    Reply(Utf8Bytes),
    /// A chat event; `seq` is set for new messages, which the writer
    /// delivers in order and exactly once.
    Event {
        chat: ChatId,
        seq: Option<i64>,
        frame: Utf8Bytes,
    },
    /// Hold every chat's live events until [`Out::Settle`]: a new socket
    /// is attached at once, and what arrives before the client's first
    /// frame waits to be merged with a resume.
    HoldAll,
    /// The client's first frame came (or the wait ended): `resumed` chats
    /// keep holding until their backlog, the others' events flow.
    Settle { resumed: Vec<ChatId> },
    /// Hold `chat`'s live messages until its backlog arrives.
    Hold(ChatId),
    /// Stop holding `chat` (its resume failed), then send `reply`.
    Release { chat: ChatId, reply: Utf8Bytes },
    /// The messages of `chat` after `after`, oldest first, then
    /// `changes` (messages up to `after` edited, deleted or reacted to
    /// since the client left, as they are now), then `reply`.
    Backlog {
        chat: ChatId,
        after: i64,
        messages: Vec<(i64, Utf8Bytes)>,
        changes: Vec<Utf8Bytes>,
        reply: Utf8Bytes,
    },
}

/// Why and how a socket is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Close {
    pub code: u16,
    pub reason: &'static str,
}

impl Close {
    pub const SHUTDOWN: Self = Self {
        code: 1001,
        reason: "server shutting down; reconnect and resume",
    };
    pub const DEAD: Self = Self {
        code: 1001,
        reason: "no answer to pings",
    };
    pub const SESSION_ENDED: Self = Self {
        code: 1008,
        reason: "session ended",
    };
    pub const TOKEN_EXPIRED: Self = Self {
        code: 4001,
        reason: "access token expired; refresh it and reconnect",
    };
    pub const TOO_SLOW: Self = Self {
        code: 1013,
        reason: "too slow: send queue full; reconnect and resume",
    };
    pub const TOO_BIG: Self = Self {
        code: 1009,
        reason: "frame too large",
    };
    pub const NORMAL: Self = Self {
        code: 1000,
        reason: "",
    };
}

#[derive(Debug, Default)]
struct Outbound {
    queue: VecDeque<Out>,
    close: Option<Close>,
    /// An answer the client waits for is queued: write without lingering.
    urgent: bool,
    /// The writer is gathering events and wants waking only for answers.
    lingering: bool,
}

#[derive(Debug)]
pub struct Conn {
    pub id: u64,
    pub user: UserId,
    pub session: SessionId,
    capacity: usize,
    outbound: Mutex<Outbound>,
    wake: Notify,
    /// Cancelled once the socket is done, to stop whichever task is left.
    pub gone: CancellationToken,
    /// The chats whose live events this socket receives.
    rooms: Mutex<Vec<ChatId>>,
}

impl Conn {
    pub fn new(id: u64, user: UserId, session: SessionId, capacity: usize) -> Self {
        Self {
            id,
            user,
            session,
            capacity,
            outbound: Mutex::new(Outbound::default()),
            wake: Notify::new(),
            gone: CancellationToken::new(),
            rooms: Mutex::new(Vec::new()),
        }
    }

    /// Records that this socket now receives `chat`; false if it already did.
    pub fn enter(&self, chat: ChatId) -> bool {
        let mut rooms = self
            .rooms
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if rooms.contains(&chat) {
            return false;
        }
        rooms.push(chat);
        true
    }

    pub fn leave(&self, chat: ChatId) {
        let mut rooms = self
            .rooms
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        rooms.retain(|c| *c != chat);
    }

    pub fn rooms(&self) -> Vec<ChatId> {
        self.rooms
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn outbound(&self) -> std::sync::MutexGuard<'_, Outbound> {
        self.outbound
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues `out`; false when the client is too slow and is now closing.
    pub fn push(&self, out: Out) -> bool {
        let mut outbound = self.outbound();
        if outbound.close.is_some() {
            return false;
        }
        if outbound.queue.len() >= self.capacity {
            outbound.close = Some(Close::TOO_SLOW);
            outbound.lingering = false;
            outbound.queue.clear();
            drop(outbound);
            metrics::counter!("plaza_ws_slow_disconnects_total").increment(1);
            self.wake.notify_one();
            return false;
        }
        let answer = !matches!(out, Out::Event { .. });
        outbound.urgent |= answer;
        let wake = answer || !outbound.lingering;
        outbound.queue.push_back(out);
        drop(outbound);
        if wake {
            self.wake.notify_one();
        }
        true
    }

    /// Asks the writer to close the socket (the first reason wins).
    pub fn close(&self, why: Close) {
        let mut outbound = self.outbound();
        if outbound.close.is_none() {
            outbound.close = Some(why);
        }
        outbound.lingering = false;
        drop(outbound);
        self.wake.notify_one();
    }

    /// Moves everything queued into `into`, with the close reason if any.
    pub fn take(&self, into: &mut Vec<Out>) -> Option<Close> {
        let mut outbound = self.outbound();
        outbound.urgent = false;
        outbound.lingering = false;
        into.extend(outbound.queue.drain(..));
        // A burst should not pin its peak allocation for the socket's life.
        if outbound.queue.capacity() > 32 {
            outbound.queue.shrink_to(8);
        }
        outbound.close
    }

    /// Starts gathering events without being woken for each; false (and
    /// no lingering) when an answer or a close is already waiting.
    pub fn linger(&self) -> bool {
        let mut outbound = self.outbound();
        outbound.lingering = !(outbound.urgent || outbound.close.is_some());
        outbound.lingering
    }

    /// Until something is queued or a close is asked for.
    pub async fn woken(&self) {
        self.wake.notified().await;
    }
}
