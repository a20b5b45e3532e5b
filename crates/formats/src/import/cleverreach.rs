//! CleverReach receiver exports: API field names and German labels, Unix-second timestamps,
//! status from `activated`/`deactivated` (and `active`/`bounced` flags where present).
//!
//! The UI export layout is not confirmed (README 2.2): the fixture uses the REST field names
//! (`email;activated;registered;deactivated;source;…`) with Unix seconds, `0` meaning "never".
//! A bounce is modelled as deactivated with a reason mentioning a bounce.

use konsent_domain::channel::Channel;

use super::cells::Cells;
use super::columns::PermissionGuess;
use super::error::RowError;
use super::fields::Field;
use super::generic;
use super::row::{ImportRow, Permission, SourceStatus};
use super::values::Consent;

/// CleverReach's field names (REST API and German UI labels).
pub(crate) const ALIASES: &[(Field, &[&str])] = &[
    (Field::Email, &["email", "E-Mail", "E-Mail-Adresse"]),
    (Field::ExternalId, &["id", "receiver_id", "Empfänger-ID", "Empfaenger-ID"]),
    (Field::OptinAt, &["registered", "Registriert", "Angemeldet am", "Eingetragen am"]),
    (Field::ConfirmAt, &["activated", "Aktiviert", "Aktiviert am", "Bestätigt am"]),
    (Field::UnsubscribedAt, &["deactivated", "Deaktiviert", "Deaktiviert am", "Abgemeldet am"]),
    (Field::Active, &["active", "aktiv"]),
    (Field::Bounced, &["bounced", "bounce", "Bounce", "Gebounced"]),
    (Field::Source, &["source", "Quelle", "Herkunft"]),
    (Field::Salutation, &["anrede", "salutation"]),
    (Field::Title, &["titel", "title"]),
    (Field::FirstName, &["vorname", "firstname"]),
    (Field::LastName, &["nachname", "lastname"]),
    (Field::Street, &["strasse", "straße", "street"]),
    (Field::Postcode, &["plz", "zip"]),
    (Field::City, &["ort", "city", "stadt"]),
    (Field::Phone, &["telefon", "phone"]),
    (Field::Mobile, &["mobil", "mobile", "handy"]),
    (Field::BirthDate, &["geburtsdatum", "birthday"]),
    (Field::CustomerNumber, &["kundennummer"]),
    (Field::ConsentDate, &["einwilligung_datum", "einwilligungsdatum"]),
    (Field::UnsubscribeReason, &["abmeldegrund"]),
    (Field::Tags, &["tags"]),
    (Field::LastChangedAt, &["last_changed", "stamp", "Geändert am"]),
];

/// Custom attributes such as `einwilligung_telefon` are read like the broker export's consent columns.
pub(crate) fn permission_column(header: &str) -> Option<PermissionGuess> {
    generic::permission_column(header)
}

fn mentions_bounce(reason: Option<&str>) -> bool {
    reason.is_some_and(|r| {
        let r = r.to_lowercase();
        r.contains("bounce") || r.contains("unzustellbar")
    })
}

/// Status: bounced flag, else deactivated (a bounce when the reason says so), else inactive
/// flag, else `activated` = 0 (double opt-in never confirmed) → pending, else subscribed.
pub(crate) fn finish(
    row: &mut ImportRow,
    c: &Cells<'_>,
    mut perms: Vec<(Permission, Consent)>,
) -> Result<Option<SourceStatus>, RowError> {
    let bounced = match c.get(Field::Bounced) {
        Some((i, v)) => match super::values::flag(&v) {
            Ok(b) => b.unwrap_or(false),
            Err(()) => {
                let at = c.timestamp_at(i)?;
                row.cleaned_at = at;
                at.is_some()
            }
        },
        None => false,
    };
    let status = if bounced {
        Some(SourceStatus::Cleaned)
    } else if row.unsubscribed_at.is_some() {
        if mentions_bounce(row.unsubscribe_reason.as_deref()) {
            row.cleaned_at = row.unsubscribed_at.take();
            Some(SourceStatus::Cleaned)
        } else {
            Some(SourceStatus::Unsubscribed)
        }
    } else if c.flag(Field::Active)? == Some(false) {
        Some(SourceStatus::Unsubscribed)
    } else if c.has(Field::ConfirmAt) && row.confirm_at.is_none() {
        Some(SourceStatus::Pending)
    } else if c.has(Field::ConfirmAt) || c.has(Field::UnsubscribedAt) || c.has(Field::Active) {
        Some(SourceStatus::Subscribed)
    } else {
        None
    };
    if row.external_id.is_none() {
        row.external_id.clone_from(&row.customer_number);
    }
    if let Some((i, _)) = c.get(Field::ConsentDate) {
        let date = c.timestamp_at(i)?;
        if perms.is_empty() {
            let granted = status.as_ref().is_none_or(|s| *s == SourceStatus::Subscribed);
            let at = if granted { date } else { row.unsubscribed_at.or(row.cleaned_at) };
            let label = c.ctx.headers[i].trim().to_string();
            perms.push((Permission { channel: Channel::Email, label, granted, at }, Consent::Granted));
        } else {
            generic::apply_consent_date(&mut perms, date);
        }
    }
    row.permissions = perms.into_iter().map(|(p, _)| p).collect();
    Ok(status)
}
