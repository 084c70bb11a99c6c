//! Mail on the `email` queue: account mails (verification and reset links,
//! sign-in codes, address changes) and notification mails, each a job
//! enqueued in the transaction that made the token or the notification, so
//! a mail is sent if and only if that committed, and retried with backoff
//! while the mail server is unreachable.
//!
//! A mail's job payload holds its text, links and codes included, so it is
//! erased once the job completes or dies (`JobKind::SENSITIVE`). An address
//! the mail server refuses for good (a 5xx reply, or not an address at all)
//! is recorded in `mail_suppressions`, and later mail to it is skipped.

use plaza_platform::mail::{Mail, MailError};
use serde::{Deserialize, Serialize};

use plaza_platform::Work;

use crate::state::AppState;
use plaza_platform::jobs::{JobKind, Priority};

/// An account mail: high priority, so a sign-in code is never stuck behind
/// a bulk announcement.
#[derive(Debug, Serialize, Deserialize)]
pub struct AccountMail {
    pub mail: Mail,
}

/// A notification's mail (rendered from its template).
#[derive(Debug, Serialize, Deserialize)]
pub struct NotificationMail {
    pub mail: Mail,
    /// The delivery it belongs to: a delivery that runs twice mails once.
    pub delivery_id: plaza_core::NotificationId,
}

#[async_trait::async_trait]
impl JobKind for AccountMail {
    type Context = AppState;
    const KIND: &'static str = "mail.account";
    const QUEUE: &'static str = "email";
    const PRIORITY: Priority = Priority::High;
    const MAX_ATTEMPTS: u32 = 8;
    const BACKOFF: std::time::Duration = std::time::Duration::from_secs(10);
    const SENSITIVE: bool = true;

    async fn run(&self, state: &AppState) -> anyhow::Result<()> {
        send(state, &self.mail).await
    }
}

#[async_trait::async_trait]
impl JobKind for NotificationMail {
    type Context = AppState;
    const KIND: &'static str = "mail.notification";
    const QUEUE: &'static str = "email";
    const MAX_ATTEMPTS: u32 = 8;
    const BACKOFF: std::time::Duration = std::time::Duration::from_secs(30);
    const SENSITIVE: bool = true;
    const UNIQUE_FOR: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

    fn unique_key(&self) -> Option<String> {
        Some(format!("mail:{}", self.delivery_id))
    }

    async fn run(&self, state: &AppState) -> anyhow::Result<()> {
        send(state, &self.mail).await
    }
}

/// Queues an account mail in the caller's unit of work: sent if and only
/// if it commits. It gets an id now, so a run repeated after a crash sends
/// the same message (one file; one `Message-ID` over SMTP).
pub async fn queue(work: &mut Work<'_>, mut mail: Mail) -> Result<(), sqlx::Error> {
    mail.id
        .get_or_insert_with(|| uuid::Uuid::now_v7().to_string());
    work.enqueue(&AccountMail { mail }).await?;
    Ok(())
}

/// Sends `mail` unless its address is suppressed; a permanent refusal
/// suppresses the address and ends the job (retrying cannot help).
async fn send(state: &AppState, mail: &Mail) -> anyhow::Result<()> {
    let to = mail.to.to_lowercase();
    if suppressed(state, &to).await? {
        tracing::info!(to, "mail skipped: the address refused mail before");
        metrics::counter!("plaza_mail_skipped_total").increment(1);
        return Ok(());
    }
    match state.mailer.send(mail.clone()).await {
        Ok(()) => {
            metrics::counter!("plaza_mail_sent_total").increment(1);
            Ok(())
        }
        Err(e) if e.is_permanent() => {
            tracing::warn!(to, error = %e, "the address refuses mail; suppressing it");
            suppress(state, &to, &e).await?;
            metrics::counter!("plaza_mail_refused_total").increment(1);
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

async fn suppressed(state: &AppState, email: &str) -> Result<bool, sqlx::Error> {
    let mut conn = state.db.reader().acquire().await?;
    let found: Option<String> =
        sqlx::query_scalar("SELECT email FROM mail_suppressions WHERE email = $1")
            .bind(email)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(found.is_some())
}

async fn suppress(state: &AppState, email: &str, why: &MailError) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO mail_suppressions (email, reason, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (email) DO NOTHING",
    )
    .bind(email)
    .bind(why.to_string())
    .bind(state.clock.now())
    .execute(state.db.writer())
    .await?;
    Ok(())
}
