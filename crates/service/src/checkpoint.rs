//! Signed checkpoints: seal every tenant's chain head with the installation's Ed25519 key.

use konsent_domain::ledger::Checkpoint;
use konsent_store::ledger;

use crate::context::Konsent;
use crate::error::ServiceError;

/// Seals the head of every chain that grew since its last checkpoint; returns how many were sealed.
pub async fn seal_all(k: &Konsent) -> Result<usize, ServiceError> {
    let mut sealed = 0;
    for (tenant, head_seq) in ledger::chain_heads(&k.db).await? {
        if head_seq == 0 {
            continue;
        }
        let last = ledger::checkpoints(&k.db, tenant).await?.last().map(|c| c.seq).unwrap_or(0);
        if last >= head_seq {
            continue;
        }
        let Some((_, _, hash)) = ledger::entries(&k.db, tenant, head_seq, head_seq).await?.pop() else {
            return Err(ServiceError::Conflict(format!("chain head {head_seq} of tenant {tenant} has no entry")));
        };
        let cp = Checkpoint::seal(k.keys.signing(), tenant, head_seq, hash, k.now());
        ledger::insert_checkpoint(&k.db, &cp).await?;
        sealed += 1;
    }
    Ok(sealed)
}
