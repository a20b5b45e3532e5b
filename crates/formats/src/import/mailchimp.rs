//! Mailchimp audience exports: header aliases, status from the file name, GDPR permission columns.
//!
//! The export is a ZIP of `subscribed_`, `unsubscribed_` and `cleaned_members_export_<id>.csv`
//! without a status column: the file name carries the status. Times are UTC (README 2.1,
//! INFERRED). Marketing-permission columns are guessed from their label (`E-Mail-Newsletter`,
//! `Telefonische Beratung`, `Direct Mail`) with `Yes` or empty as values.

use super::columns::PermissionGuess;
use super::fields::{Field, channel_of, normalize};
use super::row::SourceStatus;

/// Mailchimp's own header names (merge-field labels in English and German, system columns).
pub(crate) const ALIASES: &[(Field, &[&str])] = &[
    (Field::Email, &["Email Address", "E-Mail-Adresse", "E-Mail Adresse", "Email"]),
    (Field::FirstName, &["First Name", "Vorname", "FNAME"]),
    (Field::LastName, &["Last Name", "Nachname", "LNAME"]),
    (Field::Address, &["Address", "Adresse", "ADDRESS"]),
    (Field::Phone, &["Phone Number", "Telefonnummer", "PHONE"]),
    (Field::Mobile, &["Mobilnummer", "Mobile Number", "Mobile", "MMERGE7"]),
    (Field::BirthDate, &["Birthday", "Geburtstag", "BIRTHDAY"]),
    (Field::Company, &["Firma", "Company", "COMPANY"]),
    (Field::ExternalId, &["LEID"]),
    (Field::OptinAt, &["OPTIN_TIME"]),
    (Field::OptinIp, &["OPTIN_IP"]),
    (Field::ConfirmAt, &["CONFIRM_TIME"]),
    (Field::ConfirmIp, &["CONFIRM_IP"]),
    (Field::LastChangedAt, &["LAST_CHANGED"]),
    (Field::UnsubscribedAt, &["UNSUB_TIME"]),
    (Field::CleanedAt, &["CLEAN_TIME"]),
    (Field::UnsubscribeReason, &["UNSUB_REASON"]),
    (Field::UnsubscribeReasonOther, &["UNSUB_REASON_OTHER"]),
    (Field::Tags, &["TAGS"]),
    (Field::Language, &["LANGUAGE", "Sprache"]),
];

/// System columns that are never permissions even though their names contain a channel word.
const SYSTEM: &[&str] = &[
    "EMAIL_TYPE",
    "MEMBER_RATING",
    "LATITUDE",
    "LONGITUDE",
    "GMTOFF",
    "DSTOFF",
    "TIMEZONE",
    "CC",
    "REGION",
    "EUID",
    "NOTES",
    "UNSUB_CAMPAIGN_TITLE",
    "UNSUB_CAMPAIGN_ID",
    "CLEAN_CAMPAIGN_TITLE",
    "CLEAN_CAMPAIGN_ID",
    "MC_LANGUAGE",
];

/// A left-over column whose label names a channel is a marketing permission (values `Yes`/empty).
/// Mailchimp's default `Customized Online Advertising` permission has no channel of ours.
pub(crate) fn permission_column(header: &str) -> Option<PermissionGuess> {
    let n = normalize(header);
    if SYSTEM.iter().any(|s| normalize(s) == n) {
        return None;
    }
    Some(PermissionGuess {
        channel: channel_of(header)?,
        label: header.to_string(),
        opt_out: false,
        lenient: true,
        empty_is_no: true,
    })
}

/// Status from an export file name (`unsubscribed_members_export_67bf5f325a.csv` → unsubscribed).
pub fn status_from_file_name(name: &str) -> Option<SourceStatus> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name).to_ascii_lowercase();
    let base = base.trim_start_matches("members_export_");
    let starts = |p: &str| base.starts_with(p);
    if starts("unsubscribed") {
        Some(SourceStatus::Unsubscribed)
    } else if starts("nonsubscribed") || starts("non_subscribed") || starts("transactional") {
        Some(SourceStatus::NonSubscribed)
    } else if starts("cleaned") {
        Some(SourceStatus::Cleaned)
    } else if starts("pending") {
        Some(SourceStatus::Pending)
    } else if starts("subscribed") {
        Some(SourceStatus::Subscribed)
    } else {
        None
    }
}

/// The unsubscribe reason: the survey answer, with the free text after it.
pub(crate) fn unsubscribe_reason(reason: Option<String>, other: Option<String>) -> Option<String> {
    match (reason, other) {
        (Some(r), Some(o)) => Some(format!("{r}: {o}")),
        (r, o) => r.or(o),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use konsent_domain::channel::Channel;

    #[test]
    fn status_from_names() {
        assert_eq!(status_from_file_name("subscribed_members_export_67bf5f325a.csv"), Some(SourceStatus::Subscribed));
        assert_eq!(
            status_from_file_name("members_export_67bf5f325a/unsubscribed_members_export_67bf5f325a.csv"),
            Some(SourceStatus::Unsubscribed)
        );
        assert_eq!(status_from_file_name("CLEANED_members_export_1.csv"), Some(SourceStatus::Cleaned));
        assert_eq!(status_from_file_name("kontakte.csv"), None);
    }

    #[test]
    fn permission_guesses() {
        assert_eq!(permission_column("E-Mail-Newsletter").map(|g| g.channel), Some(Channel::Email));
        assert_eq!(permission_column("Telefonische Beratung").map(|g| g.channel), Some(Channel::PhoneLive));
        assert_eq!(permission_column("Direct Mail").map(|g| g.channel), Some(Channel::Post));
        assert_eq!(permission_column("EMAIL_TYPE"), None);
        assert_eq!(permission_column("Customized Online Advertising"), None);
    }
}
