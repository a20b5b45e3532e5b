//! Mailchimp, CleverReach and HubSpot lists: the header of each tool's import file, values that
//! come back when the CSV is read, and contacts without e-mail skipped whole.

use std::collections::HashMap;

use konsent_formats::export::{ExportContact, ExportError, ExportFormat, ExportOptions, ExportWriter};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/testdata/export/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn contact(id: &str) -> ExportContact {
    ExportContact {
        person_id: id.into(),
        email: Some("juergen.weiss@example.com".into()),
        phone: Some("+493023125000".into()),
        salutation: Some("Herr".into()),
        first_name: Some("Jürgen".into()),
        last_name: Some("Weiß".into()),
        company: Some("Versicherungsmakler \"Nordlicht\"; Filiale Kiel".into()),
        street: Some("Schloßstraße 12".into()),
        postcode: Some("10115".into()),
        city: Some("Berlin".into()),
        country: Some("DE".into()),
        consent_id: "c-0001".into(),
        channel: "email".into(),
        // 00:30 on 1 March in Berlin: the German date is the 1st, the UTC date the 28th.
        consent_given_at: "2019-02-28T23:30:00Z".parse().unwrap(),
        consent_text_version: "newsletter-v3".into(),
        advertiser: "Maklerhaus Nordlicht GmbH".into(),
        tags: vec!["Kunde".into(), "Newsletter".into()],
    }
}

fn export(format: ExportFormat, contacts: &[ExportContact]) -> (Vec<u8>, u64, Vec<ExportError>) {
    let mut w = ExportWriter::new(Vec::new(), format, ExportOptions::default()).unwrap();
    let mut refused = Vec::new();
    for c in contacts {
        if let Err(e) = w.write(c) {
            refused.push(e);
        }
    }
    let (out, rows) = w.finish().unwrap();
    (out, rows, refused)
}

fn first_line(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().position(|&b| b == b'\n').expect("a header line") + 1;
    &bytes[..end]
}

/// Records as header → value maps, read with the csv crate the way a tool would.
fn read(bytes: &[u8], delimiter: u8) -> Vec<HashMap<String, String>> {
    let mut r = csv::ReaderBuilder::new().delimiter(delimiter).from_reader(bytes);
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    r.records().map(|rec| headers.iter().cloned().zip(rec.unwrap().iter().map(str::to_owned)).collect()).collect()
}

const TOOLS: [(ExportFormat, &str, u8); 3] = [
    (ExportFormat::Mailchimp, "mailchimp_import_contacts.csv", b','),
    (ExportFormat::CleverReach, "cleverreach_import_empfaenger_utf8.csv", b';'),
    (ExportFormat::HubSpot, "hubspot_import_contacts.csv", b','),
];

#[test]
fn header_is_byte_identical_to_the_tools_import_file() {
    for (format, file, _) in TOOLS {
        let fixture = fixture(file);
        let (out, rows, _) = export(format, &[]);
        assert_eq!(rows, 0);
        assert_eq!(
            String::from_utf8_lossy(first_line(&out)),
            String::from_utf8_lossy(first_line(&fixture)),
            "{format}: header (names, order, quoting, delimiter, line end) differs from {file}"
        );
        assert_eq!(out, first_line(&fixture), "{format}: an empty list is the header alone");
    }
}

#[test]
fn rows_end_and_encode_like_the_tools_import_file() {
    for (format, file, delimiter) in TOOLS {
        let fixture = fixture(file);
        let (out, ..) = export(format, &[contact("p-1")]);
        assert!(!out.starts_with("\u{feff}".as_bytes()) && !fixture.starts_with("\u{feff}".as_bytes()), "{format}");
        let crlf = |b: &[u8]| b.windows(2).filter(|w| w == b"\r\n").count();
        let lf = |b: &[u8]| b.iter().filter(|&&c| c == b'\n').count();
        assert_eq!(crlf(&out) == lf(&out), crlf(&fixture) == lf(&fixture), "{format}: line ends");
        let ours = read(&out, delimiter);
        let theirs = read(&fixture, delimiter);
        assert_eq!(ours.len(), 1);
        assert_eq!(ours[0].len(), theirs[0].len(), "{format}: every record has the header's width");
    }
}

