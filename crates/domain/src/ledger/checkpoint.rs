//! Signed checkpoints: an Ed25519 signature over a chain head and the Merkle root of the entries it
//! seals (`from_seq..=seq`), so a single entry can be proven without the rest of the chain.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::TenantId;

const CHECKPOINT_DOMAIN: &[u8] = b"konsent-checkpoint-v2\0";
/// Checkpoints sealed before Merkle roots (head only); still verified, but prove no single entry.
const CHECKPOINT_DOMAIN_V1: &[u8] = b"konsent-checkpoint-v1\0";

/// Entries sealed by one checkpoint at most: bounds the audit paths and what a proof must load.
pub const CHECKPOINT_SPAN: u64 = 4096;

/// A signed statement that `tenant`'s chain had `head_hash` at `seq`, and that the entries
/// `from_seq..=seq` have the Merkle root `merkle_root`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Tenant.
    pub tenant: TenantId,
    /// First entry sealed by this checkpoint (the one after the previous checkpoint).
    pub from_seq: u64,
    /// Seq of the head entry.
    pub seq: u64,
    /// Hash of the head entry, hex.
    pub head_hash: String,
    /// Merkle root (RFC 9162 shape) over the entry hashes `from_seq..=seq`, hex.
    pub merkle_root: String,
    /// When sealed.
    pub sealed_at: Timestamp,
    /// Ed25519 signature over [`Checkpoint::message`], hex.
    pub signature: String,
    /// Hex of the public key that signed.
    pub public_key: String,
}

impl Checkpoint {
    /// The exact bytes signed.
    pub fn message(range: Sealed, sealed_at: Timestamp) -> Vec<u8> {
        let mut m = Vec::with_capacity(CHECKPOINT_DOMAIN.len() + 16 + 8 + 8 + 32 + 32 + 16);
        m.extend_from_slice(CHECKPOINT_DOMAIN);
        m.extend_from_slice(range.tenant.as_uuid().as_bytes());
        m.extend_from_slice(&range.from_seq.to_be_bytes());
        m.extend_from_slice(&range.seq.to_be_bytes());
        m.extend_from_slice(&range.head_hash);
        m.extend_from_slice(&range.merkle_root);
        m.extend_from_slice(&sealed_at.as_microsecond().to_be_bytes());
        m
    }

    /// Signs a chain head and the root of the entries it seals.
    pub fn seal(key: &SigningKey, range: Sealed, sealed_at: Timestamp) -> Self {
        let sig = key.sign(&Self::message(range, sealed_at));
        Self {
            tenant: range.tenant,
            from_seq: range.from_seq,
            seq: range.seq,
            head_hash: hex::encode(range.head_hash),
            merkle_root: hex::encode(range.merkle_root),
            sealed_at,
            signature: hex::encode(sig.to_bytes()),
            public_key: hex::encode(key.verifying_key().to_bytes()),
        }
    }

    /// Verifies the signature with a trusted public key (not the one the checkpoint names).
    pub fn verify_signature(&self, trusted: &VerifyingKey) -> bool {
        let Some(head_hash) = hash32(&self.head_hash) else {
            return false;
        };
        let Ok(sig) = hex::decode(&self.signature) else {
            return false;
        };
        let Ok(sig): Result<[u8; 64], _> = sig.try_into() else {
            return false;
        };
        let message = if self.merkle_root.is_empty() {
            let mut m = CHECKPOINT_DOMAIN_V1.to_vec();
            m.extend_from_slice(self.tenant.as_uuid().as_bytes());
            m.extend_from_slice(&self.seq.to_be_bytes());
            m.extend_from_slice(&head_hash);
            m.extend_from_slice(&self.sealed_at.as_microsecond().to_be_bytes());
            m
        } else {
            let Some(merkle_root) = hash32(&self.merkle_root) else {
                return false;
            };
            Self::message(self.range(head_hash, merkle_root), self.sealed_at)
        };
        trusted.verify(&message, &Signature::from_bytes(&sig)).is_ok()
    }

    fn range(&self, head_hash: [u8; 32], merkle_root: [u8; 32]) -> Sealed {
        Sealed { tenant: self.tenant, from_seq: self.from_seq, seq: self.seq, head_hash, merkle_root }
    }

    /// The Merkle root as bytes (None when the stored hex is malformed).
    pub fn root_bytes(&self) -> Option<[u8; 32]> {
        hash32(&self.merkle_root)
    }

    /// Whether this checkpoint seals entry `seq`.
    pub fn covers(&self, seq: u64) -> bool {
        (self.from_seq..=self.seq).contains(&seq)
    }
}

/// What a checkpoint seals: the range, its head and the Merkle root of its entry hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sealed {
    /// Tenant.
    pub tenant: TenantId,
    /// First entry.
    pub from_seq: u64,
    /// Last entry (the head at sealing).
    pub seq: u64,
    /// Hash of entry `seq`.
    pub head_hash: [u8; 32],
    /// Merkle root over the entry hashes `from_seq..=seq`.
    pub merkle_root: [u8; 32],
}

/// Parses 64 hex digits.
pub fn hash32(hex_str: &str) -> Option<[u8; 32]> {
    hex::decode(hex_str).ok()?.try_into().ok()
}
