//! The OpenAPI document, generated from the handlers' annotations, and the
//! page that shows it. The page is Swagger UI, bundled into the binary
//! (utoipa-swagger-ui's `vendored` feature), so `/api-docs` works offline
//! and nothing is downloaded at build time or in the browser.

use axum::Router;
use utoipa::OpenApi;
use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
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
pub fn docs_router(mut api: utoipa::openapi::OpenApi) -> Router<AppState> {
    document_shared_errors(&mut api);
    SwaggerUi::new("/api-docs")
        .url("/api-docs/openapi.json", api)
        .into()
}

/// The answers the shared middleware and extractors give on any operation
/// they apply to, added where a handler did not document them itself: 401
/// where a bearer token is required, 400/413/415/422 where a JSON body is
/// read, 422 for a query string, 404 for an id in the path, 429 under the
/// rate limits and 503 when a backing service is away.
fn document_shared_errors(api: &mut utoipa::openapi::OpenApi) {
    for (path, item) in api.paths.paths.iter_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in operations.into_iter().flatten() {
            let mut add = |status: &str, why: &str| {
                op.responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| error_response(why));
            };
            if path.starts_with("/api/") {
                add("429", "Too many requests (a rate limit); see `Retry-After`");
                add(
                    "503",
                    "A backing service is unavailable, or the server is shutting down",
                );
            }
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            if secured {
                add("401", "No valid access token");
            }
            if op.request_body.is_some() {
                add("400", "The body is not valid JSON (or not a valid upload)");
                add("413", "The body is larger than `http.body_limit`");
                add("415", "The body is not sent as `application/json`");
                add("422", "A field is missing or invalid");
            }
            let params = op.parameters.iter().flatten();
            let mut query = false;
            let mut in_path = false;
            for p in params {
                if let utoipa::openapi::RefOr::T(p) = p {
                    query |= matches!(p.parameter_in, ParameterIn::Query);
                    in_path |= matches!(p.parameter_in, ParameterIn::Path);
                }
            }
            if query {
                add("422", "A query parameter is invalid");
            }
            if in_path {
                add("404", "Nothing with this id (a malformed id too)");
            }
        }
    }
}

fn error_response(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ErrorBody")))
        .build();
    ResponseBuilder::new()
        .description(description)
        .content("application/json", content)
        .build()
        .into()
}
