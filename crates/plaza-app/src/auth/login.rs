//! The answer to a correct password: tokens.

use axum::Json;

use super::handlers::respond;
use super::service::{self, Client};
use crate::http::ApiError;
use crate::state::AppState;

pub async fn login(
    state: &AppState,
    login: &str,
    password: &str,
    client: &Client,
) -> Result<serde_json::Value, ApiError> {
    let issued = service::login(state, login, password, client).await?;
    let body = respond(state, issued).await?;
    serde_json::to_value(Json(body).0).map_err(ApiError::internal)
}
