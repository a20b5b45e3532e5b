//! Command dispatch: each subcommand opens what it needs and calls the services.

mod admin;
mod demo;
mod erasure;
mod evidence;
mod imports;
mod scrub;
mod segments;
mod serve;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use konsent_domain::ids::TenantId;
use konsent_service::Konsent;
use konsent_service::system::{OsEntropy, SystemClock};

use crate::args::{Cli, Command};
use crate::config::Config;

/// The database URL: flag or `KONSENT_DATABASE_URL`, else the config file, else SQLite in the data dir.
fn db_url(cli: &Cli, cfg: &Config) -> Option<String> {
    cli.database_url.clone().or_else(|| (!cfg.database.url.is_empty()).then(|| cfg.database.url.clone()))
}

async fn open(cli: &Cli, cfg: &Config) -> anyhow::Result<Konsent> {
    let mut k =
        Konsent::open(&cli.data_dir, db_url(cli, cfg).as_deref(), Arc::new(SystemClock), Arc::new(OsEntropy)).await?;
    // Links in messages a command queues (re-permission requests) point where `serve` points
    // them: the configured public address, else the address it listens on.
    configure(&mut k, cfg, &cfg.server.bind);
    Ok(k)
}

/// Applies the configuration the service reads (webhook policy, SMS prefixes, whether mail goes
/// out by SMTP, the public address of links), the same for `serve` and every other command;
/// `listening` is the address links fall back to.
pub(crate) fn configure(k: &mut Konsent, cfg: &Config, listening: &str) {
    k.webhooks = cfg.webhooks.policy();
    k.sms_prefixes = cfg.sms.allowed_prefixes.clone();
    k.mail_configured = !cfg.mail.smtp_url.trim().is_empty();
    k.public_url =
        if cfg.mail.public_url.is_empty() { format!("http://{listening}") } else { cfg.mail.public_url.clone() };
}

/// The tenant named on the command line, or the first one.
async fn pick_tenant(k: &Konsent, wanted: Option<&str>) -> anyhow::Result<TenantId> {
    let tenants = konsent_store::queries::tenants(&k.db).await?;
    match wanted {
        Some(w) => {
            let id: TenantId = w.parse().context("--tenant: keine ID eines Mandanten / not a tenant id")?;
            tenants.iter().find(|(t, _)| *t == id).map(|(t, _)| *t).context("Mandant unbekannt / no such tenant")
        }
        None => tenants
            .first()
            .map(|(t, _)| *t)
            .context("kein Mandant vorhanden, bitte `konsent init` ausführen / no tenant exists: run `konsent init`"),
    }
}

