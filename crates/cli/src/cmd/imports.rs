//! `konsent import`: a contact export into consents, with a live row count and a report.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;

use konsent_domain::ledger::Actor;
use konsent_service::Konsent;
use konsent_service::imports::{Format, ImportOptions, ImportReport, Mapping, Progress};

use super::pick_tenant;
use crate::args::Command;

pub async fn import(k: &Konsent, command: &Command) -> anyhow::Result<ExitCode> {
    let Command::Import {
        file,
        format,
        text,
        mapping,
        advertiser,
        provider,
        third_party_contract,
        dry_run,
        batch_rows,
        json,
        tenant,
    } = command
    else {
        unreachable!("called for the import command only")
    };
    let t = pick_tenant(k, tenant.as_deref()).await?;
    let format: Format = format.parse().map_err(|e| anyhow::anyhow!("--format: {e}"))?;
    let mapping =
        mapping.as_deref().map(Mapping::from_path).transpose().map_err(|e| anyhow::anyhow!("--mapping: {e}"))?;
    let advertisers = if advertiser.is_empty() {
        None
    } else {
        Some(
            advertiser
                .iter()
                .map(|a| a.parse().map_err(|e| anyhow::anyhow!("--advertiser: {e}")))
                .collect::<anyhow::Result<_>>()?,
        )
    };
    let opts = ImportOptions {
        format,
        mapping,
        text_id: k.published_text(t, text).await?,
        advertisers,
        provider: provider.clone(),
        third_party_contract: third_party_contract.clone(),
        org_unit: None,
        dry_run: *dry_run,
        batch_rows: *batch_rows,
        chunk_rows: konsent_service::imports::CHUNK_ROWS,
    };
    let live = std::io::stderr().is_terminal() && !json;
    let started = Instant::now();
    let progress = move |p: Progress| {
        if live {
            let rate = p.rows as f64 / started.elapsed().as_secs_f64().max(0.001);
            let done = if p.total_bytes > 0 { p.bytes as f64 / p.total_bytes as f64 } else { 0.0 };
            let filled = (done * 30.0).round() as usize;
            eprint!(
                "\r  [{}{}] {:>3.0} %  {} Zeilen / rows ({rate:.0}/s)   ",
                "#".repeat(filled),
                ".".repeat(30 - filled.min(30)),
                done * 100.0,
                p.rows
            );
            let _ = std::io::stderr().flush();
        }
        true
    };
    let r = k.import_file(t, &Actor::User("cli".into()), file, &opts, &progress).await?;
    if live {
        eprintln!();
    }
    if *json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print_report(&r);
    }
    Ok(if r.errors() > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

fn print_report(r: &ImportReport) {
    let mode =
        if r.dry_run { "Probelauf, nichts gespeichert / dry run, nothing written" } else { "importiert / imported" };
    if r.already_imported {
        println!("Diese Datei wurde bereits importiert; nichts geändert / already imported, nothing changed");
    }
    println!("{} ({mode}): {} Zeilen / rows, {} Personen neu / persons created", r.format, r.rows, r.persons_created);
    println!("  Kodierung / encoding {}, Trennzeichen / delimiter '{}'", r.encoding, r.delimiter);
    if r.resumed_after > 0 {
        println!("  fortgesetzt nach Zeile / resumed after row {}", r.resumed_after);
    }
    for (outcome, n) in &r.outcomes {
        println!("  {:<12} {n:>8}  {}", outcome, label_de(outcome));
    }
    if !r.unknown_because.is_empty() {
        println!("  Ungeklärt, weil / unknown because:");
        for (code, n) in &r.unknown_because {
            println!("    {code}: {n}");
        }
    }
    for p in &r.problems {
        let file = p.file.as_deref().map(|f| format!("{f}, ")).unwrap_or_default();
        eprintln!("  {file}Zeile / row {}, Spalte / column '{}': {}", p.row, p.field, p.message);
    }
}

fn label_de(outcome: &str) -> &'static str {
    match outcome {
        "given" => "Einwilligung gültig",
        "unknown" => "Einwilligung ungeklärt, gesperrt bis zur Neueinholung (R25, R26)",
        "unchanged" => "bereits vorhanden",
        "suppressed" => "auf der Sperrliste, nichts angelegt",
        "erased" => "Löschung verlangt (Art. 17), nichts angelegt",
        "restricted" => "Verarbeitung eingeschränkt (Art. 18), nichts angelegt",
        "opt_out" => "dort abgemeldet: hier widerrufen und gesperrt",
        "bounced" => "unzustellbar: gesperrt",
        "pending" => "dort nie bestätigt, nichts angelegt",
        "no_consent" => "keine Werbeeinwilligung, nichts angelegt",
        "refused" => "ohne aktive Handlung, abgelehnt",
        "duplicate" => "weitere Zeile derselben Person in dieser Datei",
        "error" => "fehlerhaft, nicht importiert",
        _ => "",
    }
}
