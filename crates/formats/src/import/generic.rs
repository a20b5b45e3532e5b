//! Broker software exports (German headers, `ja`/`nein`/`widerrufen` consent columns,
//! `Einwilligung vom`) and any other file read through a mapping file.
//!
//! The fixture's layout is plausible, not any vendor's (README 1): `Anrede;Titel;Vorname;
//! Nachname;Straße;PLZ;Ort;Telefon privat;Mobil;E-Mail;Geburtsdatum;Kundennummer;
//! Werbeeinwilligung Telefon;Werbeeinwilligung E-Mail;Einwilligung vom`, Windows-1252, `;`.

use jiff::Timestamp;
use konsent_domain::channel::Channel;

use super::cells::Cells;
use super::columns::PermissionGuess;
use super::error::RowError;
use super::fields::{Field, channel_of, normalize};
use super::row::{ImportRow, Permission, SourceStatus};
use super::values::Consent;

/// German broker-software headers.
pub(crate) const ALIASES: &[(Field, &[&str])] = &[
    (Field::Email, &["E-Mail", "E-Mail privat", "E-Mail-Adresse", "Email"]),
    (Field::Phone, &["Telefon privat", "Telefon", "Tel. privat", "Telefonnummer", "Telefon geschäftlich"]),
    (Field::Mobile, &["Mobil", "Mobiltelefon", "Handy", "Mobilnummer"]),
    (Field::CustomerNumber, &["Kundennummer", "Kunden-Nr.", "Kd.-Nr.", "Kundennr."]),
    (Field::ExternalId, &["Kunden-ID", "Datensatz-ID", "ID"]),
    (Field::BirthDate, &["Geburtsdatum", "Geb.-Datum", "Geboren am", "Geburtstag"]),
    (Field::ConsentDate, &["Einwilligung vom", "Einwilligungsdatum", "Datum Einwilligung", "Einwilligung am"]),
];

/// Header prefixes of consent columns; the rest of the header names the channel.
const GRANT_PREFIXES: &[&str] = &[
    "werbeeinwilligung",
    "marketingeinwilligung",
    "einwilligung",
    "werbeerlaubnis",
    "kontakterlaubnis",
    "erlaubnis",
    "optin",
    "consent",
    "permission",
];
/// Prefixes of columns where "ja" means the person objected.
const OPT_OUT_PREFIXES: &[&str] = &["werbesperre", "widerspruch", "keinewerbung", "optout"];

/// `Werbeeinwilligung E-Mail`, `Einwilligung Telefon`, `Werbesperre Post`, …
pub(crate) fn permission_column(header: &str) -> Option<PermissionGuess> {
    let n = normalize(header);
    let (rest, opt_out) = GRANT_PREFIXES
        .iter()
        .find_map(|p| n.strip_prefix(p).map(|r| (r, false)))
        .or_else(|| OPT_OUT_PREFIXES.iter().find_map(|p| n.strip_prefix(p).map(|r| (r, true))))?;
    let channel = channel_of(rest)?;
    Some(PermissionGuess { channel, label: header.to_string(), opt_out, lenient: false, empty_is_no: false })
}

/// One `Einwilligung vom` date for all consent columns: when any column says `widerrufen`,
/// it is the date of that withdrawal; otherwise the date the granted consents were given.
pub(crate) fn apply_consent_date(perms: &mut [(Permission, Consent)], date: Option<Timestamp>) {
    let withdrawn = perms.iter().any(|(_, k)| *k == Consent::Withdrawn);
    for (p, k) in perms.iter_mut() {
        let applies = if withdrawn { *k == Consent::Withdrawn } else { *k == Consent::Granted };
        if applies && p.at.is_none() {
            p.at = date;
        }
    }
}

/// A bounce note written into the e-mail cell (`name@example.de (unzustellbar)`): the address
/// without the note, if there is one.
fn strip_bounce_note(email: &str) -> Option<String> {
    let open = email.rfind('(')?;
    let note = email[open..].trim_end().trim_start_matches('(').trim_end_matches(')').to_lowercase();
    let bounce = ["unzustellbar", "bounce", "ungültig", "ungueltig", "invalid"].iter().any(|w| note.contains(w));
    (bounce && email.trim_end().ends_with(')')).then(|| email[..open].trim().to_string())
}

/// Status from the e-mail consent column (`ja` → subscribed, `nein` → non-subscribed,
/// `widerrufen` → unsubscribed at the consent date); a bounce note in the e-mail cell → cleaned.
pub(crate) fn finish(
    row: &mut ImportRow,
    c: &Cells<'_>,
    mut perms: Vec<(Permission, Consent)>,
) -> Result<Option<SourceStatus>, RowError> {
    let mut status = None;
    if let Some(stripped) = row.email.as_deref().and_then(strip_bounce_note) {
        row.email = Some(stripped);
        status = Some(SourceStatus::Cleaned);
    }
    let date = c.timestamp(Field::ConsentDate)?;
    apply_consent_date(&mut perms, date);
    let email = perms.iter().find(|(p, _)| p.channel == Channel::Email);
    let derived = match email {
        Some((_, Consent::Granted)) => Some(SourceStatus::Subscribed),
        Some((_, Consent::Denied)) => Some(SourceStatus::NonSubscribed),
        Some((p, Consent::Withdrawn)) => {
            row.unsubscribed_at = row.unsubscribed_at.or(p.at);
            Some(SourceStatus::Unsubscribed)
        }
        None => None,
    };
    if row.external_id.is_none() {
        row.external_id.clone_from(&row.customer_number);
    }
    row.permissions = perms.into_iter().map(|(p, _)| p).collect();
    Ok(status.or(derived))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_columns() {
        let g = permission_column("Werbeeinwilligung E-Mail").expect("consent column");
        assert_eq!((g.channel, g.opt_out), (Channel::Email, false));
        assert_eq!(permission_column("Werbeeinwilligung Telefon").map(|g| g.channel), Some(Channel::PhoneLive));
        assert_eq!(permission_column("Werbesperre Post").map(|g| (g.channel, g.opt_out)), Some((Channel::Post, true)));
        assert_eq!(permission_column("Einwilligung vom"), None);
        assert_eq!(permission_column("Bemerkung"), None);
    }

    #[test]
    fn bounce_note() {
        assert_eq!(
            strip_bounce_note("renate.jaeger@example.de (unzustellbar)").as_deref(),
            Some("renate.jaeger@example.de")
        );
        assert_eq!(strip_bounce_note("Hans Groß <hans.gross@example.de>"), None);
        assert_eq!(strip_bounce_note("info@example.de (privat)"), None);
    }
}
