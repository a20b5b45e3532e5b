//! `konsent scrub FILE --channel C --advertiser A --out OUT`: runs the gate over every row of a
//! CSV lead or dialer list and writes it back with `allowed`, `reasons` and `decision_id`
//! columns, with a progress line and a summary by reason. Bad rows are reported, never fatal.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use futures_util::StreamExt;
use konsent_domain::channel::{Channel, ProductCategory};
use konsent_domain::contact::{ContactValue, EmailAddress, PhoneE164};
use konsent_domain::gate::CampaignPolicy;
use konsent_domain::ids::{AdvertiserId, TenantId};
use konsent_service::Konsent;
use konsent_service::gate::CheckRequest;

/// What to scrub.
pub struct ScrubArgs<'a> {
    pub file: &'a Path,
    pub out: &'a Path,
    pub channel: &'a str,
    pub advertiser: &'a str,
    pub categories: &'a str,
    pub column: Option<&'a str>,
}

/// Rows checked together (one bulk load each).
const CHUNK: usize = 2000;

/// One input row, parsed on the reader thread.
struct Parsed {
    /// File line number (header = 1).
    line: u64,
    /// The row's fields, padded to the header's width.
    row: Vec<String>,
    /// The normalised contact, or why it is not one.
    contact: Result<ContactValue, String>,
    /// The row itself was unreadable (reported on stderr too).
    fatal: bool,
}

fn parse_row(rec: Result<csv::StringRecord, csv::Error>, col: usize, width: usize, line: u64) -> Parsed {
    let rec = match rec {
        Ok(r) => r,
        Err(e) => return Parsed { line, row: vec![String::new(); width], contact: Err(e.to_string()), fatal: true },
    };
    let value = rec.get(col).unwrap_or("").trim();
    let contact = if value.contains('@') {
        EmailAddress::parse(value).map(ContactValue::Email).map_err(|e| e.to_string())
    } else {
        PhoneE164::parse(value).map(ContactValue::Phone).map_err(|e| e.to_string())
    };
    let mut row: Vec<String> = rec.iter().map(str::to_string).collect();
    row.resize(width, String::new());
    Parsed { line, row, contact, fatal: false }
}

/// A lead list opened: delimiter, header, contact column, and the CSV reader.
struct Input {
    delim: u8,
    headers: Vec<String>,
    col: usize,
    rdr: csv::Reader<std::io::BufReader<std::fs::File>>,
}

impl Input {
    fn open(file: &Path, column: Option<&str>) -> anyhow::Result<Self> {
        let raw = std::fs::File::open(file)
            .with_context(|| format!("Öffnen fehlgeschlagen / cannot open {}", file.display()))?;
        let mut first = String::new();
        {
            use std::io::BufRead;
            std::io::BufReader::new(std::fs::File::open(file)?).read_line(&mut first)?;
        }
        let delim = if first.contains(';') {
            b';'
        } else if first.contains('\t') {
            b'\t'
        } else {
            b','
        };
        let mut rdr =
            csv::ReaderBuilder::new().delimiter(delim).flexible(true).from_reader(std::io::BufReader::new(raw));
        let headers: Vec<String> = rdr
            .headers()
            .context("reading the header row")?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
            .collect();
        let col = match column {
            Some(c) => headers
                .iter()
                .position(|h| h.eq_ignore_ascii_case(c))
                .with_context(|| format!("no column '{c}' in the header"))?,
            None => headers
                .iter()
                .position(|h| CONTACT_COLUMNS.contains(&h.to_lowercase().as_str()))
                .context("no phone or e-mail column found (phone, telefon, mobile, email, …); name it with --column")?,
        };
        Ok(Self { delim, headers, col, rdr })
    }

    /// A reader thread that parses and normalises rows in chunks while the caller works on the
    /// previous chunk.
    fn spawn_reader(self) -> (std::thread::JoinHandle<()>, tokio::sync::mpsc::Receiver<Vec<Parsed>>) {
        let (tx, rx) = tokio::sync::mpsc::channel::<Vec<Parsed>>(4);
        let (col, width, mut rdr) = (self.col, self.headers.len(), self.rdr);
        let h = std::thread::spawn(move || {
            let mut chunk = Vec::with_capacity(CHUNK);
            for (i, rec) in rdr.records().enumerate() {
                chunk.push(parse_row(rec, col, width, i as u64 + 2));
                if chunk.len() == CHUNK
                    && tx.blocking_send(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK))).is_err()
                {
                    return;
                }
            }
            if !chunk.is_empty() {
                let _ = tx.blocking_send(chunk);
            }
        });
        (h, rx)
    }
}