#[test]
fn golden_rows() {
    let cases = [
        (
            ExportFormat::Mailchimp,
            "juergen.weiss@example.com,Jürgen,Weiß,\"Schloßstraße 12  Berlin    10115  DE\",+493023125000,,\"Kunde,Newsletter\"\n",
        ),
        (
            ExportFormat::CleverReach,
            "juergen.weiss@example.com;Herr;Jürgen;Weiß;Schloßstraße 12;10115;Berlin;+493023125000;;01.03.2019;\
             Konsent Einwilligung c-0001 (Text newsletter-v3)\r\n",
        ),
        (
            ExportFormat::HubSpot,
            "Jürgen,Weiß,juergen.weiss@example.com,+493023125000,,\"Schloßstraße 12\",Berlin,10115,Germany,,,\
             \"Freely given consent from contact\"\n",
        ),
    ];
    for (format, expected) in cases {
        let (out, ..) = export(format, &[contact("p-1")]);
        let body = &out[first_line(&out).len()..];
        assert_eq!(String::from_utf8(body.to_vec()).unwrap(), expected, "{format}");
    }
}

#[test]
fn mailchimp_values_read_back() {
    let mut other = contact("p-2");
    other.email = Some("katrin.vogel@müller-beispiel.de".into());
    other.street = None;
    other.phone = None;
    other.tags = vec![];
    let (out, rows, _) = export(ExportFormat::Mailchimp, &[contact("p-1"), other]);
    assert_eq!(rows, 2);
    let recs = read(&out, b',');
    assert_eq!(recs[0]["Email Address"], "juergen.weiss@example.com");
    assert_eq!(recs[0]["First Name"], "Jürgen");
    assert_eq!(recs[0]["Last Name"], "Weiß");
    assert_eq!(recs[0]["Phone Number"], "+493023125000");
    assert_eq!(recs[0]["Tags"], "Kunde,Newsletter");
    // Address: street, city, region, postcode, country with two blanks between, like the fixture's.
    let fixture_address = &read(&fixture("mailchimp_import_contacts.csv"), b',')[0]["Address"];
    assert_eq!(fixture_address.split("  ").count(), 5);
    assert_eq!(recs[0]["Address"].split("  ").collect::<Vec<_>>(), ["Schloßstraße 12", "Berlin", "", "10115", "DE"]);
    assert_eq!(recs[1]["Email Address"], "katrin.vogel@müller-beispiel.de");
    assert_eq!(recs[1]["Address"], "", "an address without street is left out whole");
    assert_eq!(recs[1]["Phone Number"], "");
    assert_eq!(recs[1]["Tags"], "");
}

#[test]
fn cleverreach_consent_date_and_source() {
    let mut summer = contact("p-2");
    summer.email = Some("kaethe.grossmann@example.de".into());
    summer.salutation = Some("Frau".into());
    summer.first_name = Some("Käthe; \"die Große\"".into());
    summer.consent_given_at = "2024-06-30T22:15:00Z".parse().unwrap(); // 00:15 on 1 July in Berlin (CEST)
    summer.consent_id = "c-0002".into();
    let (out, rows, _) = export(ExportFormat::CleverReach, &[contact("p-1"), summer]);
    assert_eq!(rows, 2);
    assert!(out.ends_with(b"\r\n"));
    let recs = read(&out, b';');
    let is_german_date = |s: &str| {
        let b = s.as_bytes();
        b.len() == 10 && b[2] == b'.' && b[5] == b'.' && s.replace('.', "").bytes().all(|c| c.is_ascii_digit())
    };
    let fixture = read(&fixture("cleverreach_import_empfaenger_utf8.csv"), b';');
    assert!(fixture.iter().all(|r| is_german_date(&r["einwilligung_datum"])));
    assert_eq!(recs[0]["einwilligung_datum"], "01.03.2019");
    assert_eq!(recs[1]["einwilligung_datum"], "01.07.2024");
    assert_eq!(recs[0]["quelle"], "Konsent Einwilligung c-0001 (Text newsletter-v3)");
    assert_eq!(recs[1]["quelle"], "Konsent Einwilligung c-0002 (Text newsletter-v3)");
    assert_eq!(recs[1]["anrede"], "Frau");
    assert_eq!(recs[1]["vorname"], "Käthe; \"die Große\"");
    assert_eq!(recs[1]["telefon"], "+493023125000");
    assert_eq!(recs[0]["geburtsdatum"], "");
}

