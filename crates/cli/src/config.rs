//! Configuration: defaults, then `DATA_DIR/konsent.toml`, then `KONSENT__SECTION__KEY` environment
//! variables. Unknown keys are an error.

use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The whole configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// HTTP server.
    pub server: ServerConfig,
    /// Database.
    pub database: DatabaseConfig,
    /// Background jobs.
    pub jobs: JobsConfig,
    /// Logging.
    pub log: LogConfig,
    /// Outgoing mail.
    pub mail: MailConfig,
    /// Text messages (verification codes).
    pub sms: SmsConfig,
    /// Webhooks out (receivers of consent events) and in (newsletter tools).
    pub webhooks: WebhooksConfig,
}

/// Webhook settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    /// Allow receivers on loopback, private (RFC 1918, fc00::/7), link-local and CGNAT addresses,
    /// and plain http to them. Off: such URLs are refused at registration and at every delivery.
    pub allow_private: bool,
    /// Allow plain `http://` receivers on public addresses (https is strongly recommended).
    pub allow_http: bool,
    /// Attempts before a delivery is parked (it can be replayed).
    pub max_attempts: u32,
    /// Timeout of one delivery request, seconds.
    pub timeout_seconds: u64,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        let p = konsent_domain::webhook::HookPolicy::default();
        Self {
            allow_private: p.allow_private,
            allow_http: p.allow_http,
            max_attempts: p.max_attempts,
            timeout_seconds: p.timeout_seconds,
        }
    }
}

impl WebhooksConfig {
    /// The policy the services follow.
    pub fn policy(&self) -> konsent_domain::webhook::HookPolicy {
        konsent_domain::webhook::HookPolicy {
            allow_private: self.allow_private,
            allow_http: self.allow_http,
            max_attempts: self.max_attempts.max(1),
            timeout_seconds: self.timeout_seconds.clamp(1, 300),
        }
    }
}

/// SMS gateway settings: a generic HTTP provider.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    /// Gateway URL the message is POSTed to; empty: messages land in `DATA_DIR/outbox/`.
    pub gateway_url: String,
    /// `Authorization` header value, e.g. `Bearer …` (redacted by `konsent config`).
    pub authorization: String,
    /// JSON body with `{to}`, `{text}`, `{id}`; empty: `{"to":"{to}","text":"{text}","reference":"{id}"}`.
    pub body_template: String,
    /// Prefixes of the numbers text messages may go to (default Germany, Austria, Switzerland:
    /// `["+49", "+43", "+41"]`); empty: every country. Keeps codes from public forms away from
    /// premium numbers abroad (SMS pumping).
    pub allowed_prefixes: Vec<String>,
}

impl Default for SmsConfig {
    fn default() -> Self {
        Self {
            gateway_url: String::new(),
            authorization: String::new(),
            body_template: String::new(),
            allowed_prefixes: konsent_service::context::SMS_PREFIXES.iter().map(|p| p.to_string()).collect(),
        }
    }
}

/// Outgoing mail settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// SMTP URL, e.g. `smtp://user:password@mail.example.de:587?tls=required` (STARTTLS),
    /// `smtps://user:password@mail.example.de:465` (TLS), `smtp://localhost:25` (plain, a local
    /// relay). Empty: mails are written to `DATA_DIR/outbox/` and the confirmation link is logged.
    pub smtp_url: String,
    /// Sender address.
    pub from: String,
    /// Public address of this installation, used in the links of mails; empty = `http://` + bind.
    pub public_url: String,
    /// Hours after which an unconfirmed double opt-in gets its one reminder; 0 = never (R13).
    pub doi_reminder_after_hours: u64,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_url: String::new(),
            from: "Konsent <konsent@localhost>".into(),
            public_url: String::new(),
            doi_reminder_after_hours: 0,
        }
    }
}

/// HTTP server settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Listen address.
    pub bind: String,
}

