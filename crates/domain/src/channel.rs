//! The fixed channel list of R2 and product categories (Sparten), which tenants may extend.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A contact channel (R2). Every consent, objection, campaign and use names channels from this list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Call by a live agent.
    PhoneLive,
    /// Automated calling machine, prerecorded message, voice bot.
    PhoneAutomated,
    /// Fax.
    Fax,
    /// E-mail.
    Email,
    /// SMS / MMS.
    Sms,
    /// WhatsApp and other messengers.
    MessengerWhatsapp,
    /// Addressed post.
    Post,
}

/// Error for an unknown channel code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unbekannter Kanal / unknown channel '{0}' (expected one of phone_live, phone_automated, fax, email, sms, messenger_whatsapp, post)"
)]
pub struct UnknownChannel(pub String);

impl Channel {
    /// All channels in a stable order.
    pub const ALL: [Channel; 7] = [
        Channel::PhoneLive,
        Channel::PhoneAutomated,
        Channel::Fax,
        Channel::Email,
        Channel::Sms,
        Channel::MessengerWhatsapp,
        Channel::Post,
    ];

    /// Stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PhoneLive => "phone_live",
            Self::PhoneAutomated => "phone_automated",
            Self::Fax => "fax",
            Self::Email => "email",
            Self::Sms => "sms",
            Self::MessengerWhatsapp => "messenger_whatsapp",
            Self::Post => "post",
        }
    }

    /// German label for documents and UI.
    pub fn label_de(self) -> &'static str {
        match self {
            Self::PhoneLive => "Telefon (persönlicher Anruf)",
            Self::PhoneAutomated => "Telefon (automatisierter Anruf)",
            Self::Fax => "Fax",
            Self::Email => "E-Mail",
            Self::Sms => "SMS",
            Self::MessengerWhatsapp => "WhatsApp / Messenger",
            Self::Post => "Post",
        }
    }

    /// English label for documents and UI.
    pub fn label_en(self) -> &'static str {
        match self {
            Self::PhoneLive => "phone (live call)",
            Self::PhoneAutomated => "phone (automated call)",
            Self::Fax => "fax",
            Self::Email => "e-mail",
            Self::Sms => "text message",
            Self::MessengerWhatsapp => "WhatsApp / messenger",
            Self::Post => "post",
        }
    }

    /// The kind of contact point this channel reaches.
    pub fn contact_kind(self) -> crate::contact::ContactKind {
        use crate::contact::ContactKind;
        match self {
            Self::Email => ContactKind::Email,
            Self::Post => ContactKind::Postal,
            _ => ContactKind::Phone,
        }
    }

    /// Electronic mail in the sense of § 7(2) Nr. 2 UWG (e-mail, SMS, messenger).
    pub fn is_electronic_mail(self) -> bool {
        matches!(self, Self::Email | Self::Sms | Self::MessengerWhatsapp)
    }

    /// Voice channels that need number verification.
    pub fn is_phone(self) -> bool {
        matches!(self, Self::PhoneLive | Self::PhoneAutomated)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = UnknownChannel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s.trim()).ok_or_else(|| UnknownChannel(s.to_string()))
    }
}

/// A product category (Sparte) code: lower-case ASCII, digits and `_`, 2–40 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProductCategory(String);

/// Error for a malformed category code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "Sparten-Code '{0}': 2 bis 40 Zeichen aus a-z, 0-9 und '_' / product category code '{0}' must be 2-40 characters of a-z, 0-9 and '_'"
)]
pub struct BadCategoryCode(pub String);

impl ProductCategory {
    /// Parses a code.
    pub fn parse(s: &str) -> Result<Self, BadCategoryCode> {
        let s = s.trim();
        let ok =
            (2..=40).contains(&s.len()) && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if ok { Ok(Self(s.to_string())) } else { Err(BadCategoryCode(s.to_string())) }
    }
    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ProductCategory {
    type Error = BadCategoryCode;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<ProductCategory> for String {
    fn from(p: ProductCategory) -> String {
        p.0
    }
}
impl fmt::Display for ProductCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A category with its labels, as a tenant defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryDef {
    /// Code.
    pub code: ProductCategory,
    /// German label.
    pub label_de: String,
    /// English label.
    pub label_en: String,
}

/// The categories every tenant starts with (financial sales Sparten).
pub fn default_categories() -> Vec<CategoryDef> {
    [
        ("insurance", "Versicherungen", "Insurance"),
        ("investment_34f", "Finanzanlagen (§ 34f GewO)", "Investments (§ 34f GewO)"),
        ("real_estate_loan_34i", "Immobiliardarlehen (§ 34i GewO)", "Real-estate loans (§ 34i GewO)"),
        ("building_savings", "Bausparen", "Building savings"),
        ("pension", "Altersvorsorge", "Retirement provision"),
        ("banking", "Bankprodukte (Konten, Kredite)", "Banking (accounts, loans)"),
    ]
    .into_iter()
    .map(|(c, de, en)| CategoryDef {
        code: ProductCategory::parse(c).expect("built-in codes are valid"),
        label_de: de.into(),
        label_en: en.into(),
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_codes_round_trip_and_unknown_is_rejected() {
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>().unwrap(), c);
        }
        assert!("telefon".parse::<Channel>().is_err());
        assert_eq!(serde_json::from_str::<Channel>("\"phone_live\"").unwrap(), Channel::PhoneLive);
        assert!(serde_json::from_str::<Channel>("\"phone\"").is_err());
    }

    #[test]
    fn r2_the_channel_taxonomy_is_exactly_the_seven_of_the_reference() {
        let codes: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            codes,
            ["phone_live", "phone_automated", "fax", "email", "sms", "messenger_whatsapp", "post"],
            "a channel is added or renamed only together with the legal reference"
        );
        for c in Channel::ALL {
            assert!(!c.label_de().is_empty(), "{c:?} has a German label");
        }
        for other in ["phone", "whatsapp", "letter", "push", ""] {
            assert!(other.parse::<Channel>().is_err(), "{other}");
        }
    }

    #[test]
    fn category_codes() {
        assert!(ProductCategory::parse("investment_34f").is_ok());
        assert!(ProductCategory::parse("Leben").is_err());
        assert!(ProductCategory::parse("x").is_err());
        assert_eq!(default_categories().len(), 6);
    }
}
