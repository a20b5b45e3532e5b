//! Spreadsheet formula injection (OWASP CSV injection): every CSV format neutralizes formula
//! cells, read back as a spreadsheet user would get them; valid E.164 numbers pass untouched.

use konsent_formats::export::{
    ExportContact, ExportError, ExportFormat, ExportOptions, ExportWriter, neutralize_cell, neutralize_phone_cell,
};

fn contact(first_name: &str, phone: &str) -> ExportContact {
    ExportContact {
        person_id: "p-1".into(),
        email: Some("heike.fuss@example.org".into()),
        phone: Some(phone.into()),
        salutation: Some("Frau".into()),
        first_name: Some(first_name.into()),
        last_name: Some("=HYPERLINK(\"http://x\")".into()),
        company: None,
        street: Some("Kurfürstendamm 200".into()),
        postcode: Some("10719".into()),
        city: Some("Berlin".into()),
        country: Some("DE".into()),
        consent_id: "c-1".into(),
        channel: "email".into(),
        consent_given_at: "2021-05-29T10:00:00Z".parse().unwrap(),
        consent_text_version: "v1".into(),
        advertiser: "@Maklerhaus".into(),
        tags: vec!["-x".into()],
    }
}

/// CSV formats with their delimiter and the header of the first-name, last-name and phone columns.
const CSV: [(ExportFormat, u8, &str, &str, &str); 4] = [
    (ExportFormat::Mailchimp, b',', "First Name", "Last Name", "Phone Number"),
    (ExportFormat::CleverReach, b';', "vorname", "nachname", "telefon"),
    (ExportFormat::HubSpot, b',', "First Name", "Last Name", "Phone Number"),
    (ExportFormat::Dialer, b';', "vorname", "nachname", "telefon"),
];

/// Writes one contact and reads the named cells back with the csv crate.
fn cells(format: ExportFormat, delimiter: u8, c: &ExportContact, names: &[&str]) -> Vec<String> {
    let opts = ExportOptions { valid_until: Some("2026-01-01T00:00:00Z".parse().unwrap()), ..Default::default() };
    let mut w = ExportWriter::new(Vec::new(), format, opts).unwrap();
    w.write(c).unwrap();
    let (out, _) = w.finish().unwrap();
    let out = out.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&out);
    let mut r = csv::ReaderBuilder::new().delimiter(delimiter).from_reader(out);
    let headers = r.headers().unwrap().clone();
    let rec = r.records().next().expect("one record").unwrap();
    names.iter().map(|n| rec[headers.iter().position(|h| h == *n).expect(n)].to_owned()).collect()
}

#[test]
fn every_trigger_character_is_prefixed_in_every_csv_format() {
    for (format, delimiter, first, _, _) in CSV {
        for value in ["=1+1", "+1", "-1", "@SUM(A1:A9)", "\tx", "\rx", "-", "+", "=", "@"] {
            let got = cells(format, delimiter, &contact(value, "+4915228817386"), &[first]);
            assert_eq!(got[0], format!("'{value}"), "{format}: {value:?}");
        }
        for harmless in ["Anna", "Anna-Lena", "a=b", "'=quoted", " =1", "Ärger"] {
            let got = cells(format, delimiter, &contact(harmless, "+4915228817386"), &[first]);
            assert_eq!(got[0], harmless, "{format}: {harmless:?}");
        }
    }
}

#[test]
fn hyperlink_name_comes_back_prefixed() {
    for (format, delimiter, _, last, _) in CSV {
        let got = cells(format, delimiter, &contact("Heike", "+4915228817386"), &[last]);
        assert_eq!(got[0], "'=HYPERLINK(\"http://x\")", "{format}");
    }
    let got = cells(ExportFormat::Dialer, b';', &contact("Heike", "+4915228817386"), &["werbendes_unternehmen"]);
    assert_eq!(got[0], "'@Maklerhaus");
    let got = cells(ExportFormat::Mailchimp, b',', &contact("Heike", "+4915228817386"), &["Tags"]);
    assert_eq!(got[0], "'-x");
}

#[test]
fn e164_phone_numbers_stay_as_they_are() {
    for (format, delimiter, _, _, phone) in CSV {
        for number in ["+4915228817386", "+493023125000", "+1234567", "+123456789012345"] {
            let col = if format == ExportFormat::HubSpot && number.starts_with("+4915") {
                "Mobile Phone Number"
            } else {
                phone
            };
            assert_eq!(cells(format, delimiter, &contact("Heike", number), &[col])[0], number, "{format}");
        }
    }
}

#[test]
fn a_phone_cell_that_is_not_e164_is_neutralized_or_refused() {
    for (format, delimiter, _, _, phone) in CSV {
        for bad in ["+49 30 23125000", "+49301=1+1", "+123456", "-4930", "=1+1"] {
            if format == ExportFormat::Dialer {
                let opts =
                    ExportOptions { valid_until: Some("2026-01-01T00:00:00Z".parse().unwrap()), ..Default::default() };
                let mut w = ExportWriter::new(Vec::new(), format, opts).unwrap();
                assert!(matches!(w.write(&contact("Heike", bad)), Err(ExportError::InvalidPhone { .. })), "{bad}");
                assert_eq!(w.rows(), 0);
            } else {
                assert_eq!(
                    cells(format, delimiter, &contact("Heike", bad), &[phone])[0],
                    format!("'{bad}"),
                    "{format}"
                );
            }
        }
    }
}

#[test]
fn neutralize_functions() {
    assert_eq!(neutralize_cell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
    assert_eq!(neutralize_cell(""), "");
    assert!(matches!(neutralize_cell("Weiß"), std::borrow::Cow::Borrowed("Weiß")));
    assert_eq!(neutralize_cell("\r"), "'\r");
    assert_eq!(neutralize_phone_cell("+491729980752"), "+491729980752");
    assert_eq!(neutralize_phone_cell("+49 172 9980752"), "'+49 172 9980752");
    assert_eq!(neutralize_phone_cell("@1"), "'@1");
}
