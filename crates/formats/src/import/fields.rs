//! Our field names ([`Field`]), header normalisation and the aliases every format shares.

/// A field of [`super::ImportRow`] or a source column the readers derive one from.
/// The snake-case [`Field::name`] is what a mapping file writes under `[columns]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// `external_id`
    ExternalId,
    /// `customer_number`
    CustomerNumber,
    /// `email`
    Email,
    /// `phone`
    Phone,
    /// `mobile`
    Mobile,
    /// `salutation`
    Salutation,
    /// `title`
    Title,
    /// `first_name`
    FirstName,
    /// `last_name`
    LastName,
    /// `company`
    Company,
    /// `street`
    Street,
    /// `postcode`
    Postcode,
    /// `city`
    City,
    /// `country`
    Country,
    /// `address`: Mailchimp's one-cell address (`street  city  region  postcode  country`).
    Address,
    /// `birth_date`
    BirthDate,
    /// `status`: a status column, read through `[status_values]` and the built-in status words.
    Status,
    /// `optin_at`
    OptinAt,
    /// `confirm_at`
    ConfirmAt,
    /// `last_changed_at`
    LastChangedAt,
    /// `unsubscribed_at`
    UnsubscribedAt,
    /// `cleaned_at`
    CleanedAt,
    /// `optin_ip`
    OptinIp,
    /// `confirm_ip`
    ConfirmIp,
    /// `source`
    Source,
    /// `tags`
    Tags,
    /// `language`
    Language,
    /// `unsubscribe_reason`
    UnsubscribeReason,
    /// `unsubscribe_reason_other`: Mailchimp's free-text reason, appended to the reason.
    UnsubscribeReasonOther,
    /// `legal_basis`: `;`-separated legal bases.
    LegalBasis,
    /// `consent_date`: date of the marketing consent (broker `Einwilligung vom`, CleverReach `einwilligung_datum`).
    ConsentDate,
    /// `marketing_contact_status`: HubSpot `Marketing contact` / `Non-marketing contact`.
    MarketingContactStatus,
    /// `unsubscribed_all`: HubSpot `Unsubscribed from all email` (true/false).
    UnsubscribedAll,
    /// `hard_bounce_reason`: HubSpot; filled means the address bounced.
    HardBounceReason,
    /// `invalid_email`: HubSpot `Invalid email address` (true/false).
    InvalidEmail,
    /// `email_confirmation_status`: HubSpot `Marketing email confirmation status`.
    EmailConfirmationStatus,
    /// `active`: a yes/no active flag (CleverReach).
    Active,
    /// `bounced`: a bounce flag or bounce time (CleverReach).
    Bounced,
}

impl Field {
    /// Number of fields.
    pub const COUNT: usize = 38;

    /// All fields, in declaration order.
    pub const ALL: [Field; Field::COUNT] = [
        Field::ExternalId,
        Field::CustomerNumber,
        Field::Email,
        Field::Phone,
        Field::Mobile,
        Field::Salutation,
        Field::Title,
        Field::FirstName,
        Field::LastName,
        Field::Company,
        Field::Street,
        Field::Postcode,
        Field::City,
        Field::Country,
        Field::Address,
        Field::BirthDate,
        Field::Status,
        Field::OptinAt,
        Field::ConfirmAt,
        Field::LastChangedAt,
        Field::UnsubscribedAt,
        Field::CleanedAt,
        Field::OptinIp,
        Field::ConfirmIp,
        Field::Source,
        Field::Tags,
        Field::Language,
        Field::UnsubscribeReason,
        Field::UnsubscribeReasonOther,
        Field::LegalBasis,
        Field::ConsentDate,
        Field::MarketingContactStatus,
        Field::UnsubscribedAll,
        Field::HardBounceReason,
        Field::InvalidEmail,
        Field::EmailConfirmationStatus,
        Field::Active,
        Field::Bounced,
    ];

