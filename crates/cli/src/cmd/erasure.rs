//! `konsent erase`, `konsent retention run`, `konsent hold add|release`.

use std::process::ExitCode;

use anyhow::Context;
use konsent_domain::ids::TenantId;
use konsent_domain::ledger::Actor;
use konsent_service::Konsent;

use super::pick_tenant;
use crate::args::{HoldAction, RetentionAction};

fn actor() -> Actor {
    Actor::User("cli".into())
}

pub async fn erase(k: &Konsent, tenant: TenantId, person: &str, via: &str, json: bool) -> anyhow::Result<ExitCode> {
    let person = person.parse().context("--person: keine ID einer Person / not a person id")?;
    let o = k.erase_person(tenant, &actor(), person, via).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&o)?);
    } else {
        println!("{}", o.reply);
        match o.kept_until {
            Some(u) => {
                println!("(gesperrt aufbewahrt bis / kept restricted until {u}; danach löscht der tägliche Lauf)")
            }
            None if o.key_destroyed => {
                println!("(Schlüssel vernichtet / key destroyed: nothing of the person is readable)")
            }
            None => println!("(durch eine Sperre zurückgehalten / kept by a legal hold)"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn retention(k: &Konsent, action: &RetentionAction) -> anyhow::Result<ExitCode> {
    let (dry_run, tenant) = match action {
        RetentionAction::Run { dry_run, tenant } => (dry_run, tenant),
        RetentionAction::Rules { pdf, json, tenant } => {
            return rules(k, pdf.as_deref(), *json, tenant.as_deref()).await;
        }
    };
    let t = pick_tenant(k, tenant.as_deref()).await?;
    let r = k.retention_run(t, &actor(), *dry_run).await?;
    let verb = if *dry_run { "würden gelöscht / would be erased" } else { "gelöscht / erased" };
    println!("{} Person(en) {verb}; {} durch Sperre zurückgehalten / held", r.erased.len(), r.held.len());
    for p in &r.erased {
        println!("  {p}");
    }
    println!(
        "{} Einwilligung(en) abgelaufen / expired (E10, D9); {} Einzelobjekt(e) (Dateien, Kontaktwege) / items; \
         {} Bestätigungstoken / tokens (D10); {} Versandprotokolle / send logs (D5); {} Antragsakten / request records (D13)",
        r.expired.len(),
        r.items,
        r.tokens,
        r.messages,
        r.requests
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn hold(k: &Konsent, action: &HoldAction) -> anyhow::Result<ExitCode> {
    match action {
        HoldAction::Add { person, reason, owner, review, tenant } => {
            let t = pick_tenant(k, tenant.as_deref()).await?;
            let person = person.parse().context("--person: keine ID einer Person / not a person id")?;
            let day: jiff::civil::Date = review.parse().context("--review must be a date YYYY-MM-DD")?;
            let review_at = day.to_zoned_datetime(jiff::tz::TimeZone::UTC)?.timestamp();
            let h = k.place_hold(t, &actor(), person, reason, owner, review_at).await?;
            println!("Sperre / hold {} gesetzt / placed (Prüfung / review {review})", h.id);
        }
        HoldAction::Release { id, tenant } => {
            let t = pick_tenant(k, tenant.as_deref()).await?;
            k.release_hold(t, &actor(), id.parse().context("not a hold id")?).await?;
            println!("Sperre aufgehoben / hold released; der nächste Lauf löscht, was fällig ist");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn rules(
    k: &Konsent,
    pdf: Option<&std::path::Path>,
    json: bool,
    tenant: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let t = pick_tenant(k, tenant).await?;
    if let Some(path) = pdf {
        let name = konsent_store::queries::tenants(&k.db)
            .await?
            .into_iter()
            .find(|(id, _)| *id == t)
            .map(|(_, n)| n)
            .unwrap_or_default();
        let bytes = k.deletion_concept_pdf(t, &name).await?;
        std::fs::write(path, bytes)
            .with_context(|| format!("Schreiben fehlgeschlagen / cannot write {}", path.display()))?;
        println!("Löschkonzept / deletion concept → {}", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let rules = k.deletion_concept(t).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rules)?);
    } else {
        for r in rules {
            println!(
                "{:<4} {:<70} {:<24} Zyklus {:<10} {}",
                r.code, r.datenart, r.vorhaltefrist, r.deletion_cycle, r.basis
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