/// `--validate-only`: reads and normalises every row, names the invalid ones, decides nothing.
pub async fn validate(file: &Path, column: Option<&str>) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let input = Input::open(file, column)?;
    let name = input.headers[input.col].clone();
    let (reader, mut rx) = input.spawn_reader();
    let (mut n, mut bad) = (0u64, 0u64);
    while let Some(chunk) = rx.recv().await {
        for p in chunk {
            n += 1;
            if let Err(e) = p.contact {
                bad += 1;
                if bad <= 100 {
                    eprintln!("Zeile / row {}, {name}: {e}", p.line);
                }
            }
        }
    }
    let _ = reader.join();
    println!(
        "{n} Zeilen gelesen und normalisiert / rows read and normalised in {:.2} s: {} gültig / valid, {bad} fehlerhaft / invalid",
        started.elapsed().as_secs_f64(),
        n - bad
    );
    Ok(if bad == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

const CONTACT_COLUMNS: [&str; 8] = ["phone", "telefon", "telephone", "mobile", "handy", "email", "e-mail", "mail"];

pub async fn run(k: &Konsent, tenant: TenantId, a: ScrubArgs<'_>) -> anyhow::Result<ExitCode> {
    let channel: Channel = a.channel.parse().map_err(|e| anyhow::anyhow!("--channel: {e}"))?;
    let advertiser: AdvertiserId = a.advertiser.parse().map_err(|e| anyhow::anyhow!("--advertiser: {e}"))?;
    let categories = a
        .categories
        .split(',')
        .filter(|c| !c.trim().is_empty())
        .map(ProductCategory::parse)
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("--categories: {e}"))?;
    let input = Input::open(a.file, a.column)?;
    let (delim, headers, col) = (input.delim, input.headers.clone(), input.col);
    let mut out = csv::WriterBuilder::new()
        .delimiter(delim)
        .from_path(a.out)
        .with_context(|| format!("Schreiben fehlgeschlagen / cannot write {}", a.out.display()))?;
    let mut head = headers.clone();
    head.extend(["allowed".into(), "reasons".into(), "decision_id".into()]);
    out.write_record(&head)?;

    let started = Instant::now();
    let (mut n, mut allowed, mut bad) = (0u64, 0u64, 0u64);
    let mut by_reason: BTreeMap<String, u64> = BTreeMap::new();
    let (reader, rx) = input.spawn_reader();
    // Two chunks are decided at once (the second core), answers written in input order.
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    let decided = chunks
        .map(|chunk: Vec<Parsed>| {
            let reqs: Vec<CheckRequest> = chunk
                .iter()
                .filter_map(|p| p.contact.as_ref().ok())
                .map(|contact| CheckRequest {
                    contact: contact.clone(),
                    channel,
                    advertiser,
                    categories: std::collections::BTreeSet::clone(&categories),
                    policy: CampaignPolicy::default(),
                    campaign: None,
                })
                .collect();
            let k = k.clone();
            tokio::spawn(async move { k.check_many(tenant, &reqs).await.map(|o| (chunk, o)) })
        })
        .buffered(2);
    futures_util::pin_mut!(decided);
    while let Some(done) = decided.next().await {
        let (chunk, outcomes) = done.context("a check task failed")??;
        let mut outcomes = outcomes.into_iter();
        for p in chunk {
            n += 1;
            let mut row = p.row;
            match p.contact {
                Err(e) => {
                    bad += 1;
                    *by_reason.entry("invalid_contact".into()).or_default() += 1;
                    if p.fatal {
                        eprintln!("\nZeile / row {}: {e}", p.line);
                    }
                    row.extend(["false".into(), format!("invalid_contact: {} ({e})", headers[col]), String::new()]);
                }
                Ok(_) => {
                    let o = outcomes.next().context("one answer per checked row")??;
                    if o.decision.allowed {
                        allowed += 1;
                    }
                    for c in o.decision.codes() {
                        *by_reason.entry(c.into()).or_default() += 1;
                    }
                    row.extend([o.decision.allowed.to_string(), o.decision.codes().join("|"), o.token]);
                }
            }
            out.write_record(&row)?;
        }
        eprint!(
            "\r  {n} Zeilen / rows, {allowed} erlaubt / allowed ({:.0} rows/s)   ",
            n as f64 / started.elapsed().as_secs_f64()
        );
        let _ = std::io::stderr().flush();
    }
    let _ = reader.join();
    out.flush()?;
    eprintln!();
    println!(
        "{n} Zeilen geprüft / rows checked in {:.1} s: {allowed} erlaubt / allowed, {} gesperrt / blocked ({bad} fehlerhaft / invalid)",
        started.elapsed().as_secs_f64(),
        n - allowed
    );
    for (reason, count) in &by_reason {
        println!("  {reason}: {count}");
    }
    Ok(ExitCode::SUCCESS)
}
