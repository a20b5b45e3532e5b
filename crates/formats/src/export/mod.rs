//! Writing contact lists in the import formats of Mailchimp, CleverReach, HubSpot, dialers and JSON Lines.
//!
//! [`ExportWriter`] streams one contact at a time into any [`std::io::Write`]: memory stays flat
//! however long the list is. The three newsletter and CRM layouts copy the column names, order,
//! delimiter, quoting, line ends and date formats of the files we hand to each tool
//! (`testdata/export/*`); the dialer list is Konsent's own, German by default, and expires.
//! Every CSV cell goes through [`neutralize_cell`] so a spreadsheet never runs a formula from it.

mod cell;
mod cleverreach;
mod dialer;
mod hubspot;
mod jsonl;
mod letters;
mod mailchimp;
mod writer;

use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use cell::{is_e164, neutralize_cell, neutralize_phone_cell};
pub use letters::{Letter, letters_csv};
pub use writer::ExportWriter;

/// The tool a list is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// Mailchimp audience import: `,`, UTF-8, LF, needs an e-mail address.
    Mailchimp,
    /// CleverReach receiver import: `;`, UTF-8, CRLF, needs an e-mail address.
    CleverReach,
    /// HubSpot contact import: `,`, UTF-8, LF, needs an e-mail address.
    HubSpot,
    /// A dialer's call list: `;`, UTF-8 with BOM, CRLF, needs a phone number and an expiry.
    Dialer,
    /// One JSON object per line with every field.
    #[serde(rename = "jsonl")]
    JsonLines,
}

impl ExportFormat {
    /// All formats, in the order the CLI lists them.
    pub const ALL: [ExportFormat; 5] =
        [Self::Mailchimp, Self::CleverReach, Self::HubSpot, Self::Dialer, Self::JsonLines];

    /// The name used on the command line and in the API (`mailchimp`, …, `jsonl`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Mailchimp => "mailchimp",
            Self::CleverReach => "cleverreach",
            Self::HubSpot => "hubspot",
            Self::Dialer => "dialer",
            Self::JsonLines => "jsonl",
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::JsonLines => "jsonl",
            _ => "csv",
        }
    }

    /// The media type of a download.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::JsonLines => "application/jsonl",
            _ => "text/csv; charset=utf-8",
        }
    }
}

impl std::fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ExportFormat {
    type Err = ExportError;

    /// Parses `mailchimp`, `cleverreach`, `hubspot`, `dialer` or `jsonl` (case and surrounding blanks ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Self::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| ExportError::UnknownFormat(s.to_owned()))
    }
}

/// Language of column headers, where the receiving tool accepts either (the dialer list).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// German (default).
    #[default]
    De,
    /// English.
    En,
}

/// One contact of a campaign segment, with the consent that allows contacting it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportContact {
    /// Konsent's person id, so a record in the receiving tool maps back.
    pub person_id: String,
    /// E-mail address; Mailchimp, CleverReach and HubSpot lists need one.
    pub email: Option<String>,
    /// Phone number in E.164 (`+4930…`); dialer lists need one.
    pub phone: Option<String>,
    /// Salutation (`Herr`, `Frau`, …).
    pub salutation: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Company.
    pub company: Option<String>,
    /// Street and house number.
    pub street: Option<String>,
    /// Postcode.
    pub postcode: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Country as ISO 3166-1 alpha-2 code (`DE`).
    pub country: Option<String>,
    /// Id of the consent that allows this contact.
    pub consent_id: String,
    /// Channel code of that consent (`email`, `phone`, …).
    pub channel: String,
    /// When the consent was given.
    pub consent_given_at: Timestamp,
    /// Id or version label of the consent text the person agreed to.
    pub consent_text_version: String,
    /// Legal name of the advertiser the consent names.
    pub advertiser: String,
    /// Tags for the receiving tool.
    pub tags: Vec<String>,
}

/// What applies to a whole list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExportOptions {
    /// Name of the list or segment (carried in JSON Lines).
    pub list_name: Option<String>,
    /// Campaign the list is for (carried in JSON Lines).
    pub campaign_id: Option<String>,
    /// End of the list's validity; required for dialer lists, written on every dialer row.
    pub valid_until: Option<Timestamp>,
    /// Header language where the tool accepts either.
    pub language: Lang,
}

/// Why a list or a row could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The contact lacks the contact point this format needs; nothing of the row was written.
    /// The caller counts and skips it.
    #[error("person {person_id} has no {field}, which this export needs; skipped")]
    MissingContact {
        /// The person's id.
        person_id: String,
        /// `email` or `phone`.
        field: &'static str,
    },
    /// A dialer list needs a phone number in E.164; nothing of the row was written.
    #[error("person {person_id}: the phone number is not in E.164 (+ and 7 to 15 digits); skipped")]
    InvalidPhone {
        /// The person's id.
        person_id: String,
    },
    /// A dialer list was started without `valid_until`.
    #[error("a dialer list needs valid_until: it expires")]
    MissingValidUntil,
    /// The format name is none of `mailchimp`, `cleverreach`, `hubspot`, `dialer`, `jsonl`.
    #[error("unknown export format '{0}' (use mailchimp, cleverreach, hubspot, dialer or jsonl)")]
    UnknownFormat(String),
    /// Writing to the output failed.
    #[error("writing the export failed: {0}")]
    Io(#[from] std::io::Error),
}

impl ExportError {
    /// True for errors about one contact (the caller skips it and goes on); false when the list
    /// as a whole cannot go on.
    pub fn is_row_error(&self) -> bool {
        matches!(self, Self::MissingContact { .. } | Self::InvalidPhone { .. })
    }
}

/// A required contact point: present and not blank.
fn required<'a>(c: &'a ExportContact, value: &'a Option<String>, field: &'static str) -> Result<&'a str, ExportError> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(ExportError::MissingContact { person_id: c.person_id.clone(), field }),
    }
}
