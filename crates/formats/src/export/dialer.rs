//! The dialer's call list: who may be called, on whose consent, and until when.
//!
//! Semicolon-separated UTF-8 with BOM and CRLF, so Excel in a German call centre opens it
//! correctly. Every row carries the consent (id, date, text version) and `gueltig_bis`, the end
//! of the list's validity: after it, the numbers must be checked again. Times are RFC 3339 in UTC,
//! to the second. The phone column is named like the call-log import expects (`telefon`/`phone`);
//! the advertiser column holds the legal name and is named apart from the call log's
//! advertiser-id column.

use std::fmt::Write as _;

use jiff::Timestamp;

use super::cell::{CsvStyle, Row, is_e164};
use super::{ExportContact, ExportError, Lang, required};

pub(super) const STYLE: CsvStyle = CsvStyle { delimiter: b';', quote_blanks: false, line_end: b"\r\n", bom: true };

const HEADER_DE: &[&str] = &[
    "personen_id",
    "telefon",
    "anrede",
    "vorname",
    "nachname",
    "werbendes_unternehmen",
    "einwilligung_id",
    "einwilligung_datum",
    "einwilligung_textversion",
    "gueltig_bis",
];

const HEADER_EN: &[&str] = &[
    "person_id",
    "phone",
    "salutation",
    "first_name",
    "last_name",
    "advertiser_name",
    "consent_id",
    "consent_date",
    "consent_text_version",
    "valid_until",
];

/// The header in the list's language.
pub(super) fn header(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::De => HEADER_DE,
        Lang::En => HEADER_EN,
    }
}

/// RFC 3339 in UTC, whole seconds (`2026-12-04T09:15:00Z`).
pub(super) fn rfc3339(t: Timestamp, out: &mut String) {
    let t = Timestamp::from_second(t.as_second()).unwrap_or(t);
    let _ = write!(out, "{t}");
}

/// Writes one contact; refuses a contact without phone number or with one not in E.164.
pub(super) fn row(
    row: &mut Row<'_>,
    c: &ExportContact,
    valid_until: &str,
    scratch: &mut String,
) -> Result<(), ExportError> {
    let phone = required(c, &c.phone, "phone")?;
    if !is_e164(phone) {
        return Err(ExportError::InvalidPhone { person_id: c.person_id.clone() });
    }
    row.cell(&c.person_id);
    row.phone(Some(phone));
    row.opt(&c.salutation);
    row.opt(&c.first_name);
    row.opt(&c.last_name);
    row.cell(&c.advertiser);
    row.cell(&c.consent_id);
    scratch.clear();
    rfc3339(c.consent_given_at, scratch);
    row.raw(scratch);
    row.cell(&c.consent_text_version);
    row.raw(valid_until);
    Ok(())
}
