//! Suppression entries (Werbesperrdatei): keyed hashes of contact points that must never be contacted
//! or re-imported for a scope (R44, R63). No clear-text contact data.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::channel::Channel;
use crate::contact::ContactKind;
use crate::ids::{AdvertiserId, SuppressionId};

/// Why a contact point is suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionReason {
    /// Art. 21 objection.
    Objection,
    /// Withdrawal of consent.
    Withdrawal,
    /// Spam complaint.
    Complaint,
    /// Hard bounce / invalid address.
    Bounce,
    /// Robinson list match.
    Robinson,
    /// Erasure of the person (Art. 17).
    Erasure,
    /// Manually added.
    Manual,
}

/// The scope a suppression covers. Empty sets mean "all".
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SuppressionScope {
    /// Channels; empty = all channels.
    pub channels: BTreeSet<Channel>,
    /// Advertisers; empty = all advertisers.
    pub advertisers: BTreeSet<AdvertiserId>,
}

impl SuppressionScope {
    /// Everything.
    pub fn all() -> Self {
        Self::default()
    }
    /// Whether this scope covers a channel and advertiser.
    pub fn covers(&self, channel: Channel, advertiser: AdvertiserId) -> bool {
        (self.channels.is_empty() || self.channels.contains(&channel))
            && (self.advertisers.is_empty() || self.advertisers.contains(&advertiser))
    }
}

/// One suppression entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuppressionEntry {
    /// Id.
    pub id: SuppressionId,
    /// Keyed hash (blind index) of the normalised contact point.
    pub key_hmac: String,
    /// Kind of contact point hashed.
    pub key_kind: ContactKind,
    /// What it covers.
    pub scope: SuppressionScope,
    /// Why.
    pub reason: SuppressionReason,
    /// When.
    pub created_at: Timestamp,
    /// Free-text source (e.g. `preference_centre`, `import:mailchimp`).
    pub source: String,
}
