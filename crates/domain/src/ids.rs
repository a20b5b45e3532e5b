//! Typed identifiers: UUIDv7 newtypes so a person id can never be passed where a consent id is meant.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Error when text is not a valid identifier of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{kind}'-ID ist keine gültige UUID / '{kind}' id is not a valid UUID")]
pub struct IdParseError {
    /// Which kind of id was expected.
    pub kind: &'static str,
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps an existing UUID.
            pub const fn from_uuid(u: Uuid) -> Self { Self(u) }
            /// The inner UUID.
            pub const fn as_uuid(&self) -> Uuid { self.0 }
            /// Builds a time-ordered id from injected randomness and a timestamp
            /// (keeps domain code free of global randomness).
            pub fn from_parts(unix_millis: u64, random: [u8; 10]) -> Self {
                Self(crate::ids::uuid_v7(unix_millis, random))
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { self.0.fmt(f) }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($kind, "({})"), self.0)
            }
        }
        impl FromStr for $name {
            type Err = IdParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim()).map(Self).map_err(|_| IdParseError { kind: $kind })
            }
        }
    };
}

/// Assembles a UUIDv7 from a millisecond timestamp and 10 random bytes.
pub fn uuid_v7(unix_millis: u64, random: [u8; 10]) -> Uuid {
    let mut b = [0u8; 16];
    b[..6].copy_from_slice(&unix_millis.to_be_bytes()[2..]);
    b[6..].copy_from_slice(&random);
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    Uuid::from_bytes(b)
}

typed_id!(/// A tenant: one organisation (broker pool, Vertrieb).
    TenantId, "tenant");
typed_id!(/// An advertiser: a legal entity that a consent names.
    AdvertiserId, "advertiser");
typed_id!(/// An organisational unit inside a tenant (directorate, sub-broker).
    OrgUnitId, "org_unit");
typed_id!(/// A person (data subject); pseudonymous.
    PersonId, "person");
typed_id!(/// A contact point (email, phone number, postal address) of a person.
    ContactPointId, "contact_point");
typed_id!(/// A consent record.
    ConsentId, "consent");
typed_id!(/// A consent text version.
    TextId, "text");
typed_id!(/// A logged use (call, message) of consents.
    UseId, "use");
typed_id!(/// A ledger event.
    EventId, "event");
typed_id!(/// A suppression entry.
    SuppressionId, "suppression");
typed_id!(/// A documented legal basis other than consent (§ 7(3) UWG relation, B2B justification).
    BasisId, "basis");
typed_id!(/// An API key.
    ApiKeyId, "api_key");
typed_id!(/// A legal hold that suspends deletion.
    HoldId, "hold");
typed_id!(/// A campaign segment, frozen when created.
    SegmentId, "segment");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v7_ids_sort_by_time_and_parse_back() {
        let a = PersonId::from_parts(1_000, [1; 10]);
        let b = PersonId::from_parts(2_000, [0; 10]);
        assert!(a < b);
        assert_eq!(a.as_uuid().get_version_num(), 7);
        assert_eq!(a.to_string().parse::<PersonId>().unwrap(), a);
        assert_eq!("nope".parse::<ConsentId>().unwrap_err().kind, "consent");
    }
}
