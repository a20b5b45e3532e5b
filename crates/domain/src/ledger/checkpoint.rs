//! Signed checkpoints: an Ed25519 signature over a chain head.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::TenantId;

const CHECKPOINT_DOMAIN: &[u8] = b"konsent-checkpoint-v1\0";

/// A signed statement that `tenant`'s chain had `head_hash` at `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Tenant.
    pub tenant: TenantId,
    /// Seq of the head entry.
    pub seq: u64,
    /// Hash of the head entry, hex.
    pub head_hash: String,
    /// When sealed.
    pub sealed_at: Timestamp,
    /// Ed25519 signature over [`Checkpoint::message`], hex.
    pub signature: String,
    /// Hex of the public key that signed.
    pub public_key: String,
}

impl Checkpoint {
    /// The exact bytes signed.
    pub fn message(tenant: TenantId, seq: u64, head_hash: &[u8; 32], sealed_at: Timestamp) -> Vec<u8> {
        let mut m = Vec::with_capacity(CHECKPOINT_DOMAIN.len() + 16 + 8 + 32 + 16);
        m.extend_from_slice(CHECKPOINT_DOMAIN);
        m.extend_from_slice(tenant.as_uuid().as_bytes());
        m.extend_from_slice(&seq.to_be_bytes());
        m.extend_from_slice(head_hash);
        m.extend_from_slice(&sealed_at.as_microsecond().to_be_bytes());
        m
    }

    /// Signs a chain head.
    pub fn seal(key: &SigningKey, tenant: TenantId, seq: u64, head_hash: [u8; 32], sealed_at: Timestamp) -> Self {
        let sig = key.sign(&Self::message(tenant, seq, &head_hash, sealed_at));
        Self {
            tenant,
            seq,
            head_hash: hex::encode(head_hash),
            sealed_at,
            signature: hex::encode(sig.to_bytes()),
            public_key: hex::encode(key.verifying_key().to_bytes()),
        }
    }

    /// Verifies the signature with a trusted public key (not the one the checkpoint names).
    pub fn verify_signature(&self, trusted: &VerifyingKey) -> bool {
        let Ok(head) = hex::decode(&self.head_hash) else {
            return false;
        };
        let Ok(head): Result<[u8; 32], _> = head.try_into() else {
            return false;
        };
        let Ok(sig) = hex::decode(&self.signature) else {
            return false;
        };
        let Ok(sig): Result<[u8; 64], _> = sig.try_into() else {
            return false;
        };
        trusted
            .verify(&Self::message(self.tenant, self.seq, &head, self.sealed_at), &Signature::from_bytes(&sig))
            .is_ok()
    }
}
