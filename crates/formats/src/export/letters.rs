//! The letters of a re-permission campaign (R43): one row per person whose request may only go by
//! post, for a mail merge (Serienbrief). Semicolon-separated UTF-8 with BOM and CRLF, like the
//! dialer list, so German Excel and Word read it as it is; every cell is neutralized.

use super::cell::{CsvStyle, Row};

const STYLE: CsvStyle = CsvStyle { delimiter: b';', quote_blanks: false, line_end: b"\r\n", bom: true };

const HEADER: &[&str] = &[
    "personen_id",
    "vorname",
    "nachname",
    "strasse",
    "plz",
    "ort",
    "land",
    "werbendes_unternehmen",
    "einwilligungen",
    "kanaele",
];

/// One letter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Letter {
    /// Person id.
    pub person_id: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Street and house number.
    pub street: String,
    /// Postcode.
    pub postcode: String,
    /// City.
    pub city: String,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// The advertiser's legal name.
    pub advertiser: String,
    /// The consents to renew.
    pub consent_ids: Vec<String>,
    /// Their channels, by code (`phone_live`, `email`, …).
    pub channels: Vec<String>,
}

/// The whole list, header first.
pub fn letters_csv(letters: &[Letter]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(128 * (letters.len() + 1));
    if STYLE.bom {
        buf.extend_from_slice("\u{feff}".as_bytes());
    }
    let mut row = Row::new(&mut buf, STYLE);
    for h in HEADER {
        row.raw(h);
    }
    row.end();
    for l in letters {
        let mut row = Row::new(&mut buf, STYLE);
        for v in [&l.person_id, &l.first_name, &l.last_name, &l.street, &l.postcode, &l.city, &l.country, &l.advertiser]
        {
            row.cell(v);
        }
        row.cell(&l.consent_ids.join(" "));
        row.cell(&l.channels.join(" "));
        row.end();
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r43_letters_are_a_mail_merge_list_without_formulas() {
        let l = Letter {
            person_id: "p1".into(),
            first_name: "=HYPERLINK(\"x\")".into(),
            last_name: "Groß; Klein".into(),
            street: "Ringstraße 1".into(),
            postcode: "50667".into(),
            city: "Köln".into(),
            country: "DE".into(),
            advertiser: "Muster GmbH".into(),
            consent_ids: vec!["c1".into(), "c2".into()],
            channels: vec!["phone_live".into()],
        };
        let out = String::from_utf8(letters_csv(&[l])).unwrap();
        let mut lines = out.strip_prefix('\u{feff}').expect("a BOM for Excel").split("\r\n");
        assert_eq!(
            lines.next(),
            Some("personen_id;vorname;nachname;strasse;plz;ort;land;werbendes_unternehmen;einwilligungen;kanaele")
        );
        assert_eq!(
            lines.next(),
            Some(
                "p1;\"'=HYPERLINK(\"\"x\"\")\";\"Groß; Klein\";Ringstraße 1;50667;Köln;DE;Muster GmbH;c1 c2;phone_live"
            )
        );
    }
}
