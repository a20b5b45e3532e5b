//! HubSpot: the contacts export (every field quoted) and the import file.

use konsent_domain::channel::Channel;
use konsent_formats::import::{Format, Mapping, SourceStatus};

use super::common::{read_ok, sheet, ts};

const EXPORT: &str = "hubspot/hubspot-crm-exports-all-contacts-2024-05-17.csv";

#[test]
fn fifty_rows_with_record_ids() {
    let (rows, files) = read_ok(EXPORT, Format::HubSpot, None);
    assert_eq!(rows.len(), 50);
    assert_eq!(files[0].delimiter, ',');
    let r = sheet(&rows, 2);
    assert_eq!(r.external_id.as_deref(), Some("51000012000"));
    assert_eq!(r.email.as_deref(), Some("juergen.weiss@example.com"));
    assert_eq!((r.phone.as_deref(), r.mobile.as_deref()), (Some("030 23125000"), Some("0152 28817386")));
    assert_eq!(
        (r.street.as_deref(), r.postcode.as_deref(), r.city.as_deref()),
        (Some("Schloßstraße 12"), Some("10115"), Some("Berlin"))
    );
    assert_eq!(r.country.as_deref(), Some("Germany"));
    assert_eq!(r.legal_basis, ["Freely given consent from contact"]);
    assert_eq!(sheet(&rows, 3).birth_date, Some(jiff::civil::date(1957, 6, 12)));
    assert_eq!(sheet(&rows, 3).company.as_deref(), Some("Nordlicht Versicherungsmakler GmbH"));
}

#[test]
fn dates_are_local_berlin_times() {
    let (rows, _) = read_ok(EXPORT, Format::HubSpot, None);
    // "2019-03-01 02:00" is winter time in Berlin (UTC+1).
    assert_eq!(sheet(&rows, 2).optin_at, Some(ts("2019-03-01T01:00:00Z")));
    // "2020-09-26 00:02" is summer time (UTC+2): the same minute Mailchimp gives as 2020-09-25 22:02:46 UTC.
    assert_eq!(sheet(&rows, 16).optin_at, Some(ts("2020-09-25T22:02:00Z")));
}

#[test]
fn a_mapping_zone_overrides_the_portal_zone() {
    // The fixture writes every time at a fixed UTC+2 (README 2.3); with that zone its winter
    // times agree with Mailchimp's UTC times for the same person.
    let m = Mapping::parse("time_zone = \"Etc/GMT-2\"\n").expect("mapping");
    let (rows, _) = read_ok(EXPORT, Format::HubSpot, Some(&m));
    assert_eq!(sheet(&rows, 2).optin_at, Some(ts("2019-03-01T00:00:00Z")));
}

#[test]
fn readme_edge_rows() {
    let (rows, _) = read_ok(EXPORT, Format::HubSpot, None);
    // Data row 3: empty Create Date, deactivated owner.
    assert_eq!(sheet(&rows, 4).optin_at, None);
    assert_eq!(sheet(&rows, 4).status, SourceStatus::Subscribed);
    // Data row 6: two legal bases in one cell.
    assert_eq!(
        sheet(&rows, 7).legal_basis,
        ["Freely given consent from contact", "Legitimate interest – existing customer"]
    );
    assert_eq!(sheet(&rows, 7).status, SourceStatus::NonSubscribed, "Non-marketing contact");
    // Data rows 10/11: case duplicates, passed on as given.
    let (a, b) =
        (sheet(&rows, 11).email.clone().unwrap_or_default(), sheet(&rows, 12).email.clone().unwrap_or_default());
    assert!(a != b && a.to_lowercase() == b.to_lowercase(), "{a} / {b}");
    // Data row 13: unsubscribed from all email.
    assert_eq!(sheet(&rows, 14).status, SourceStatus::Unsubscribed);
    // Data row 14: hard bounce.
    assert_eq!(sheet(&rows, 15).status, SourceStatus::Cleaned);
    assert_eq!(sheet(&rows, 16).email.as_deref(), Some("Hans Groß <hans.gross@example.de>"));
    assert_eq!(sheet(&rows, 17).email.as_deref(), Some("petra.lang@@example.de"));
    assert_eq!(sheet(&rows, 18).email.as_deref(), Some("katrin.vogel@müller-beispiel.de"));
    assert_eq!(sheet(&rows, 19).last_name.as_deref(), Some("Yıldız"));
    assert_eq!(sheet(&rows, 20).first_name.as_deref(), Some("Małgorzata"));
    // Data row 21: company with ';' and quotes.
    assert_eq!(sheet(&rows, 22).company.as_deref(), Some("Versicherungsmakler \"Nordlicht\"; Filiale Kiel"));
    // Data rows 23 and 25: formula and very long Message; the rows read normally.
    assert!(sheet(&rows, 24).email.is_some() && sheet(&rows, 26).email.is_some());
    // Data row 31: Punycode domain as given.
    assert_eq!(sheet(&rows, 32).email.as_deref(), Some("monika.lehmann@xn--mller-beispiel-gsb.de"));
}

#[test]
fn opt_out_of_one_subscription_type() {
    let (rows, files) = read_ok(EXPORT, Format::HubSpot, None);
    let labels: Vec<_> = files[0].permissions.iter().map(|p| (p.label.as_str(), p.channel, p.opt_out)).collect();
    assert_eq!(labels, [("Newsletter Maklerbüro", Channel::Email, true), ("One to One", Channel::Email, true)]);
    let r = sheet(&rows, 23);
    assert_eq!(r.status, SourceStatus::Subscribed, "still a marketing contact");
    assert_eq!(r.permissions.len(), 1);
    assert_eq!((r.permissions[0].label.as_str(), r.permissions[0].granted), ("Newsletter Maklerbüro", false));
    // Empty opt-out cells mean "not specified": no permission at all.
    let with_perms: Vec<u64> = rows.iter().filter(|r| !r.permissions.is_empty()).map(|r| r.row).collect();
    assert_eq!(with_perms, [23]);
}

#[test]
fn statuses_add_up() {
    let (rows, _) = read_ok(EXPORT, Format::HubSpot, None);
    let count = |s: SourceStatus| rows.iter().filter(|r| r.status == s).count();
    let raw = std::fs::read_to_string(super::common::testdata(EXPORT)).expect("fixture");
    let non_marketing = raw.lines().filter(|l| l.contains("\"Non-marketing contact\"")).count();
    // Bounced and unsubscribed rows are non-marketing contacts in the fixture but get their own status.
    assert_eq!(count(SourceStatus::Cleaned), 1);
    assert_eq!(count(SourceStatus::Unsubscribed), 1);
    assert_eq!(count(SourceStatus::NonSubscribed) + 2, non_marketing);
    assert_eq!(count(SourceStatus::Subscribed), 50 - non_marketing);
}

#[test]
fn import_file_has_no_status_so_non_subscribed() {
    let (rows, _) = read_ok("hubspot/import/hubspot_import_contacts.csv", Format::HubSpot, None);
    assert_eq!(rows.len(), 47);
    assert!(rows.iter().all(|r| r.status == SourceStatus::NonSubscribed));
    assert_eq!(sheet(&rows, 2).mobile.as_deref(), Some("0152 28817386"));
    assert_eq!(sheet(&rows, 2).legal_basis, ["Freely given consent from contact"]);
}
