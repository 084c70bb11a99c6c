//! What follows an accepted response, as a job enqueued in the accepting
//! transaction (so it happens exactly when the accept commits, and again
//! after a crash): the direct chat between owner and freelancer — found if
//! they have one — and a notice to each naming it, once however often the
//! job runs.

use plaza_core::{ProjectId, ResponseId};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::store;
use crate::chat::model::ChatKind;
use crate::chat::service::{NewChat, create_chat};
use crate::notifications::{Notice, send_once};
use crate::state::AppState;
use plaza_platform::jobs::JobKind;

#[derive(Debug, Serialize, Deserialize)]
pub struct Accepted {
    pub project_id: ProjectId,
    pub response_id: ResponseId,
}

#[async_trait::async_trait]
impl JobKind for Accepted {
    type Context = AppState;
    const KIND: &'static str = "projects.accepted";
    const QUEUE: &'static str = "notifications";

    fn unique_key(&self) -> Option<String> {
        Some(format!("projects.accepted:{}", self.response_id))
    }
    const UNIQUE_FOR: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

    async fn run(&self, state: &AppState) -> anyhow::Result<()> {
        let (project, response) = {
            let mut conn = state.db.reader().acquire().await?;
            let project = store::find(&mut conn, self.project_id).await?;
            let response =
                store::find_response(&mut conn, self.project_id, self.response_id).await?;
            (project, response)
        };
        let (Some(project), Some(response)) = (project, response) else {
            // Deleted meanwhile (an account erased): nothing to open.
            return Ok(());
        };
        let chat = NewChat {
            kind: ChatKind::Direct,
            name: None,
            member_ids: vec![response.freelancer_id],
            visibility: None,
            group_id: None,
        };
        let (chat, _) = create_chat(state, project.owner_id, chat)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open the project's chat: {e}"))?;
        let data = |role: &str| {
            json!({
                "project_id": project.id, "title": project.title, "response_id": response.id,
                "chat_id": chat.id, "role": role, "bid_amount": response.bid_amount,
                "currency": response.currency,
            })
        };
        // Run again after a crash, it finds the chat above and sends
        // nothing new: the notices are once per response.
        let mut tx = state.work().await?;
        let kind = "project.response.accepted";
        let once = format!("projects.accepted:{}", response.id);
        send_once(
            &mut tx,
            &once,
            &[response.freelancer_id],
            &Notice::template(kind, data("freelancer")),
        )
        .await?;
        send_once(
            &mut tx,
            &once,
            &[project.owner_id],
            &Notice::template(kind, data("owner")),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
