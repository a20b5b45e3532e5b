//! Postal addresses: the residential address of a person and the address for service of an advertiser.

use serde::{Deserialize, Serialize};

/// Why an address was refused; names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// A required field is empty.
    #[error("Adressfeld '{0}' fehlt / address field '{0}' is required")]
    Missing(&'static str),
    /// A German postcode must be five digits.
    #[error("Postleitzahl muss fünfstellig sein / postcode must be a five-digit German postcode")]
    BadPostcode,
    /// Country must be an ISO 3166-1 alpha-2 code.
    #[error("Land '{0}' ist kein zweistelliger ISO-Code / country '{0}' is not a two-letter ISO code")]
    BadCountry(String),
    /// A field is unreasonably long.
    #[error("Adressfeld '{0}' ist länger als 200 Zeichen / address field '{0}' is longer than 200 characters")]
    TooLong(&'static str),
}

impl AddressError {
    /// The address field that was wrong (`street`, `postcode`, `city`, `country`).
    pub fn field(&self) -> &'static str {
        match self {
            Self::Missing(f) | Self::TooLong(f) => f,
            Self::BadPostcode => "postcode",
            Self::BadCountry(_) => "country",
        }
    }
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostalAddress {
    /// Street and house number.
    pub street: String,
    /// Postcode.
    pub postcode: String,
    /// City.
    pub city: String,
    /// ISO 3166-1 alpha-2, default `DE`.
    #[serde(default = "de")]
    pub country: String,
}

fn de() -> String {
    "DE".into()
}

impl PostalAddress {
    /// Validates and normalises (trims, upper-cases the country).
    pub fn new(street: &str, postcode: &str, city: &str, country: &str) -> Result<Self, AddressError> {
        let field = |name: &'static str, v: &str| -> Result<String, AddressError> {
            let v = v.trim();
            if v.is_empty() {
                return Err(AddressError::Missing(name));
            }
            if v.chars().count() > 200 {
                return Err(AddressError::TooLong(name));
            }
            Ok(v.to_string())
        };
        let country = {
            let c = country.trim().to_uppercase();
            let c = if c.is_empty() { "DE".to_string() } else { c };
            if c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_uppercase()) {
                return Err(AddressError::BadCountry(c));
            }
            c
        };
        let postcode = field("postcode", postcode)?;
        if country == "DE" && !(postcode.len() == 5 && postcode.chars().all(|c| c.is_ascii_digit())) {
            return Err(AddressError::BadPostcode);
        }
        Ok(Self { street: field("street", street)?, postcode, city: field("city", city)?, country })
    }

    /// Re-validates a deserialised address.
    pub fn validated(self) -> Result<Self, AddressError> {
        Self::new(&self.street, &self.postcode, &self.city, &self.country)
    }

    /// Key for matching and blind indexing: lower-cased, whitespace collapsed.
    pub fn match_key(&self) -> String {
        let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        format!("{}|{}|{}|{}", norm(&self.street), self.postcode, norm(&self.city), self.country)
    }

    /// One line for documents: `Hauptstr. 1, 10115 Berlin`.
    pub fn one_line(&self) -> String {
        if self.country == "DE" {
            format!("{}, {} {}", self.street, self.postcode, self.city)
        } else {
            format!("{}, {} {}, {}", self.street, self.postcode, self.city, self.country)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_fields_by_name() {
        assert_eq!(PostalAddress::new("", "10115", "Berlin", "DE"), Err(AddressError::Missing("street")));
        assert_eq!(PostalAddress::new("Hauptstr. 1", "1011", "Berlin", ""), Err(AddressError::BadPostcode));
        let a = PostalAddress::new(" Hauptstr.  1 ", "10115", "Berlin", "de").unwrap();
        assert_eq!(a.country, "DE");
        assert_eq!(a.one_line(), "Hauptstr.  1, 10115 Berlin");
        assert_eq!(a.match_key(), "hauptstr. 1|10115|berlin|DE");
        assert!(PostalAddress::new("Rue 1", "75001", "Paris", "FR").is_ok());
    }
}
