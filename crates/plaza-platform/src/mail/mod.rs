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
    /// A stable id (letters, digits and `-`): the message's `Message-ID`
    /// and the directory mailer's file name, so a job that sends the same
    /// mail twice (run again after a crash) leaves one file, and a
    /// receiver can drop the second copy by its `Message-ID`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl Mail {
    /// Its id if it has a usable one.
    fn stable_id(&self) -> Option<&str> {
        self.id.as_deref().filter(|id| {
            !id.is_empty()
                && id.len() <= 64
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
    }
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
    let message_id = mail
        .stable_id()
        .map(|id| format!("<{id}@{}>", from.email.domain()));
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject)
        .message_id(message_id);
    match mail.html {
        None => builder.header(ContentType::TEXT_PLAIN).body(mail.text),
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(mail.text, html)),
    }
    .map_err(|e| MailError::Build(e.to_string()))
}

/// Writes each message to `<dir>/<its id, or a time-ordered one>.eml`; the
/// same mail written again replaces its file.
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
        let name = match mail.stable_id() {
            Some(id) => format!("{id}.eml"),
            None => format!("{}.eml", uuid::Uuid::now_v7()),
        };
        let message = message(&self.from, mail)?;
        tokio::fs::create_dir_all(&self.dir).await?;
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
                ..Mail::default()
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
                ..Mail::default()
            })
            .await;
        assert!(matches!(bad, Err(MailError::Address(_))));
    }

    #[tokio::test]
    async fn a_mail_sent_twice_under_one_id_is_one_file_with_that_message_id() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = DirMailer::new(
            dir.path().join("mail"),
            "plaza <no-reply@example.com>".parse().unwrap(),
        );
        let mail = Mail {
            to: "ana@example.com".into(),
            subject: "Once".into(),
            text: "only once".into(),
            id: Some("0199aaaa-0000-7000-8000-000000000001".into()),
            ..Mail::default()
        };
        mailer.send(mail.clone()).await.unwrap();
        mailer.send(mail.clone()).await.unwrap();
        // An id that could leave the directory is not used as a name.
        let odd = Mail {
            id: Some("../escape".into()),
            ..mail
        };
        mailer.send(odd).await.unwrap();
        let mut names: Vec<String> = std::fs::read_dir(dir.path().join("mail"))
            .unwrap()
            .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names.contains(&"0199aaaa-0000-7000-8000-000000000001.eml".to_owned()));
        let text = std::fs::read_to_string(
            dir.path()
                .join("mail/0199aaaa-0000-7000-8000-000000000001.eml"),
        )
        .unwrap();
        assert!(
            text.contains("Message-ID: <0199aaaa-0000-7000-8000-000000000001@example.com>"),
            "{text}"
        );
    }
}
