//! `konsent verify`: walks every tenant's chain, checks every hash, every signed checkpoint and
//! the Merkle root each checkpoint signs, and names the first broken entry. Long chains are read in parallel segments whose ends are
//! stitched together, which checks exactly what one sequential walk checks.

use std::collections::VecDeque;
use std::time::Instant;

use konsent_domain::ids::TenantId;
use konsent_domain::ledger::{BreakKind, CHECKPOINT_SPAN, ChainBreak, ChainVerifier, Checkpoint, merkle};
use konsent_store::{Db, ledger};
use serde::Serialize;

use crate::context::Konsent;
use crate::error::ServiceError;

/// Chains shorter than this are walked in one piece.
const SEGMENT_MIN: u64 = 50_000;
/// Segments read at once.
const PARALLEL: u64 = 4;

/// Result for one tenant.
#[derive(Debug, Clone, Serialize)]
pub struct TenantVerification {
    /// Tenant.
    pub tenant: TenantId,
    /// Entries checked.
    pub entries: u64,
    /// Signed checkpoints checked.
    pub checkpoints: usize,
}

/// Result of a whole verification.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// Per tenant.
    pub tenants: Vec<TenantVerification>,
    /// All entries checked.
    pub entries: u64,
    /// Seconds taken.
    pub seconds: f64,
    /// The first break, if any.
    pub broken: Option<ChainBreak>,
}

impl VerifyReport {
    /// True when everything verified.
    pub fn ok(&self) -> bool {
        self.broken.is_none()
    }
}

struct Segment {
    verifier: ChainVerifier,
    broken: Option<ChainBreak>,
    /// Checkpoints whose range starts before this segment: their roots are checked afterwards.
    straddling: Vec<Checkpoint>,
}

/// Whether `cp` signs the Merkle root of `leaves` (checkpoints from before roots sign none).
fn root_matches(cp: &Checkpoint, leaves: &[[u8; 32]]) -> bool {
    cp.merkle_root.is_empty() || (merkle::root(leaves).is_some() && merkle::root(leaves) == cp.root_bytes())
}

async fn walk_segment(
    db: Db,
    tenant: TenantId,
    from: u64,
    to: u64,
    cps: Vec<Checkpoint>,
    trusted: ed25519_dalek::VerifyingKey,
) -> Result<Segment, ServiceError> {
    let start_prev = (from == 1).then_some(konsent_domain::ledger::GENESIS_HASH);
    let mut v = ChainVerifier::segment(tenant, from, start_prev);
    let mut next_cp = 0usize;
    let mut recent: VecDeque<[u8; 32]> = VecDeque::with_capacity(CHECKPOINT_SPAN as usize);
    let mut straddling = Vec::new();
    let walked = ledger::for_each_row(&db, tenant, from, to, |seq, payload, prev, hash, records| {
        v.feed(seq, payload, prev, hash, records)?;
        if recent.len() == CHECKPOINT_SPAN as usize {
            recent.pop_front();
        }
        recent.push_back(hash.try_into().unwrap_or([0; 32]));
        while let Some(cp) = cps.get(next_cp).filter(|c| c.seq <= seq) {
            if cp.seq == seq {
                let broken = !cp.verify_signature(&trusted) || cp.head_hash != hex::encode(hash);
                let root_ok = if cp.merkle_root.is_empty() {
                    true
                } else if cp.from_seq < from || cp.seq - cp.from_seq >= CHECKPOINT_SPAN {
                    straddling.push(cp.clone());
                    true
                } else {
                    let n = (cp.seq - cp.from_seq + 1) as usize;
                    let leaves: Vec<[u8; 32]> = recent.iter().skip(recent.len() - n).copied().collect();
                    root_matches(cp, &leaves)
                };
                if broken || !root_ok {
                    return Err(ChainBreak { tenant, seq, kind: BreakKind::Checkpoint });
                }
            }
            next_cp += 1;
        }
        Ok(())
    })
    .await?;
    Ok(Segment { verifier: v, broken: walked.err(), straddling })
}

/// Verifies one chain up to its recorded head.
async fn verify_chain(
    k: &Konsent,
    tenant: TenantId,
    head_seq: u64,
) -> Result<(u64, usize, Option<ChainBreak>), ServiceError> {
    let cps = ledger::checkpoints(&k.db, tenant).await?;
    let trusted = k.keys.public();
    let parts = if head_seq < SEGMENT_MIN { 1 } else { PARALLEL };
    let len = head_seq.div_ceil(parts).max(1);
    let mut handles = Vec::new();
    for i in 0..parts {
        let from = 1 + i * len;
        let to = if i + 1 == parts { head_seq } else { (from + len - 1).min(head_seq) };
        let mine: Vec<Checkpoint> = cps.iter().filter(|c| c.seq >= from && c.seq <= to).cloned().collect();
        handles.push((to, tokio::spawn(walk_segment(k.db.clone(), tenant, from, to, mine, trusted))));
    }
    let mut end: (u64, [u8; 32]) = (0, konsent_domain::ledger::GENESIS_HASH);
    for (to, h) in handles {
        let seg = h.await.map_err(|e| ServiceError::Conflict(format!("verification task failed: {e}")))??;
        let (last, hash) = seg.verifier.head();
        // The segment must continue exactly where the previous one ended.
        if last > end.0 && seg.verifier.first_prev().is_some_and(|p| p != end.1) {
            return Ok((end.0, cps.len(), Some(ChainBreak { tenant, seq: end.0 + 1, kind: BreakKind::PrevHash })));
        }
        if let Some(b) = seg.broken {
            return Ok((last, cps.len(), Some(b)));
        }
        for cp in &seg.straddling {
            let leaves = ledger::hashes(&k.db, tenant, cp.from_seq, cp.seq).await?;
            if !root_matches(cp, &leaves) {
                return Ok((last, cps.len(), Some(ChainBreak { tenant, seq: cp.seq, kind: BreakKind::Checkpoint })));
            }
        }
        if last != to {
            return Ok((
                last,
                cps.len(),
                Some(ChainBreak { tenant, seq: last + 1, kind: BreakKind::Truncated { expected: to } }),
            ));
        }
        end = (last, hash);
    }
    if let Some(cp) = cps.iter().find(|c| c.seq > end.0) {
        return Ok((
            end.0,
            cps.len(),
            Some(ChainBreak { tenant, seq: end.0 + 1, kind: BreakKind::Truncated { expected: cp.seq } }),
        ));
    }
    Ok((end.0, cps.len(), None))
}

/// Verifies all chains and checkpoints with the installation's public key.
pub async fn verify(k: &Konsent) -> Result<VerifyReport, ServiceError> {
    let started = Instant::now();
    let mut report = VerifyReport { tenants: vec![], entries: 0, seconds: 0.0, broken: None };
    for (tenant, head_seq) in ledger::chain_heads(&k.db).await? {
        let (entries, checkpoints, broken) = verify_chain(k, tenant, head_seq).await?;
        report.entries += entries;
        if broken.is_some() {
            report.broken = broken;
            break;
        }
        report.tenants.push(TenantVerification { tenant, entries, checkpoints });
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
