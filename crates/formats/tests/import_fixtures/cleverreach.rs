//! CleverReach: the receiver export in Windows-1252 and UTF-8, and the import file.

use konsent_domain::channel::Channel;
use konsent_formats::import::{Encoding, Format, ImportRow, LineEnding, SourceStatus};

use super::common::{read_ok, sheet, ts, unix};

const CP1252: &str = "cleverreach/cleverreach_empfaenger_export_cp1252_semikolon.csv";
const UTF8: &str = "cleverreach/cleverreach_empfaenger_export_utf8_semikolon.csv";

#[test]
fn both_encodings_sniffed_and_fifty_rows() {
    let (cp, cp_files) = read_ok(CP1252, Format::CleverReach, None);
    let (utf, utf_files) = read_ok(UTF8, Format::CleverReach, None);
    assert_eq!((cp.len(), utf.len()), (50, 50));
    assert_eq!(cp_files[0].encoding, Encoding::Windows1252);
    assert_eq!(utf_files[0].encoding, Encoding::Utf8);
    for f in [&cp_files[0], &utf_files[0]] {
        assert_eq!((f.delimiter, f.line_ending), (';', LineEnding::CrLf));
    }
}

#[test]
fn windows_1252_decodes_to_the_same_rows_as_utf8() {
    let (cp, _) = read_ok(CP1252, Format::CleverReach, None);
    let (utf, _) = read_ok(UTF8, Format::CleverReach, None);
    let names = |r: &ImportRow| (r.first_name.clone(), r.last_name.clone());
    for (a, b) in cp.iter().zip(&utf) {
        let (a, b) = (ImportRow { file: None, ..a.clone() }, ImportRow { file: None, ..b.clone() });
        if a.row == 19 || a.row == 20 {
            // README data rows 18/19: transliterated in the Windows-1252 file only.
            assert_ne!(names(&a), names(&b));
            assert_eq!(
                ImportRow { first_name: None, last_name: None, ..a },
                ImportRow { first_name: None, last_name: None, ..b }
            );
        } else {
            assert_eq!(a, b);
        }
    }
    assert_eq!(names(sheet(&cp, 19)), (Some("Ömer".into()), Some("Yildiz".into())));
    assert_eq!(names(sheet(&utf, 19)), (Some("Ömer".into()), Some("Yıldız".into())));
    assert_eq!(names(sheet(&cp, 20)), (Some("Malgorzata".into()), Some("Wisniewska".into())));
    assert_eq!(names(sheet(&utf, 20)), (Some("Małgorzata".into()), Some("Wiśniewska".into())));
}

#[test]
fn umlauts_and_unix_times_of_the_first_row() {
    let (rows, _) = read_ok(CP1252, Format::CleverReach, None);
    let r = sheet(&rows, 2);
    assert_eq!((r.first_name.as_deref(), r.last_name.as_deref()), (Some("Jürgen"), Some("Weiß")));
    assert_eq!(r.street.as_deref(), Some("Schloßstraße 12"));
    assert_eq!(r.optin_at, Some(unix(1551398400)), "registered");
    assert_eq!(r.optin_at, Some(ts("2019-03-01T00:00:00Z")), "same instant as Mailchimp's OPTIN_TIME");
    assert_eq!(r.confirm_at, Some(unix(1551398640)), "activated");
    assert_eq!(r.unsubscribed_at, None, "deactivated = 0");
    assert_eq!(r.birth_date, Some(jiff::civil::date(1950, 1, 1)), "01.01.1950");
    assert_eq!(r.customer_number.as_deref(), Some("K-2019000"));
    assert_eq!(r.external_id.as_deref(), Some("K-2019000"), "no id column: the customer number");
    assert_eq!(r.source.as_deref(), Some("Anmeldeformular Website"));
    assert_eq!(r.status, SourceStatus::Subscribed);
    let p = &r.permissions[0];
    assert_eq!((p.channel, p.label.as_str(), p.granted), (Channel::Email, "einwilligung_datum", true));
    assert_eq!(p.at, Some(ts("2019-02-28T23:00:00Z")), "01.03.2019, midnight in Berlin");
    assert_eq!(sheet(&rows, 3).title.as_deref(), Some("Dr."));
}

