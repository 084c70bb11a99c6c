//! Admin-written wording per type, channel and locale (MiniJinja;
//! `{{ user.name }}`, `{{ data.… }}`, `{{ app_url }}`). A template that does
//! not compile is refused with the part and line at fault.

use plaza_core::{TemplateId, Timestamp};
use plaza_platform::db::unique_violation;

use super::super::error::{NotificationsError, invalid};
use super::super::model::{Channel, valid_type};
use super::super::render::{self, Source};
use super::super::store;
pub use super::super::store::TemplateRow;
use crate::http::AdminUser;
use crate::state::AppState;
use crate::users::fields::Locale;

/// A template as an admin writes it.
#[derive(Debug)]
pub struct TemplateInput {
    pub kind: String,
    pub channel: Channel,
    /// Default `en`.
    pub locale: Option<Locale>,
    pub subject: String,
    pub body: String,
    pub html: Option<String>,
}

/// Every template, or one type's.
#[tracing::instrument(skip(state, _admin))]
pub async fn list(
    state: &AppState,
    _admin: AdminUser,
    kind: Option<&str>,
) -> Result<Vec<TemplateRow>, NotificationsError> {
    let mut conn = state.db.reader().acquire().await?;
    Ok(store::list_templates(&mut conn, kind).await?)
}

/// A new template; one per type, channel and locale.
#[tracing::instrument(skip_all)]
pub async fn create(
    state: &AppState,
    _admin: AdminUser,
    input: TemplateInput,
) -> Result<TemplateRow, NotificationsError> {
    let t = row(input, None, state.clock.now())?;
    let mut conn = state.db.writer().acquire().await?;
    store::insert_template(&mut conn, &t)
        .await
        .map_err(taken_or)?;
    Ok(t)
}

#[tracing::instrument(skip(state, _admin))]
pub async fn get(
    state: &AppState,
    _admin: AdminUser,
    id: TemplateId,
) -> Result<TemplateRow, NotificationsError> {
    let mut conn = state.db.reader().acquire().await?;
    store::find_template(&mut conn, id)
        .await?
        .ok_or(NotificationsError::TemplateNotFound)
}

/// Replaces a template whole.
#[tracing::instrument(skip(state, _admin, input))]
pub async fn update(
    state: &AppState,
    _admin: AdminUser,
    id: TemplateId,
    input: TemplateInput,
) -> Result<TemplateRow, NotificationsError> {
    let mut work = state.work().await?;
    let existing = store::find_template(&mut work, id)
        .await?
        .ok_or(NotificationsError::TemplateNotFound)?;
    let t = row(input, Some(&existing), work.now())?;
    store::update_template(&mut work, &t)
        .await
        .map_err(taken_or)?;
    work.commit().await?;
    Ok(t)
}

/// Deletes a template: the built-in wording (if any) applies again.
#[tracing::instrument(skip(state, _admin))]
pub async fn delete(
    state: &AppState,
    _admin: AdminUser,
    id: TemplateId,
) -> Result<(), NotificationsError> {
    let mut conn = state.db.writer().acquire().await?;
    if store::delete_template(&mut conn, id).await? {
        Ok(())
    } else {
        Err(NotificationsError::TemplateNotFound)
    }
}

/// What a template would say, rendered for the admin asking with `data`
/// as the event's data; checked as a save would check it, and not kept.
#[tracing::instrument(skip_all)]
pub async fn preview(
    state: &AppState,
    admin: AdminUser,
    input: TemplateInput,
    data: &serde_json::Value,
) -> Result<render::Rendered, NotificationsError> {
    let t = row(input, None, state.clock.now())?;
    let to = {
        let mut conn = state.db.reader().acquire().await?;
        store::recipient(&mut conn, admin.0.user_id)
            .await?
            .ok_or(NotificationsError::TemplateNotFound)?
    };
    let source = Source {
        subject: t.subject,
        body: t.body,
        html: t.html,
    };
    let app_url = state.config.auth.app_url.trim_end_matches('/');
    render::render(&source, &to, data, app_url).map_err(|e| invalid(e.part, e.message))
}

fn taken_or(e: sqlx::Error) -> NotificationsError {
    if unique_violation(&e).is_some() {
        NotificationsError::TemplateTaken
    } else {
        e.into()
    }
}

/// Checks an input and makes it a row (id and times from `existing`).
fn row(
    input: TemplateInput,
    existing: Option<&TemplateRow>,
    now: Timestamp,
) -> Result<TemplateRow, NotificationsError> {
    if !valid_type(&input.kind) {
        return Err(invalid(
            "type",
            "not a notification type (dotted lower-case words, e.g. user.registered)",
        ));
    }
    let locale = input
        .locale
        .map_or_else(|| render::DEFAULT_LOCALE.to_owned(), |l| l.0);
    if input.subject.trim().is_empty() || input.subject.chars().count() > 300 {
        return Err(invalid("subject", "1 to 300 characters"));
    }
    if input.body.chars().count() > 20_000 {
        return Err(invalid("body", "at most 20000 characters"));
    }
    if input
        .html
        .as_ref()
        .is_some_and(|h| h.chars().count() > 100_000)
    {
        return Err(invalid("html", "at most 100000 characters"));
    }
    if input.html.is_some() && input.channel != Channel::Email {
        return Err(invalid("html", "only mail templates have an HTML body"));
    }
    let source = Source {
        subject: input.subject,
        body: input.body,
        html: input.html,
    };
    render::check(&source).map_err(|e| invalid(e.part, e.message))?;
    Ok(TemplateRow {
        id: existing.map_or_else(TemplateId::new, |t| t.id),
        kind: input.kind,
        channel: input.channel.as_str().to_owned(),
        locale,
        subject: source.subject,
        body: source.body,
        html: source.html,
        created_at: existing.map_or(now, |t| t.created_at),
        updated_at: now,
    })
}
