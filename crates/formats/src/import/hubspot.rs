//! HubSpot contact exports: English and German property labels, `Opted out of email: <type>`
//! columns, and the status from bounce, unsubscribe and marketing-contact columns.
//!
//! Dates are `YYYY-MM-DD HH:MM` in the portal's zone (Europe/Berlin by default, README 2.3).
//! The German labels are INFERRED from HubSpot's German UI.

use super::cells::Cells;
use super::columns::PermissionGuess;
use super::error::RowError;
use super::fields::{Field, normalize};
use super::row::{ImportRow, Permission, SourceStatus};
use super::values::Consent;

/// HubSpot property labels (English export, German UI).
pub(crate) const ALIASES: &[(Field, &[&str])] = &[
    (Field::ExternalId, &["Record ID", "Contact ID", "Datensatz-ID", "Kontakt-ID"]),
    (Field::Email, &["Email", "E-Mail"]),
    (Field::Phone, &["Phone Number", "Telefonnummer"]),
    (Field::Mobile, &["Mobile Phone Number", "Mobiltelefonnummer"]),
    (Field::FirstName, &["First Name", "Vorname"]),
    (Field::LastName, &["Last Name", "Nachname"]),
    (Field::Salutation, &["Salutation", "Anrede"]),
    (
        Field::Company,
        &[
            "Associated Company",
            "Company Name",
            "Primary Associated Company",
            "Zugeordnetes Unternehmen",
            "Name des Unternehmens",
        ],
    ),
    (Field::Street, &["Street Address", "Adresse", "Straße"]),
    (Field::Postcode, &["Postal Code", "Postleitzahl"]),
    (Field::City, &["City", "Stadt", "Ort"]),
    (Field::Country, &["Country/Region", "Country", "Land/Region"]),
    (Field::BirthDate, &["Date of birth", "Geburtsdatum"]),
    (Field::OptinAt, &["Create Date", "Erstellungsdatum", "Erstellt am"]),
    (Field::LastChangedAt, &["Last Modified Date", "Datum der letzten Änderung", "Zuletzt geändert"]),
    (
        Field::Source,
        &["Original Source", "Original Traffic Source", "Ursprüngliche Quelle", "Ursprüngliche Traffic-Quelle"],
    ),
    (Field::Language, &["Preferred language", "Bevorzugte Sprache"]),
    (
        Field::LegalBasis,
        &[
            "Legal basis for processing contact's data",
            "Rechtsgrundlage für die Verarbeitung von Kontaktdaten",
            "Rechtsgrundlage für die Verarbeitung der Daten des Kontakts",
        ],
    ),
    (Field::MarketingContactStatus, &["Marketing contact status", "Marketing-Kontaktstatus", "Marketingkontaktstatus"]),
    (Field::UnsubscribedAll, &["Unsubscribed from all email", "Von allen E-Mails abgemeldet"]),
    (Field::HardBounceReason, &["Email hard bounce reason", "Grund für Hard Bounce der E-Mail", "Hard-Bounce-Grund"]),
    (Field::InvalidEmail, &["Invalid email address", "Ungültige E-Mail-Adresse"]),
    (
        Field::EmailConfirmationStatus,
        &["Marketing email confirmation status", "Bestätigungsstatus für Marketing-E-Mails"],
    ),
];

/// Prefixes of the per-subscription-type opt-out columns (normalised).
const OPT_OUT_PREFIXES: &[&str] = &["optedoutofemail", "abgemeldetvonemail", "optoutvonemail", "optoutfüremail"];

/// `Opted out of email: Newsletter Maklerbüro` → e-mail, label `Newsletter Maklerbüro`, opt-out;
/// other consent columns as in the broker export.
pub(crate) fn permission_column(header: &str) -> Option<PermissionGuess> {
    let (head, label) = header.split_once(':').unwrap_or((header, ""));
    let n = normalize(head);
    if OPT_OUT_PREFIXES.iter().any(|p| n == *p) {
        let label = if label.trim().is_empty() { header.trim() } else { label.trim() };
        // A subscription type of e-mail is always e-mail, whatever its name says.
        let channel = konsent_domain::channel::Channel::Email;
        return Some(PermissionGuess {
            channel,
            label: label.to_string(),
            opt_out: true,
            lenient: false,
            empty_is_no: false,
        });
    }
    super::generic::permission_column(header)
}

/// Status: hard bounce or invalid address → cleaned; unsubscribed from all → unsubscribed;
/// non-marketing contact → non-subscribed; confirmation pending → pending; marketing contact → subscribed.
pub(crate) fn finish(
    row: &mut ImportRow,
    c: &Cells<'_>,
    perms: Vec<(Permission, Consent)>,
) -> Result<Option<SourceStatus>, RowError> {
    row.permissions = perms.into_iter().map(|(p, _)| p).collect();
    if c.get(Field::HardBounceReason).is_some() || c.flag(Field::InvalidEmail)? == Some(true) {
        return Ok(Some(SourceStatus::Cleaned));
    }
    if c.flag(Field::UnsubscribedAll)? == Some(true) {
        return Ok(Some(SourceStatus::Unsubscribed));
    }
    let marketing = c.get(Field::MarketingContactStatus).map(|(_, v)| normalize(&v));
    if marketing.as_deref().is_some_and(|m| m.starts_with("non") || m.starts_with("kein") || m == "false") {
        return Ok(Some(SourceStatus::NonSubscribed));
    }
    if let Some((_, v)) = c.get(Field::EmailConfirmationStatus) {
        let v = normalize(&v);
        if v.contains("pending") || v.contains("unconfirmed") || v.contains("ausstehend") || v.contains("unbestätigt")
        {
            return Ok(Some(SourceStatus::Pending));
        }
    }
    Ok(marketing.map(|_| SourceStatus::Subscribed))
}