#[test]
fn activated_zero_is_pending_only_in_the_readme_rows() {
    let (rows, _) = read_ok(CP1252, Format::CleverReach, None);
    let pending: Vec<u64> = rows.iter().filter(|r| r.status == SourceStatus::Pending).map(|r| r.row).collect();
    assert_eq!(pending, [6, 18, 36], "README data rows 5, 17, 35");
    for row in pending {
        let r = sheet(&rows, row);
        assert!(r.confirm_at.is_none() && r.optin_at.is_some(), "sheet row {row}");
        assert!(!r.permissions[0].granted);
    }
}

#[test]
fn deactivated_and_bounced_receivers() {
    let (rows, _) = read_ok(CP1252, Format::CleverReach, None);
    let r = sheet(&rows, 14);
    assert_eq!(r.status, SourceStatus::Unsubscribed);
    assert_eq!(r.unsubscribed_at, Some(unix(1612269408)));
    assert_eq!(r.unsubscribe_reason.as_deref(), Some("Abmeldung über Link im Newsletter: \"zu viele E-Mails\""));
    let b = sheet(&rows, 15);
    assert_eq!(b.status, SourceStatus::Cleaned, "deactivated with a hard-bounce reason");
    assert_eq!((b.cleaned_at, b.unsubscribed_at), (Some(unix(1606412957)), None));
    assert_eq!(b.unsubscribe_reason.as_deref(), Some("Hardbounce: 550 5.1.1 user unknown"));
    let inactive: Vec<u64> = rows
        .iter()
        .filter(|r| matches!(r.status, SourceStatus::Unsubscribed | SourceStatus::Cleaned))
        .map(|r| r.row)
        .collect();
    assert_eq!(inactive, [14, 15]);
}

#[test]
fn readme_edge_rows_as_given() {
    let (rows, _) = read_ok(CP1252, Format::CleverReach, None);
    let (a, b) =
        (sheet(&rows, 11).email.clone().unwrap_or_default(), sheet(&rows, 12).email.clone().unwrap_or_default());
    assert!(a != b && a.to_lowercase() == b.to_lowercase(), "{a} / {b}");
    assert_eq!(sheet(&rows, 16).email.as_deref(), Some("Hans Groß <hans.gross@example.de>"));
    assert_eq!(sheet(&rows, 17).email.as_deref(), Some("petra.lang@@example.de"));
    assert_eq!(sheet(&rows, 18).email.as_deref(), Some("katrin.vogel@müller-beispiel.de"), "ü from Windows-1252");
    assert_eq!(sheet(&rows, 22).source.as_deref(), Some("Versicherungsmakler \"Nordlicht\"; Filiale Kiel"));
    assert_eq!(sheet(&rows, 24).last_name.as_deref(), Some("=HYPERLINK(\"https://example.com/\";\"Details\")"));
    let long = sheet(&rows, 26).unsubscribe_reason.clone().unwrap_or_default();
    assert_eq!(long.chars().count(), 1746);
    assert!(long.starts_with("Beratungsnotiz: Termin 1: Kunde wünscht Überprüfung"));
    assert_eq!(sheet(&rows, 26).status, SourceStatus::Subscribed, "a reason alone does not unsubscribe");
}

#[test]
fn import_file_reads_quelle_and_consent_date() {
    let (rows, _) = read_ok("cleverreach/import/cleverreach_import_empfaenger_utf8.csv", Format::CleverReach, None);
    assert_eq!(rows.len(), 47);
    let r = sheet(&rows, 2);
    assert_eq!(r.source.as_deref(), Some("Maklerverwaltung"));
    assert_eq!(r.status, SourceStatus::Subscribed);
    assert_eq!(r.permissions[0].at, Some(ts("2019-02-28T23:00:00Z")));
}
