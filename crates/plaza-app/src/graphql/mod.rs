//! The GraphQL API at `/graphql` (seed 004, docs/graphql.md): a
//! transport like REST and the socket, above the slices. Resolvers
//! authorise through the caller's token and call the same service
//! functions as REST; none touches SQL or a store. Errors carry REST's
//! `type`, `code` and `requestId`; subscriptions read the hub's feeds.

mod context;
mod error;
mod fitness;
mod http;
mod ids;
mod loaders;
mod meditation;
mod mutation;
mod page;
mod payments;
mod query;
pub mod schema;
mod shared;
mod subscription;
mod types;

use axum::Router;
use axum::routing::get;

pub use schema::{PlazaSchema, sdl};

use crate::state::AppState;

/// `/graphql` (HTTP and WebSocket) and the explorer's script.
pub fn router(state: &AppState) -> Router<AppState> {
    let schema = schema::build(&state.config);
    Router::new()
        .route("/graphql", get(http::get).post(http::post))
        .route("/graphql/explorer.js", get(http::explorer_js))
        .layer(axum::Extension(schema))
}
