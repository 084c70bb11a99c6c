//! Delivery: one job per person and notice on the `notifications` queue.
//! It reads the person's subscriptions for the type, renders the type's
//! template for each chosen channel in their locale, stores the in-app
//! row, queues the mail (after their quiet hours), and, once that has
//! committed, tells their open sockets. The delivery's id is the
//! notification's, and the mail's job is unique per delivery, so a
//! delivery that runs twice stores and mails once.

use plaza_core::{NotificationId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::mail::NotificationMail;
use super::model::{Channel, Notice, Notification, Recipient};
use super::render::{self, Rendered, Source};
use super::store;
use plaza_platform::Work;

use crate::state::AppState;
use plaza_platform::jobs::JobKind;

#[derive(Debug, Serialize, Deserialize)]
pub struct Deliver {
    pub delivery_id: NotificationId,
    pub user_id: UserId,
    pub notice: Notice,
    /// Set by [`send_once`]: the delivery is unique per key and person, so
    /// a job that sends it and runs again after a crash sends it once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub once: Option<String>,
}

#[async_trait::async_trait]
impl JobKind for Deliver {
    type Context = AppState;
    const KIND: &'static str = "notifications.deliver";
    const QUEUE: &'static str = "notifications";
    const UNIQUE_FOR: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

    fn unique_key(&self) -> Option<String> {
        let once = self.once.as_ref()?;
        Some(format!("notice:{once}:{}", self.user_id))
    }

    async fn run(&self, state: &AppState) -> anyhow::Result<()> {
        deliver(state, self).await
    }
}

/// Queues a delivery of `notice` to each of `to` in the caller's unit of
/// work: delivered if and only if it commits.
pub async fn send(work: &mut Work<'_>, to: &[UserId], notice: &Notice) -> Result<(), sqlx::Error> {
    queue(work, to, notice, None).await
}

/// Like [`send`], for a caller that may run twice (a job run again after a
/// crash): the second send under the same `key` (for a day) is the first.
pub async fn send_once(
    work: &mut Work<'_>,
    key: &str,
    to: &[UserId],
    notice: &Notice,
) -> Result<(), sqlx::Error> {
    queue(work, to, notice, Some(key)).await
}

async fn queue(
    work: &mut Work<'_>,
    to: &[UserId],
    notice: &Notice,
    once: Option<&str>,
) -> Result<(), sqlx::Error> {
    for user in to {
        let job = Deliver {
            delivery_id: NotificationId::new(),
            user_id: *user,
            notice: notice.clone(),
            once: once.map(str::to_owned),
        };
        work.enqueue(&job).await?;
    }
    Ok(())
}

/// Whom a delivery reaches, and how: read before any rendering.
struct Audience {
    to: Recipient,
    channels: std::collections::BTreeSet<Channel>,
    quiet: Option<(String, String)>,
    templates: Vec<store::TemplateRow>,
}

impl Audience {
    /// None when the person was deleted or banned meanwhile.
    async fn read(state: &AppState, job: &Deliver) -> Result<Option<Self>, sqlx::Error> {
        let mut conn = state.db.reader().acquire().await?;
        let Some(to) = store::recipient(&mut conn, job.user_id).await? else {
            return Ok(None);
        };
        let chosen = store::subscriptions(&mut conn, job.user_id).await?;
        Ok(Some(Self {
            to,
            channels: super::model::channels(&job.notice.kind, &chosen),
            quiet: store::quiet_hours(&mut conn, job.user_id).await?,
            templates: store::templates_for(&mut conn, &job.notice.kind).await?,
        }))
    }

    fn wants(&self, channel: Channel) -> bool {
        self.channels.contains(&channel)
    }

    /// The notice's words on `channel`: its literal text, or the best
    /// template rendered for this person.
    fn wording(
        &self,
        notice: &Notice,
        channel: Channel,
        app_url: &str,
    ) -> anyhow::Result<Rendered> {
        if let Some(title) = &notice.title {
            return Ok(Rendered {
                title: title.clone(),
                body: notice.body.clone().unwrap_or_default(),
                html: None,
            });
        }
        let source =
            pick(&self.templates, &notice.kind, channel, &self.to.locale).ok_or_else(|| {
                anyhow::anyhow!(
                    "no template for {} on {} and no literal text",
                    notice.kind,
                    channel.as_str()
                )
            })?;
        Ok(render::render(&source, &self.to, &notice.data, app_url)?)
    }

    /// When mail may go: now, or when the person's quiet hours end.
    fn mail_at(&self, now: Timestamp) -> Timestamp {
        self.quiet
            .as_ref()
            .and_then(|(start, end)| quiet_until(now, &self.to.timezone, start, end))
            .unwrap_or(now)
    }
}

async fn deliver(state: &AppState, job: &Deliver) -> anyhow::Result<()> {
    let Some(audience) = Audience::read(state, job).await? else {
        return Ok(());
    };
    let now = state.clock.now();
    let app_url = state.config.auth.app_url.trim_end_matches('/');
    let (in_app, socket) = (
        audience.wants(Channel::InApp),
        audience.wants(Channel::Websocket),
    );
    let shown = if in_app || socket {
        let r = audience.wording(&job.notice, Channel::InApp, app_url)?;
        Some(shown(job, r, now))
    } else {
        None
    };
    let mail = if audience.wants(Channel::Email) {
        let r = audience.wording(&job.notice, Channel::Email, app_url)?;
        Some(mailed(job, &audience.to, r))
    } else {
        None
    };

    let mut work = state.work().await?;
    if let (Some(n), true) = (&shown, in_app) {
        store::insert(&mut work, job.user_id, n).await?;
    }
    if let Some(mail) = &mail {
        work.enqueue_at(mail, audience.mail_at(now)).await?;
    }
    if let (Some(n), true) = (shown, socket) {
        let to = audience.to;
        work.after_commit(async move { tell_sockets(state, &to, &n, in_app).await });
    }
    work.commit().await?;
    metrics::counter!("plaza_notifications_delivered_total").increment(1);
    Ok(())
}

/// The notification as the app shows it.
fn shown(job: &Deliver, r: Rendered, now: Timestamp) -> Notification {
    Notification {
        id: job.delivery_id,
        kind: job.notice.kind.clone(),
        title: r.title,
        body: r.body,
        data: job.notice.data.clone(),
        read: false,
        read_at: None,
        created_at: now,
    }
}

/// The notification's mail, unique per delivery.
fn mailed(job: &Deliver, to: &Recipient, r: Rendered) -> NotificationMail {
    NotificationMail {
        mail: plaza_platform::mail::Mail {
            to: to.email.clone(),
            subject: r.title,
            text: r.body,
            html: r.html,
            id: Some(job.delivery_id.to_string()),
        },
        delivery_id: job.delivery_id,
    }
}

/// The best template for `channel` in `locale`: an admin's before a
/// built-in, the person's locale before its language before the default,
/// the channel's own wording before the one it falls back to.
fn pick(
    templates: &[store::TemplateRow],
    kind: &str,
    channel: Channel,
    locale: &str,
) -> Option<Source> {
    for locale in render::locales(locale) {
        for candidate in render::template_channels(channel) {
            if let Some(t) = templates
                .iter()
                .find(|t| t.locale == locale && t.channel == candidate.as_str())
            {
                return Some(t.source());
            }
        }
    }
    render::template_channels(channel)
        .iter()
        .find_map(|c| render::builtin(kind, *c))
}

async fn tell_sockets(state: &AppState, to: &Recipient, n: &Notification, stored: bool) {
    let mut data = json!(n);
    if !stored {
        // Not kept in the app: nothing to mark read later.
        data["id"] = serde_json::Value::Null;
    }
    if let Err(e) = crate::realtime::tell_users(state, &[to.id], "notification", data).await {
        tracing::warn!(error = %e, "cannot tell sockets about a notification");
    }
}

/// When quiet hours `start`–`end` ("22:00"–"07:00", in `tz`) end, if `now`
/// falls inside them.
pub fn quiet_until(now: Timestamp, tz: &str, start: &str, end: &str) -> Option<Timestamp> {
    let tz = crate::users::fields::zone(tz);
    let start: jiff::civil::Time = start.parse().ok()?;
    let end: jiff::civil::Time = end.parse().ok()?;
    if start == end {
        return None;
    }
    let local = now.as_jiff().to_zoned(tz.clone());
    let time = local.time();
    let inside = if start < end {
        time >= start && time < end
    } else {
        time >= start || time < end
    };
    if !inside {
        return None;
    }
    let mut day = local.date();
    if time >= end {
        day = day.tomorrow().ok()?;
    }
    let until = day.to_datetime(end).to_zoned(tz).ok()?;
    Some(Timestamp::from_jiff(until.timestamp()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::from_jiff(s.parse().unwrap())
    }

    #[test]
    fn quiet_hours_span_midnight_in_the_persons_zone() {
        // 23:30 in Moscow (UTC+3) is inside 22:00–07:00: held until 07:00 there.
        let until = quiet_until(
            at("2026-11-23T20:30:00Z"),
            "Europe/Moscow",
            "22:00",
            "07:00",
        );
        assert_eq!(until, Some(at("2026-11-24T04:00:00Z")));
        // 03:00 there is inside too, and ends the same morning.
        let until = quiet_until(
            at("2026-11-24T00:00:00Z"),
            "Europe/Moscow",
            "22:00",
            "07:00",
        );
        assert_eq!(until, Some(at("2026-11-24T04:00:00Z")));
        // 12:00 is not.
        assert_eq!(
            quiet_until(
                at("2026-11-24T09:00:00Z"),
                "Europe/Moscow",
                "22:00",
                "07:00"
            ),
            None
        );
        // A daytime window, and an empty one.
        assert_eq!(
            quiet_until(at("2026-11-24T13:00:00Z"), "UTC", "12:00", "14:00"),
            Some(at("2026-11-24T14:00:00Z"))
        );
        assert_eq!(
            quiet_until(at("2026-11-24T13:00:00Z"), "UTC", "12:00", "12:00"),
            None
        );
    }

    #[test]
    fn quiet_hours_end_at_the_local_time_across_a_clock_change() {
        // New York falls back on 2026-11-01: 07:00 EST is 12:00 UTC.
        let until = quiet_until(
            at("2026-11-01T05:30:00Z"),
            "America/New_York",
            "22:00",
            "07:00",
        );
        assert_eq!(until, Some(at("2026-11-01T12:00:00Z")));
    }
}
