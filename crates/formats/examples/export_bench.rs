//! Throughput of the export writers: 1,000,000 contacts per format into a sink, rows/s and peak RSS.
//!
//! `cargo run --release -p konsent-formats --example export_bench [rows]`

use std::io::{self, Write};
use std::time::Instant;

use konsent_formats::export::{ExportContact, ExportFormat, ExportOptions, ExportWriter};

/// Counts the bytes it swallows.
struct Counting(u64);

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        io::sink().write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A thousand varied contacts, reused round-robin, so the run measures writing, not generating.
fn contacts() -> Vec<ExportContact> {
    let first = ["Jürgen", "Käthe", "Björn", "Małgorzata", "=HYPERLINK(\"x\")", "Zoë", "Ömer", "Anna-Lena"];
    let last = ["Weiß", "Großmann", "Müller-Lüdenscheidt", "Wiśniewska", "Schütz", "Yıldız", "Becker", "O'Neill"];
    let base: jiff::Timestamp = "2019-03-01T09:00:00Z".parse().expect("valid timestamp");
    (0..1000u32)
        .map(|i| ExportContact {
            person_id: format!("01J{i:023}"),
            email: Some(format!("kontakt.{i}@example.com")),
            phone: Some(format!("+49172{:07}", 9_980_000 + i)),
            salutation: Some(if i % 2 == 0 { "Herr" } else { "Frau" }.into()),
            first_name: Some(first[i as usize % first.len()].into()),
            last_name: Some(last[i as usize % last.len()].into()),
            company: (i % 5 == 0).then(|| "Versicherungsmakler \"Nordlicht\"; Filiale Kiel".into()),
            street: Some(format!("Schloßstraße {}", i % 200 + 1)),
            postcode: Some(format!("{:05}", 10_115 + i)),
            city: Some("Berlin".into()),
            country: Some("DE".into()),
            consent_id: format!("01K{i:023}"),
            channel: "email".into(),
            consent_given_at: base.checked_add(jiff::SignedDuration::from_hours(i64::from(i) * 7)).unwrap_or(base),
            consent_text_version: "newsletter-v3".into(),
            advertiser: "Maklerhaus Nordlicht GmbH".into(),
            tags: vec!["Kunde".into(), "Newsletter".into()],
        })
        .collect()
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows: u64 = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(1_000_000);
    let contacts = contacts();
    let options = ExportOptions {
        list_name: Some("Herbstaktion".into()),
        campaign_id: Some("k-7".into()),
        valid_until: Some("2026-12-31T22:59:59Z".parse()?),
        ..Default::default()
    };
    println!("{rows} contacts per format into a sink; peak RSS before: {:.1} MB", peak_rss_mb());
    for format in ExportFormat::ALL {
        let start = Instant::now();
        let mut w = ExportWriter::new(Counting(0), format, options.clone())?;
        for i in 0..rows {
            w.write(&contacts[(i % contacts.len() as u64) as usize])?;
        }
        let (out, written) = w.finish()?;
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{:<12} {written:>9} rows {secs:>6.3} s {:>12.0} rows/s {:>7.1} MB/s  peak RSS {:.1} MB",
            format.name(),
            written as f64 / secs,
            out.0 as f64 / secs / 1e6,
            peak_rss_mb()
        );
    }
    Ok(())
}
