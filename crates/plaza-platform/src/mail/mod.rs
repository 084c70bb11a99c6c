//! The mail port: `.eml` files in a directory by default (open them with any
//! mail client, or let a test read them), SMTP when configured.

use std::path::PathBuf;
use std::sync::Arc;

use lettre::message::{Mailbox, MultiPart, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Config;

/// One message to one person: plain text, and HTML beside it if given.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("`{0}` is not a mail address")]
    Address(String),
    #[error("cannot build the message: {0}")]
    Build(String),
    #[error("cannot write the mail file: {0}")]
    Io(#[from] std::io::Error),
    #[error("SMTP: {0}")]
    Smtp(String),
    /// The server refused the message for good (a 5xx reply): sending it
    /// again will not help.
    #[error("SMTP refused: {0}")]
    Rejected(String),
}

impl MailError {
    /// Whether trying again later cannot succeed.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Address(_) | Self::Build(_) | Self::Rejected(_))
    }
}

#[async_trait::async_trait]
pub trait Mailer: Send + Sync + std::fmt::Debug {
    async fn send(&self, mail: Mail) -> Result<(), MailError>;
}

pub type SharedMailer = Arc<dyn Mailer>;

/// The mailer the configuration picks.
pub fn from_config(config: &Config) -> Result<SharedMailer, MailError> {
    let from: Mailbox = config
        .mail
        .from
        .parse()
        .map_err(|_| MailError::Address(config.mail.from.clone()))?;
    Ok(match &config.mail.smtp_url {
        None => Arc::new(DirMailer {
            dir: config.data_dir.join("mail"),
            from,
        }),
        Some(url) => {
            let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                .map_err(|e| MailError::Smtp(e.to_string()))?
                .build();
            Arc::new(SmtpMailer { transport, from })
        }
    })
}

fn message(from: &Mailbox, mail: Mail) -> Result<Message, MailError> {
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|_| MailError::Address(mail.to.clone()))?;
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject);
    match mail.html {
        None => builder.header(ContentType::TEXT_PLAIN).body(mail.text),
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(mail.text, html)),
    }
    .map_err(|e| MailError::Build(e.to_string()))
}

/// Writes each message to `<dir>/<time-ordered id>.eml`.
#[derive(Debug)]
pub struct DirMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl DirMailer {
    pub fn new(dir: PathBuf, from: Mailbox) -> Self {
        Self { dir, from }
    }
}

#[async_trait::async_trait]
impl Mailer for DirMailer {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let message = message(&self.from, mail)?;
        tokio::fs::create_dir_all(&self.dir).await?;
        let name = format!("{}.eml", uuid::Uuid::now_v7());
        // Written aside and renamed, so a reader never sees half a message.
        let partial = self.dir.join(format!(".{name}.part"));
        tokio::fs::write(&partial, message.formatted()).await?;
        tokio::fs::rename(&partial, self.dir.join(&name)).await?;
        tracing::info!(file = %self.dir.join(name).display(), "mail written");
        Ok(())
    }
}

/// Sends through an SMTP server (pooled connections).
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer").finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let message = message(&self.from, mail)?;
        self.transport.send(message).await.map_err(|e| {
            if e.is_permanent() {
                MailError::Rejected(e.to_string())
            } else {
                MailError::Smtp(e.to_string())
            }
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_directory_mailer_writes_whole_eml_files() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = DirMailer::new(
            dir.path().join("mail"),
            "plaza <no-reply@example.com>".parse().unwrap(),
        );
        mailer
            .send(Mail {
                to: "ana@example.com".into(),
                subject: "Привет".into(),
                text: "Your code is 123456".into(),
                html: None,
            })
            .await
            .unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path().join("mail"))
            .unwrap()
            .collect();
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
        assert!(text.contains("To: ana@example.com"), "{text}");
        assert!(
            text.contains("From: plaza <no-reply@example.com>"),
            "{text}"
        );
        assert!(text.contains("Your code is 123456"), "{text}");
        let bad = mailer
            .send(Mail {
                to: "nobody".into(),
                subject: "x".into(),
                text: "x".into(),
                html: None,
            })
            .await;
        assert!(matches!(bad, Err(MailError::Address(_))));
    }
}
