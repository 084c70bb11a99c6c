//! Both sides of a deal hear of each step of its money.

use plaza_core::ProjectId;
use plaza_platform::jobs::JobKind;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::chat::model::ChatKind;
use crate::chat::service::{NewChat, create_chat, send_system};
use crate::notifications::{Notice, send_once};
use crate::state::AppState;

use super::find;

/// A step of a deal's money that both sides hear about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Funded,
    Released,
    Refunded,
}

impl Step {
    fn as_str(self) -> &'static str {
        match self {
            Self::Funded => "funded",
            Self::Released => "released",
            Self::Refunded => "refunded",
        }
    }
}

/// Tells both sides of a deal about a step of its money: a notification
/// to each and a system message in their chat, once however often it runs.
#[derive(Debug, Serialize, Deserialize)]
pub struct DealNotice {
    pub project_id: ProjectId,
    pub step: Step,
}

#[async_trait::async_trait]
impl JobKind for DealNotice {
    type Context = AppState;
    const KIND: &'static str = "payments.deal_notice";
    const QUEUE: &'static str = "notifications";

    fn unique_key(&self) -> Option<String> {
        Some(format!(
            "payments.deal_notice:{}:{}",
            self.project_id,
            self.step.as_str()
        ))
    }

    async fn run(&self, state: &AppState) -> anyhow::Result<()> {
        let (escrow, project) = {
            let mut conn = state.db.writer().acquire().await?;
            let escrow = find(&mut conn, self.project_id).await?;
            let deal = crate::projects::service::deal(&mut conn, self.project_id).await?;
            (escrow, deal.map(|(p, _)| p))
        };
        let (Some(escrow), Some(project)) = (escrow, project) else {
            return Ok(());
        };
        let amount = escrow.money();
        let (fee, payout) = amount.split_fee(u32::try_from(escrow.fee_bps).unwrap_or(0))?;
        let step = self.step.as_str();
        let chat = NewChat {
            kind: ChatKind::Direct,
            name: None,
            member_ids: vec![escrow.freelancer_id],
            visibility: None,
            group_id: None,
        };
        let (chat, _) = create_chat(state, escrow.client_id, chat)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open the deal's chat: {e}"))?;
        let text = match self.step {
            Step::Funded => format!(
                "Escrow funded: {} {} is held for “{}”.",
                amount.decimal(),
                amount.currency,
                project.title
            ),
            Step::Released => format!(
                "Escrow released: {} {} paid to the freelancer for “{}” (platform fee {}).",
                payout.decimal(),
                amount.currency,
                project.title,
                fee.decimal()
            ),
            Step::Refunded => format!(
                "Escrow refunded: {} {} goes back to the client; “{}” was cancelled.",
                amount.decimal(),
                amount.currency,
                project.title
            ),
        };
        let once = format!("escrow.{step}:{}", self.project_id);
        send_system(state, escrow.client_id, chat.id, text, once.clone())
            .await
            .map_err(|e| anyhow::anyhow!("cannot post to the deal's chat: {e}"))?;
        let data = |role: &str| {
            json!({
                "project_id": project.id, "title": project.title, "role": role,
                "chat_id": chat.id, "amount": amount.minor, "amount_decimal": amount.decimal(),
                "currency": amount.currency, "payout_decimal": payout.decimal(),
                "fee_decimal": fee.decimal(),
            })
        };
        let kind = format!("escrow.{step}");
        let mut work = state.work().await?;
        send_once(
            &mut work,
            &once,
            &[escrow.client_id],
            &Notice::template(&kind, data("client")),
        )
        .await?;
        send_once(
            &mut work,
            &once,
            &[escrow.freelancer_id],
            &Notice::template(&kind, data("freelancer")),
        )
        .await?;
        work.commit().await?;
        Ok(())
    }
}
