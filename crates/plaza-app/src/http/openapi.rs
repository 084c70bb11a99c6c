//! The OpenAPI document, generated from the handlers' annotations, and the
//! page that shows it. The page is Swagger UI, bundled into the binary
//! (utoipa-swagger-ui's `vendored` feature), so `/api-docs` works offline
//! and nothing is downloaded at build time or in the browser.

use axum::Router;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_swagger_ui::SwaggerUi;

use super::error::{ErrorBody, ErrorKind};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "plaza",
        description = "One server for real-time apps: accounts, chat, live delivery, notifications, \
                       jobs, analytics, files and payments. Errors always use the `ErrorBody` shape.",
        license(name = "MIT"),
    ),
    components(schemas(ErrorBody, ErrorKind)),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Liveness, readiness and metrics"),
        (name = "auth", description = "Sign-up, sign-in, tokens, sessions, recovery and second factors"),
        (name = "users", description = "Profiles and the user directory"),
        (name = "admin", description = "Administration (admins only)"),
        (name = "files", description = "Stored files, served by id"),
        (name = "chat", description = "Chats, members and messages"),
        (name = "notifications", description = "Notifications, subscriptions and templates"),
        (name = "meditation", description = "Mind Space: meditation sessions"),
        (name = "projects", description = "The marketplace: projects, search and responses"),
    ),
)]
pub struct ApiDoc;

/// Declares the `Authorization: Bearer <access token>` scheme.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// `/api-docs` (the page) and `/api-docs/openapi.json` (the document).
pub fn docs_router(api: utoipa::openapi::OpenApi) -> Router<AppState> {
    SwaggerUi::new("/api-docs")
        .url("/api-docs/openapi.json", api)
        .into()
}
