//! Notifications' use cases: a person's list, marking and forgetting,
//! subscriptions and quiet hours, and an admin sending to people.

use std::collections::BTreeMap;

use plaza_core::{NotificationId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{NotificationsError, invalid};
use super::model::{Channel, KINDS, Notice, Notification, valid_type};
use super::store;
use crate::http::{AdminUser, AuthUser};
use crate::state::AppState;
use crate::users;

/// A page of someone's notifications, and how many are unread in all.
#[derive(Debug)]
pub struct Page {
    pub items: Vec<Notification>,
    pub unread: i64,
    pub has_more: bool,
}

/// One type's channels for one person.
#[derive(Debug, Serialize, ToSchema)]
pub struct TypeSubscription {
    #[serde(rename = "type")]
    pub kind: String,
    pub description: Option<&'static str>,
    /// `{"in_app": true, "websocket": true, "email": false, "push": false}`.
    pub channels: BTreeMap<Channel, bool>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// `"22:00"`, in my time zone (my profile's `timezone`).
    pub start: String,
    /// `"07:00"`; before `start` means the window spans midnight.
    pub end: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Subscriptions {
    pub types: Vec<TypeSubscription>,
    /// Mail and push wait until they end; in-app and socket
    /// notifications, being silent, do not.
    pub quiet_hours: Option<QuietHours>,
    pub time_zone: String,
}

/// A change to someone's subscriptions: only the channels named change;
/// `Some(None)` turns quiet hours off.
#[derive(Debug, Default)]
pub struct SubscriptionChange {
    pub types: BTreeMap<String, BTreeMap<Channel, bool>>,
    pub quiet_hours: Option<Option<QuietHours>>,
}

/// What an admin sends: recipients' ids, a type, and literal wording or
/// the type's template rendered with `data`.
#[derive(Debug)]
pub struct Send {
    pub to: Vec<String>,
    pub kind: String,
    pub title: Option<String>,
    pub body: Option<String>,
    pub data: serde_json::Value,
}

/// Recipients per send.
const MAX_RECIPIENTS: usize = 1000;

/// Mine, newest first; only unread ones if asked, older than `before`
/// (the last id of the previous page).
#[tracing::instrument(skip(state, me))]
pub async fn list(
    state: &AppState,
    me: AuthUser,
    unread_only: bool,
    before: Option<&str>,
    limit: i64,
) -> Result<Page, NotificationsError> {
    let before = before
        .map(|b| b.parse::<NotificationId>())
        .transpose()
        .map_err(|_| invalid("before", "not a notification id"))?;
    let mut conn = state.db.reader().acquire().await?;
    let mut items = store::list(&mut conn, me.user_id, unread_only, before, limit).await?;
    let has_more = items.len() as i64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let unread = store::unread_count(&mut conn, me.user_id).await?;
    Ok(Page {
        items,
        unread,
        has_more,
    })
}

/// How many of mine are unread (for a badge).
#[tracing::instrument(skip_all)]
pub async fn unread_count(state: &AppState, me: AuthUser) -> Result<i64, NotificationsError> {
    let mut conn = state.db.reader().acquire().await?;
    Ok(store::unread_count(&mut conn, me.user_id).await?)
}

/// Marks one of mine read or unread.
#[tracing::instrument(skip(state, me))]
pub async fn mark(
    state: &AppState,
    me: AuthUser,
    id: NotificationId,
    read: bool,
) -> Result<Notification, NotificationsError> {
    let mut conn = state.db.writer().acquire().await?;
    if !store::set_read(&mut conn, me.user_id, id, read, state.clock.now()).await? {
        return Err(NotificationsError::NotFound);
    }
    store::find(&mut conn, me.user_id, id)
        .await?
        .ok_or(NotificationsError::NotFound)
}

/// Forgets one of mine.
#[tracing::instrument(skip(state, me))]
pub async fn delete(
    state: &AppState,
    me: AuthUser,
    id: NotificationId,
) -> Result<(), NotificationsError> {
    let mut conn = state.db.writer().acquire().await?;
    if store::delete(&mut conn, me.user_id, id).await? {
        Ok(())
    } else {
        Err(NotificationsError::NotFound)
    }
}

/// Marks all of mine read; how many were unread.
#[tracing::instrument(skip_all)]
pub async fn read_all(state: &AppState, me: AuthUser) -> Result<u64, NotificationsError> {
    let mut conn = state.db.writer().acquire().await?;
    Ok(store::read_all(&mut conn, me.user_id, state.clock.now()).await?)
}

/// What I am told, and how.
#[tracing::instrument(skip_all)]
pub async fn subscriptions(
    state: &AppState,
    me: AuthUser,
) -> Result<Subscriptions, NotificationsError> {
    let mut conn = state.db.reader().acquire().await?;
    subscriptions_of(&mut conn, me.user_id).await
}

/// Changes some of my subscriptions; all of them as they are now.
#[tracing::instrument(skip_all)]
pub async fn update_subscriptions(
    state: &AppState,
    me: AuthUser,
    change: SubscriptionChange,
) -> Result<Subscriptions, NotificationsError> {
    for kind in change.types.keys() {
        if !valid_type(kind) {
            return Err(invalid(
                format!("types.{kind}"),
                "not a notification type (dotted lower-case words, e.g. user.registered)",
            ));
        }
    }
    if let Some(Some(q)) = &change.quiet_hours {
        for (field, value) in [("quiet_hours.start", &q.start), ("quiet_hours.end", &q.end)] {
            if !valid_clock_time(value) {
                return Err(invalid(field, "must be HH:MM, 00:00 to 23:59"));
            }
        }
    }
    let mut work = state.work().await?;
    for (kind, channels) in &change.types {
        for (channel, enabled) in channels {
            store::set_subscription(&mut work, me.user_id, kind, *channel, *enabled).await?;
        }
    }
    if let Some(hours) = &change.quiet_hours {
        let hours = hours.as_ref().map(|q| (q.start.as_str(), q.end.as_str()));
        let now = work.now();
        store::set_quiet_hours(&mut work, me.user_id, hours, now).await?;
    }
    let out = subscriptions_of(&mut work, me.user_id).await?;
    work.commit().await?;
    Ok(out)
}

fn valid_clock_time(s: &str) -> bool {
    s.len() == 5 && s.parse::<jiff::civil::Time>().is_ok()
}

async fn subscriptions_of(
    conn: &mut sqlx::AnyConnection,
    user: UserId,
) -> Result<Subscriptions, NotificationsError> {
    let mut types: Vec<String> = KINDS.iter().map(|k| k.name.to_owned()).collect();
    let chosen = store::subscriptions(conn, user).await?;
    for t in store::templated_types(conn)
        .await?
        .into_iter()
        .chain(chosen.iter().map(|(t, _, _)| t.clone()))
    {
        if !types.contains(&t) {
            types.push(t);
        }
    }
    let mut out = Vec::with_capacity(types.len());
    for kind in types {
        let on = super::model::channels(&kind, &chosen);
        out.push(TypeSubscription {
            description: KINDS.iter().find(|k| k.name == kind).map(|k| k.description),
            channels: Channel::ALL.iter().map(|c| (*c, on.contains(c))).collect(),
            kind,
        });
    }
    let quiet_hours = store::quiet_hours(conn, user)
        .await?
        .map(|(start, end)| QuietHours { start, end });
    let (time_zone, _) = users::service::time_zone(conn, user).await?;
    Ok(Subscriptions {
        types: out,
        quiet_hours,
        time_zone,
    })
}

/// An admin sends to people: delivered in the background on each person's
/// channels; how many deliveries were queued (one per recipient).
#[tracing::instrument(skip_all, fields(kind = send.kind))]
pub async fn send(
    state: &AppState,
    _admin: AdminUser,
    send: Send,
) -> Result<usize, NotificationsError> {
    let to = recipients(&send)?;
    check_wording(&send)?;
    let mut work = state.work().await?;
    if send.title.is_none()
        && store::templates_for(&mut work, &send.kind)
            .await?
            .is_empty()
        && super::render::builtin(&send.kind, Channel::InApp).is_none()
    {
        return Err(invalid(
            "title",
            format!(
                "`{}` has no template: give a title and body, or create a template",
                send.kind
            ),
        ));
    }
    let found = users::service::live(&mut work, &to).await?;
    if let Some(missing) = to.iter().find(|id| !found.contains(id)) {
        return Err(invalid("to", format!("no such user: {missing}")));
    }
    let notice = Notice {
        kind: send.kind,
        title: send.title,
        body: send.body,
        data: if send.data.is_null() {
            serde_json::json!({})
        } else {
            send.data
        },
    };
    super::deliver::send(&mut work, &to, &notice).await?;
    work.commit().await?;
    Ok(to.len())
}

/// The type is valid and the recipients are 1–1000 user ids (each once).
fn recipients(send: &Send) -> Result<Vec<UserId>, NotificationsError> {
    if !valid_type(&send.kind) {
        return Err(invalid(
            "type",
            "not a notification type (dotted lower-case words, e.g. admin.announcement)",
        ));
    }
    if send.to.is_empty() || send.to.len() > MAX_RECIPIENTS {
        return Err(invalid("to", "give 1 to 1000 user ids"));
    }
    let mut to: Vec<UserId> = Vec::with_capacity(send.to.len());
    for id in &send.to {
        let id: UserId = id
            .parse()
            .map_err(|_| invalid("to", format!("`{id}` is not a user id")))?;
        if !to.contains(&id) {
            to.push(id);
        }
    }
    Ok(to)
}

fn check_wording(send: &Send) -> Result<(), NotificationsError> {
    match (&send.title, &send.body) {
        (Some(t), _) if t.trim().is_empty() || t.chars().count() > 200 => {
            return Err(invalid("title", "1 to 200 characters"));
        }
        (_, Some(b)) if b.chars().count() > 10_000 => {
            return Err(invalid("body", "at most 10000 characters"));
        }
        (None, Some(_)) => return Err(invalid("title", "a literal body needs a title")),
        _ => {}
    }
    if !send.data.is_object() && !send.data.is_null() {
        return Err(invalid("data", "must be an object"));
    }
    Ok(())
}

/// Whether `user` is inside their quiet hours at `now` (jobs that would
/// rather not notify then, such as workout reminders, skip the moment).
pub async fn is_quiet(
    conn: &mut sqlx::AnyConnection,
    user: UserId,
    now: plaza_core::Timestamp,
) -> Result<bool, sqlx::Error> {
    let Some((start, end)) = store::quiet_hours(conn, user).await? else {
        return Ok(false);
    };
    let (zone, _) = users::service::time_zone(conn, user).await?;
    Ok(super::quiet_until(now, &zone, &start, &end).is_some())
}
