//! Mapping files: the documented example, overriding a format's defaults, and mapping errors.

use konsent_domain::channel::Channel;
use konsent_formats::import::{Format, ImportError, Mapping, SourceStatus, open_path};

use super::common::{read_ok, sheet, testdata, ts};

fn example() -> Mapping {
    Mapping::from_path(&testdata("mapping-example.toml")).expect("example mapping parses")
}

#[test]
fn example_mapping_reads_the_example_file() {
    let m = example();
    let results: Vec<_> =
        open_path(&testdata("mapping-example.csv"), Format::Generic, Some(&m)).expect("opens").collect();
    assert_eq!(results.len(), 7);
    let err = results[5].as_ref().expect_err("sheet row 7 has 31/02/1992");
    assert_eq!((err.row, err.field.as_str()), (7, "Geb.-Datum"));
    assert!(err.message.contains("'31/02/1992'"), "{}", err.message);
    let rows: Vec<_> = results.into_iter().filter_map(Result::ok).collect();
    assert_eq!(rows.iter().map(|r| r.row).collect::<Vec<_>>(), [2, 3, 4, 5, 6, 8], "the row after the bad one is read");

    let r = sheet(&rows, 2);
    assert_eq!((r.external_id.as_deref(), r.customer_number.as_deref()), (Some("C-1001"), Some("K-7001")));
    assert_eq!(r.phone.as_deref(), Some("(069) 900 09 037"), "second listed column when the first is empty");
    assert_eq!(r.birth_date, Some(jiff::civil::date(1957, 6, 12)), "date_format %d/%m/%Y");
    assert_eq!(r.optin_at, Some(ts("2019-04-11T05:13:00Z")), "datetime_format, Europe/Berlin summer time");
    assert_eq!(r.tags, ["Kunde", "Kfz"]);
    assert_eq!(r.status, SourceStatus::Subscribed);
    assert_eq!(r.permissions.len(), 1, "empty opt-out cell: nothing stated");
    let p = &r.permissions[0];
    assert_eq!((p.channel, p.label.as_str(), p.granted), (Channel::PhoneLive, "Werbung per Telefon", true));
    assert_eq!(p.at, Some(ts("2019-04-10T22:00:00Z")));

    let r = sheet(&rows, 3);
    assert_eq!(r.status, SourceStatus::Pending, "\"DOI offen\" per [status_values]");
    let post = r.permissions.iter().find(|p| p.channel == Channel::Post).expect("post permission");
    assert_eq!((post.label.as_str(), post.granted), ("Briefwerbung", false), "opt-out column with x");

    let r = sheet(&rows, 4);
    assert_eq!(r.status, SourceStatus::Unsubscribed);
    assert_eq!(r.unsubscribed_at, Some(ts("2021-02-02T12:36:00Z")));
    assert_eq!((r.permissions[0].granted, r.permissions[0].at), (false, Some(ts("2021-02-01T23:00:00Z"))));

    assert_eq!(sheet(&rows, 5).status, SourceStatus::Cleaned);
    assert_eq!(sheet(&rows, 6).status, SourceStatus::NonSubscribed, "status_default for an empty cell");
    assert_eq!(sheet(&rows, 8).status, SourceStatus::Unknown("gesperrt".into()));
}

#[test]
fn mapping_overrides_a_format_default() {
    let m = Mapping::parse("[columns]\nexternal_id = \"Kundennummer\"\n").expect("mapping");
    let file = "mailchimp/members_export_67bf5f325a/subscribed_members_export_67bf5f325a.csv";
    let (rows, files) = read_ok(file, Format::Mailchimp, Some(&m));
    assert_eq!(sheet(&rows, 2).external_id.as_deref(), Some("K-2019000"));
    assert!(files[0].ignored.iter().any(|h| h == "LEID"), "LEID no longer read");
    // Mailchimp times are UTC unless the mapping says otherwise.
    let berlin = Mapping::parse("time_zone = \"Europe/Berlin\"\n").expect("mapping");
    let (rows, _) = read_ok(file, Format::Mailchimp, Some(&berlin));
    assert_eq!(sheet(&rows, 2).optin_at, Some(ts("2019-02-28T23:00:00Z")));
}

#[test]
fn mapping_permissions_replace_the_detected_ones() {
    let m = Mapping::parse(
        "status_default = \"pending\"\n[[permissions]]\ncolumn = \"Werbeeinwilligung Telefon\"\nchannel = \"phone_automated\"\n",
    )
    .expect("mapping");
    let (rows, files) = read_ok("generic_makler/maklerverwaltung_kunden_export_cp1252.csv", Format::Generic, Some(&m));
    assert_eq!(files[0].permissions.len(), 1);
    let r = sheet(&rows, 2);
    assert_eq!(r.permissions.iter().map(|p| p.channel).collect::<Vec<_>>(), [Channel::PhoneAutomated]);
    assert_eq!(r.status, SourceStatus::Pending, "no e-mail consent column any more: the mapping's default");
}

#[test]
fn unknown_keys_are_errors_naming_the_key() {
    let e = Mapping::parse("time_zone = \"Europe/Berlin\"\ndatumsformat = \"%d.%m.%Y\"\n").expect_err("unknown key");
    assert!(matches!(e, ImportError::Mapping(_)));
    assert!(e.to_string().contains("datumsformat"), "{e}");
    let e = Mapping::parse("[columns]\nemail = \"Mail\"\nvorname = \"Vorname\"\n").expect_err("unknown field");
    assert!(e.to_string().contains("columns.vorname"), "{e}");
    let e = Mapping::parse("[status_values]\naktiv = \"aktiv\"\n").expect_err("unknown status");
    assert!(e.to_string().contains("aktiv") && e.to_string().contains("subscribed"), "{e}");
}

#[test]
fn a_mapped_column_missing_from_the_file_names_both() {
    let m = Mapping::parse("[columns]\nemail = \"Mailadresse\"\n").expect("mapping");
    let e = open_path(&testdata("generic_makler/maklerverwaltung_kunden_export_cp1252.csv"), Format::Generic, Some(&m))
        .err()
        .expect("column missing");
    let msg = e.to_string();
    assert!(matches!(e, ImportError::MappedColumnMissing { .. }), "{msg}");
    assert!(
        msg.contains("'Mailadresse'") && msg.contains("'email'") && msg.contains("'Werbeeinwilligung E-Mail'"),
        "{msg}"
    );
}

#[test]
fn forcing_utf8_on_a_windows_1252_file_gives_row_errors_not_garbage() {
    let m = Mapping::parse("encoding = \"utf-8\"\n").expect("mapping");
    let results: Vec<_> =
        open_path(&testdata("generic_makler/maklerverwaltung_kunden_export_cp1252.csv"), Format::Generic, Some(&m))
            .expect("opens")
            .collect();
    assert_eq!(results.len(), 50);
    let first = results[0].as_ref().expect_err("Jürgen is not UTF-8");
    assert_eq!((first.row, first.field.as_str()), (2, "Vorname"));
    assert!(first.message.contains("UTF-8"), "{}", first.message);
    // A row without umlauts or ß is still read.
    assert!(results.iter().filter_map(|r| r.as_ref().ok()).all(|r| r.last_name.as_deref().is_some_and(str::is_ascii)));
}
