//! Ledger entries: the envelope that is encoded to exact bytes and hashed into the chain.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::actor::Actor;
use super::events::EventBody;
use crate::ids::{EventId, TenantId};

/// Hash of the (virtual) entry before the first one.
pub const GENESIS_HASH: [u8; 32] = [0; 32];
const HASH_DOMAIN: &[u8] = b"konsent-ledger-v1\0";

/// The envelope that is encoded and hashed. Field order is fixed, so encoding is deterministic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Format version.
    pub v: u8,
    /// Tenant whose chain this is.
    pub tenant: TenantId,
    /// Position in the chain, from 1.
    pub seq: u64,
    /// Event id.
    pub event_id: EventId,
    /// When Konsent recorded it.
    pub recorded_at: Timestamp,
    /// Who caused it.
    pub actor: Actor,
    /// What happened.
    pub body: EventBody,
}

/// Error decoding a stored payload.
#[derive(Debug, thiserror::Error)]
#[error("ledger payload is not a valid entry: {0}")]
pub struct DecodeError(#[from] serde_json::Error);

impl Entry {
    /// The exact bytes stored and hashed. Starts with `{"v":1,"tenant":"…","seq":N,` (see [`payload_prefix`]).
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("ledger entries always serialise")
    }
    /// Parses stored bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(serde_json::from_slice(bytes)?)
    }
}

/// The prefix every payload of `tenant` at `seq` must start with; lets `verify` check position
/// without parsing JSON.
pub fn payload_prefix(tenant: TenantId, seq: u64) -> String {
    format!("{{\"v\":1,\"tenant\":\"{tenant}\",\"seq\":{seq},")
}

/// Chain hash of an entry: SHA-256(domain ‖ prev_hash ‖ payload).
pub fn entry_hash(prev_hash: &[u8; 32], payload: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(HASH_DOMAIN);
    h.update(prev_hash);
    h.update(payload);
    h.finalize().into()
}
