//! The web app (`web/`, TypeScript + Svelte, built into `web/dist` and
//! committed): the client at `/` and the admin console at `/admin`. The
//! build is embedded in release binaries (read from `web/dist` on disk in
//! debug builds), so running plaza needs no Node.js. It speaks only the
//! public API.
//!
//! - `index.html` answers `/` and every path of the app (`APP_PATHS`), so
//!   a reload on `/chats/…` works; any other path keeps the JSON 404.
//! - `/assets/*` are content-hashed: cached for a year, `immutable`.
//! - A strict Content-Security-Policy: scripts, styles and connections
//!   from this origin only (no inline script, no CDN); pictures also from
//!   `blob:` and `data:`.

mod serve;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

/// The first path segments of the app's own pages; `web/src/routes.ts`
/// lists the same (a test keeps them in step).
pub const APP_PATHS: [&str; 10] = [
    "sign-in",
    "sign-up",
    "chats",
    "notifications",
    "settings",
    "meditate",
    "projects",
    "fitness",
    "wallet",
    "admin",
];

/// The app's routes, or none when `features.web_app` is off.
pub fn router(state: &AppState) -> Router<AppState> {
    if !state.config.features.web_app {
        return Router::new();
    }
    let mut router = Router::new()
        .route("/", get(serve::index))
        .route("/index.html", get(serve::index))
        .route("/assets/{*path}", get(serve::asset))
        .route("/favicon.svg", get(serve::favicon));
    for page in APP_PATHS {
        router = router
            .route(&format!("/{page}"), get(serve::index))
            .route(&format!("/{page}/{{*rest}}"), get(serve::index));
    }
    router
}
