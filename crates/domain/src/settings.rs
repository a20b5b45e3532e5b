//! Tenant settings that change how consents become usable: the four-eyes approval of assisted
//! captures and the verification policy (R17's text confirmation option).

use serde::{Deserialize, Serialize};

use crate::consent::{CaptureMethod, VerificationPolicy};

/// A tenant's settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenantSettings {
    /// A consent captured by staff (call, paper, in person) must be approved by a second person
    /// before it is usable.
    pub four_eyes: bool,
    /// Verification rules (R17 b text confirmation, minimum age).
    pub verification: VerificationPolicy,
}

impl TenantSettings {
    /// Whether a consent captured this way waits for a second person's approval.
    pub fn needs_approval(&self, method: CaptureMethod) -> bool {
        self.four_eyes && matches!(method, CaptureMethod::PhoneCall | CaptureMethod::Paper | CaptureMethod::InPerson)
    }
}
