//! `Idempotency-Key` on the POSTs that move money. The first request with
//! a key is run and its answer kept (per user, for 24 hours); a retry with
//! the same key and the same request gets that answer again (with
//! `Idempotent-Replayed: true`) and runs nothing; the same key with a
//! different request is a 422; a retry while the first is still running
//! is a 409. A request that fails is not kept, so its retry runs again.

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use plaza_core::{Timestamp, UserId};
use plaza_platform::secret::token_hash;
use serde::Serialize;

use super::error::PaymentsError;
use crate::http::ApiError;
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";
/// How long a key's answer is kept.
pub const KEPT: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
/// A first request silent this long is taken for lost (its node died).
const ABANDONED: std::time::Duration = std::time::Duration::from_secs(60);

/// The request's `Idempotency-Key`, if it has one: 1–255 visible ASCII
/// characters.
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(HEADER) else {
            return Ok(Self(None));
        };
        let key = value
            .to_str()
            .ok()
            .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| {
                ApiError::invalid_field("Idempotency-Key", "1–255 visible ASCII characters")
            })?;
        Ok(Self(Some(key.to_owned())))
    }
}

#[derive(sqlx::FromRow)]
struct Kept {
    route: String,
    request_hash: String,
    status: Option<i64>,
    body: Option<String>,
    created_at: Timestamp,
}

/// Runs `run` once per key (see the module's documentation), answering
/// over HTTP.
pub async fn once<T, F, Fut>(
    state: &AppState,
    user: UserId,
    key: &IdempotencyKey,
    route: &str,
    request: &impl Serialize,
    run: F,
) -> Result<Response, ApiError>
where
    T: Serialize,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(StatusCode, T), ApiError>>,
{
    let Some(key) = &key.0 else {
        let (status, body) = run().await?;
        return Ok((status, Json(body)).into_response());
    };
    match once_kept(state, user, key, route, request, run).await? {
        Answer::Fresh(status, body) => Ok((status, Json(body)).into_response()),
        Answer::Replayed(status, body) => Ok(replay(status, body)),
    }
}

/// What [`once_kept`] answered.
pub enum Answer<T> {
    /// Run now.
    Fresh(StatusCode, T),
    /// The first answer to this key, as JSON text.
    Replayed(StatusCode, String),
}

/// Runs `run` once per `key`; the answer, fresh or kept.
pub async fn once_kept<T, F, Fut>(
    state: &AppState,
    user: UserId,
    key: &str,
    route: &str,
    request: &impl Serialize,
    run: F,
) -> Result<Answer<T>, ApiError>
where
    T: Serialize,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(StatusCode, T), ApiError>>,
{
    let request = serde_json::to_string(request).map_err(ApiError::internal)?;
    let hash = token_hash(&format!("{route}\n{request}"));
    let mut claimed = claim(state, user, key, route, &hash).await?;
    if !claimed {
        let kept = read(state, user, key).await?;
        let now = state.clock.now();
        match kept {
            Some(k)
                if now.duration_since(k.created_at) > KEPT
                    || (k.status.is_none() && now.duration_since(k.created_at) > ABANDONED) =>
            {
                forget(state, user, key).await?;
                claimed = claim(state, user, key, route, &hash).await?;
            }
            None => claimed = claim(state, user, key, route, &hash).await?,
            Some(k) if k.route != route || k.request_hash != hash => {
                return Err(PaymentsError::KeyReused.into());
            }
            Some(Kept {
                status: Some(status),
                body: Some(body),
                ..
            }) => return Ok(Answer::Replayed(status_of(status), body)),
            Some(_) => return Err(PaymentsError::KeyInProgress.into()),
        }
        if !claimed {
            return Err(PaymentsError::KeyInProgress.into());
        }
    }
    match run().await {
        Ok((status, body)) => {
            let text = serde_json::to_string(&body).map_err(ApiError::internal)?;
            sqlx::query(
                "UPDATE idempotency_keys SET status = $3, body = $4 WHERE user_id = $1 AND key = $2",
            )
            .bind(user)
            .bind(key)
            .bind(i64::from(status.as_u16()))
            .bind(&text)
            .execute(state.db.writer())
            .await?;
            Ok(Answer::Fresh(status, body))
        }
        Err(e) => {
            forget(state, user, key).await?;
            Err(e)
        }
    }
}

fn status_of(status: i64) -> StatusCode {
    u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK)
}

async fn claim(
    state: &AppState,
    user: UserId,
    key: &str,
    route: &str,
    hash: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO idempotency_keys (user_id, key, route, request_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, key) DO NOTHING",
    )
    .bind(user)
    .bind(key)
    .bind(route)
    .bind(hash)
    .bind(state.clock.now())
    .execute(state.db.writer())
    .await?;
    Ok(done.rows_affected() == 1)
}

async fn read(state: &AppState, user: UserId, key: &str) -> Result<Option<Kept>, sqlx::Error> {
    sqlx::query_as(
        "SELECT route, request_hash, status, body, created_at FROM idempotency_keys \
         WHERE user_id = $1 AND key = $2",
    )
    .bind(user)
    .bind(key)
    .fetch_optional(state.db.writer())
    .await
}

async fn forget(state: &AppState, user: UserId, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2")
        .bind(user)
        .bind(key)
        .execute(state.db.writer())
        .await?;
    Ok(())
}

fn replay(status: StatusCode, body: String) -> Response {
    let mut response = (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

/// Keys older than [`KEPT`], removed by the pruning job.
pub async fn prune(conn: &mut sqlx::AnyConnection, now: Timestamp) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(now.saturating_sub(KEPT))
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}
