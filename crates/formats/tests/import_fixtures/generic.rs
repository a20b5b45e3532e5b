//! Broker software: the Windows-1252 customer export with German headers and consent columns.

use konsent_domain::channel::Channel;
use konsent_formats::import::{Encoding, Format, ImportRow, LineEnding, Permission, SourceStatus};

use super::common::{read_ok, sheet, ts};

const EXPORT: &str = "generic_makler/maklerverwaltung_kunden_export_cp1252.csv";

fn perm(r: &ImportRow, channel: Channel) -> &Permission {
    r.permissions.iter().find(|p| p.channel == channel).unwrap_or_else(|| panic!("row {}: no {channel}", r.row))
}

#[test]
fn fifty_rows_windows_1252_semicolon_crlf() {
    let (rows, files) = read_ok(EXPORT, Format::Generic, None);
    assert_eq!(rows.len(), 50);
    let f = &files[0];
    assert_eq!((f.encoding, f.delimiter, f.line_ending), (Encoding::Windows1252, ';', LineEnding::CrLf));
    assert_eq!(f.headers[4], "Straße", "header decoded from Windows-1252");
    let channels: Vec<_> = f.permissions.iter().map(|p| (p.header.as_str(), p.channel)).collect();
    assert_eq!(
        channels,
        [("Werbeeinwilligung Telefon", Channel::PhoneLive), ("Werbeeinwilligung E-Mail", Channel::Email)]
    );
}

#[test]
fn first_row_with_german_dates_and_both_consents() {
    let (rows, _) = read_ok(EXPORT, Format::Generic, None);
    let r = sheet(&rows, 2);
    assert_eq!(
        (r.salutation.as_deref(), r.first_name.as_deref(), r.last_name.as_deref()),
        (Some("Herr"), Some("Jürgen"), Some("Weiß"))
    );
    assert_eq!(
        (r.street.as_deref(), r.postcode.as_deref(), r.city.as_deref()),
        (Some("Schloßstraße 12"), Some("10115"), Some("Berlin"))
    );
    assert_eq!((r.phone.as_deref(), r.mobile.as_deref()), (Some("030 23125000"), Some("0152 28817386")));
    assert_eq!(r.email.as_deref(), Some("juergen.weiss@example.com"));
    assert_eq!(r.birth_date, Some(jiff::civil::date(1950, 1, 1)));
    assert_eq!((r.customer_number.as_deref(), r.external_id.as_deref()), (Some("K-2019000"), Some("K-2019000")));
    assert_eq!(r.status, SourceStatus::Subscribed);
    let given = ts("2019-02-28T23:00:00Z"); // 01.03.2019, midnight in Berlin
    assert_eq!((perm(r, Channel::PhoneLive).granted, perm(r, Channel::PhoneLive).at), (true, Some(given)));
    assert_eq!((perm(r, Channel::Email).granted, perm(r, Channel::Email).at), (true, Some(given)));
    // Sheet row 3: phone "nein" is not granted and has no date, e-mail "ja" has the date.
    let r = sheet(&rows, 3);
    assert_eq!((perm(r, Channel::PhoneLive).granted, perm(r, Channel::PhoneLive).at), (false, None));
    assert!(perm(r, Channel::Email).granted && perm(r, Channel::Email).at.is_some());
    // Sheet row 7: e-mail "nein" → known contact without marketing consent.
    assert_eq!(sheet(&rows, 7).status, SourceStatus::NonSubscribed);
}

#[test]
fn consent_without_date() {
    let (rows, _) = read_ok(EXPORT, Format::Generic, None);
    for row in [6, 18] {
        let p = perm(sheet(&rows, row), Channel::Email);
        assert_eq!((p.granted, p.at), (true, None), "sheet row {row}");
        assert_eq!(sheet(&rows, row).status, SourceStatus::Subscribed);
    }
}

#[test]
fn withdrawn_consent_dates_the_withdrawal() {
    let (rows, _) = read_ok(EXPORT, Format::Generic, None);
    let r = sheet(&rows, 14);
    let revoked = ts("2023-04-02T22:00:00Z"); // 03.04.2023, midnight in Berlin (summer time)
    assert_eq!(r.status, SourceStatus::Unsubscribed);
    assert_eq!(r.unsubscribed_at, Some(revoked));
    assert_eq!((perm(r, Channel::Email).granted, perm(r, Channel::Email).at), (false, Some(revoked)));
    // The phone consent stays, but the row's one date is the withdrawal's, not its own.
    assert_eq!((perm(r, Channel::PhoneLive).granted, perm(r, Channel::PhoneLive).at), (true, None));
}

#[test]
fn bounce_note_in_the_email_cell() {
    let (rows, _) = read_ok(EXPORT, Format::Generic, None);
    let r = sheet(&rows, 15);
    assert_eq!(r.email.as_deref(), Some("renate.jaeger@example.de"));
    assert_eq!(r.status, SourceStatus::Cleaned);
    let cleaned: Vec<u64> = rows.iter().filter(|r| r.status == SourceStatus::Cleaned).map(|r| r.row).collect();
    assert_eq!(cleaned, [15]);
}

#[test]
fn readme_edge_rows_as_given() {
    let (rows, _) = read_ok(EXPORT, Format::Generic, None);
    let (a, b) =
        (sheet(&rows, 11).email.clone().unwrap_or_default(), sheet(&rows, 12).email.clone().unwrap_or_default());
    assert!(a != b && a.to_lowercase() == b.to_lowercase(), "{a} / {b}");
    assert_eq!(sheet(&rows, 16).email.as_deref(), Some("Hans Groß <hans.gross@example.de>"));
    assert_eq!(sheet(&rows, 17).email.as_deref(), Some("petra.lang@@example.de"));
    assert_eq!(sheet(&rows, 18).email.as_deref(), Some("katrin.vogel@müller-beispiel.de"));
    assert_eq!(sheet(&rows, 19).last_name.as_deref(), Some("Yildiz"));
    assert_eq!(sheet(&rows, 20).first_name.as_deref(), Some("Malgorzata"));
    assert_eq!(sheet(&rows, 22).street.as_deref(), Some("Postfach 12 34; c/o \"Nordlicht\" GmbH"));
    assert_eq!(sheet(&rows, 24).last_name.as_deref(), Some("=HYPERLINK(\"https://example.com/\";\"Details\")"));
    assert_eq!(sheet(&rows, 26).street.as_deref().map(|s| s.chars().count()), Some(1746));
    // Data row 31: ISO birth date among German ones.
    assert_eq!(sheet(&rows, 32).birth_date, Some(jiff::civil::date(1975, 6, 30)));
    assert_eq!(sheet(&rows, 31).birth_date, Some(jiff::civil::date(1953, 2, 12)), "12.02.1953");
}

#[test]
fn every_row_has_a_birth_date_and_both_permissions() {
    let (rows, _) = read_ok(EXPORT, Format::Generic, None);
    assert!(rows.iter().all(|r| r.birth_date.is_some()));
    assert!(rows.iter().all(|r| r.permissions.len() == 2));
}
