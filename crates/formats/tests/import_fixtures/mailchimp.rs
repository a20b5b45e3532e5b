//! Mailchimp: the ZIP of three CSVs, the single CSVs, the BOM variant and the import file.

use konsent_domain::channel::Channel;
use konsent_formats::import::{Encoding, Format, ImportRow, SourceStatus, open_path};

use super::common::{read_ok, sheet, testdata, ts};

const ZIP: &str = "mailchimp/members_export_67bf5f325a.zip";
const SUBSCRIBED: &str = "mailchimp/members_export_67bf5f325a/subscribed_members_export_67bf5f325a.csv";
const UNSUBSCRIBED: &str = "mailchimp/members_export_67bf5f325a/unsubscribed_members_export_67bf5f325a.csv";
const CLEANED: &str = "mailchimp/members_export_67bf5f325a/cleaned_members_export_67bf5f325a.csv";
const BOM: &str = "mailchimp/variants/subscribed_members_export_67bf5f325a_utf8-bom.csv";

fn in_file<'a>(rows: &'a [ImportRow], prefix: &str) -> Vec<&'a ImportRow> {
    rows.iter().filter(|r| r.file.as_deref().is_some_and(|f| f.starts_with(prefix))).collect()
}

#[test]
fn zip_gives_fifty_rows_with_status_from_each_file_name() {
    let (rows, files) = read_ok(ZIP, Format::Mailchimp, None);
    assert_eq!(rows.len(), 50);
    let names: Vec<_> = files.iter().map(|f| f.name.clone().unwrap_or_default()).collect();
    assert_eq!(
        names,
        [
            "subscribed_members_export_67bf5f325a.csv",
            "unsubscribed_members_export_67bf5f325a.csv",
            "cleaned_members_export_67bf5f325a.csv"
        ]
    );
    for (prefix, n, status) in [
        ("subscribed_", 42, SourceStatus::Subscribed),
        ("unsubscribed_", 5, SourceStatus::Unsubscribed),
        ("cleaned_", 3, SourceStatus::Cleaned),
    ] {
        let part = in_file(&rows, prefix);
        assert_eq!(part.len(), n, "{prefix}");
        assert!(part.iter().all(|r| r.status == status), "{prefix}");
        // Sheet rows restart at 2 in every member file.
        assert_eq!(part.first().map(|r| r.row), Some(2), "{prefix}");
        assert_eq!(part.last().map(|r| r.row), Some(n as u64 + 1), "{prefix}");
    }
}

#[test]
fn zip_rows_equal_the_unzipped_csvs() {
    let (zipped, _) = read_ok(ZIP, Format::Mailchimp, None);
    let mut loose = Vec::new();
    for f in [SUBSCRIBED, UNSUBSCRIBED, CLEANED] {
        loose.extend(read_ok(f, Format::Mailchimp, None).0);
    }
    assert_eq!(zipped, loose);
}

#[test]
fn single_csvs_take_the_status_from_their_name() {
    assert!(read_ok(UNSUBSCRIBED, Format::Mailchimp, None).0.iter().all(|r| r.status == SourceStatus::Unsubscribed));
    assert!(read_ok(CLEANED, Format::Mailchimp, None).0.iter().all(|r| r.status == SourceStatus::Cleaned));
    let (rows, files) = read_ok("mailchimp/import/mailchimp_import_contacts.csv", Format::Mailchimp, None);
    assert_eq!(rows.len(), 47);
    assert_eq!(files[0].status, None);
    assert!(rows.iter().all(|r| r.status == SourceStatus::Subscribed), "a name without status means subscribed");
}

