//! `konsent demo --persons N`: synthetic data with a progress line and a summary.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use konsent_domain::ids::TenantId;
use konsent_service::Konsent;

pub async fn run(k: &Konsent, tenant: TenantId, persons: u64, seed: u64) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let progress = |done: u64| {
        let secs = started.elapsed().as_secs_f64();
        eprint!("\r  {done}/{persons} Personen / persons ({:.0}/s)   ", done as f64 / secs.max(0.001));
        let _ = std::io::stderr().flush();
    };
    let r = konsent_service::demo::generate(k, tenant, persons, seed, &progress).await?;
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
