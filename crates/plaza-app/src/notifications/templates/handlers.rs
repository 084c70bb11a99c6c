//! `/api/notifications/templates`: admins write the wording of each type,
//! per channel and locale.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use plaza_core::{TemplateId, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::service;
use super::service::TemplateRow;
use crate::http::{AdminUser, ApiError, ErrorBody, ValidJson, ValidPath, ValidQuery};
use crate::notifications::model::Channel;
use crate::state::AppState;
use crate::users::fields::Locale;

#[derive(Debug, Serialize, ToSchema)]
pub struct Template {
    #[schema(value_type = String, format = Uuid)]
    pub id: TemplateId,
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

impl From<TemplateInput> for service::TemplateInput {
    fn from(t: TemplateInput) -> Self {
        Self {
            kind: t.kind,
            channel: t.channel,
            locale: t.locale,
            subject: t.subject,
            body: t.body,
            html: t.html,
        }
    }
}

/// `GET /api/notifications/templates?type=` — every template (admins).
#[utoipa::path(get, path = "/api/notifications/templates", tag = "notifications", security(("bearer" = [])),
    params(TemplateQuery),
    responses((status = 200, body = TemplateList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    admin: AdminUser,
    ValidQuery(query): ValidQuery<TemplateQuery>,
) -> Result<Json<TemplateList>, ApiError> {
    let rows = service::list(&state, admin, query.kind.as_deref()).await?;
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
    admin: AdminUser,
    ValidJson(input): ValidJson<TemplateInput>,
) -> Result<(StatusCode, Json<Template>), ApiError> {
    let t = service::create(&state, admin, input.into()).await?;
    Ok((StatusCode::CREATED, Json(t.into())))
}

/// A template to try out, and the data to try it with.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplatePreview {
    #[serde(rename = "type")]
    pub kind: String,
    pub channel: Channel,
    /// `en`, `ru`, `pt-BR`; default `en`.
    #[schema(value_type = Option<String>)]
    pub locale: Option<Locale>,
    pub subject: String,
    pub body: String,
    pub html: Option<String>,
    /// What `{{ data.… }}` reads; `{}` when absent.
    #[serde(default)]
    pub data: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A rendered template.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewText {
    pub subject: String,
    pub body: String,
    pub html: Option<String>,
}

/// `POST /api/notifications/templates/preview` — a template rendered for
/// the admin asking, with sample data, checked as a save would be and not
/// kept (the console's preview in each locale).
#[utoipa::path(post, path = "/api/notifications/templates/preview", tag = "notifications", security(("bearer" = [])),
    request_body = TemplatePreview,
    responses((status = 200, body = PreviewText), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "Bad field, or a template that does not compile or render", body = ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    admin: AdminUser,
    ValidJson(input): ValidJson<TemplatePreview>,
) -> Result<Json<PreviewText>, ApiError> {
    let data = serde_json::Value::Object(input.data.unwrap_or_default());
    let template = service::TemplateInput {
        kind: input.kind,
        channel: input.channel,
        locale: input.locale,
        subject: input.subject,
        body: input.body,
        html: input.html,
    };
    let r = service::preview(&state, admin, template, &data).await?;
    Ok(Json(PreviewText {
        subject: r.title,
        body: r.body,
        html: r.html,
    }))
}

/// `GET /api/notifications/templates/{id}`.
#[utoipa::path(get, path = "/api/notifications/templates/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Template), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    admin: AdminUser,
    ValidPath(id): ValidPath<TemplateId>,
) -> Result<Json<Template>, ApiError> {
    Ok(Json(service::get(&state, admin, id).await?.into()))
}

/// `PUT /api/notifications/templates/{id}` — replace it whole.
#[utoipa::path(put, path = "/api/notifications/templates/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = TemplateInput,
    responses((status = 200, body = Template), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    admin: AdminUser,
    ValidPath(id): ValidPath<TemplateId>,
    ValidJson(input): ValidJson<TemplateInput>,
) -> Result<Json<Template>, ApiError> {
    Ok(Json(
        service::update(&state, admin, id, input.into())
            .await?
            .into(),
    ))
}

/// `DELETE /api/notifications/templates/{id}` — the built-in wording (if
/// any) applies again.
#[utoipa::path(delete, path = "/api/notifications/templates/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    admin: AdminUser,
    ValidPath(id): ValidPath<TemplateId>,
) -> Result<StatusCode, ApiError> {
    service::delete(&state, admin, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
