//! Webhooks out: which ledger events are reported to receivers and with what (ids only, never
//! names, addresses, e-mails or numbers), the envelope, the Standard Webhooks signature, the retry
//! schedule and which receiver addresses are refused ([`address`]); webhooks in: the newsletter
//! tools' payloads ([`inbound`]).

pub mod address;
pub mod inbound;

use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::consent::{ConsentRecord, ConsentStatus};
use crate::crypto::hmac256;
use crate::ledger::EventBody;

pub use address::{HookPolicy, HookUrl};

/// The event types a receiver can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum HookEvent {
    /// A consent became valid (recorded as given, confirmed, renewed).
    #[serde(rename = "consent.given")]
    ConsentGiven,
    /// A consent was withdrawn, in full or in part.
    #[serde(rename = "consent.withdrawn")]
    ConsentWithdrawn,
    /// An Art. 21 objection to direct marketing.
    #[serde(rename = "objection.recorded")]
    ObjectionRecorded,
    /// A person asked for erasure (Art. 17).
    #[serde(rename = "erasure.requested")]
    ErasureRequested,
    /// Everything of a person was deleted (the person's key destroyed).
    #[serde(rename = "person.erased")]
    PersonErased,
    /// A contact point was put on the suppression list.
    #[serde(rename = "suppression.added")]
    SuppressionAdded,
    /// A person's data was corrected (Art. 16): fetch the new version (Art. 19).
    #[serde(rename = "person.corrected")]
    PersonCorrected,
    /// Processing of a person was restricted (Art. 18): stop using them.
    #[serde(rename = "restriction.requested")]
    RestrictionRequested,
    /// An Art. 18 restriction was lifted.
    #[serde(rename = "restriction.lifted")]
    RestrictionLifted,
}

impl HookEvent {
    /// Every event type.
    pub const ALL: [HookEvent; 9] = [
        Self::ConsentGiven,
        Self::ConsentWithdrawn,
        Self::ObjectionRecorded,
        Self::ErasureRequested,
        Self::PersonErased,
        Self::SuppressionAdded,
        Self::PersonCorrected,
        Self::RestrictionRequested,
        Self::RestrictionLifted,
    ];

    /// The name receivers see, e.g. `consent.withdrawn`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConsentGiven => "consent.given",
            Self::ConsentWithdrawn => "consent.withdrawn",
            Self::ObjectionRecorded => "objection.recorded",
            Self::ErasureRequested => "erasure.requested",
            Self::PersonErased => "person.erased",
            Self::SuppressionAdded => "suppression.added",
            Self::PersonCorrected => "person.corrected",
            Self::RestrictionRequested => "restriction.requested",
            Self::RestrictionLifted => "restriction.lifted",
        }
    }
}

impl FromStr for HookEvent {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|e| e.as_str() == s).ok_or_else(|| {
            format!(
                "unknown event type '{}'; known: {}",
                s.chars().take(40).collect::<String>(),
                Self::ALL.map(|e| e.as_str()).join(", ")
            )
        })
    }
}

fn valid(s: ConsentStatus) -> bool {
    matches!(s, ConsentStatus::Given | ConsentStatus::RenewedGiven)
}

/// The scope fields of a consent, for the payload.
fn scope_fields(d: &mut Map<String, Value>, c: &ConsentRecord) {
    d.insert("person_id".into(), json!(c.person_id));
    d.insert("channels".into(), json!(c.scope.channels));
    d.insert("advertisers".into(), json!(c.scope.advertisers));
    d.insert("product_categories".into(), json!(c.scope.product_categories));
}

