//! Sends the outbox: over SMTP (lettre: `smtp://user:pass@host:587?tls=required` for STARTTLS,
//! `smtps://host:465` for TLS, plain `smtp://localhost:25` for a local relay), or, with no SMTP configured, as `.eml` files into `DATA_DIR/outbox/` so a
//! newcomer can try the whole flow at once. A failed send is retried with backoff; nothing is lost
//! while the server is down, and a message keeps its id across retries.

use std::path::PathBuf;

use konsent_domain::mail::{Outgoing, OutgoingMail};
use konsent_service::Konsent;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Where mail goes.
#[derive(Clone)]
pub enum Mailer {
    /// An SMTP server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// Files in a directory.
    Dir(PathBuf),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mailer::Smtp(_) => f.write_str("Mailer::Smtp"),
            Mailer::Dir(d) => write!(f, "Mailer::Dir({})", d.display()),
        }
    }
}

impl Mailer {
    /// From an SMTP URL as lettre reads them (`smtp://user:pass@host:587?tls=required`,
    /// `smtps://host:465`, `smtp://localhost:25`); an empty URL writes to `dir`.
    pub fn new(url: &str, dir: PathBuf) -> Result<Self, String> {
        if url.trim().is_empty() {
            return Ok(Mailer::Dir(dir));
        }
        AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map(|b| Mailer::Smtp(b.build()))
            .map_err(|e| format!("bad SMTP URL: {e}"))
    }

    /// Whether mail leaves the machine.
    pub fn is_smtp(&self) -> bool {
        matches!(self, Mailer::Smtp(_))
    }

    /// Sends one message from `from`.
    pub async fn send(&self, m: &OutgoingMail, from: &str) -> Result<(), String> {
        let msg = Message::builder()
            .message_id(Some(m.message_id.clone()))
            .from(from.parse().map_err(|e| format!("bad sender address: {e}"))?)
            .to(m.to.parse().map_err(|e| format!("bad recipient address: {e}"))?)
            .subject(m.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(m.text.clone())
            .map_err(|e| format!("cannot build the message: {e}"))?;
        match self {
            // The server's own words may quote the recipient: keep only the code and the kind.
            Mailer::Smtp(t) => t.send(msg).await.map(|_| ()).map_err(|e| match e.status() {
                Some(code) => format!("SMTP server answered {code}"),
                None if e.is_timeout() => "SMTP server timed out".to_string(),
                None => "SMTP server unreachable or refused the connection".to_string(),
            }),
            Mailer::Dir(dir) => {
                let name: String =
                    m.message_id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect::<String>();
                tokio::fs::create_dir_all(dir).await.map_err(|e| format!("{}: {e}", dir.display()))?;
                let path = dir.join(format!("{name}.eml"));
                tokio::fs::write(&path, msg.formatted()).await.map_err(|e| format!("{}: {e}", path.display()))
            }
        }
    }
}

/// Where each kind of message goes.
#[derive(Debug, Clone)]
pub struct Senders {
    /// Mail.
    pub mail: Mailer,
    /// Sender address of mails.
    pub from: String,
    /// Text messages.
    pub sms: crate::sms::SmsSender,
}

/// Sends what is due, up to 100 messages; returns how many were sent.
pub async fn deliver_due(k: &Konsent, senders: &Senders) -> usize {
    let claimed = match k.claim_mail(100).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the outbox");
            return 0;
        }
    };
    let mut sent = 0;
    for (row, mail) in claimed {
        let result = match mail {
            Ok(Outgoing::Mail(m)) => senders.mail.send(&m, &senders.from).await,
            Ok(Outgoing::Sms(m)) => senders.sms.send(&m).await,
            Err(e) => Err(format!("cannot open the stored message: {e}")),
        };
        let stored = match &result {
            Ok(()) => {
                sent += 1;
                k.mail_sent(&row.id).await
            }
            Err(e) => {
                tracing::warn!(message = %row.id, attempts = row.attempts, error = %e, "mail not sent; will retry");
                k.mail_failed(&row.id, row.attempts, e).await
            }
        };
        if let Err(e) = stored {
            tracing::warn!(message = %row.id, error = %e, "cannot update the outbox");
        }
    }
    sent
}
