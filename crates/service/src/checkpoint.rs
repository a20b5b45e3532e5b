//! Signed checkpoints: seal every tenant's chain in ranges of at most `CHECKPOINT_SPAN` entries,
//! each with the Merkle root of its entry hashes, signed with the installation's Ed25519 key.

use konsent_domain::ids::TenantId;
use konsent_domain::ledger::{CHECKPOINT_SPAN, Checkpoint, Sealed, merkle};
use konsent_store::ledger;

use crate::context::Konsent;
use crate::error::ServiceError;

/// Seals everything appended since the last checkpoint of every chain; returns how many
/// checkpoints were written.
pub async fn seal_all(k: &Konsent) -> Result<usize, ServiceError> {
    let mut sealed = 0;
    for (tenant, head_seq) in ledger::chain_heads(&k.db).await? {
        sealed += seal_tenant(k, tenant, head_seq).await?;
    }
    Ok(sealed)
}

/// Seals one tenant's chain up to `head_seq`; returns how many checkpoints were written.
pub async fn seal_tenant(k: &Konsent, tenant: TenantId, head_seq: u64) -> Result<usize, ServiceError> {
    let mut last = ledger::checkpoints(&k.db, tenant).await?.last().map(|c| c.seq).unwrap_or(0);
    let mut sealed = 0;
    while last < head_seq {
        let from_seq = last + 1;
        let seq = (last + CHECKPOINT_SPAN).min(head_seq);
        let hashes = ledger::hashes(&k.db, tenant, from_seq, seq).await?;
        let (Some(head_hash), Some(merkle_root)) = (hashes.last().copied(), merkle::root(&hashes)) else {
            return Err(ServiceError::Conflict(format!("chain of tenant {tenant} has no entries {from_seq}..={seq}")));
        };
        if hashes.len() as u64 != seq - last {
            return Err(ServiceError::Conflict(format!(
                "chain of tenant {tenant} misses entries between {from_seq} and {seq}; run konsent verify"
            )));
        }
        let range = Sealed { tenant, from_seq, seq, head_hash, merkle_root };
        ledger::insert_checkpoint(&k.db, &Checkpoint::seal(k.keys.signing(), range, k.now())).await?;
        sealed += 1;
        last = seq;
    }
    Ok(sealed)
}