    /// Snake-case name, as in a mapping file.
    pub fn name(self) -> &'static str {
        match self {
            Field::ExternalId => "external_id",
            Field::CustomerNumber => "customer_number",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::Mobile => "mobile",
            Field::Salutation => "salutation",
            Field::Title => "title",
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::Company => "company",
            Field::Street => "street",
            Field::Postcode => "postcode",
            Field::City => "city",
            Field::Country => "country",
            Field::Address => "address",
            Field::BirthDate => "birth_date",
            Field::Status => "status",
            Field::OptinAt => "optin_at",
            Field::ConfirmAt => "confirm_at",
            Field::LastChangedAt => "last_changed_at",
            Field::UnsubscribedAt => "unsubscribed_at",
            Field::CleanedAt => "cleaned_at",
            Field::OptinIp => "optin_ip",
            Field::ConfirmIp => "confirm_ip",
            Field::Source => "source",
            Field::Tags => "tags",
            Field::Language => "language",
            Field::UnsubscribeReason => "unsubscribe_reason",
            Field::UnsubscribeReasonOther => "unsubscribe_reason_other",
            Field::LegalBasis => "legal_basis",
            Field::ConsentDate => "consent_date",
            Field::MarketingContactStatus => "marketing_contact_status",
            Field::UnsubscribedAll => "unsubscribed_all",
            Field::HardBounceReason => "hard_bounce_reason",
            Field::InvalidEmail => "invalid_email",
            Field::EmailConfirmationStatus => "email_confirmation_status",
            Field::Active => "active",
            Field::Bounced => "bounced",
        }
    }

    /// The field with this snake-case name.
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// Header comparison key: lower case, letters and digits only (`"E-Mail Adresse "` → `emailadresse`,
/// `Straße` → `straße`), a BOM or quotes left over by broken exports removed.
pub fn normalize(header: &str) -> String {
    header.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// Aliases every format accepts after its own (German and English spellings).
pub(crate) const COMMON: &[(Field, &[&str])] = &[
    (Field::ExternalId, &["id", "external id", "externe id"]),
    (
        Field::CustomerNumber,
        &[
            "Kundennummer",
            "Kunden-Nr.",
            "Kundennr",
            "Kd-Nr.",
            "KdNr",
            "customer number",
            "customer_number",
            "customer id",
        ],
    ),
    (
        Field::Email,
        &["E-Mail", "Email", "E-Mail-Adresse", "Email Address", "E-Mail Adresse", "Mail", "Mailadresse", "e_mail"],
    ),
    (
        Field::Phone,
        &["Telefon", "Telefonnummer", "Telefon privat", "Tel.", "Phone", "Phone Number", "Festnetz", "Rufnummer"],
    ),
    (
        Field::Mobile,
        &[
            "Mobil",
            "Mobilnummer",
            "Mobiltelefon",
            "Mobilfunk",
            "Handy",
            "Handynummer",
            "Mobile",
            "Mobile Phone",
            "Mobile Phone Number",
            "Mobilfunknummer",
        ],
    ),
    (Field::Salutation, &["Anrede", "Salutation"]),
    (Field::Title, &["Titel", "Title", "Akad. Titel"]),
    (Field::FirstName, &["Vorname", "First Name", "Firstname", "first_name", "Given Name"]),
    (Field::LastName, &["Nachname", "Last Name", "Lastname", "last_name", "Name", "Familienname", "Surname"]),
    (Field::Company, &["Firma", "Company", "Company Name", "Unternehmen", "Firmenname"]),
    (Field::Street, &["Straße", "Strasse", "Str.", "Straße und Hausnummer", "Street", "Street Address", "Adresse"]),
    (Field::Postcode, &["PLZ", "Postleitzahl", "Postal Code", "Zip", "Zip Code", "Postcode"]),
    (Field::City, &["Ort", "Stadt", "Wohnort", "City", "Town"]),
    (Field::Country, &["Land", "Country", "Country/Region", "Land/Region"]),
    (Field::BirthDate, &["Geburtsdatum", "Geburtstag", "Date of birth", "Birth date", "Birthday", "birthdate"]),
    (Field::Status, &["Status"]),
    (Field::Source, &["Quelle", "Herkunft", "Source"]),
    (Field::Tags, &["Tags", "Tag", "Schlagworte"]),
    (Field::Language, &["Sprache", "Language", "Preferred language", "Bevorzugte Sprache"]),
    (Field::UnsubscribeReason, &["Abmeldegrund", "Unsubscribe reason"]),
    (Field::ConsentDate, &["Einwilligung vom", "Einwilligungsdatum", "Einwilligung Datum", "Consent date"]),
];

/// Channel named by a permission label or header (`E-Mail-Newsletter`, `Telefonische Beratung`, `Direct Mail`).
pub(crate) fn channel_of(label: &str) -> Option<konsent_domain::channel::Channel> {
    use konsent_domain::channel::Channel;
    let n = normalize(label);
    let has = |keys: &[&str]| keys.iter().any(|k| n.contains(k));
    if has(&["fax"]) {
        Some(Channel::Fax)
    } else if has(&["sms", "textnachricht", "textmessage"]) {
        Some(Channel::Sms)
    } else if has(&["whatsapp", "messenger"]) {
        Some(Channel::MessengerWhatsapp)
    } else if has(&["directmail", "briefpost", "postalisch", "post", "brief"]) {
        Some(Channel::Post)
    } else if has(&["telefon", "phone", "anruf", "call"]) {
        Some(Channel::PhoneLive)
    } else if has(&["email", "newsletter", "mail"]) {
        Some(Channel::Email)
    } else {
        None
    }
}
