//! Who is asking, as every resolver sees it: the caller's token (checked
//! once per request or socket), their address for rate limits and
//! sessions, and the request id errors carry.

use async_graphql::Context;

use crate::auth::service::Client;
use crate::http::auth::TokenError;
use crate::http::error::codes;
use crate::http::{ApiError, AuthUser, LimitClass, ratelimit};
use crate::state::AppState;

/// The request's caller.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The bearer token's user, its refusal, or neither (no token).
    pub token: Option<Result<AuthUser, TokenError>>,
    pub client: Client,
    pub request_id: String,
}

impl Caller {
    /// The signed-in user, or the 401 REST would answer.
    pub fn user(&self) -> Result<AuthUser, async_graphql::Error> {
        match &self.token {
            Some(Ok(user)) => Ok(*user),
            Some(Err(e)) => Err((*e).into()),
            None => Err(ApiError::new(codes::AUTH_TOKEN_MISSING, "authentication required").into()),
        }
    }

    /// The user if signed in; a bad token is still refused.
    pub fn maybe_user(&self) -> Result<Option<AuthUser>, async_graphql::Error> {
        match &self.token {
            Some(Ok(user)) => Ok(Some(*user)),
            Some(Err(e)) => Err((*e).into()),
            None => Ok(None),
        }
    }
}

/// The application state and the caller of a resolver.
pub fn parts<'a>(ctx: &Context<'a>) -> (&'a AppState, &'a Caller) {
    // Both are put in every request's data by `graphql::http` and the
    // socket; a schema executed without them is a programming error.
    let state = ctx.data_unchecked::<AppState>();
    let caller = ctx.data_unchecked::<Caller>();
    (state, caller)
}

/// The state and the signed-in user, or the 401.
pub fn signed_in<'a>(ctx: &Context<'a>) -> Result<(&'a AppState, AuthUser), async_graphql::Error> {
    let (state, caller) = parts(ctx);
    Ok((state, caller.user()?))
}

/// Draws from the caller's budget of `class`, as REST's middleware does
/// for the same operations: `auth` per address, `upload` per user.
pub async fn limit(ctx: &Context<'_>, class: LimitClass) -> Result<(), async_graphql::Error> {
    let (state, caller) = parts(ctx);
    if !state.config.features.rate_limit {
        return Ok(());
    }
    let key = match (class, &caller.token) {
        (LimitClass::Auth, _) | (_, None | Some(Err(_))) => format!("ip:{}", caller.client.ip),
        (_, Some(Ok(user))) => format!("user:{}", user.user_id),
    };
    let rate = class.rate(state);
    let decision = state.limiter.check(class.name(), rate, &key).await;
    if decision.allowed {
        Ok(())
    } else {
        Err(ratelimit::refusal(class.name(), &decision, rate).into())
    }
}
