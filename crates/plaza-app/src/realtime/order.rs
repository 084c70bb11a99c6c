//! The writer's bookkeeping that makes delivery exactly-once and in order
//! per chat: which message seqs this socket has been sent, and which chats
//! are held while a `resume` backlog is read (all of them, from the moment
//! a socket is attached until the client's first frame, so a resume sent
//! first merges with what arrived meanwhile).
//!
//! Live messages reach a socket contiguously (the hub fills gaps before
//! fanning out), so per chat a single range `lo..=hi` of delivered seqs is
//! enough: a resume sends what lies outside it, live events inside it are
//! duplicates.

use std::collections::HashMap;

use axum::extract::ws::Utf8Bytes;
use plaza_core::ChatId;

use super::conn::Out;

#[derive(Debug, Default)]
pub struct Order {
    /// Per chat with traffic on this socket; a few, so a list beats hashing.
    delivered: Vec<(ChatId, (i64, i64))>,
    held: HashMap<ChatId, Vec<(Option<i64>, Utf8Bytes)>>,
    /// Every event since [`Out::HoldAll`], in arrival order, until
    /// [`Out::Settle`].
    early: Option<Vec<(ChatId, Option<i64>, Utf8Bytes)>>,
}

impl Order {
    /// Turns one queued item into the frames to write now.
    pub fn apply(&mut self, out: Out, ready: &mut Vec<Utf8Bytes>) {
        match out {
            Out::Reply(frame) => ready.push(frame),
            Out::Event { chat, seq, frame } => {
                if let Some(early) = &mut self.early {
                    early.push((chat, seq, frame));
                } else if let Some(held) = self.held.get_mut(&chat) {
                    held.push((seq, frame));
                } else {
                    self.live(chat, seq, frame, ready);
                }
            }
            Out::HoldAll => {
                self.early.get_or_insert_default();
            }
            Out::Settle { resumed } => {
                for chat in &resumed {
                    self.held.entry(*chat).or_default();
                }
                for (chat, seq, frame) in self.early.take().unwrap_or_default() {
                    self.apply(Out::Event { chat, seq, frame }, ready);
                }
            }
            Out::Hold(chat) => {
                self.held.entry(chat).or_default();
            }
            Out::Release { chat, reply } => {
                ready.push(reply);
                for (seq, frame) in self.held.remove(&chat).unwrap_or_default() {
                    self.live(chat, seq, frame, ready);
                }
            }
            Out::Backlog {
                chat,
                after,
                messages,
                changes,
                reply,
            } => {
                let held = self.held.remove(&chat).unwrap_or_default();
                let known = self.range(chat).copied();
                let mut top = after;
                for (seq, frame) in messages {
                    if !known.is_some_and(|(lo, hi)| (lo..=hi).contains(&seq)) {
                        ready.push(frame);
                    }
                    top = top.max(seq);
                }
                // The client now has everything up to `top` from `after`
                // on, and the live range joins it (it began after the
                // socket registered, before the backlog was read).
                let range = match known {
                    Some((lo, hi)) => (lo.min(after + 1), hi.max(top)),
                    None => (after + 1, top),
                };
                match self.range(chat) {
                    Some(r) => *r = range,
                    None => self.delivered.push((chat, range)),
                }
                ready.extend(changes);
                ready.push(reply);
                for (seq, frame) in held {
                    self.live(chat, seq, frame, ready);
                }
            }
        }
    }

    fn live(
        &mut self,
        chat: ChatId,
        seq: Option<i64>,
        frame: Utf8Bytes,
        ready: &mut Vec<Utf8Bytes>,
    ) {
        let Some(seq) = seq else {
            ready.push(frame);
            return;
        };
        match self.range(chat) {
            Some((lo, hi)) if (*lo..=*hi).contains(&seq) => {}
            Some((lo, hi)) => {
                // After the range (the usual case) it extends it; anything
                // else (a re-joined room) starts a new one.
                if seq != *hi + 1 {
                    *lo = seq;
                }
                *hi = seq;
                ready.push(frame);
            }
            None => {
                self.delivered.push((chat, (seq, seq)));
                ready.push(frame);
            }
        }
    }

