//! Parties: tenants, advertisers (the legal entities a consent names), org units and persons.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::contact::PostalAddress;
use crate::ids::{AdvertiserId, OrgUnitId, TenantId};

/// Consumer or business: decides which § 7 UWG rules apply (R1, default consumer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientClass {
    /// A consumer (§ 13 BGB). The default.
    #[default]
    Consumer,
    /// Another market participant (business).
    Business,
}

impl RecipientClass {
    /// Stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Consumer => "consumer",
            Self::Business => "business",
        }
    }
}

/// An organisation using Konsent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// Id.
    pub id: TenantId,
    /// Display name.
    pub name: String,
}

/// Why an advertiser or person record was refused; names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartyError {
    /// A required field is empty.
    #[error("Feld '{0}' fehlt / field '{0}' is required")]
    Missing(&'static str),
    /// A field is too long.
    #[error("Feld '{0}' ist länger als {1} Zeichen / field '{0}' is longer than {1} characters")]
    TooLong(&'static str, usize),
    /// Address problem.
    #[error(transparent)]
    Address(#[from] crate::contact::AddressError),
    /// Birth date in the future.
    #[error("Geburtsdatum liegt in der Zukunft / birth date lies in the future")]
    BirthDateInFuture,
}

fn required(name: &'static str, v: &str, max: usize) -> Result<String, PartyError> {
    let v = v.trim();
    if v.is_empty() {
        return Err(PartyError::Missing(name));
    }
    if v.chars().count() > max {
        return Err(PartyError::TooLong(name, max));
    }
    Ok(v.to_string())
}

/// An advertising company: Firma, Sitz and ladungsfähige Anschrift (BNetzA, R20).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advertiser {
    /// Id.
    pub id: AdvertiserId,
    /// Legal name (Firma), e.g. `Muster Versicherungsmakler GmbH`.
    pub legal_name: String,
    /// Registered seat (Sitz), e.g. `Köln`.
    pub seat: String,
    /// Address for service (ladungsfähige Anschrift).
    pub address_for_service: PostalAddress,
}

impl Advertiser {
    /// Validates every field.
    pub fn new(
        id: AdvertiserId,
        legal_name: &str,
        seat: &str,
        address_for_service: PostalAddress,
    ) -> Result<Self, PartyError> {
        Ok(Self {
            id,
            legal_name: required("legal_name", legal_name, 200)?,
            seat: required("seat", seat, 100)?,
            address_for_service: address_for_service.validated()?,
        })
    }
}

/// A unit of the tenant's organisation (directorate, sub-broker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgUnit {
    /// Id.
    pub id: OrgUnitId,
    /// Name.
    pub name: String,
    /// Parent unit, if any.
    pub parent: Option<OrgUnitId>,
}

/// The personal data of a person. Never stored in the ledger: it lives encrypted in the vault.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonData {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Residential address (required for consumer phone consents, R20).
    #[serde(default)]
    pub address: Option<PostalAddress>,
    /// Birth date (for the minors policy, R11).
    #[serde(default)]
    pub birth_date: Option<Date>,
}

impl std::fmt::Debug for PersonData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonData(<redacted>)")
    }
}

impl PersonData {
    /// Validates names, address and birth date against `today`.
    pub fn new(
        first_name: &str,
        last_name: &str,
        address: Option<PostalAddress>,
        birth_date: Option<Date>,
        today: Date,
    ) -> Result<Self, PartyError> {
        if birth_date.is_some_and(|b| b > today) {
            return Err(PartyError::BirthDateInFuture);
        }
        Ok(Self {
            first_name: required("first_name", first_name, 100)?,
            last_name: required("last_name", last_name, 100)?,
            address: address.map(PostalAddress::validated).transpose()?,
            birth_date,
        })
    }

    /// Age in whole years on `today`, if the birth date is known.
    pub fn age_on(&self, today: Date) -> Option<i16> {
        self.birth_date.and_then(|b| b.until(today).ok()).map(|span| {
            // `until` yields days by default; count years precisely instead.
            let _ = span;
            let mut age = today.year() - self.birth_date.map(|b| b.year()).unwrap_or(today.year());
            if let Some(b) = self.birth_date
                && (today.month(), today.day()) < (b.month(), b.day())
            {
                age -= 1;
            }
            age
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn person_age_and_validation() {
        let p = PersonData::new("Anna", "Müller", None, Some(date(2010, 6, 15)), date(2026, 6, 14)).unwrap();
        assert_eq!(p.age_on(date(2026, 6, 14)), Some(15));
        assert_eq!(p.age_on(date(2026, 6, 15)), Some(16));
        assert_eq!(PersonData::new(" ", "M", None, None, date(2026, 1, 1)), Err(PartyError::Missing("first_name")));
        assert!(!format!("{p:?}").contains("Anna"));
    }
}
