//! `/api/notifications/templates`: admins write the wording of each type,
//! per channel and locale (MiniJinja; `{{ user.name }}`, `{{ data.… }}`,
//! `{{ app_url }}`). A template that does not compile is refused with the
//! part and line at fault.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use plaza_core::Timestamp;
use plaza_platform::db::unique_violation;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{Channel, valid_type};
use super::render::{self, Source};
use super::store::{self, TemplateRow};
use crate::http::AdminUser;
use crate::http::{ApiError, ErrorBody, ValidJson, ValidQuery};
use crate::state::AppState;
use crate::users::fields::Locale;

#[derive(Debug, Serialize, ToSchema)]
pub struct Template {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub channel: Channel,
    pub locale: String,
    /// The title in the app, the subject of a mail.
    pub subject: String,
    /// Plain text.
    pub body: String,
    /// Mail only: an HTML body, escaped automatically.
    pub html: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<TemplateRow> for Template {
    fn from(t: TemplateRow) -> Self {
        Self {
            channel: Channel::parse(&t.channel).unwrap_or(Channel::InApp),
            id: t.id,
            kind: t.kind,
            locale: t.locale,
            subject: t.subject,
            body: t.body,
            html: t.html,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    #[serde(rename = "type")]
    pub kind: String,
    pub channel: Channel,
    /// `en`, `ru`, `pt-BR`; default `en`.
    #[schema(value_type = Option<String>)]
    pub locale: Option<Locale>,
    pub subject: String,
    pub body: String,
    pub html: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateList {
    pub items: Vec<Template>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TemplateQuery {
    /// Only this type's templates.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
}

fn not_found() -> ApiError {
    ApiError::not_found("no such template")
}

fn taken() -> ApiError {
    ApiError::conflict("a template for this type, channel and locale exists; change that one")
}

/// Checks an input and makes it a row (id and times from `existing`).
fn row(
    input: TemplateInput,
    existing: Option<&TemplateRow>,
    now: Timestamp,
) -> Result<TemplateRow, ApiError> {
    if !valid_type(&input.kind) {
        return Err(ApiError::invalid_field(
            "type",
            "not a notification type (dotted lower-case words, e.g. user.registered)",
        ));
    }
    let locale = input
        .locale
        .map_or_else(|| render::DEFAULT_LOCALE.to_owned(), |l| l.0);
    if input.subject.trim().is_empty() || input.subject.chars().count() > 300 {
        return Err(ApiError::invalid_field("subject", "1 to 300 characters"));
    }
    if input.body.chars().count() > 20_000 {
        return Err(ApiError::invalid_field("body", "at most 20000 characters"));
    }
    if input
        .html
        .as_ref()
        .is_some_and(|h| h.chars().count() > 100_000)
    {
        return Err(ApiError::invalid_field("html", "at most 100000 characters"));
    }
    if input.html.is_some() && input.channel != Channel::Email {
        return Err(ApiError::invalid_field(
            "html",
            "only mail templates have an HTML body",
        ));
    }
    let source = Source {
        subject: input.subject,
        body: input.body,
        html: input.html,
    };
    render::check(&source).map_err(|e| ApiError::invalid_field(e.part, e.message))?;
    Ok(TemplateRow {
        id: existing.map_or_else(|| uuid::Uuid::now_v7().to_string(), |t| t.id.clone()),
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

/// `GET /api/notifications/templates?type=` — every template (admins).
#[utoipa::path(get, path = "/api/notifications/templates", tag = "notifications", security(("bearer" = [])),
    params(TemplateQuery),
    responses((status = 200, body = TemplateList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _: AdminUser,
    ValidQuery(query): ValidQuery<TemplateQuery>,
) -> Result<Json<TemplateList>, ApiError> {
    let mut conn = state.db.reader().acquire().await?;
    let rows = store::list_templates(&mut conn, query.kind.as_deref()).await?;
    Ok(Json(TemplateList {
        items: rows.into_iter().map(Into::into).collect(),
    }))
}

/// `POST /api/notifications/templates` — one per type, channel and locale.
#[utoipa::path(post, path = "/api/notifications/templates", tag = "notifications", security(("bearer" = [])),
    request_body = TemplateInput,
    responses((status = 201, body = Template), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, description = "Bad field, or a template that does not compile", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    _: AdminUser,
    ValidJson(input): ValidJson<TemplateInput>,
) -> Result<(StatusCode, Json<Template>), ApiError> {
    let t = row(input, None, state.clock.now())?;
    let mut conn = state.db.writer().acquire().await?;
    store::insert_template(&mut conn, &t).await.map_err(|e| {
        if unique_violation(&e).is_some() {
            taken()
        } else {
            e.into()
        }
    })?;
    Ok((StatusCode::CREATED, Json(t.into())))
}

fn template_id(id: &str) -> Result<(), ApiError> {
    uuid::Uuid::parse_str(id)
        .map(|_| ())
        .map_err(|_| not_found())
}

/// `GET /api/notifications/templates/{id}`.
#[utoipa::path(get, path = "/api/notifications/templates/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Template), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    _: AdminUser,
    Path(id): Path<String>,
) -> Result<Json<Template>, ApiError> {
    template_id(&id)?;
    let mut conn = state.db.reader().acquire().await?;
    let t = store::find_template(&mut conn, &id)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(t.into()))
}

/// `PUT /api/notifications/templates/{id}` — replace it whole.
#[utoipa::path(put, path = "/api/notifications/templates/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = TemplateInput,
    responses((status = 200, body = Template), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    _: AdminUser,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<TemplateInput>,
) -> Result<Json<Template>, ApiError> {
    template_id(&id)?;
    let mut tx = state.db.begin().await?;
    let existing = store::find_template(&mut tx, &id)
        .await?
        .ok_or_else(not_found)?;
    let t = row(input, Some(&existing), state.clock.now())?;
    store::update_template(&mut tx, &t).await.map_err(|e| {
        if unique_violation(&e).is_some() {
            taken()
        } else {
            e.into()
        }
    })?;
    tx.commit().await?;
    Ok(Json(t.into()))
}

/// `DELETE /api/notifications/templates/{id}` — the built-in wording (if
/// any) applies again.
#[utoipa::path(delete, path = "/api/notifications/templates/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    _: AdminUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    template_id(&id)?;
    let mut conn = state.db.writer().acquire().await?;
    if store::delete_template(&mut conn, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found())
    }
}
