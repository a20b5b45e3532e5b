//! Tenant settings: the four-eyes approval of assisted captures, the verification policy (R17's
//! text confirmation option) and the tenant's Löschregeln.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::consent::{CaptureMethod, VerificationPolicy};
use crate::retention::{Datenart, Loeschregel};

/// A tenant's settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenantSettings {
    /// A consent captured by staff (call, paper, in person) must be approved by a second person
    /// before it is usable.
    pub four_eyes: bool,
    /// Verification rules (R17 b text confirmation, minimum age).
    pub verification: VerificationPolicy,
    /// Löschregeln that differ from the defaults of the deletion concept (never below the law).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub retention: BTreeMap<Datenart, Loeschregel>,
}

impl TenantSettings {
    /// Whether a consent captured this way waits for a second person's approval.
    pub fn needs_approval(&self, method: CaptureMethod) -> bool {
        self.four_eyes && matches!(method, CaptureMethod::PhoneCall | CaptureMethod::Paper | CaptureMethod::InPerson)
    }
}
