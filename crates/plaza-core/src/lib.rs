//! Types every part of plaza shares, and nothing heavy: typed ids, validated
//! newtypes, timestamps and the clock. No HTTP, no SQL beyond the optional
//! `sqlx` feature that lets these types bind to queries.

pub mod clock;
pub mod email;
pub mod id;
pub mod money;
#[cfg(feature = "sqlx")]
mod sql;
pub mod text;
pub mod time;
pub mod user;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use email::{Email, EmailError};
pub use id::{
    AccountId, AiMessageId, AiRequestId, ChatId, ConversationId, EntryId, EventId, FileId, JobId,
    MealId, MeasurementId, MeditationId, MessageId, NotificationId, PaymentId, PlanId, ProjectId,
    ResponseId, RoomId, RoundId, SessionId, TemplateId, TransactionId, UserId, WorkoutId,
};
pub use money::{Currency, CurrencyError, Money, MoneyError};
pub use time::Timestamp;
pub use user::{DisplayName, DisplayNameError, Role, RoleError, Username, UsernameError};
