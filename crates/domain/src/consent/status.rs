//! Consent statuses (W3C DPV, section 5 of the legal requirements) and which transitions are allowed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The DPV consent status of a record. Only `Given` and `RenewedGiven` are valid for processing (R70).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConsentStatus {
    /// `dpv:ConsentUnknown`: legacy/imported without sufficient evidence, or evidence lost.
    #[serde(rename = "ConsentUnknown")]
    Unknown,
    /// `dpv:ConsentRequested`: submitted; verification pending.
    #[serde(rename = "ConsentRequested")]
    Requested,
    /// `dpv:ConsentRequestDeferred`: dismissed without deciding.
    #[serde(rename = "ConsentRequestDeferred")]
    RequestDeferred,
    /// `dpv:ConsentRefused`: declined, minor, or verification failed.
    #[serde(rename = "ConsentRefused")]
    Refused,
    /// `dpv:ConsentGiven`: verified and complete.
    #[serde(rename = "ConsentGiven")]
    Given,
    /// `dpv:RenewedConsentGiven`: re-permission with the current text.
    #[serde(rename = "RenewedConsentGiven")]
    RenewedGiven,
    /// `dpv:ConsentWithdrawn`: withdrawn by the data subject.
    #[serde(rename = "ConsentWithdrawn")]
    Withdrawn,
    /// `dpv:ConsentRevoked`: the controller stopped using it.
    #[serde(rename = "ConsentRevoked")]
    Revoked,
    /// `dpv:ConsentExpired`: validity or staleness lapsed.
    #[serde(rename = "ConsentExpired")]
    Expired,
    /// `dpv:ConsentInvalidated`: found invalid; terminal.
    #[serde(rename = "ConsentInvalidated")]
    Invalidated,
}

impl ConsentStatus {
    /// All statuses.
    pub const ALL: [ConsentStatus; 10] = [
        Self::Unknown,
        Self::Requested,
        Self::RequestDeferred,
        Self::Refused,
        Self::Given,
        Self::RenewedGiven,
        Self::Withdrawn,
        Self::Revoked,
        Self::Expired,
        Self::Invalidated,
    ];

    /// DPV name, e.g. `ConsentGiven`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "ConsentUnknown",
            Self::Requested => "ConsentRequested",
            Self::RequestDeferred => "ConsentRequestDeferred",
            Self::Refused => "ConsentRefused",
            Self::Given => "ConsentGiven",
            Self::RenewedGiven => "RenewedConsentGiven",
            Self::Withdrawn => "ConsentWithdrawn",
            Self::Revoked => "ConsentRevoked",
            Self::Expired => "ConsentExpired",
            Self::Invalidated => "ConsentInvalidated",
        }
    }

    /// German label.
    pub fn label_de(self) -> &'static str {
        match self {
            Self::Unknown => "unbekannt (Nachweis fehlt)",
            Self::Requested => "angefragt (Bestätigung ausstehend)",
            Self::RequestDeferred => "zurückgestellt",
            Self::Refused => "abgelehnt",
            Self::Given => "erteilt",
            Self::RenewedGiven => "erneut erteilt",
            Self::Withdrawn => "widerrufen",
            Self::Revoked => "vom Verantwortlichen beendet",
            Self::Expired => "abgelaufen",
            Self::Invalidated => "für ungültig erklärt",
        }
    }

    /// Valid for processing (R70): only `Given` and `RenewedGiven`.
    pub fn is_valid_for_processing(self) -> bool {
        matches!(self, Self::Given | Self::RenewedGiven)
    }

    /// Ended: withdrawn, revoked, expired or invalidated. New evidence on such a record never
    /// makes it valid again; a renewal is a new record (R43).
    pub fn has_ended(self) -> bool {
        matches!(self, Self::Withdrawn | Self::Revoked | Self::Expired | Self::Invalidated)
    }
}

impl fmt::Display for ConsentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for an unknown status name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown consent status '{0}'")]
pub struct UnknownStatus(pub String);

impl FromStr for ConsentStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| UnknownStatus(s.into()))
    }
}
