//! Contact points: the e-mail addresses, phone numbers and postal addresses a consent is bound to.

mod email;
mod phone;
mod postal;

pub use email::{EmailAddress, EmailError};
pub use phone::{LineType, PhoneE164, PhoneError};
pub use postal::{AddressError, PostalAddress};

use serde::{Deserialize, Serialize};

/// The kind of a contact point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    /// E-mail address.
    Email,
    /// Phone number (landline or mobile; also used for SMS, messenger and fax).
    Phone,
    /// Postal address.
    Postal,
}

impl ContactKind {
    /// Stable text code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Postal => "postal",
        }
    }
}

/// A parsed contact point value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum ContactValue {
    /// An e-mail address.
    Email(EmailAddress),
    /// A phone number.
    Phone(PhoneE164),
    /// A postal address.
    Postal(PostalAddress),
}

impl ContactValue {
    /// Kind of this value.
    pub fn kind(&self) -> ContactKind {
        match self {
            Self::Email(_) => ContactKind::Email,
            Self::Phone(_) => ContactKind::Phone,
            Self::Postal(_) => ContactKind::Postal,
        }
    }

    /// The normalised key that the keyed blind index and suppression list hash.
    /// Prefixed with the kind so an e-mail never collides with a phone number.
    pub fn match_key(&self) -> String {
        match self {
            Self::Email(e) => format!("email:{}", e.match_key()),
            Self::Phone(p) => format!("phone:{}", p.as_str()),
            Self::Postal(a) => format!("postal:{}", a.match_key()),
        }
    }
}
