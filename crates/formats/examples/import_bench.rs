//! Throughput of the import readers: writes a 1,000,000-row Mailchimp-style CSV (UTF-8, `,`)
//! and a CleverReach-style one (Windows-1252, `;`, CRLF) to a temp dir, reads each through
//! `open_path`, and prints rows/s and peak RSS (VmHWM).
//!
//! `cargo run --release -p konsent-formats --example import_bench [rows]`

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use konsent_formats::import::{Format, open_path};

const FIRST: [&str; 8] = ["Jürgen", "Käthe", "Björn", "Małgorzata", "Zoë", "Ömer", "Anna-Lena", "Sören"];
const LAST: [&str; 8] =
    ["Weiß", "Großmann", "Müller-Lüdenscheidt", "Wiśniewska", "Schütz", "Yıldız", "Becker", "Häußler"];
const CITY: [&str; 4] = ["Düsseldorf", "Köln", "München", "Lüdenscheid"];

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// `YYYY-MM-DD HH:MM:SS` for row `i`, spread over five years.
fn stamp(i: u64, plus_min: u64) -> String {
    let base: jiff::Timestamp = "2019-03-01T00:00:00Z".parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let secs = (i * 157 % 157_680_000) as i64 + plus_min as i64 * 60;
    let t = base.checked_add(jiff::SignedDuration::from_secs(secs)).unwrap_or(base);
    t.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

fn write_mailchimp(path: &Path, rows: u64) -> std::io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    w.write_all(b"\"Email Address\",\"First Name\",\"Last Name\",Address,\"Phone Number\",Birthday,Anrede,Titel,Mobilnummer,Kundennummer,Firma,E-Mail-Newsletter,\"Telefonische Beratung\",MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,CC,REGION,LAST_CHANGED,LEID,EUID,NOTES,TAGS\n")?;
    for i in 0..rows {
        let (f, l, c) = (FIRST[(i % 8) as usize], LAST[(i / 8 % 8) as usize], CITY[(i % 4) as usize]);
        let optin = if i % 7 == 4 { String::new() } else { format!("\"{}\"", stamp(i, 0)) };
        let tags = if i % 3 == 0 { "\"\"\"Kunde\"\",\"\"Newsletter\"\"\"" } else { "\"vip, denver\"" };
        writeln!(
            w,
            "kontakt.{i}@example.com,{f},{l},\"Schloßstraße {}  {c}  NW  {:05}  DE\",\"030 231{:05}\",{:02}/{:02},Herr,,\"0152 {:08}\",K-{i:07},,Yes,{},{},{optin},198.51.100.{},\"{}\",203.0.113.{},52.52,13.40,1,2,Europe/Berlin,DE,BE,\"{}\",{},{:010x},,{tags}",
            i % 200 + 1,
            10_000 + i % 90_000,
            i % 100_000,
            i % 12 + 1,
            i % 28 + 1,
            i % 100_000_000,
            if i % 2 == 0 { "Yes" } else { "" },
            i % 5 + 1,
            i % 250,
            stamp(i, 3),
            i % 250,
            stamp(i, 60),
            100_000_000 + i,
            i,
        )?;
    }
    w.flush()
}

fn write_cleverreach(path: &Path, rows: u64) -> std::io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    w.write_all(b"email;activated;registered;deactivated;source;anrede;titel;vorname;nachname;strasse;plz;ort;telefon;mobil;geburtsdatum;kundennummer;einwilligung_datum;abmeldegrund\r\n")?;
    let mut line = String::with_capacity(512);
    for i in 0..rows {
        line.clear();
        // Windows-1252 cannot hold ł, ś, ı: transliterated as broker software does.
        let f = FIRST[(i % 8) as usize].replace('ł', "l");
        let l = LAST[(i / 8 % 8) as usize].replace('ś', "s").replace('ı', "i");
        let registered = 1_551_398_400 + i * 157 % 157_680_000;
        let activated = if i % 11 == 5 { 0 } else { registered + 240 };
        let deactivated = if i % 13 == 0 { registered + 86_400 * 30 } else { 0 };
        let reason = if deactivated > 0 { "\"Abmeldung über Link: \"\"zu viele E-Mails\"\"\"" } else { "" };
        line.push_str(&format!(
            "kontakt.{i}@example.de;{activated};{registered};{deactivated};Anmeldeformular Website;Frau;;{f};{l};Königsallee {};{:05};{};(069) 900 {:05};+49 152 {:08};{:02}.{:02}.19{:02};K-{i:07};{:02}.{:02}.2020;{reason}\r\n",
            i % 200 + 1,
            10_000 + i % 90_000,
            CITY[(i % 4) as usize],
            i % 100_000,
            i % 100_000_000,
            i % 28 + 1,
            i % 12 + 1,
            50 + i % 50,
            i % 28 + 1,
            i % 12 + 1,
        ));
        let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&line);
        assert!(!unmappable, "generator wrote a character outside Windows-1252");
        w.write_all(&bytes)?;
    }
    w.flush()
}

fn read(path: &Path, format: Format) -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let rows = open_path(path, format, None)?;
    let encoding = rows.encoding().as_str();
    let (mut ok, mut bad, mut bytes) = (0u64, 0u64, 0usize);
    for r in rows {
        match r {
            Ok(r) => {
                ok += 1;
                bytes += r.email.map_or(0, |e| e.len()) + r.permissions.len();
            }
            Err(_) => bad += 1,
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let size = std::fs::metadata(path)?.len() as f64 / 1e6;
    println!(
        "{:<12} {encoding:<13} {ok:>9} rows ({bad} errors) {secs:>6.3} s {:>10.0} rows/s {:>6.1} MB/s  peak RSS {:.1} MB  [{bytes}]",
        format.as_str(),
        (ok + bad) as f64 / secs,
        size / secs,
        peak_rss_mb(),
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows: u64 = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let mailchimp = dir.path().join("subscribed_members_export_bench00000.csv");
    let cleverreach = dir.path().join("cleverreach_empfaenger_export_bench.csv");
    write_mailchimp(&mailchimp, rows)?;
    write_cleverreach(&cleverreach, rows)?;
    println!(
        "{rows} rows per file ({:.0} MB and {:.0} MB); peak RSS before reading: {:.1} MB",
        std::fs::metadata(&mailchimp)?.len() as f64 / 1e6,
        std::fs::metadata(&cleverreach)?.len() as f64 / 1e6,
        peak_rss_mb()
    );
    read(&mailchimp, Format::Mailchimp)?;
    read(&cleverreach, Format::CleverReach)?;
    Ok(())
}