#[test]
fn hubspot_legal_basis_and_mobile_numbers() {
    let mut mobile = contact("p-2");
    mobile.email = Some("oemer.yildiz@vorsorge-beispiel.de".into());
    mobile.phone = Some("+4915228817386".into());
    mobile.country = Some("AT".into());
    let (out, rows, _) = export(ExportFormat::HubSpot, &[contact("p-1"), mobile]);
    assert_eq!(rows, 2);
    let recs = read(&out, b',');
    let basis = "Legal basis for processing contact's data";
    let fixture = read(&fixture("hubspot_import_contacts.csv"), b',');
    assert!(fixture.iter().any(|r| r[basis] == recs[0][basis]), "a legal basis value the fixture uses");
    assert!(recs.iter().all(|r| r[basis] == "Freely given consent from contact"));
    assert_eq!(recs[0]["Phone Number"], "+493023125000");
    assert_eq!(recs[0]["Mobile Phone Number"], "");
    assert_eq!(recs[1]["Phone Number"], "");
    assert_eq!(recs[1]["Mobile Phone Number"], "+4915228817386");
    assert_eq!(recs[0]["Country/Region"], "Germany");
    assert_eq!(recs[1]["Country/Region"], "Austria");
    assert_eq!(recs[1]["Email"], "oemer.yildiz@vorsorge-beispiel.de");
    assert_eq!(recs[0]["Street Address"], "Schloßstraße 12");
    assert_eq!(recs[0]["Postal Code"], "10115");
    assert_eq!(recs[0]["Lifecycle Stage"], "");
}

#[test]
fn contact_without_email_is_refused_and_leaves_no_partial_row() {
    for (format, _, delimiter) in TOOLS {
        let mut no_email = contact("p-2");
        no_email.email = None;
        no_email.first_name = Some("Ohnemail".into());
        let mut blank_email = contact("p-3");
        blank_email.email = Some("  ".into());
        blank_email.first_name = Some("Leermail".into());
        let (out, rows, refused) = export(format, &[contact("p-1"), no_email, blank_email, contact("p-4")]);
        assert_eq!(rows, 2, "{format}");
        let ids: Vec<_> = refused
            .iter()
            .map(|e| match e {
                ExportError::MissingContact { person_id, field } => (person_id.as_str(), *field),
                other => panic!("{format}: {other}"),
            })
            .collect();
        assert_eq!(ids, [("p-2", "email"), ("p-3", "email")], "{format}");
        assert!(refused.iter().all(ExportError::is_row_error));
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(!text.contains("Ohnemail") && !text.contains("Leermail"), "{format}: {text}");
        assert_eq!(read(&out, delimiter).len(), 2, "{format}");
        assert_eq!(text.lines().count(), 3, "{format}: header and two rows");
    }
}

#[test]
fn format_names() {
    for (name, format) in [
        ("mailchimp", ExportFormat::Mailchimp),
        ("cleverreach", ExportFormat::CleverReach),
        ("hubspot", ExportFormat::HubSpot),
        ("dialer", ExportFormat::Dialer),
        ("jsonl", ExportFormat::JsonLines),
        (" JSONL ", ExportFormat::JsonLines),
        ("CleverReach", ExportFormat::CleverReach),
    ] {
        assert_eq!(name.parse::<ExportFormat>().unwrap(), format);
    }
    for format in ExportFormat::ALL {
        assert_eq!(format.to_string().parse::<ExportFormat>().unwrap(), format);
        assert_eq!(serde_json::to_string(&format).unwrap(), format!("\"{format}\""));
    }
    assert!(matches!("csv".parse::<ExportFormat>(), Err(ExportError::UnknownFormat(s)) if s == "csv"));
    assert!("".parse::<ExportFormat>().is_err());
}