/// Runs the chosen command.
pub async fn run(cli: Cli, cfg: Config) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Init { json, tenant_name } => admin::init(&cli, &cfg, *json, tenant_name).await,
        Command::Serve { bind } => serve::serve(&cli, &cfg, bind.clone()).await,
        Command::Demo { persons, seed, tenant, leads_out } => {
            let k = open(&cli, &cfg).await?;
            let t = pick_tenant(&k, tenant.as_deref()).await?;
            demo::run(&k, t, *persons, *seed, leads_out.as_deref()).await
        }
        Command::Scrub { file, channel, advertiser, categories, column, out, tenant, validate_only } => {
            if *validate_only {
                return scrub::validate(file, column.as_deref()).await;
            }
            let k = open(&cli, &cfg).await?;
            let t = pick_tenant(&k, tenant.as_deref()).await?;
            let out = out.as_deref().context("--out fehlt / --out is required")?;
            let a = scrub::ScrubArgs { file, out, channel, advertiser, categories, column: column.as_deref() };
            scrub::run(&k, t, a).await
        }
        Command::Evidence { phone, email, person, from, to, out, tenant } => {
            let k = open(&cli, &cfg).await?;
            let t = pick_tenant(&k, tenant.as_deref()).await?;
            let subject = evidence::subject(phone, email, person)?;
            evidence::run(&k, t, subject, from.as_deref(), to.as_deref(), out).await
        }
        Command::LeadCheck { file, advertiser, categories, campaign, out, tenant } => {
            let k = open(&cli, &cfg).await?;
            let t = pick_tenant(&k, tenant.as_deref()).await?;
            evidence::lead_check(&k, t, file, advertiser, categories, campaign.clone(), out).await
        }
        Command::CallLog { file, advertiser, tenant } => {
            let k = open(&cli, &cfg).await?;
            let t = pick_tenant(&k, tenant.as_deref()).await?;
            evidence::call_log(&k, t, file, advertiser.as_deref()).await
        }
        Command::Segment { action } => {
            let k = open(&cli, &cfg).await?;
            segments::segment(&k, action).await
        }
        Command::Repermission { advertiser, within_days, staleness, send, letters, json, tenant } => {
            let k = open(&cli, &cfg).await?;
            let t = pick_tenant(&k, tenant.as_deref()).await?;
            let scope = konsent_service::repermission::RepermissionScope {
                advertiser: advertiser
                    .parse()
                    .context("--advertiser: keine ID eines Werbenden / not an advertiser id")?,
                within_days: *within_days,
                staleness_months: konsent_domain::gate::parse_staleness(staleness)
                    .map_err(|e| anyhow::anyhow!("--staleness: {e}"))?,
            };
            let actor = konsent_domain::ledger::Actor::User("cli".into());
            if let Some(out) = letters {
                let l = k.repermission_letters(t, &scope).await?;
                std::fs::write(out, konsent_formats::export::letters_csv(&l))
                    .with_context(|| format!("Schreiben fehlgeschlagen / cannot write {}", out.display()))?;
                println!("{} Briefe / letters -> {}", l.len(), out.display());
                if !*send {
                    return Ok(ExitCode::SUCCESS);
                }
            }
            if *send {
                let r = k.send_repermission(t, &actor, &scope).await?;
                println!(
                    "{} Mails und {} SMS für {} Erneuerungen eingereiht / mails and text messages queued for {} \
                     renewals ({} Mails mit SMS-Code für die Rufnummer / mails with a text code for the number); {} per \
                     Brief / by letter, {} ohne Rechtsgrundlage für eine Anfrage / without a channel with a legal \
                     basis, {} nicht per Mail oder SMS erneuerbar / not renewable by mail or text message, {} Personen \
                     fehlgeschlagen (siehe Protokoll) / persons failed (see the log)",
                    r.mails, r.sms, r.renewals, r.renewals, r.with_number, r.post, r.none, r.not_by_mail, r.failed
                );
                return Ok(ExitCode::SUCCESS);
            }
            let plan = k.repermission_plan(t, &scope).await?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&plan)?);
            } else {
                println!("{} Einwilligungen zur Erneuerung / consents to renew", plan.candidates.len());
                for (route, n) in &plan.by_route {
                    println!("  Weg / route {route}: {n}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Reconcile { file, format, advertiser, mapping, json, tenant } => {
            let k = open(&cli, &cfg).await?;
            let t = pick_tenant(&k, tenant.as_deref()).await?;
            let format = format.parse().map_err(|e| anyhow::anyhow!("--format: {e}"))?;
            let advertiser =
                advertiser.parse().context("--advertiser: keine ID eines Werbenden / not an advertiser id")?;
            let mapping = mapping
                .as_deref()
                .map(konsent_service::imports::Mapping::from_path)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--mapping: {e}"))?;
            let r = k.reconcile(t, file, format, mapping.as_ref(), advertiser).await?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&r)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{} Zeilen / rows: {} übereinstimmend / in sync, {} dort angemeldet, hier gesperrt / subscribed there, blocked here, \
                 {} dort abgemeldet, hier erlaubt / opted out there, allowed here",
                r.rows,
                r.in_sync,
                r.subscribed_there_blocked_here.len(),
                r.opted_out_there_allowed_here.len()
            );
            for m in &r.subscribed_there_blocked_here {
                println!("  abmelden / unsubscribe: Zeile / row {} {} ({})", m.row, m.email, m.reasons_here.join(", "));
            }
            for m in &r.opted_out_there_allowed_here {
                println!("  importieren / import: Zeile / row {} {} ({})", m.row, m.email, m.status_there);
            }
            Ok(if r.subscribed_there_blocked_here.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(3) })
        }
        Command::Robinson { file, list, tenant } => {
            let k = open(&cli, &cfg).await?;
            let t = pick_tenant(&k, tenant.as_deref()).await?;
            let bytes = std::fs::read(file)
                .with_context(|| format!("Lesen fehlgeschlagen / cannot read {}", file.display()))?;
            let n = k.import_robinson(t, &konsent_domain::ledger::Actor::User("cli".into()), list, &bytes).await?;
            println!("Robinsonliste / Robinson list '{list}': {n} Einträge / entries");
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { .. } => {
            let k = open(&cli, &cfg).await?;
            imports::import(&k, &cli.command).await
        }
        Command::Erase { person, via, json, tenant } => {
            let k = open(&cli, &cfg).await?;
            let t = pick_tenant(&k, tenant.as_deref()).await?;
            erasure::erase(&k, t, person, via, *json).await
        }
        Command::Access { person, out, tenant } => {
            let k = open(&cli, &cfg).await?;
            let t = pick_tenant(&k, tenant.as_deref()).await?;
            let p = person.parse().context("--person: keine ID einer Person / not a person id")?;
            let x = k.access_export(t, &konsent_domain::ledger::Actor::User("cli".into()), p).await?;
            std::fs::write(out, &x.zip)
                .with_context(|| format!("Schreiben fehlgeschlagen / cannot write {}", out.display()))?;
            println!(
                "Auskunft / access answer → {} ({} offene Anfrage(n) beantwortet / request(s) answered)",
                out.display(),
                x.answered
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Retention { action } => erasure::retention(&open(&cli, &cfg).await?, action).await,
        Command::Backup { out } => {
            let n = open(&cli, &cfg).await?.backup(out).await?;
            println!("Sicherung / backup {} ({n} Bytes)", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { file, replay_only } => {
            if !replay_only {
                let file = file.as_deref().context("name the backup file, or use --replay-only")?;
                if db_url(&cli, &cfg).is_some_and(|u| u.starts_with("postgres")) {
                    anyhow::bail!("restore PostgreSQL with pg_restore, then run `konsent restore --replay-only`");
                }
                konsent_service::backup::restore_sqlite_file(&cli.data_dir, file)?;
                println!("Sicherung eingespielt / backup restored from {}", file.display());
            }
            let r = open(&cli, &cfg).await?.replay_journal().await?;
            println!(
                "Löschjournal nachgespielt / deletion journal replayed: {} Zeilen, {} Sperreinträge, {} Löschungen, {} Schlüssel vernichtet",
                r.lines, r.suppressions, r.erasures, r.keys_destroyed
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Hold { action } => erasure::hold(&open(&cli, &cfg).await?, action).await,
        Command::VerifyPackage { file, public_key, json } => evidence::verify(file, public_key.as_deref(), *json),
        Command::Verify { json } => admin::verify(&open(&cli, &cfg).await?, *json).await,
        Command::Rebuild => admin::rebuild(&open(&cli, &cfg).await?).await,
        Command::Checkpoint => {
            let n = konsent_service::checkpoint::seal_all(&open(&cli, &cfg).await?).await?;
            println!("{n} Prüfpunkt(e) signiert / checkpoint(s) sealed");
            Ok(ExitCode::SUCCESS)
        }
        Command::Apikey { action } => admin::apikey(&open(&cli, &cfg).await?, action).await,
        Command::Status { json } => admin::status(&open(&cli, &cfg).await?, *json).await,
        Command::Config => {
            print!("{}", cfg.redacted_toml());
            Ok(ExitCode::SUCCESS)
        }
    }
}
