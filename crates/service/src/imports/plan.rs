//! What one imported row asks for, decided without I/O: which channels it grants, whether it is an
//! opt-out or a bounce, and its validated contact points and person data. Errors name the row and
//! the column and never quote an address or number.

use std::collections::BTreeSet;

use jiff::Timestamp;
use konsent_domain::channel::Channel;
use konsent_domain::contact::{ContactKind, ContactValue, EmailAddress, PhoneE164, PostalAddress};
use konsent_domain::party::PersonData;
use konsent_formats::import::{Format, ImportRow, RowError, SourceStatus};

/// What the source says happened to the e-mail address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptOut {
    /// Unsubscribed there: a withdrawal here (R39).
    Unsubscribed,
    /// Reported a mail as spam: a withdrawal and a complaint suppression.
    Complained,
    /// Removed after hard bounces.
    Bounced,
}

/// The plan of one row.
#[derive(Debug, Clone)]
pub struct RowPlan {
    /// Channels the row grants (within the text's channels).
    pub channels: BTreeSet<Channel>,
    /// An opt-out or bounce of the e-mail address.
    pub opt_out: Option<OptOut>,
    /// Why nothing else happens (`pending`, `no_consent`), when the row grants nothing and opts
    /// out of nothing.
    pub skip: Option<&'static str>,
    /// The contact points the plan needs, validated.
    pub contacts: Vec<ContactValue>,
    /// Names, address and birth date as far as the file gives them.
    pub person: PersonData,
    /// When the consent was given, as the source reports it (sign-up, confirmation, last change).
    pub given_at: Option<Timestamp>,
}

fn row_error(row: &ImportRow, field: &str, message: &str) -> RowError {
    RowError { row: row.row, file: row.file.clone(), field: field.into(), message: message.into() }
}

fn text(v: &Option<String>) -> String {
    v.as_deref().map(str::trim).unwrap_or_default().chars().take(200).collect()
}

/// Decides what the row asks for. `allowed` are the channels of the consent text.
pub fn plan_row(row: &ImportRow, format: Format, allowed: &BTreeSet<Channel>) -> Result<RowPlan, RowError> {
    let opt_out = match &row.status {
        SourceStatus::Unsubscribed => Some(OptOut::Unsubscribed),
        SourceStatus::Complained => Some(OptOut::Complained),
        SourceStatus::Cleaned => Some(OptOut::Bounced),
        SourceStatus::Unknown(v) => {
            // Quoted like every cell in an error: withheld when it looks like contact data.
            let shown = konsent_formats::import::quoted(v);
            return Err(row_error(
                row,
                "status",
                &format!(
                    "unbekannter Statuswert {shown}; bitte in einer Mapping-Datei zuordnen / unknown status value {shown}; map it in a mapping file"
                ),
            ));
        }
        _ => None,
    };
    let mut channels: BTreeSet<Channel> = row.permissions.iter().filter(|p| p.granted).map(|p| p.channel).collect();
    // A newsletter tool's subscriber is an e-mail subscriber, with or without permission columns.
    if row.status == SourceStatus::Subscribed && format != Format::Generic {
        channels.insert(Channel::Email);
    }
    if row.status == SourceStatus::Subscribed && format == Format::Generic && row.permissions.is_empty() {
        channels.insert(Channel::Email);
    }
    if opt_out.is_some() || row.status == SourceStatus::Pending {
        channels.remove(&Channel::Email);
    }
    channels.retain(|c| allowed.contains(c));

    let needs_email = channels.contains(&Channel::Email) || opt_out.is_some();
    let needs_phone = channels.iter().any(|c| c.contact_kind() == ContactKind::Phone);
    let mut contacts = Vec::new();
    if needs_email {
        match row.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            None => return Err(row_error(row, "email", "ist leer / is empty")),
            Some(e) => match EmailAddress::parse(e) {
                Ok(e) => contacts.push(ContactValue::Email(e)),
                Err(err) => {
                    return Err(row_error(
                        row,
                        "email",
                        &format!("ist keine gültige E-Mail-Adresse / is not a valid e-mail address ({err})"),
                    ));
                }
            },
        }
    }
    if needs_phone {
        let mut bad = None;
        for (field, v) in [("mobile", &row.mobile), ("phone", &row.phone)] {
            let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) else { continue };
            match PhoneE164::parse(v) {
                Ok(p) if !contacts.contains(&ContactValue::Phone(p.clone())) => contacts.push(ContactValue::Phone(p)),
                Ok(_) => {}
                Err(err) => bad = Some((field, err.to_string())),
            }
        }
        if !contacts.iter().any(|c| c.kind() == ContactKind::Phone) {
            let (field, why) = bad.unwrap_or(("phone", "leer / empty".into()));
            return Err(row_error(
                row,
                field,
                &format!("keine verwendbare Rufnummer / no usable phone number ({why})"),
            ));
        }
    }
    let address = match (&row.street, &row.postcode, &row.city) {
        (Some(s), Some(p), Some(c)) => {
            PostalAddress::new(s, p, c, &country_code(row.country.as_deref().unwrap_or("DE"))).ok()
        }
        _ => None,
    };
    let person = PersonData {
        first_name: text(&row.first_name),
        last_name: text(&row.last_name),
        address,
        birth_date: row.birth_date,
    };
    let skip = match (&row.status, channels.is_empty() && opt_out.is_none()) {
        (_, false) => None,
        (SourceStatus::Pending, true) => Some("pending"),
        (_, true) => Some("no_consent"),
    };
    let given_at =
        row.optin_at.or(row.confirm_at).or(row.permissions.iter().find_map(|p| p.at)).or(row.last_changed_at);
    Ok(RowPlan { channels, opt_out, skip, contacts, person, given_at })
}

