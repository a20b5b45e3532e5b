//! Dialer lists (German Excel CSV that expires) and JSON Lines (every field, one object a line).

use konsent_formats::export::{ExportContact, ExportError, ExportFormat, ExportOptions, ExportWriter, Lang};

fn contact(id: &str) -> ExportContact {
    ExportContact {
        person_id: id.into(),
        email: None,
        phone: Some("+491729980752".into()),
        salutation: Some("Frau".into()),
        first_name: Some("Małgorzata".into()),
        last_name: Some("Wiśniewska".into()),
        company: None,
        street: Some("Oderstraße 14".into()),
        postcode: Some("15230".into()),
        city: Some("Frankfurt (Oder)".into()),
        country: Some("DE".into()),
        consent_id: "c-0100".into(),
        channel: "phone".into(),
        consent_given_at: "2024-05-17T08:30:00.123Z".parse().unwrap(),
        consent_text_version: "telefon-v2".into(),
        advertiser: "Vorsorge Beispiel AG; Niederlassung Ost".into(),
        tags: vec!["Kunde".into()],
    }
}

fn options(lang: Lang) -> ExportOptions {
    ExportOptions {
        list_name: Some("Herbstaktion".into()),
        campaign_id: Some("k-7".into()),
        valid_until: Some("2026-12-31T22:59:59Z".parse().unwrap()),
        language: lang,
    }
}

fn write_all(format: ExportFormat, opts: ExportOptions, contacts: &[ExportContact]) -> (String, u64, Vec<ExportError>) {
    let mut w = ExportWriter::new(Vec::new(), format, opts).unwrap();
    let refused = contacts.iter().filter_map(|c| w.write(c).err()).collect();
    let (out, rows) = w.finish().unwrap();
    (String::from_utf8(out).expect("UTF-8"), rows, refused)
}

const BOM: char = '\u{feff}';

#[test]
fn dialer_list_is_german_excel_csv_with_expiry_on_every_row() {
    let mut second = contact("p-2");
    second.phone = Some("+493023125000".into());
    second.salutation = None;
    let (out, rows, refused) = write_all(ExportFormat::Dialer, options(Lang::De), &[contact("p-1"), second]);
    assert!(refused.is_empty());
    assert_eq!(rows, 2);
    let body = out.strip_prefix(BOM).expect("starts with a UTF-8 BOM for Excel");
    let lines: Vec<&str> = body.split_inclusive("\r\n").collect();
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| l.ends_with("\r\n")), "CRLF line ends: {lines:?}");
    assert_eq!(
        lines[0],
        "personen_id;telefon;anrede;vorname;nachname;werbendes_unternehmen;einwilligung_id;einwilligung_datum;\
         einwilligung_textversion;gueltig_bis\r\n"
    );
    assert_eq!(
        lines[1],
        "p-1;+491729980752;Frau;Małgorzata;Wiśniewska;\"Vorsorge Beispiel AG; Niederlassung Ost\";c-0100;\
         2024-05-17T08:30:00Z;telefon-v2;2026-12-31T22:59:59Z\r\n"
    );
    let mut r = csv::ReaderBuilder::new().delimiter(b';').from_reader(body.as_bytes());
    let recs: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 2);
    for rec in &recs {
        assert_eq!(&rec[9], "2026-12-31T22:59:59Z");
        assert!(rec[9].parse::<jiff::Timestamp>().is_ok() && rec[7].parse::<jiff::Timestamp>().is_ok());
        assert_eq!(&rec[5], "Vorsorge Beispiel AG; Niederlassung Ost");
    }
    assert_eq!(&recs[1][0], "p-2");
    assert_eq!(&recs[1][1], "+493023125000");
    assert_eq!(&recs[1][2], "");
}

#[test]
fn dialer_header_in_english() {
    let (out, ..) = write_all(ExportFormat::Dialer, options(Lang::En), &[]);
    assert_eq!(
        out,
        format!(
            "{BOM}person_id;phone;salutation;first_name;last_name;advertiser_name;consent_id;consent_date;\
             consent_text_version;valid_until\r\n"
        )
    );
}

#[test]
fn dialer_list_without_valid_until_is_refused_before_writing() {
    let mut sink = Vec::new();
    let opts = ExportOptions { valid_until: None, ..options(Lang::De) };
    let err = ExportWriter::new(&mut sink, ExportFormat::Dialer, opts).unwrap_err();
    assert!(matches!(err, ExportError::MissingValidUntil), "{err}");
    assert!(!err.is_row_error());
    assert!(sink.is_empty(), "nothing written");
    // The other formats do not expire.
    for format in [ExportFormat::Mailchimp, ExportFormat::JsonLines] {
        assert!(ExportWriter::new(Vec::new(), format, ExportOptions::default()).is_ok());
    }
}

#[test]
fn dialer_skips_contacts_without_usable_phone_whole() {
    let mut none = contact("p-2");
    none.phone = None;
    none.first_name = Some("Ohnetelefon".into());
    let mut human = contact("p-3");
    human.phone = Some("030 23125000".into());
    human.first_name = Some("Menschenformat".into());
    let (out, rows, refused) = write_all(ExportFormat::Dialer, options(Lang::De), &[none, human, contact("p-4")]);
    assert_eq!(rows, 1);
    assert!(matches!(&refused[0], ExportError::MissingContact { person_id, field: "phone" } if person_id == "p-2"));
    assert!(matches!(&refused[1], ExportError::InvalidPhone { person_id } if person_id == "p-3"));
    assert!(!out.contains("Ohnetelefon") && !out.contains("Menschenformat") && !out.contains("23125000"));
    assert_eq!(out.lines().count(), 2);
    assert!(out.lines().nth(1).unwrap().starts_with("p-4;"));
}

#[test]
fn json_lines_carry_every_field_and_the_lists_expiry() {
    let mut odd = contact("p-2");
    odd.first_name = Some("Zeile\numbruch \"zitiert\"".into());
    odd.company = Some("=HYPERLINK(\"http://x\")".into());
    odd.email = Some("zoe.schuetz@example.com".into());
    odd.phone = None;
    let contacts = [contact("p-1"), odd];
    let (out, rows, refused) = write_all(ExportFormat::JsonLines, options(Lang::De), &contacts);
    assert!(refused.is_empty());
    assert_eq!(rows, 2);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "one line per contact: {out}");
    for (line, c) in lines.iter().zip(&contacts) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["valid_until"], "2026-12-31T22:59:59Z");
        assert_eq!(v["campaign_id"], "k-7");
        assert_eq!(v["list_name"], "Herbstaktion");
        let back: ExportContact = serde_json::from_value(v).unwrap();
        assert_eq!(&back, c, "every field survives");
    }
    let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(v["consent_given_at"], "2024-05-17T08:30:00.123Z");
    assert_eq!(v["person_id"], "p-1");
    assert_eq!(v["email"], serde_json::Value::Null);
    let v: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(v["company"], "=HYPERLINK(\"http://x\")", "JSON is not neutralized");
}

#[test]
fn json_lines_leave_out_unset_list_fields() {
    let (out, ..) = write_all(ExportFormat::JsonLines, ExportOptions::default(), &[contact("p-1")]);
    let v: serde_json::Value = serde_json::from_str(out.trim_end()).unwrap();
    let obj = v.as_object().unwrap();
    for key in ["valid_until", "campaign_id", "list_name"] {
        assert!(!obj.contains_key(key), "{key}");
    }
    assert_eq!(obj.len(), 17, "the contact's 17 fields");
}