/// What a ledger event tells receivers, if anything: its type and its data (ids, channels,
/// scopes, times; never personal data). `consent` is the consent the event names, where it names
/// one only by id (status change, withdrawal), as it stood before the event.
pub fn outbound(body: &EventBody, consent: Option<&ConsentRecord>) -> Option<(HookEvent, Map<String, Value>)> {
    let mut d = Map::new();
    let kind = match body {
        EventBody::ConsentRecorded { consent: c } if valid(c.status) => {
            d.insert("consent_id".into(), json!(c.id));
            d.insert("status".into(), json!(c.status));
            scope_fields(&mut d, c);
            d.insert("at".into(), json!(c.given_at));
            HookEvent::ConsentGiven
        }
        EventBody::ConsentStatusChanged { consent_id, from, to, reason, at } if valid(*to) => {
            d.insert("consent_id".into(), json!(consent_id));
            d.insert("status".into(), json!(to));
            d.insert("previous_status".into(), json!(from));
            d.insert("reason".into(), json!(reason));
            if let Some(c) = consent {
                scope_fields(&mut d, c);
            }
            d.insert("at".into(), json!(at));
            HookEvent::ConsentGiven
        }
        EventBody::ConsentWithdrawn { consent_id, scope_delta, via, at, .. } => {
            d.insert("consent_id".into(), json!(consent_id));
            if let Some(c) = consent {
                scope_fields(&mut d, c);
            }
            // What was withdrawn: the delta, or (null) everything.
            d.insert("full".into(), json!(scope_delta.is_none()));
            d.insert("scope_delta".into(), json!(scope_delta));
            d.insert("via".into(), json!(via));
            d.insert("at".into(), json!(at));
            HookEvent::ConsentWithdrawn
        }
        EventBody::ObjectionRecorded { person_id, channels, advertisers, via, at } => {
            d.insert("person_id".into(), json!(person_id));
            d.insert("channels".into(), json!(channels));
            d.insert("advertisers".into(), json!(advertisers));
            d.insert("via".into(), json!(via));
            d.insert("at".into(), json!(at));
            HookEvent::ObjectionRecorded
        }
        EventBody::ErasureRequested { person_id, kept_until, at, .. } => {
            d.insert("person_id".into(), json!(person_id));
            d.insert("kept_until".into(), json!(kept_until));
            d.insert("at".into(), json!(at));
            HookEvent::ErasureRequested
        }
        EventBody::VaultErased { person_id, key_destroyed: true, at, .. } => {
            d.insert("person_id".into(), json!(person_id));
            d.insert("at".into(), json!(at));
            HookEvent::PersonErased
        }
        EventBody::SuppressionAdded { entry } => {
            // The keyed hash is of no use to a receiver (the key stays here) and the free-text
            // source may hold anything: neither goes out.
            d.insert("suppression_id".into(), json!(entry.id));
            d.insert("contact_kind".into(), json!(entry.key_kind));
            d.insert("channels".into(), json!(entry.scope.channels));
            d.insert("advertisers".into(), json!(entry.scope.advertisers));
            d.insert("reason".into(), json!(entry.reason));
            d.insert("at".into(), json!(entry.created_at));
            HookEvent::SuppressionAdded
        }
        // Art. 19: recipients learn that the data changed, not the data (they fetch it if allowed).
        EventBody::PersonCorrected { person_id, .. } => {
            d.insert("person_id".into(), json!(person_id));
            HookEvent::PersonCorrected
        }
        EventBody::RestrictionRequested { person_id, at, .. } => {
            d.insert("person_id".into(), json!(person_id));
            d.insert("at".into(), json!(at));
            HookEvent::RestrictionRequested
        }
        EventBody::RestrictionLifted { person_id, at } => {
            d.insert("person_id".into(), json!(person_id));
            d.insert("at".into(), json!(at));
            HookEvent::RestrictionLifted
        }
        _ => return None,
    };
    Some((kind, d))
}

/// The body a receiver gets: `{"type", "timestamp", "data": {…, "event_id", "ledger_seq"}}`
/// (Standard Webhooks' recommended shape). Deterministic: a retry sends the same bytes.
pub fn envelope(event: &str, data: &Map<String, Value>, ledger_seq: u64, event_id: &str, at: Timestamp) -> Vec<u8> {
    let mut d = data.clone();
    d.insert("event_id".into(), json!(event_id));
    d.insert("ledger_seq".into(), json!(ledger_seq));
    serde_json::to_vec(&json!({"type": event, "timestamp": at, "data": d})).expect("JSON values serialise")
}

/// Prefix of a signing secret (Standard Webhooks).
pub const SECRET_PREFIX: &str = "whsec_";

/// The signing secret as shown once to the operator: `whsec_` + base64 of the key bytes.
pub fn secret_string(key: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The key bytes of a `whsec_…` secret (the base64 part is the key).
pub fn secret_key(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()
}

/// The `webhook-signature` header value: `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")).
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut msg = Vec::with_capacity(id.len() + body.len() + 24);
    msg.extend_from_slice(id.as_bytes());
    msg.push(b'.');
    msg.extend_from_slice(timestamp.to_string().as_bytes());
    msg.push(b'.');
    msg.extend_from_slice(body);
    format!("v1,{}", STANDARD.encode(hmac256(key, &msg)))
}

/// Wait before the next attempt after `attempts` failed ones: 30 s, 2 min, 10 min, 1 h, 6 h,
/// then 12 h; `jitter` (any byte) spreads it by up to ±10 % so receivers coming back are not hit
/// by every sender at once.
pub fn backoff(attempts: u32, jitter: u8) -> SignedDuration {
    const STEPS: [i64; 6] = [30, 120, 600, 3600, 6 * 3600, 12 * 3600];
    let base = STEPS[(attempts.max(1) as usize - 1).min(STEPS.len() - 1)];
    let spread = base / 10;
    let offset = (i64::from(jitter) * 2 * spread) / 255 - spread;
    SignedDuration::from_secs(base + offset)
}

/// Constant-time comparison of two byte strings.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests;