#[test]
fn first_row_fully_read_times_as_utc() {
    let (rows, files) = read_ok(SUBSCRIBED, Format::Mailchimp, None);
    assert_eq!((files[0].encoding, files[0].bom, files[0].delimiter), (Encoding::Utf8, false, ','));
    let r = sheet(&rows, 2);
    assert_eq!(r.email.as_deref(), Some("juergen.weiss@example.com"));
    assert_eq!((r.first_name.as_deref(), r.last_name.as_deref()), (Some("Jürgen"), Some("Weiß")));
    assert_eq!(r.street.as_deref(), Some("Schloßstraße 12"));
    assert_eq!(
        (r.postcode.as_deref(), r.city.as_deref(), r.country.as_deref()),
        (Some("10115"), Some("Berlin"), Some("DE"))
    );
    assert_eq!((r.phone.as_deref(), r.mobile.as_deref()), (Some("030 23125000"), Some("0152 28817386")));
    assert_eq!(r.salutation.as_deref(), Some("Herr"));
    assert_eq!(r.customer_number.as_deref(), Some("K-2019000"));
    assert_eq!(r.external_id.as_deref(), Some("100000000"), "LEID");
    assert_eq!(r.birth_date, None, "Birthday 01/01 has no year");
    assert_eq!(r.optin_at, Some(ts("2019-03-01T00:00:00Z")));
    assert_eq!(r.optin_ip.as_deref(), Some("198.51.100.1"));
    assert_eq!(r.confirm_at, Some(ts("2019-03-01T00:03:00Z")));
    assert_eq!(r.confirm_ip.as_deref(), Some("203.0.113.1"));
    assert_eq!(r.last_changed_at, Some(ts("2019-03-31T02:00:00Z")));
    let perms: Vec<_> = r.permissions.iter().map(|p| (p.channel, p.label.as_str(), p.granted)).collect();
    assert_eq!(
        perms,
        [(Channel::Email, "E-Mail-Newsletter", true), (Channel::PhoneLive, "Telefonische Beratung", true)]
    );
    // Sheet row 3: "Telefonische Beratung" is empty, so not granted.
    assert!(!sheet(&rows, 3).permissions[1].granted);
    assert_eq!(sheet(&rows, 3).title.as_deref(), Some("Dr."));
}

#[test]
fn empty_optin_time_only_in_the_readme_rows() {
    let (rows, _) = read_ok(SUBSCRIBED, Format::Mailchimp, None);
    // README: data rows 5, 11, 15, 20, 25, 29, 39 have no OPTIN_TIME/OPTIN_IP.
    let empty: Vec<u64> = rows.iter().filter(|r| r.optin_at.is_none()).map(|r| r.row).collect();
    assert_eq!(empty, [6, 12, 16, 21, 26, 30, 40]);
    for row in empty {
        let r = sheet(&rows, row);
        assert!(r.optin_ip.is_none() && r.confirm_at.is_some() && r.confirm_ip.is_some(), "sheet row {row}");
    }
}

#[test]
fn addresses_are_passed_on_as_given() {
    let (rows, _) = read_ok(SUBSCRIBED, Format::Mailchimp, None);
    let (a, b) = (sheet(&rows, 11).email.clone(), sheet(&rows, 12).email.clone());
    assert_eq!(a.as_deref(), Some("Klaus.Becker@example.com"));
    assert_eq!(b.as_deref(), Some("klaus.becker@example.com"));
    assert_eq!(sheet(&rows, 14).email.as_deref(), Some("Hans Groß <hans.gross@example.de>"));
    assert_eq!(sheet(&rows, 15).email.as_deref(), Some("petra.lang@@example.de"));
    assert_eq!(sheet(&rows, 16).email.as_deref(), Some("katrin.vogel@müller-beispiel.de"));
}

