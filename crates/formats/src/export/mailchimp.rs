//! Mailchimp's audience import: the columns of `testdata/export/mailchimp_import_contacts.csv`.
//!
//! Comma-separated UTF-8 without BOM, LF, a field quoted when it holds a blank (PHP `fputcsv`, as
//! in Mailchimp's own files). The subscription status and the marketing permissions are chosen in
//! Mailchimp's import wizard ("Subscribed"), not given per row, so the file has no column for
//! them; the consent shows in the tags the caller passes.

use super::cell::{CsvStyle, Row};
use super::{ExportContact, ExportError, required};

pub(super) const STYLE: CsvStyle = CsvStyle { delimiter: b',', quote_blanks: true, line_end: b"\n", bom: false };

pub(super) const HEADER: &[&str] =
    &["Email Address", "First Name", "Last Name", "Address", "Phone Number", "Birthday", "Tags"];

/// Writes one contact; refuses a contact without e-mail address.
pub(super) fn row(row: &mut Row<'_>, c: &ExportContact, scratch: &mut String) -> Result<(), ExportError> {
    let email = required(c, &c.email, "email")?;
    row.cell(email);
    row.opt(&c.first_name);
    row.opt(&c.last_name);
    address(c, scratch);
    row.cell(scratch);
    row.phone(c.phone.as_deref());
    row.raw(""); // Birthday: Konsent does not keep one for marketing.
    scratch.clear();
    for (i, tag) in c.tags.iter().enumerate() {
        if i > 0 {
            scratch.push(',');
        }
        scratch.push_str(tag);
    }
    row.cell(scratch);
    Ok(())
}

/// Mailchimp's one-cell address: street, city, region, postcode, country, separated by two
/// blanks. Konsent keeps no region, so that part stays empty; without street, postcode and city
/// the cell stays empty (Mailchimp refuses an incomplete address).
fn address(c: &ExportContact, out: &mut String) {
    out.clear();
    let (Some(street), Some(postcode), Some(city)) = (part(&c.street), part(&c.postcode), part(&c.city)) else {
        return;
    };
    for (i, p) in [street, city, "", postcode, part(&c.country).unwrap_or("DE")].into_iter().enumerate() {
        if i > 0 {
            out.push_str("  ");
        }
        out.push_str(p);
    }
}

/// A trimmed, non-empty value.
fn part(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}
