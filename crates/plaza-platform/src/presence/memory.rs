use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use plaza_core::{SharedClock, Timestamp};

use super::Presence;

/// Presence inside one process, on the application clock.
#[derive(Debug)]
pub struct MemoryPresence {
    clock: SharedClock,
    /// user → connection → expiry
    users: Mutex<HashMap<String, HashMap<String, Timestamp>>>,
}

impl MemoryPresence {
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            users: Mutex::default(),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, HashMap<String, Timestamp>>) -> T) -> T {
        let mut users = self
            .users
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut users)
    }
}

#[async_trait::async_trait]
impl Presence for MemoryPresence {
    async fn touch(&self, user: &str, connection: &str, ttl: Duration) {
        let until = self.clock.now().saturating_add(ttl);
        self.with(|users| {
            users
                .entry(user.to_owned())
                .or_default()
                .insert(connection.to_owned(), until);
        });
    }

    async fn leave(&self, user: &str, connection: &str) {
        self.with(|users| {
            if let Some(conns) = users.get_mut(user) {
                conns.remove(connection);
                if conns.is_empty() {
                    users.remove(user);
                }
            }
        });
    }

    async fn online(&self, wanted: &[String]) -> Vec<String> {
        let now = self.clock.now();
        self.with(|users| {
            wanted
                .iter()
                .filter(|u| {
                    let Some(conns) = users.get_mut(u.as_str()) else {
                        return false;
                    };
                    conns.retain(|_, until| *until > now);
                    !conns.is_empty()
                })
                .cloned()
                .collect()
        })
    }

    async fn expired(&self) -> Vec<String> {
        let now = self.clock.now();
        self.with(|users| {
            let gone: Vec<String> = users
                .iter_mut()
                .filter_map(|(user, conns)| {
                    conns.retain(|_, until| *until > now);
                    conns.is_empty().then(|| user.clone())
                })
                .collect();
            for user in &gone {
                users.remove(user);
            }
            gone
        })
    }
}
