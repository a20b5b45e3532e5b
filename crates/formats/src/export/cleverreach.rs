//! CleverReach's receiver import: the columns of `testdata/export/cleverreach_import_empfaenger_utf8.csv`.
//!
//! Semicolon-separated UTF-8 without BOM, CRLF, quoted only where needed. The consent goes into
//! `einwilligung_datum` (German date `TT.MM.JJJJ`, German time) and `quelle` (Konsent, the consent
//! id and the text version), so CleverReach's record says where the permission came from.

use std::fmt::Write as _;

use jiff::tz::TimeZone;

use super::cell::{CsvStyle, Row};
use super::{ExportContact, ExportError, required};

pub(super) const STYLE: CsvStyle = CsvStyle { delimiter: b';', quote_blanks: false, line_end: b"\r\n", bom: false };

pub(super) const HEADER: &[&str] = &[
    "email",
    "anrede",
    "vorname",
    "nachname",
    "strasse",
    "plz",
    "ort",
    "telefon",
    "geburtsdatum",
    "einwilligung_datum",
    "quelle",
];

/// Writes one contact; refuses a contact without e-mail address.
pub(super) fn row(
    row: &mut Row<'_>,
    c: &ExportContact,
    berlin: &TimeZone,
    scratch: &mut String,
) -> Result<(), ExportError> {
    let email = required(c, &c.email, "email")?;
    row.cell(email);
    row.opt(&c.salutation);
    row.opt(&c.first_name);
    row.opt(&c.last_name);
    row.opt(&c.street);
    row.opt(&c.postcode);
    row.opt(&c.city);
    row.phone(c.phone.as_deref());
    row.raw(""); // geburtsdatum: Konsent does not keep one for marketing.
    let day = berlin.to_datetime(c.consent_given_at);
    scratch.clear();
    let _ = write!(scratch, "{:02}.{:02}.{:04}", day.day(), day.month(), day.year());
    row.raw(scratch);
    scratch.clear();
    let _ = write!(scratch, "Konsent Einwilligung {} (Text {})", c.consent_id, c.consent_text_version);
    row.cell(scratch);
    Ok(())
}
