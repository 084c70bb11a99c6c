//! What notifications are made of: channels, the known types with their
//! default channels, the notice a module sends, and what a person sees.

use std::collections::BTreeSet;

use plaza_core::{NotificationId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// Where a notification goes.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A row in `GET /api/notifications`.
    InApp,
    /// A `notification` event on the person's open sockets.
    Websocket,
    Email,
    /// Mobile push (`features.push_notifications`; no provider yet).
    Push,
}

impl Channel {
    pub const ALL: [Channel; 4] = [Self::InApp, Self::Websocket, Self::Email, Self::Push];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InApp => "in_app",
            Self::Websocket => "websocket",
            Self::Email => "email",
            Self::Push => "push",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Channels that are silent, so quiet hours do not hold them back.
    pub fn is_silent(self) -> bool {
        matches!(self, Self::InApp | Self::Websocket)
    }
}

/// A notification type plaza itself sends.
#[derive(Debug)]
pub struct Kind {
    pub name: &'static str,
    pub description: &'static str,
    pub defaults: &'static [Channel],
}

/// Types of modules; others (an admin's own) default to [`OTHER_DEFAULTS`].
pub const KINDS: &[Kind] = &[
    Kind {
        name: "user.registered",
        description: "Welcome, once the account exists (seed 003's welcome email)",
        defaults: &[Channel::InApp, Channel::Websocket, Channel::Email],
    },
    Kind {
        name: "project.response.created",
        description: "Someone responded to my project",
        defaults: &[Channel::InApp, Channel::Websocket, Channel::Email],
    },
    Kind {
        name: "project.response.accepted",
        description: "A response was accepted (mine, or one I accepted); names the chat opened",
        defaults: &[Channel::InApp, Channel::Websocket, Channel::Email],
    },
    Kind {
        name: "project.response.rejected",
        description: "My response was declined, or another was chosen",
        defaults: &[Channel::InApp, Channel::Websocket],
    },
    Kind {
        name: "escrow.funded",
        description: "A deal's money is in escrow (I paid it, or it waits for my work)",
        defaults: &[Channel::InApp, Channel::Websocket, Channel::Email],
    },
    Kind {
        name: "escrow.released",
        description: "A deal's money was released to the freelancer",
        defaults: &[Channel::InApp, Channel::Websocket, Channel::Email],
    },
    Kind {
        name: "escrow.refunded",
        description: "A cancelled deal's money went back to the client",
        defaults: &[Channel::InApp, Channel::Websocket, Channel::Email],
    },
    Kind {
        name: "payment.succeeded",
        description: "A payment of mine went through",
        defaults: &[Channel::InApp, Channel::Websocket],
    },
    Kind {
        name: "ai.answered",
        description: "The AI coach answered a question of mine",
        defaults: &[Channel::InApp, Channel::Websocket],
    },
    Kind {
        name: "ai.plan_ready",
        description: "A plan I asked the AI coach for is ready",
        defaults: &[Channel::InApp, Channel::Websocket],
    },
    Kind {
        name: "fitness.workout_reminder",
        description: "A training day of my plan with no workout logged yet, at my reminder time",
        defaults: &[Channel::InApp, Channel::Websocket, Channel::Push],
    },
    Kind {
        name: "fitness.weekly_report",
        description: "My week of training, on Monday morning",
        defaults: &[Channel::InApp, Channel::Websocket, Channel::Email],
    },
    Kind {
        name: "admin.announcement",
        description: "A message from the administrators",
        defaults: &[Channel::InApp, Channel::Websocket],
    },
];

pub const OTHER_DEFAULTS: &[Channel] = &[Channel::InApp, Channel::Websocket];

/// The channels a type goes to unless the person chose otherwise.
pub fn defaults(kind: &str) -> &'static [Channel] {
    KINDS
        .iter()
        .find(|k| k.name == kind)
        .map_or(OTHER_DEFAULTS, |k| k.defaults)
}

/// The channels `kind` goes to: someone's `chosen` `(type, channel,
/// enabled)` over the type's defaults.
pub fn channels(kind: &str, chosen: &[(String, String, bool)]) -> BTreeSet<Channel> {
    let mut on: BTreeSet<Channel> = defaults(kind).iter().copied().collect();
    for (t, channel, enabled) in chosen {
        let Some(channel) = Channel::parse(channel).filter(|_| t == kind) else {
            continue;
        };
        if *enabled {
            on.insert(channel);
        } else {
            on.remove(&channel);
        }
    }
    on
}

/// `user.registered`, `project.response.created`: dotted lower-case words.
pub fn valid_type(kind: &str) -> bool {
    !kind.is_empty()
        && kind.len() <= 64
        && kind.split('.').all(|part| {
            part.starts_with(|c: char| c.is_ascii_lowercase())
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

/// What a module (or an admin) wants someone told: either literal text or,
/// without it, the type's template rendered with `data`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default)]
    pub data: Value,
}

impl Notice {
    /// The type's template, rendered with `data`.
    pub fn template(kind: &str, data: Value) -> Self {
        Self {
            kind: kind.to_owned(),
            data,
            ..Self::default()
        }
    }
}

/// One notification as its owner sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    #[schema(value_type = String, format = Uuid)]
    pub id: NotificationId,
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub body: String,
    #[schema(value_type = Object)]
    pub data: Value,
    pub read: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub read_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// The person a delivery is for, as far as it needs to know them.
#[derive(Clone, Debug)]
pub struct Recipient {
    pub id: UserId,
    pub email: String,
    pub username: String,
    pub display_name: Option<String>,
    pub locale: String,
    pub timezone: String,
}
