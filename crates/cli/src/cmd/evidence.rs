//! `konsent evidence` (produce a proof package) and `konsent verify-package` (check one offline).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use jiff::Timestamp;
use konsent_domain::ids::TenantId;
use konsent_domain::ledger::Actor;
use konsent_service::Konsent;
use konsent_service::proof::{ProofSubject, read_package};

/// The subject from the three exclusive flags.
pub fn subject(
    phone: &Option<String>,
    email: &Option<String>,
    person: &Option<String>,
) -> anyhow::Result<ProofSubject> {
    match (phone, email, person) {
        (Some(p), None, None) => Ok(ProofSubject::Phone(p.clone())),
        (None, Some(e), None) => Ok(ProofSubject::Email(e.clone())),
        (None, None, Some(id)) => {
            Ok(ProofSubject::Person(id.parse().context("--person: keine ID einer Person / not a person id")?))
        }
        _ => anyhow::bail!(
            "genau eines von --phone, --email, --person angeben / name exactly one of --phone, --email, --person"
        ),
    }
}

/// Start of a UTC day, or the start of the next one (`end`).
fn day(s: &str, end: bool, flag: &str) -> anyhow::Result<Timestamp> {
    let d: jiff::civil::Date =
        s.parse().with_context(|| format!("{flag}: Datum als JJJJ-MM-TT angeben / must be a date YYYY-MM-DD"))?;
    let d = if end { d.tomorrow()? } else { d };
    let t = d.to_zoned_datetime(jiff::tz::TimeZone::UTC)?.timestamp();
    Ok(if end { t - jiff::SignedDuration::from_micros(1) } else { t })
}

pub async fn run(
    k: &Konsent,
    tenant: TenantId,
    subject: ProofSubject,
    from: Option<&str>,
    to: Option<&str>,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    let range = match (from, to) {
        (None, None) => None,
        (f, t) => Some((
            f.map(|f| day(f, false, "--from")).transpose()?.unwrap_or(Timestamp::MIN),
            t.map(|t| day(t, true, "--to")).transpose()?.unwrap_or(Timestamp::MAX),
        )),
    };
    let started = std::time::Instant::now();
    let p = k.evidence_package(tenant, &Actor::User("cli".into()), subject, range).await?;
    std::fs::write(out, &p.zip)
        .with_context(|| format!("Schreiben fehlgeschlagen / cannot write {}", out.display()))?;
    println!(
        "Nachweispaket / proof package {} → {} ({} Bytes, {} Person(en), {} Ledger-Einträge, {} Dateien, {:.0} ms)",
        p.package_id,
        out.display(),
        p.zip.len(),
        p.persons.len(),
        p.entries,
        p.attachments,
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(ExitCode::SUCCESS)
}

pub fn verify(file: &Path, public_key: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let bytes =
        std::fs::read(file).with_context(|| format!("Lesen fehlgeschlagen / cannot read {}", file.display()))?;
    let files = read_package(&bytes)?;
    let (key_hex, from_package) = match public_key {
        Some(k) => (k.trim().to_string(), false),
        None => {
            let m: serde_json::Value = files
                .get(konsent_domain::proof::paths::MANIFEST)
                .and_then(|b| serde_json::from_slice(b).ok())
                .context("the package has no readable manifest.json")?;
            (m["public_key"].as_str().unwrap_or_default().to_string(), true)
        }
    };
    let key = konsent_domain::proof::parse_public_key(&key_hex).map_err(anyhow::Error::msg)?;
    let outcome = konsent_domain::proof::verify_package(&files, &key);
    if json {
        println!(
            "{}",
            serde_json::json!({"ok": outcome.ok(), "public_key": key_hex, "key_from_package": from_package, "checks": outcome.checks})
        );
    } else {
        for c in &outcome.checks {
            println!("{} {:<20} {}", if c.ok { "OK  " } else { "FEHLER" }, c.name, c.detail);
        }
        if from_package {
            println!(
                "Hinweis: geprüft mit dem Schlüssel aus dem Paket ({key_hex}); vergleichen Sie ihn mit dem \
                 veröffentlichten Schlüssel des Betreibers oder nutzen Sie --public-key. / Checked with the key \
                 inside the package: compare it with the operator's published key."
            );
        }
        println!(
            "{}",
            if outcome.ok() {
                "Paket unverändert und vollständig belegt / package intact"
            } else {
                "PAKET NICHT GÜLTIG / PACKAGE INVALID"
            }
        );
    }
    Ok(if outcome.ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

pub async fn lead_check(
    k: &Konsent,
    tenant: TenantId,
    file: &Path,
    advertiser: &str,
    categories: &str,
    campaign: Option<String>,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    let bytes =
        std::fs::read(file).with_context(|| format!("Lesen fehlgeschlagen / cannot read {}", file.display()))?;
    let advertiser = advertiser.parse().context("--advertiser: keine ID eines Werbenden (konsent status listet sie) / not an advertiser id (konsent status lists them)")?;
    let mut cats = std::collections::BTreeSet::new();
    for c in categories.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        cats.insert(
            konsent_domain::channel::ProductCategory::parse(c).map_err(|e| anyhow::anyhow!("--categories: {e}"))?,
        );
    }
    let leads = konsent_service::leads::leads_from_csv(&bytes)?;
    let hash = konsent_domain::crypto::sha256_hex(&bytes);
    let c = konsent_service::leads::LeadCampaign { advertiser, categories: cats, campaign };
    let r = k.check_leads(tenant, &Actor::User("cli".into()), c, &leads, Some(hash)).await?;
    std::fs::write(out, r.to_csv())
        .with_context(|| format!("Schreiben fehlgeschlagen / cannot write {}", out.display()))?;
    println!(
        "{} Leads geprüft / checked: {} erlaubt / allowed, {} gesperrt / blocked → {}",
        r.total,
        r.allowed,
        r.blocked,
        out.display()
    );
    for (reason, n) in &r.by_reason {
        println!("  {reason}: {n}");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn call_log(
    k: &Konsent,
    tenant: TenantId,
    file: &Path,
    advertiser: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let bytes =
        std::fs::read(file).with_context(|| format!("Lesen fehlgeschlagen / cannot read {}", file.display()))?;
    let advertiser = advertiser
        .map(|a| a.parse().context("--advertiser: keine ID eines Werbenden / not an advertiser id"))
        .transpose()?;
    let r = k.import_call_log(tenant, &Actor::User("cli".into()), &bytes, advertiser).await?;
    println!(
        "{} Zeilen / rows: {} protokolliert / recorded, {} bereits importiert / already imported, {} fehlerhaft / refused",
        r.rows,
        r.recorded,
        r.already_imported,
        r.errors.len()
    );
    if !r.without_consent.is_empty() {
        println!(
            "WARNUNG: {} Anrufe ohne gültige Einwilligung (Zeilen {}) / calls without a valid consent",
            r.without_consent.len(),
            r.without_consent.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    for e in &r.errors {
        eprintln!("  {}: {}", e.field, e.message);
    }
    Ok(if r.errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) })
}