    fn range(&mut self, chat: ChatId) -> Option<&mut (i64, i64)> {
        self.delivered
            .iter_mut()
            .find(|(c, _)| *c == chat)
            .map(|(_, r)| r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seq: i64) -> Utf8Bytes {
        Utf8Bytes::from(seq.to_string())
    }

    fn event(chat: ChatId, seq: i64) -> Out {
        Out::Event {
            chat,
            seq: Some(seq),
            frame: frame(seq),
        }
    }

    fn backlog(chat: ChatId, after: i64, seqs: std::ops::RangeInclusive<i64>) -> Out {
        Out::Backlog {
            chat,
            after,
            messages: seqs.map(|s| (s, frame(s))).collect(),
            changes: Vec::new(),
            reply: Utf8Bytes::from_static("ack"),
        }
    }

    fn run(items: Vec<Out>) -> Vec<String> {
        let mut order = Order::default();
        let mut ready = Vec::new();
        for item in items {
            order.apply(item, &mut ready);
        }
        ready.iter().map(|f| f.as_str().to_owned()).collect()
    }

    fn seqs(range: std::ops::RangeInclusive<i64>) -> Vec<String> {
        range.map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_held_chat_gets_its_backlog_first_then_live_without_duplicates() {
        let chat = ChatId::new();
        let got = run(vec![
            Out::Hold(chat),
            event(chat, 8),
            event(chat, 9),
            backlog(chat, 5, 6..=8),
            event(chat, 10),
        ]);
        let mut want = seqs(6..=8);
        want.push("ack".into());
        want.extend(seqs(9..=10));
        assert_eq!(got, want);
    }

    #[test]
    fn live_messages_sent_before_a_resume_are_not_repeated_and_the_rest_is_filled() {
        let chat = ChatId::new();
        let got = run(vec![
            event(chat, 9),
            event(chat, 10),
            Out::Hold(chat),
            backlog(chat, 5, 6..=11),
            event(chat, 11),
            event(chat, 12),
        ]);
        let mut want = seqs(9..=10);
        want.extend(seqs(6..=8));
        want.push("11".into());
        want.push("ack".into());
        want.push("12".into());
        assert_eq!(got, want);
    }

    #[test]
    fn other_chats_and_unsequenced_events_flow_while_one_is_held() {
        let (held, other) = (ChatId::new(), ChatId::new());
        let got = run(vec![
            Out::Hold(held),
            event(held, 3),
            event(other, 1),
            Out::Event {
                chat: held,
                seq: None,
                frame: Utf8Bytes::from_static("typing"),
            },
            Out::Reply(Utf8Bytes::from_static("pong")),
            backlog(held, 2, 3..=3),
        ]);
        assert_eq!(got, ["1", "pong", "3", "ack", "typing"]);
    }

    #[test]
    fn events_before_the_first_frame_wait_and_merge_with_its_resume() {
        let (resumed, other) = (ChatId::new(), ChatId::new());
        let got = run(vec![
            Out::HoldAll,
            Out::Reply(Utf8Bytes::from_static("ready")),
            event(resumed, 8),
            event(other, 1),
            event(resumed, 9),
            Out::Settle {
                resumed: vec![resumed],
            },
            Out::Hold(resumed),
            event(other, 2),
            backlog(resumed, 5, 6..=9),
            event(resumed, 10),
        ]);
        let mut want = vec!["ready".to_owned(), "1".into(), "2".into()];
        want.extend(seqs(6..=9));
        want.push("ack".into());
        want.push("10".into());
        assert_eq!(got, want, "contiguous, each once, the backlog first");
    }

    #[test]
    fn without_a_resume_the_early_events_flow_in_order_once_settled() {
        let chat = ChatId::new();
        let got = run(vec![
            Out::HoldAll,
            event(chat, 1),
            event(chat, 2),
            Out::Settle {
                resumed: Vec::new(),
            },
            event(chat, 3),
        ]);
        assert_eq!(got, seqs(1..=3));
    }

    #[test]
    fn a_resume_from_beyond_what_was_sent_suppresses_older_live_messages() {
        let chat = ChatId::new();
        let got = run(vec![
            Out::Hold(chat),
            backlog(chat, 20, 21..=21),
            event(chat, 21),
            event(chat, 22),
        ]);
        assert_eq!(got, ["21", "ack", "22"]);
    }
}