#[test]
fn utf8_only_names_quotes_semicolons_and_formulas_survive() {
    let (rows, _) = read_ok(SUBSCRIBED, Format::Mailchimp, None);
    assert_eq!(
        (sheet(&rows, 17).first_name.as_deref(), sheet(&rows, 17).last_name.as_deref()),
        (Some("Ömer"), Some("Yıldız"))
    );
    assert_eq!(sheet(&rows, 18).first_name.as_deref(), Some("Małgorzata"));
    assert_eq!(sheet(&rows, 18).last_name.as_deref(), Some("Wiśniewska"));
    assert_eq!(sheet(&rows, 20).company.as_deref(), Some("Versicherungsmakler \"Nordlicht\"; Filiale Kiel"));
    assert_eq!(sheet(&rows, 21).company.as_deref(), Some("=HYPERLINK(\"https://example.com/\";\"Details\")"));
    // Sheet row 23 has a 1,746-character NOTES cell; it and the row after it read normally.
    assert!(sheet(&rows, 23).email.is_some() && sheet(&rows, 24).email.is_some());
}

#[test]
fn tags_in_both_styles() {
    let (rows, _) = read_ok(SUBSCRIBED, Format::Mailchimp, None);
    assert_eq!(sheet(&rows, 2).tags, ["Kunde", "Newsletter"]);
    assert_eq!(sheet(&rows, 4).tags, ["Kunde", "Kfz", "Bestand 2021"]);
    let (import, _) = read_ok("mailchimp/import/mailchimp_import_contacts.csv", Format::Mailchimp, None);
    assert_eq!(sheet(&import, 2).tags, ["Interessent"]);
    assert_eq!(sheet(&import, 3).tags, ["Kunde", "Newsletter"], "unquoted comma list");
}

#[test]
fn unsubscribed_rows_carry_time_and_reason() {
    let (rows, _) = read_ok(UNSUBSCRIBED, Format::Mailchimp, None);
    assert_eq!(rows.len(), 5);
    let reasons: Vec<_> = rows.iter().map(|r| r.unsubscribe_reason.clone().unwrap_or_default()).collect();
    assert_eq!(
        reasons,
        [
            "I no longer want to receive these emails",
            "Other (fill in reason below): Bitte keine Werbung mehr – habe den Makler gewechselt.",
            "I never signed up for this mailing list",
            "N/A (Unsubscribed by an admin)",
            "The emails are spam and should be reported",
        ]
    );
    assert_eq!(rows[0].unsubscribed_at, Some(ts("2021-02-02T12:36:48Z")));
    assert!(rows.iter().all(|r| r.unsubscribed_at.is_some() && !r.permissions[0].granted));
}

#[test]
fn cleaned_rows_carry_the_clean_time() {
    let (rows, _) = read_ok(CLEANED, Format::Mailchimp, None);
    let cleaned: Vec<_> = rows.iter().map(|r| r.cleaned_at).collect();
    assert_eq!(
        cleaned,
        [Some(ts("2020-11-26T17:49:17Z")), Some(ts("2022-09-29T01:17:01Z")), Some(ts("2019-10-25T04:32:16Z"))]
    );
}

#[test]
fn bom_variant_reads_like_the_plain_file() {
    let (plain, _) = read_ok(SUBSCRIBED, Format::Mailchimp, None);
    let (bom, files) = read_ok(BOM, Format::Mailchimp, None);
    assert!(files[0].bom);
    assert_eq!(files[0].headers[0], "Email Address", "BOM stripped from the first header");
    assert_eq!(files[0].status, Some(SourceStatus::Subscribed));
    let strip = |rows: Vec<ImportRow>| rows.into_iter().map(|r| ImportRow { file: None, ..r }).collect::<Vec<_>>();
    assert_eq!(strip(bom), strip(plain));
}

#[test]
fn columns_report_names_what_was_found() {
    let rows = open_path(&testdata(UNSUBSCRIBED), Format::Mailchimp, None).expect("opens");
    let found: Vec<_> = rows.columns().iter().map(|c| (c.field, c.header.as_str())).collect();
    for pair in [
        ("email", "Email Address"),
        ("unsubscribed_at", "UNSUB_TIME"),
        ("unsubscribe_reason_other", "UNSUB_REASON_OTHER"),
    ] {
        assert!(found.contains(&pair), "{pair:?} in {found:?}");
    }
    assert!(rows.files()[0].ignored.iter().any(|h| h == "MEMBER_RATING"));
}