/// ISO 3166 alpha-2 code for the country names exports use; anything unknown is taken as given.
fn country_code(c: &str) -> String {
    match c.trim().to_lowercase().as_str() {
        "" | "de" | "deu" | "germany" | "deutschland" => "DE".into(),
        "at" | "austria" | "österreich" | "oesterreich" => "AT".into(),
        "ch" | "switzerland" | "schweiz" => "CH".into(),
        other => other.to_uppercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use konsent_formats::import::Permission;

    fn row(status: SourceStatus) -> ImportRow {
        let mut r = blank();
        r.status = status;
        r
    }

    fn blank() -> ImportRow {
        let rows = konsent_formats::import::open_reader(
            std::io::Cursor::new(b"Email Address,First Name\nanna@example.de,Anna\n".to_vec()),
            Some("subscribed_members_export_1.csv"),
            Format::Mailchimp,
            None,
        )
        .unwrap();
        rows.into_iter().next().unwrap().unwrap()
    }

    fn all() -> BTreeSet<Channel> {
        [Channel::Email, Channel::PhoneLive, Channel::Post].into()
    }

    #[test]
    fn r25_a_subscriber_asks_for_an_email_consent_with_the_sources_times() {
        let mut r = row(SourceStatus::Subscribed);
        r.optin_at = Some("2023-04-01T09:00:00Z".parse().unwrap());
        let p = plan_row(&r, Format::Mailchimp, &all()).unwrap();
        assert_eq!(p.channels, [Channel::Email].into());
        assert_eq!((p.opt_out, p.skip), (None, None));
        assert_eq!(p.given_at, r.optin_at);
        assert_eq!(p.person.first_name, "Anna");
        // Outside the text's channels, nothing.
        let p = plan_row(&r, Format::Mailchimp, &[Channel::PhoneLive].into()).unwrap();
        assert_eq!(p.skip, Some("no_consent"));
    }

    #[test]
    fn r39_unsubscribed_and_cleaned_rows_are_opt_outs_pending_rows_are_skipped() {
        assert_eq!(
            plan_row(&row(SourceStatus::Unsubscribed), Format::Mailchimp, &all()).unwrap().opt_out,
            Some(OptOut::Unsubscribed)
        );
        assert_eq!(
            plan_row(&row(SourceStatus::Cleaned), Format::Mailchimp, &all()).unwrap().opt_out,
            Some(OptOut::Bounced)
        );
        let p = plan_row(&row(SourceStatus::Pending), Format::Mailchimp, &all()).unwrap();
        assert_eq!((p.channels.len(), p.skip), (0, Some("pending")));
    }

    #[test]
    fn r26_broker_permissions_grant_their_channels_and_a_bad_number_is_named() {
        let mut r = row(SourceStatus::NonSubscribed);
        r.permissions.push(Permission {
            channel: Channel::PhoneLive,
            label: "Werbeeinwilligung Telefon".into(),
            granted: true,
            at: None,
        });
        r.phone = Some("12".into());
        r.mobile = Some("0152 28817386".into());
        let p = plan_row(&r, Format::Generic, &all()).unwrap();
        assert_eq!(p.channels, [Channel::PhoneLive].into());
        assert_eq!(p.contacts.len(), 1, "the mobile number; the other is no number");
        r.mobile = None;
        let e = plan_row(&r, Format::Generic, &all()).unwrap_err();
        assert_eq!((e.row, e.field.as_str()), (2, "phone"));
        assert!(!e.message.contains("12"), "no number in the message: {}", e.message);
    }

    #[test]
    fn r25_an_invalid_address_is_a_row_error_naming_the_column_not_the_address() {
        let mut r = row(SourceStatus::Subscribed);
        r.email = Some("anna@@example.de".into());
        let e = plan_row(&r, Format::Mailchimp, &all()).unwrap_err();
        assert_eq!(e.field, "email");
        assert!(!e.message.contains("anna"), "{}", e.message);
        r.status = SourceStatus::Unknown("vielleicht".into());
        assert_eq!(plan_row(&r, Format::Mailchimp, &all()).unwrap_err().field, "status");
    }
}
