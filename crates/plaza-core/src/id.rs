//! Typed ids: UUIDv7 (time-ordered), stored and sent as text. A `ChatId` can
//! never be passed where a `UserId` goes.

/// Declares a typed id: a newtype over a UUIDv7 with serde, `Display` and
/// `FromStr` as the hyphenated text form (and sqlx binding with the `sqlx`
/// feature).
#[macro_export]
macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.as_hyphenated().fmt(f)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.as_hyphenated())
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }

        $crate::__typed_id_sqlx!($name);
    };
}

#[cfg(feature = "sqlx")]
#[doc(hidden)]
#[macro_export]
macro_rules! __typed_id_sqlx {
    ($name:ident) => {
        $crate::text_column!($name);
    };
}

#[cfg(not(feature = "sqlx"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __typed_id_sqlx {
    ($name:ident) => {};
}

typed_id!(
    /// A user account.
    UserId
);

typed_id!(
    /// A signed-in session: one device's chain of refresh tokens.
    SessionId
);

typed_id!(
    /// A stored file (an avatar, an attachment).
    FileId
);

typed_id!(
    /// A conversation: direct, group or channel.
    ChatId
);

typed_id!(
    /// One message in a chat.
    MessageId
);

typed_id!(
    /// A notification in someone's list.
    NotificationId
);

typed_id!(
    /// An admin-written notification template.
    TemplateId
);

typed_id!(
    /// A job in the durable queue.
    JobId
);

typed_id!(
    /// A domain event in the outbox.
    EventId
);

typed_id!(
    /// One meditation session of one person.
    MeditationId
);

typed_id!(
    /// A group meditation room.
    RoomId
);

typed_id!(
    /// One group session in a room (everyone who sat it together).
    RoundId
);

typed_id!(
    /// A marketplace project.
    ProjectId
);

typed_id!(
    /// A freelancer's response (proposal) to a project.
    ResponseId
);

typed_id!(
    /// A ledger account: a wallet, platform revenue, provider clearing, an escrow.
    AccountId
);

typed_id!(
    /// A ledger journal entry: postings that sum to zero per currency.
    EntryId
);

typed_id!(
    /// A payment: money asked of one user through a provider.
    PaymentId
);

typed_id!(
    /// A user-facing transaction: a payment, a refund or a payout.
    TransactionId
);

typed_id!(
    /// A workout or meal plan (seed 003).
    PlanId
);

typed_id!(
    /// A logged workout.
    WorkoutId
);

typed_id!(
    /// A logged meal.
    MealId
);

typed_id!(
    /// A body measurement.
    MeasurementId
);

typed_id!(
    /// A thread of messages with the AI coach.
    ConversationId
);

typed_id!(
    /// One message of a conversation with the coach.
    AiMessageId
);

typed_id!(
    /// A request to the coach: an answer or a plan, on the `ai` queue.
    AiRequestId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_time_ordered_and_round_trip_as_text() {
        let a = UserId::new();
        let b = UserId::new();
        assert!(a < b);
        let text = a.to_string();
        assert_eq!(text.len(), 36);
        assert_eq!(text.parse::<UserId>().unwrap(), a);
        assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{text}\""));
        assert!("not-an-id".parse::<UserId>().is_err());
    }
}
