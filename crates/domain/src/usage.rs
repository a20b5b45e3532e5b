//! The use log: each call attempt, connected call or sent message, linked to the consents it relied on (R23).

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::channel::Channel;
use crate::ids::{AdvertiserId, ConsentId, ContactPointId, PersonId, UseId};

/// What happened in a use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UseOutcome {
    /// Dialled, not answered (counted as a use, see section 9 point 2).
    Attempt,
    /// Call connected.
    Connected,
    /// Message sent.
    Sent,
}

/// One logged use of consents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UseRecord {
    /// Id.
    pub id: UseId,
    /// The person contacted.
    pub person_id: PersonId,
    /// The contact point used.
    pub contact_point_id: ContactPointId,
    /// Channel.
    pub channel: Channel,
    /// Advertiser on whose behalf.
    pub advertiser_id: AdvertiserId,
    /// Consents relied on (empty when another legal basis was used).
    pub consent_ids: BTreeSet<ConsentId>,
    /// Campaign id, free text from the caller.
    pub campaign: Option<String>,
    /// Executing party (call centre) name.
    pub executing_party: Option<String>,
    /// Pseudonymous agent code.
    pub agent_pseudonym: Option<String>,
    /// Outcome.
    pub outcome: UseOutcome,
    /// When it happened.
    pub at: Timestamp,
    /// The gate decision snapshot this use relied on (R28), as signed canonical JSON.
    pub decision_snapshot: Option<serde_json::Value>,
}
