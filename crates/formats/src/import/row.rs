//! The uniform row every reader yields: [`ImportRow`], its [`SourceStatus`] and per-channel [`Permission`]s.

use jiff::Timestamp;
use jiff::civil::Date;
use konsent_domain::channel::Channel;
use serde::Serialize;

/// One data row of an export, in Konsent's terms. Nothing here is validated yet: e-mail
/// addresses and numbers are passed on trimmed, exactly as the file gives them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportRow {
    /// Spreadsheet row number in its file (the header is row 1, the first data row is row 2;
    /// blank lines count as rows, line breaks inside quoted cells do not).
    pub row: u64,
    /// Name of the file inside a ZIP archive (Mailchimp's `subscribed_members_export_….csv`).
    pub file: Option<String>,
    /// The tool's own record id: Mailchimp LEID, HubSpot Record ID, CleverReach id; the
    /// customer number where the tool has no id of its own (CleverReach, broker software).
    pub external_id: Option<String>,
    /// The broker's customer number (Kundennummer) where the file has one.
    pub customer_number: Option<String>,
    /// E-mail address, trimmed, as given (display names and invalid addresses included).
    pub email: Option<String>,
    /// Phone number (landline or unspecified), as given.
    pub phone: Option<String>,
    /// Mobile number, as given.
    pub mobile: Option<String>,
    /// Salutation (Anrede), e.g. `Herr`, `Frau`.
    pub salutation: Option<String>,
    /// Academic title (Titel), e.g. `Dr.`.
    pub title: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Company (Firma, associated company).
    pub company: Option<String>,
    /// Street and house number.
    pub street: Option<String>,
    /// Postcode (PLZ).
    pub postcode: Option<String>,
    /// City (Ort).
    pub city: Option<String>,
    /// Country as given (`DE`, `Germany`, `Deutschland`).
    pub country: Option<String>,
    /// Birth date where the file gives a full date (Mailchimp's `MM/DD` birthday has no year and is left out).
    pub birth_date: Option<Date>,
    /// Marketing status in the source tool.
    pub status: SourceStatus,
    /// Sign-up (opt-in) time.
    pub optin_at: Option<Timestamp>,
    /// Double-opt-in confirmation time.
    pub confirm_at: Option<Timestamp>,
    /// Last change in the source tool.
    pub last_changed_at: Option<Timestamp>,
    /// Unsubscribe (withdrawal) time.
    pub unsubscribed_at: Option<Timestamp>,
    /// Time the address was cleaned after bounces.
    pub cleaned_at: Option<Timestamp>,
    /// IP address of the sign-up.
    pub optin_ip: Option<String>,
    /// IP address of the confirmation click.
    pub confirm_ip: Option<String>,
    /// Per-channel permission columns of the file, in file order.
    pub permissions: Vec<Permission>,
    /// Legal bases the tool records (HubSpot's `Legal basis for processing contact's data`), one per value.
    pub legal_basis: Vec<String>,
    /// The tool's source or origin column.
    pub source: Option<String>,
    /// Tags, one per tag.
    pub tags: Vec<String>,
    /// Preferred language.
    pub language: Option<String>,
    /// Reason given for unsubscribing (Mailchimp survey answer and free text, CleverReach `abmeldegrund`).
    pub unsubscribe_reason: Option<String>,
}

impl ImportRow {
    /// An empty row with the given position and status.
    pub(crate) fn new(row: u64, file: Option<String>, status: SourceStatus) -> Self {
        ImportRow {
            row,
            file,
            external_id: None,
            customer_number: None,
            email: None,
            phone: None,
            mobile: None,
            salutation: None,
            title: None,
            first_name: None,
            last_name: None,
            company: None,
            street: None,
            postcode: None,
            city: None,
            country: None,
            birth_date: None,
            status,
            optin_at: None,
            confirm_at: None,
            last_changed_at: None,
            unsubscribed_at: None,
            cleaned_at: None,
            optin_ip: None,
            confirm_ip: None,
            permissions: Vec::new(),
            legal_basis: Vec::new(),
            source: None,
            tags: Vec::new(),
            language: None,
            unsubscribe_reason: None,
        }
    }
}

/// A contact's marketing status as the source tool records it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceStatus {
    /// Receives marketing (Mailchimp subscribed, CleverReach active, HubSpot marketing contact, broker `ja`).
    Subscribed,
    /// Signed up but the double opt-in was never confirmed.
    Pending,
    /// Withdrew (unsubscribed, deactivated, `widerrufen`).
    Unsubscribed,
    /// Address removed after hard bounces.
    Cleaned,
    /// Reported a mail as spam.
    Complained,
    /// A known contact without marketing consent (HubSpot non-marketing contact, broker `nein`).
    NonSubscribed,
    /// A status value this reader does not know, as given.
    Unknown(String),
}

impl SourceStatus {
    /// Stable code (`subscribed`, `pending`, …; `unknown` for [`SourceStatus::Unknown`]).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Subscribed => "subscribed",
            Self::Pending => "pending",
            Self::Unsubscribed => "unsubscribed",
            Self::Cleaned => "cleaned",
            Self::Complained => "complained",
            Self::NonSubscribed => "non_subscribed",
            Self::Unknown(_) => "unknown",
        }
    }

    /// Parses one of our codes as written in a mapping file.
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code.trim().to_ascii_lowercase().as_str() {
            "subscribed" => Self::Subscribed,
            "pending" => Self::Pending,
            "unsubscribed" => Self::Unsubscribed,
            "cleaned" => Self::Cleaned,
            "complained" => Self::Complained,
            "non_subscribed" => Self::NonSubscribed,
            _ => return None,
        })
    }

    /// Recognises the status words of the supported tools and of German exports
    /// (`subscribed`, `abgemeldet`, `inaktiv`, `bounced`, …); anything else is [`SourceStatus::Unknown`].
    pub fn from_source_value(value: &str) -> Self {
        let v = value.trim();
        let lower = v.to_lowercase();
        let key: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
        match key.as_str() {
            "subscribed" | "subscriber" | "active" | "aktiv" | "angemeldet" | "abonniert" | "ja" | "yes" | "optin"
            | "confirmed" | "bestatigt" | "bestaetigt" => Self::Subscribed,
            "pending" | "unconfirmed" | "unbestatigt" | "unbestaetigt" | "ausstehend" | "offen" => Self::Pending,
            "unsubscribed" | "abgemeldet" | "inactive" | "inaktiv" | "deactivated" | "deaktiviert" | "widerrufen"
            | "optout" | "optedout" => Self::Unsubscribed,
            "cleaned" | "bounced" | "bounce" | "hardbounce" | "unzustellbar" => Self::Cleaned,
            "complained" | "spam" | "spamcomplaint" | "beschwerde" => Self::Complained,
            "nonsubscribed" | "transactional" | "nonmarketingcontact" | "nein" | "no" | "keine" => Self::NonSubscribed,
            _ => Self::Unknown(v.to_string()),
        }
    }
}

/// One per-channel permission column of a row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Permission {
    /// The channel the permission covers.
    pub channel: Channel,
    /// The permission's name in the source: the column header (`E-Mail-Newsletter`,
    /// `Werbeeinwilligung Telefon`) or HubSpot's subscription type (`Newsletter Maklerbüro`).
    pub label: String,
    /// Whether the file says the permission is currently given.
    pub granted: bool,
    /// When the permission got this value, where the file says.
    pub at: Option<Timestamp>,
}
