//! `konsent demo --persons N`: synthetic data with a progress line and a summary.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use konsent_domain::contact::ContactValue;
use std::time::Instant;

use konsent_domain::ids::TenantId;
use konsent_service::Konsent;

pub async fn run(
    k: &Konsent,
    tenant: TenantId,
    persons: u64,
    seed: u64,
    leads_out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    // `ref;telefon;email`, one row per synthetic person: a lead list that matches the tenant.
    let mut leads = match leads_out {
        Some(p) => {
            let mut w = std::io::BufWriter::new(
                std::fs::File::create(p)
                    .with_context(|| format!("Schreiben fehlgeschlagen / cannot write {}", p.display()))?,
            );
            writeln!(w, "ref;telefon;email")?;
            Some(w)
        }
        None => None,
    };
    let mut failed: Option<std::io::Error> = None;
    let mut list = |i: u64, contacts: &[ContactValue]| {
        let Some(w) = leads.as_mut() else { return };
        let phone = contacts.iter().find_map(|c| match c {
            ContactValue::Phone(p) => Some(p.as_str().to_string()),
            _ => None,
        });
        let email = contacts.iter().find_map(|c| match c {
            ContactValue::Email(e) => Some(e.as_str().to_string()),
            _ => None,
        });
        if let Err(e) = writeln!(w, "P{i};{};{}", phone.unwrap_or_default(), email.unwrap_or_default()) {
            failed.get_or_insert(e);
        }
    };
    let progress = |done: u64| {
        let secs = started.elapsed().as_secs_f64();
        eprint!("\r  {done}/{persons} Personen / persons ({:.0}/s)   ", done as f64 / secs.max(0.001));
        let _ = std::io::stderr().flush();
    };
    let r = konsent_service::demo::generate_listing(k, tenant, persons, seed, &progress, &mut list).await?;
    if let Some(e) = failed {
        anyhow::bail!("writing the lead list: {e}");
    }
    if let Some(mut w) = leads {
        w.flush()?;
    }
    eprintln!();
    println!(
        "Demo-Daten erzeugt / demo data written in {:.1} s: {} Personen, {} Einwilligungen, {} Nutzungen, {} Widerrufe, {} Widersprüche, {} Ledger-Einträge",
        started.elapsed().as_secs_f64(),
        r.persons,
        r.consents,
        r.uses,
        r.withdrawals,
        r.objections,
        r.ledger_entries
    );
    Ok(ExitCode::SUCCESS)
}
