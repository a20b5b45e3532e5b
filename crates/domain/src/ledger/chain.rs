//! Chain verification: walks stored rows and names the first broken entry.

use serde::Serialize;

use super::batch::root_of;
use super::entry::{Entry, GENESIS_HASH, entry_hash};
use crate::ids::TenantId;

/// What is wrong with a stored entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BreakKind {
    /// A seq is missing or repeated.
    #[error("expected entry {expected}, found entry {found}")]
    Sequence {
        /// Expected seq.
        expected: u64,
        /// Stored seq.
        found: u64,
    },
    /// `prev_hash` does not equal the previous entry's hash.
    #[error("prev_hash does not match the hash of the previous entry")]
    PrevHash,
    /// `hash` does not equal SHA-256 of the stored bytes.
    #[error("hash does not match the stored payload (payload or hash changed)")]
    Hash,
    /// The payload names another position or tenant.
    #[error("payload does not belong to this tenant and position")]
    Envelope,
    /// A signed checkpoint does not match the chain.
    #[error("signed checkpoint does not match the chain (hash differs or signature invalid)")]
    Checkpoint,
    /// A batch entry's stored records do not match the root it holds (or are missing).
    #[error("the records stored with this batch entry do not match the root it holds")]
    Records,
    /// The chain is shorter than a signed checkpoint says.
    #[error("chain ends before entry {expected}, which a signed checkpoint or the chain head names")]
    Truncated {
        /// Seq the checkpoint or chain head names.
        expected: u64,
    },
}

/// The first broken entry of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("ledger of tenant {tenant} broken at entry {seq}: {kind}")]
pub struct ChainBreak {
    /// Tenant.
    pub tenant: TenantId,
    /// Seq of the first broken entry.
    pub seq: u64,
    /// What is wrong.
    pub kind: BreakKind,
}

/// Walks one tenant's chain (or a segment of it) entry by entry; feed rows in seq order.
#[derive(Debug)]
pub struct ChainVerifier {
    tenant: TenantId,
    next_seq: u64,
    prev: Option<[u8; 32]>,
    first_prev: Option<[u8; 32]>,
    prefix_base: String,
}

impl ChainVerifier {
    /// Starts at the genesis (entry 1).
    pub fn new(tenant: TenantId) -> Self {
        Self::segment(tenant, 1, Some(GENESIS_HASH))
    }

    /// Starts a segment at `from_seq`. With `prev = None` the first row's stored `prev_hash` is
    /// taken as given; the caller must check it against the previous segment ([`ChainVerifier::first_prev`]).
    pub fn segment(tenant: TenantId, from_seq: u64, prev: Option<[u8; 32]>) -> Self {
        Self {
            tenant,
            next_seq: from_seq,
            prev,
            first_prev: prev,
            prefix_base: format!("{{\"v\":1,\"tenant\":\"{tenant}\",\"seq\":"),
        }
    }

    /// Checks the next stored row: its position, its chain hash, and for a batch entry that the
    /// `records` stored with it lead to the root its payload holds.
    pub fn feed(
        &mut self,
        seq: u64,
        payload: &[u8],
        prev_hash: &[u8],
        hash: &[u8],
        records: Option<&[u8]>,
    ) -> Result<(), ChainBreak> {
        let fail = |kind| ChainBreak { tenant: self.tenant, seq, kind };
        if seq != self.next_seq {
            return Err(ChainBreak {
                tenant: self.tenant,
                seq: self.next_seq,
                kind: BreakKind::Sequence { expected: self.next_seq, found: seq },
            });
        }
        let prev = match self.prev {
            Some(p) => p,
            None => {
                let p: [u8; 32] = prev_hash.try_into().map_err(|_| fail(BreakKind::PrevHash))?;
                self.first_prev = Some(p);
                p
            }
        };
        if prev_hash != prev {
            return Err(fail(BreakKind::PrevHash));
        }
        let computed = entry_hash(&prev, payload);
        if hash != computed {
            return Err(fail(BreakKind::Hash));
        }
        // Position check without parsing: prefix + seq digits + ','.
        let base = self.prefix_base.as_bytes();
        let mut digits = itoa_buf(seq);
        digits.push(b',');
        if !(payload.starts_with(base) && payload[base.len()..].starts_with(&digits)) {
            return Err(fail(BreakKind::Envelope));
        }
        // Only a batch entry has records: parse only those.
        if records.is_some() || is_batch(payload) {
            let root = Entry::decode(payload).ok().and_then(|e| e.body.batch_root());
            match (root, records.map(root_of)) {
                (Some(root), Some(Ok(r))) if r == root => {}
                (None, None) => {}
                _ => return Err(fail(BreakKind::Records)),
            }
        }
        self.prev = Some(computed);
        self.next_seq += 1;
        Ok(())
    }

    /// Seq and hash of the last good entry (`from_seq - 1` and the starting hash when nothing was fed).
    pub fn head(&self) -> (u64, [u8; 32]) {
        (self.next_seq - 1, self.prev.unwrap_or(GENESIS_HASH))
    }

    /// The `prev_hash` the segment started from (stored value when started with `None`).
    pub fn first_prev(&self) -> Option<[u8; 32]> {
        self.first_prev
    }
}

/// Whether the entry's body (its last field, after the actor, whose strings cannot hold an
/// unescaped quote) is a batch entry; only the start of the payload is searched.
fn is_batch(payload: &[u8]) -> bool {
    const BODY: &[u8] = b"},\"body\":{\"type\":\"";
    memchr::memmem::find(payload, BODY).is_some_and(|at| payload[at + BODY.len()..].starts_with(b"batch\""))
}

fn itoa_buf(mut n: u64) -> Vec<u8> {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf[i..].to_vec()
}
