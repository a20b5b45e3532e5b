//! Times the § 7a proof package (PDF included) for persons spread over a filled store.
//!
//! `cargo run --release -p konsent-service --example proof_bench -- DATA_DIR [N] [DATABASE_URL]`
//! The first package of the process is reported separately (typst loads its fonts once).

use std::sync::Arc;
use std::time::Instant;

use konsent_domain::ledger::Actor;
use konsent_service::Konsent;
use konsent_service::proof::ProofSubject;
use konsent_service::system::{OsEntropy, SystemClock};
use konsent_store::queries;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(args.get(1).ok_or("usage: proof_bench DATA_DIR [N] [DATABASE_URL]")?);
    let n: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(20);
    let k = Konsent::open(&dir, args.get(3).map(String::as_str), Arc::new(SystemClock), Arc::new(OsEntropy)).await?;
    let (tenant, _) = queries::tenants(&k.db).await?.into_iter().next().ok_or("no tenant")?;
    let stats = queries::stats(&k.db, tenant).await?;
    let started = Instant::now();
    let all = queries::persons_page(&k.db, tenant, 0, None, 10_000_000).await?.items;
    eprintln!("{} persons listed in {:.1} s", all.len(), started.elapsed().as_secs_f64());
    let step = (all.len() / (n + 1)).max(1);
    let picks: Vec<_> = all.iter().step_by(step).skip(1).take(n + 1).map(|(p, _)| p.id).collect();
    let mut times = Vec::new();
    for (i, p) in picks.iter().enumerate() {
        let t = Instant::now();
        let pkg = k.evidence_package(tenant, &Actor::System, ProofSubject::Person(*p), None).await?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if i == 0 {
            println!("first package of the process (cold): {ms:.1} ms");
        } else {
            times.push(ms);
        }
        let [g, r, z, a] = pkg.timings_ms;
        eprintln!(
            "{p}: {ms:.1} ms (gather {g:.1}, pdf {r:.1}, json/zip/sign {z:.1}, audit {a:.1}), {} bytes, {} entries, {} files",
            pkg.zip.len(),
            pkg.entries,
            pkg.attachments
        );
    }
    times.sort_by(f64::total_cmp);
    let pct = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "store: {} persons, {} ledger entries; {} packages: median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        stats.persons,
        stats.ledger_entries,
        times.len(),
        pct(0.5),
        pct(0.95),
        times.last().copied().unwrap_or_default()
    );
    Ok(())
}