/// Database settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// URL; empty = SQLite in the data directory. `--database-url` and `KONSENT_DATABASE_URL` win.
    pub url: String,
}

/// Job settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// Seal chain heads every N seconds.
    pub checkpoint_interval_seconds: u64,
    /// Verify all chains every N seconds.
    pub verify_interval_seconds: u64,
    /// Run the retention sweep every N seconds (default daily).
    pub retention_interval_seconds: u64,
}

/// Logging settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: String,
    /// Filter, e.g. `info` or `konsent=debug`. `KONSENT_LOG` wins.
    pub level: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self { bind: "127.0.0.1:8080".into() }
    }
}
impl Default for JobsConfig {
    fn default() -> Self {
        Self { checkpoint_interval_seconds: 300, verify_interval_seconds: 86_400, retention_interval_seconds: 86_400 }
    }
}
impl Default for LogConfig {
    fn default() -> Self {
        Self { format: "text".into(), level: "info".into() }
    }
}

impl Config {
    /// Loads defaults → `DATA_DIR/konsent.toml` → `KONSENT__…` environment.
    pub fn load(data_dir: &Path) -> anyhow::Result<Self> {
        let cfg: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(data_dir.join("konsent.toml")))
            .merge(Env::prefixed("KONSENT__").split("__"))
            .extract()
            .map_err(|e| anyhow::anyhow!("configuration error: {e}"))?;
        if !matches!(cfg.log.format.as_str(), "text" | "json") {
            anyhow::bail!("configuration error: log.format must be 'text' or 'json', not '{}'", cfg.log.format);
        }
        if let Some(p) = cfg.sms.allowed_prefixes.iter().find(|p| {
            let digits = p.strip_prefix('+').unwrap_or("");
            digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit())
        }) {
            anyhow::bail!(
                "Konfigurationsfehler / configuration error: sms.allowed_prefixes: '{p}' ist keine Vorwahl wie \
                 \"+49\" / is no country prefix like \"+49\""
            );
        }
        Ok(cfg)
    }

    /// The effective config as TOML with secrets redacted.
    pub fn redacted_toml(&self) -> String {
        let mut c = self.clone();
        if !c.database.url.is_empty() {
            c.database.url = konsent_store::db::redact_url(&c.database.url);
        }
        c.mail.smtp_url = konsent_store::db::redact_url(&c.mail.smtp_url);
        if !c.sms.authorization.is_empty() {
            c.sms.authorization = "***".into();
        }
        toml_string(&c)
    }
}

fn toml_string(c: &Config) -> String {
    format!(
        "[server]\nbind = {:?}\n\n[database]\nurl = {:?}\n\n[jobs]\ncheckpoint_interval_seconds = {}\nverify_interval_seconds = {}\nretention_interval_seconds = {}\n\n[log]\nformat = {:?}\nlevel = {:?}\n\n[webhooks]\nallow_private = {}\nallow_http = {}\nmax_attempts = {}\ntimeout_seconds = {}\n",
        c.server.bind,
        c.database.url,
        c.jobs.checkpoint_interval_seconds,
        c.jobs.verify_interval_seconds,
        c.jobs.retention_interval_seconds,
        c.log.format,
        c.log.level,
        c.webhooks.allow_private,
        c.webhooks.allow_http,
        c.webhooks.max_attempts,
        c.webhooks.timeout_seconds
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_env_and_unknown_keys_fail() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("konsent.toml"), "[server]\nbind = \"0.0.0.0:9000\"\n").unwrap();
        let c = Config::load(dir.path()).unwrap();
        assert_eq!(c.server.bind, "0.0.0.0:9000");
        assert_eq!(c.jobs.checkpoint_interval_seconds, 300);
        std::fs::write(dir.path().join("konsent.toml"), "[server]\nbnd = \"x\"\n").unwrap();
        let err = Config::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("bnd"), "{err}");
    }
}
