//! Who is calling. A middleware checks the bearer token once per request
//! (signature, claims, revocation) and leaves the outcome in the request;
//! the extractors turn it into a handler argument or a 401/403. The signing
//! key and the revocation list (`kit.rs`) live here too, so every
//! transport checks tokens the same way; the `auth` slice issues them.

pub mod jwt;
pub mod kit;
pub mod revocation;

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use plaza_core::{Role, SessionId, Timestamp, UserId};

pub use jwt::{Signer, TokenError};
pub use kit::AuthKit;
pub use revocation::{Revocations, Standing};

use super::error::codes;
use super::{ApiError, Principal};
use crate::state::AppState;

/// A signed-in caller: the handler runs only for a valid, unrevoked token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthUser {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub role: Role,
    /// When the token presented expires (a socket closes then).
    pub expires_at: Timestamp,
}

impl AuthUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// A signed-in admin; others get 403.
#[derive(Clone, Copy, Debug)]
pub struct AdminUser(pub AuthUser);

/// A caller who may or may not be signed in; a bad token is still a 401.
#[derive(Clone, Copy, Debug)]
pub struct MaybeAuthUser(pub Option<AuthUser>);

/// What the middleware found.
#[derive(Clone, Copy, Debug)]
enum Outcome {
    Valid(AuthUser),
    Invalid(TokenError),
}

/// Checks `Authorization: Bearer …` when present.
pub async fn identify(state: &AppState, mut req: Request) -> Request {
    if let Some(token) = bearer(req.headers()) {
        let outcome = match check(state, token).await {
            Ok(user) => {
                req.extensions_mut().insert(Principal {
                    user_id: user.user_id,
                    role: user.role,
                });
                Outcome::Valid(user)
            }
            Err(e) => Outcome::Invalid(e),
        };
        req.extensions_mut().insert(outcome);
    }
    req
}

/// What a request's bearer token came to, as [`identify`] found it:
/// None without a token (for transports that answer a bad token in their
/// own way, as GraphQL does per field).
pub fn token_of(extensions: &axum::http::Extensions) -> Option<Result<AuthUser, TokenError>> {
    match extensions.get::<Outcome>()? {
        Outcome::Valid(user) => Some(Ok(*user)),
        Outcome::Invalid(e) => Some(Err(*e)),
    }
}

fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Verifies an access token (also for WebSockets, which pass it otherwise).
pub async fn check(state: &AppState, token: &str) -> Result<AuthUser, TokenError> {
    let now = state.clock.now();
    let signer = state
        .auth
        .signer(&state.db, &state.config.auth, now)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "cannot load the signing key");
            TokenError::WrongKey
        })?;
    let claims = signer.verify(token, now)?;
    let standing = state
        .auth
        .revocations
        .standing(&state.db, claims.sid, claims.sub, now)
        .await;
    match standing {
        Standing::Live => {}
        Standing::Revoked => return Err(TokenError::Revoked),
        Standing::NotTheirs => return Err(TokenError::UnknownSession),
    }
    Ok(AuthUser {
        user_id: claims.sub,
        session_id: claims.sid,
        role: claims.role,
        expires_at: Timestamp::from_unix_seconds(claims.exp),
    })
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> Self {
        ApiError::new(codes::AUTH_TOKEN_INVALID, e.to_string()).with_header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        )
    }
}

impl FromRequestParts<AppState> for MaybeAuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        match parts.extensions.get::<Outcome>() {
            None => Ok(Self(None)),
            Some(Outcome::Valid(user)) => Ok(Self(Some(*user))),
            Some(Outcome::Invalid(e)) => Err((*e).into()),
        }
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        MaybeAuthUser::from_request_parts(parts, state)
            .await?
            .0
            // No credentials: a bare challenge (RFC 6750 §3.1).
            .ok_or_else(|| {
                ApiError::new(
                    codes::AUTH_TOKEN_MISSING,
                    "sign in first: send Authorization: Bearer <access token>",
                )
            })
    }
}

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        if user.is_admin() {
            Ok(Self(user))
        } else {
            Err(ApiError::new(
                codes::AUTH_ADMIN_ONLY,
                "this needs an administrator",
            ))
        }
    }
}
