//! Batching per request: every sender, member or profile a response
//! names is read in one query per kind, however many fields ask.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use plaza_core::{ChatId, UserId};

use crate::chat::service::{self as chats, Member};
use crate::http::ApiError;
use crate::state::AppState;
use crate::users::UserView;

/// Public profiles by id.
pub struct People(pub AppState);

impl Loader<UserId> for People {
    type Value = UserView;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[UserId]) -> Result<HashMap<UserId, UserView>, Self::Error> {
        let found = crate::profiles::service::people(&self.0, ids).await;
        found.map_err(|e| ApiError::from(e).into())
    }
}

/// The members of chats the viewer is in.
pub struct Members {
    pub state: AppState,
    pub me: Option<UserId>,
}

impl Loader<ChatId> for Members {
    type Value = Vec<Member>;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[ChatId]) -> Result<HashMap<ChatId, Vec<Member>>, Self::Error> {
        let Some(me) = self.me else {
            return Ok(HashMap::new());
        };
        let found = chats::members_of(&self.state, me, ids).await;
        found.map_err(|e| ApiError::from(e).into())
    }
}
