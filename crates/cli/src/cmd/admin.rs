//! Administrative commands: init, verify, rebuild, API keys, status.

use std::process::ExitCode;
use std::sync::Arc;

use konsent_service::Konsent;
use konsent_service::apikeys::{self, Role};
use konsent_service::system::{OsEntropy, SystemClock};

use super::{db_url, pick_tenant};
use crate::args::{ApikeyAction, Cli};
use crate::config::Config;

pub async fn init(cli: &Cli, cfg: &Config, json: bool, tenant_name: &str) -> anyhow::Result<ExitCode> {
    let (_, r) = konsent_service::init::init(
        &cli.data_dir,
        db_url(cli, cfg).as_deref(),
        tenant_name,
        Arc::new(SystemClock),
        Arc::new(OsEntropy),
    )
    .await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        println!("Konsent ist eingerichtet / Konsent is initialised.");
        println!("  Datenverzeichnis / data dir:  {}", r.data_dir);
        println!("  Datenbank / database:         {}", r.database);
        println!("  Mandant / tenant:             {}", r.tenant_id);
        println!("  Admin-API-Schlüssel / admin API key (wird nur jetzt angezeigt / shown only now):");
        println!("    {}", r.api_key);
        println!("  Öffentlicher Prüfschlüssel / public verification key: {}", r.public_key);
        println!("Start: konsent serve --data-dir {}", r.data_dir);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn verify(k: &Konsent, json: bool) -> anyhow::Result<ExitCode> {
    let r = konsent_service::verify::verify(k).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else if let Some(b) = &r.broken {
        eprintln!("MANIPULATION ERKANNT / LEDGER BROKEN: tenant {} entry {}: {}", b.tenant, b.seq, b.kind);
    } else {
        let rate = if r.seconds > 0.0 { r.entries as f64 / r.seconds } else { 0.0 };
        println!(
            "Ledger intakt / ledger intact: {} Einträge / entries in {} Mandant(en) / tenant(s), {:.3} s ({:.0} entries/s)",
            r.entries,
            r.tenants.len(),
            r.seconds,
            rate
        );
    }
    Ok(if r.ok() { ExitCode::SUCCESS } else { ExitCode::from(3) })
}

pub async fn rebuild(k: &Konsent) -> anyhow::Result<ExitCode> {
    let tenants: Vec<_> = konsent_store::ledger::chain_heads(&k.db).await?.into_iter().map(|(t, _)| t).collect();
    let n = konsent_store::projection::rebuild(&k.db, &tenants).await?;
    println!("Projektionen neu aufgebaut / projections rebuilt from {n} ledger entries");
    Ok(ExitCode::SUCCESS)
}

pub async fn apikey(k: &Konsent, action: &ApikeyAction) -> anyhow::Result<ExitCode> {
    match action {
        ApikeyAction::Create { role, label, tenant } => {
            let role: Role = role.parse().map_err(|e: String| anyhow::anyhow!(e))?;
            let t = pick_tenant(k, tenant.as_deref()).await?;
            let key = apikeys::create(k, t, role, None, label).await?;
            println!("{key}");
            eprintln!("Rolle / role: {role}; der Schlüssel wird nur jetzt angezeigt / the key is shown only now.");
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub async fn status(k: &Konsent, json: bool) -> anyhow::Result<ExitCode> {
    let public_key = hex::encode(k.keys.public().to_bytes());
    if !json {
        println!("Öffentlicher Prüfschlüssel / public verification key: {public_key}");
    }
    for (t, name) in konsent_store::queries::tenants(&k.db).await? {
        let s = konsent_store::queries::stats(&k.db, t).await?;
        // Scrub and the API name advertisers by id: show them.
        let advertisers: Vec<_> = konsent_store::queries::advertisers(&k.db, t)
            .await?
            .into_iter()
            .map(|a| serde_json::json!({"id": a.id, "legal_name": a.legal_name}))
            .collect();
        if json {
            println!(
                "{}",
                serde_json::json!({"tenant_id": t, "name": name, "stats": s, "advertisers": advertisers, "public_key": public_key})
            );
        } else {
            println!("Mandant / tenant {name} ({t})");
            for a in &advertisers {
                println!(
                    "  Werbendes Unternehmen / advertiser: {} ({})",
                    a["legal_name"].as_str().unwrap_or(""),
                    a["id"].as_str().unwrap_or("")
                );
            }
            println!("  Personen / persons: {}, Kontaktpunkte / contact points: {}", s.persons, s.contact_points);
            for (status, n) in &s.consents_by_status {
                println!("  {status}: {n}");
            }
            println!("  Nutzungen / uses: {}, Ledger-Einträge / entries: {}", s.uses, s.ledger_entries);
        }
    }
    Ok(ExitCode::SUCCESS)
}
