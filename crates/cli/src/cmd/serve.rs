//! `konsent serve`: initialise on first start, run HTTP and background jobs, shut down gracefully.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use konsent_service::ServiceError;
use konsent_service::system::{OsEntropy, SystemClock};
use tokio::sync::watch;

use super::{configure, db_url, open};
use crate::args::Cli;
use crate::config::Config;

pub async fn serve(cli: &Cli, cfg: &Config, bind: Option<String>) -> anyhow::Result<ExitCode> {
    let k = match open(cli, cfg).await {
        Ok(k) => k,
        Err(e) if matches!(e.downcast_ref::<ServiceError>(), Some(ServiceError::NoDataDir(_))) => {
            let (k, r) = konsent_service::init::init(
                &cli.data_dir,
                db_url(cli, cfg).as_deref(),
                "Mein Maklerunternehmen",
                Arc::new(SystemClock),
                Arc::new(OsEntropy),
            )
            .await?;
            println!("Erster Start: Datenverzeichnis {} eingerichtet / first start: data dir initialised.", r.data_dir);
            println!("  Mandant / tenant: {}", r.tenant_id);
            println!("  Admin-API-Schlüssel / admin API key (nur jetzt sichtbar / shown only now): {}", r.api_key);
            k
        }
        Err(e) => return Err(e),
    };
    // A database put back by hand must not bring back an erased person or an objection (R62):
    // the deletion journal is replayed before anything is served (it is idempotent).
    let replayed = k.replay_journal().await?;
    if replayed.suppressions + replayed.erasures + replayed.keys_destroyed > 0 {
        tracing::warn!(?replayed, "deletion journal replayed: the database was older than the journal");
    }
    // The first proof package should not pay for typst's font load.
    tokio::task::spawn_blocking(konsent_service::proof::warm_up);
    let addr = bind.unwrap_or_else(|| cfg.server.bind.clone());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("Port nicht verfügbar / cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    println!("Konsent läuft / is running on http://{local}  (Health: http://{local}/healthz)");
    tracing::info!(%local, engine = ?k.db.engine(), "serving");

    let (stop_tx, stop_rx) = watch::channel(false);
    let schedule = konsent_jobs::Schedule {
        checkpoint_every: Duration::from_secs(cfg.jobs.checkpoint_interval_seconds.max(1)),
        verify_every: Duration::from_secs(cfg.jobs.verify_interval_seconds.max(1)),
        retention_every: Duration::from_secs(cfg.jobs.retention_interval_seconds.max(60)),
        doi_reminder_after: (cfg.mail.doi_reminder_after_hours > 0)
            .then(|| Duration::from_secs(cfg.mail.doi_reminder_after_hours * 3600)),
        ..Default::default()
    };
    let mailer = konsent_jobs::mailer::Mailer::new(&cfg.mail.smtp_url, k.data_dir.join("outbox"))
        .map_err(|e| anyhow::anyhow!("mail.smtp_url: {e}"))?;
    let mut k = k;
    configure(&mut k, cfg, &local.to_string());
    let sms = konsent_jobs::sms::SmsSender::new(
        &cfg.sms.gateway_url,
        &cfg.sms.authorization,
        &cfg.sms.body_template,
        k.data_dir.join("outbox"),
    )
    .map_err(|e| anyhow::anyhow!("sms.gateway_url: {e}"))?;
    let senders = konsent_jobs::mailer::Senders { mail: mailer, from: cfg.mail.from.clone(), sms };
    let jobs = tokio::spawn(konsent_jobs::run(k.clone(), schedule, Some(senders), stop_rx));
    let mut web_stop = stop_tx.subscribe();
    let server = konsent_web::serve(k.clone(), listener, async move {
        let _ = web_stop.changed().await;
    });
    let signals = async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("signal handler");
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
    };
    let (res, ()) = tokio::join!(server, signals);
    res?;
    let _ = jobs.await;
    k.db.close().await;
    Ok(ExitCode::SUCCESS)
}
