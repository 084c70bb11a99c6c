//! `AppState`: what every transport and service reaches — the platform's
//! ports and machinery, and the product's own per-node runtime (the token
//! kit, password hashing, the socket hubs). `state.db`, `state.clock` and
//! the other ports are the platform's, through `Deref`.

use std::ops::Deref;
use std::sync::Arc;

use plaza_core::SharedClock;
use plaza_platform::Platform;
use plaza_platform::config::Config;

use crate::http::auth::kit::AuthKit;
use crate::users::password::Passwords;

/// The ports and settings handlers share; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

pub struct Services {
    pub platform: Platform,
    pub passwords: Passwords,
    pub auth: AuthKit,
    /// This node's WebSocket connections and the chats they receive.
    pub hub: crate::realtime::hub::Hub,
    /// This node's group meditation sockets and their rooms.
    pub rooms: crate::meditation::rooms::live::Rooms,
    /// What a marketplace deal's end does (payments' escrow; `app::hooks`).
    pub closing: Arc<dyn crate::projects::closing::Closing>,
    /// The AI requests this node's callers are waiting on.
    pub coach: crate::coach::live::Waiters,
}

/// What slices do at points of other slices they may not import: the
/// composition root (`app::hooks`) fills these in.
pub struct Hooks {
    pub closing: Arc<dyn crate::projects::closing::Closing>,
}

impl Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}

impl Deref for Services {
    type Target = Platform;
    fn deref(&self) -> &Platform {
        &self.platform
    }
}

impl AsRef<Platform> for AppState {
    fn as_ref(&self) -> &Platform {
        &self.0.platform
    }
}

impl AsRef<AppState> for AppState {
    fn as_ref(&self) -> &AppState {
        self
    }
}

impl AppState {
    /// Connects every backing service the configuration names. Fails,
    /// naming the setting, if one does not answer.
    pub async fn connect(config: Config, clock: SharedClock, hooks: Hooks) -> anyhow::Result<Self> {
        let platform = Platform::connect(config, clock).await?;
        Ok(Self(Arc::new(Services {
            passwords: Passwords::new(platform.cpu.clone()),
            auth: AuthKit::new(platform.cache.clone(), platform.config.auth.access_ttl.0),
            hub: crate::realtime::hub::Hub::new(),
            rooms: crate::meditation::rooms::live::Rooms::new(),
            closing: hooks.closing,
            coach: crate::coach::live::Waiters::new(),
            platform,
        })))
    }
}
