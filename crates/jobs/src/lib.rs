//! Konsent background jobs run inside `konsent serve`: sealing chain heads with signed
//! checkpoints, the scheduled integrity check of every chain (R21), the outbox (mail, SMS),
//! webhook deliveries and the retention sweep.
#![forbid(unsafe_code)]

pub mod mailer;
pub mod sms;
pub mod webhooks;

use std::time::Duration;

use konsent_service::{Konsent, checkpoint, verify};
use tokio::sync::watch;

/// How often the jobs run.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Seal new chain heads this often.
    pub checkpoint_every: Duration,
    /// Verify all chains this often.
    pub verify_every: Duration,
    /// Look for due mail this often.
    pub mail_every: Duration,
    /// Look for due webhook deliveries this often.
    pub webhooks_every: Duration,
    /// Run the retention sweep (deletion concept, R58) this often.
    pub retention_every: Duration,
    /// Send the one double opt-in reminder this long after the mail (R13); `None` = never.
    pub doi_reminder_after: Option<Duration>,
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            checkpoint_every: Duration::from_secs(300),
            verify_every: Duration::from_secs(24 * 3600),
            mail_every: Duration::from_secs(1),
            webhooks_every: Duration::from_secs(1),
            retention_every: Duration::from_secs(24 * 3600),
            doi_reminder_after: None,
        }
    }
}

/// The daily retention sweep of every tenant; failures are logged and retried next time.
async fn retention_sweep(k: &Konsent) {
    match k.retention_run_all().await {
        Ok(runs) => {
            for (tenant, r) in runs {
                match r {
                    Ok(r) => tracing::info!(%tenant, erased = r.erased.len(), held = r.held.len(), "retention sweep"),
                    Err(e) => tracing::error!(%tenant, error = %e, "retention sweep failed"),
                }
            }
        }
        Err(e) => tracing::error!(error = %e, "retention sweep could not list tenants"),
    }
}

/// Runs the jobs until `stop` flips to true. Failures are logged and retried next tick.
pub async fn run(k: Konsent, schedule: Schedule, senders: Option<mailer::Senders>, mut stop: watch::Receiver<bool>) {
    let mut seal = tokio::time::interval(schedule.checkpoint_every);
    let mut post = tokio::time::interval(schedule.mail_every);
    let mut remind = tokio::time::interval(Duration::from_secs(60));
    let mut check = tokio::time::interval(schedule.verify_every);
    let mut sweep = tokio::time::interval(schedule.retention_every);
    let mut hooks = tokio::time::interval(schedule.webhooks_every);
    let deliverer = webhooks::Deliverer::new(k.webhooks.clone());
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = seal.tick() => match checkpoint::seal_all(&k).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(chains = n, "sealed checkpoints"),
                Err(e) => tracing::error!(error = %e, "sealing checkpoints failed"),
            },
            _ = post.tick(), if senders.is_some() => {
                if let Some(s) = &senders {
                    mailer::deliver_due(&k, s).await;
                }
            }
            _ = remind.tick(), if schedule.doi_reminder_after.is_some() => {
                let after = jiff::SignedDuration::try_from(schedule.doi_reminder_after.unwrap_or_default()).unwrap_or_default();
                match k.send_doi_reminders(after).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(reminders = n, "double opt-in reminders queued"),
                    Err(e) => tracing::warn!(error = %e, "double opt-in reminders failed"),
                }
            }
            _ = sweep.tick() => retention_sweep(&k).await,
            _ = hooks.tick() => {
                webhooks::deliver_due(&k, &deliverer).await;
            }
            _ = check.tick() => match verify::verify(&k).await {
                Ok(r) if r.ok() => tracing::info!(entries = r.entries, seconds = r.seconds, "ledger verified"),
                Ok(r) => tracing::error!(broken = ?r.broken, "LEDGER INTEGRITY CHECK FAILED"),
                Err(e) => tracing::error!(error = %e, "ledger verification could not run"),
            },
        }
    }
    // Seal what was written before stopping, so a restart starts from a sealed head.
    if let Err(e) = checkpoint::seal_all(&k).await {
        tracing::error!(error = %e, "final checkpoint failed");
    }
}
