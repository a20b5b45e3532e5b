//! HubSpot's contact import: the columns of `testdata/export/hubspot_import_contacts.csv`.
//!
//! Comma-separated UTF-8 without BOM, LF, a field quoted when it holds a blank. HubSpot matches
//! the headers to property labels and de-duplicates by `Email`. Every exported contact carries
//! the legal basis `Freely given consent from contact` (the export is driven by a consent).
//! `Lifecycle Stage` and `Contact owner` stay blank: blank cells do not overwrite what HubSpot
//! holds, and Konsent knows neither.

use super::cell::{CsvStyle, Row, is_e164};
use super::{ExportContact, ExportError, required};

pub(super) const STYLE: CsvStyle = CsvStyle { delimiter: b',', quote_blanks: true, line_end: b"\n", bom: false };

pub(super) const HEADER: &[&str] = &[
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Mobile Phone Number",
    "Street Address",
    "City",
    "Postal Code",
    "Country/Region",
    "Lifecycle Stage",
    "Contact owner",
    "Legal basis for processing contact's data",
];

/// The `hs_legal_basis` option for a contact who consented (HubSpot's label, as in the fixture).
pub(super) const LEGAL_BASIS_CONSENT: &str = "Freely given consent from contact";

/// Writes one contact; refuses a contact without e-mail address.
pub(super) fn row(row: &mut Row<'_>, c: &ExportContact) -> Result<(), ExportError> {
    let email = required(c, &c.email, "email")?;
    row.opt(&c.first_name);
    row.opt(&c.last_name);
    row.cell(email);
    let phone = c.phone.as_deref().filter(|p| !p.is_empty());
    let mobile = phone.is_some_and(is_german_mobile);
    row.phone(phone.filter(|_| !mobile));
    row.phone(phone.filter(|_| mobile));
    row.opt(&c.street);
    row.opt(&c.city);
    row.opt(&c.postcode);
    row.cell(c.country.as_deref().map(country_name).unwrap_or(""));
    row.raw(""); // Lifecycle Stage
    row.raw(""); // Contact owner
    row.raw(LEGAL_BASIS_CONSENT);
    Ok(())
}

/// German mobile numbers start with 015, 016 or 017.
fn is_german_mobile(phone: &str) -> bool {
    is_e164(phone) && ["+4915", "+4916", "+4917"].iter().any(|p| phone.starts_with(p))
}

/// HubSpot's `Country/Region` holds the English country name (`Germany`); codes of the countries
/// German sales meet most are named, any other value passes through.
fn country_name(code: &str) -> &str {
    let code = code.trim();
    let names = [
        ("DE", "Germany"),
        ("AT", "Austria"),
        ("CH", "Switzerland"),
        ("LI", "Liechtenstein"),
        ("LU", "Luxembourg"),
        ("NL", "Netherlands"),
        ("BE", "Belgium"),
        ("FR", "France"),
        ("IT", "Italy"),
        ("ES", "Spain"),
        ("PL", "Poland"),
        ("DK", "Denmark"),
    ];
    names.iter().find(|(c, _)| c.eq_ignore_ascii_case(code)).map_or(code, |(_, name)| name)
}
