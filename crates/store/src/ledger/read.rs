//! Reading the ledger back: chain heads, entries and their hashes, a person's entries with their
//! records of batch entries, and the signed checkpoints.

use jiff::Timestamp;
use konsent_domain::ids::{PersonId, TenantId};
use konsent_domain::ledger::{Checkpoint, Entry, Record, RecordProof};

use super::{micros, to_hash};
use crate::db::Db;
use crate::error::StoreError;
use crate::vals;

/// Every tenant that has a chain, with its head seq.
pub async fn chain_heads(db: &Db) -> Result<Vec<(TenantId, u64)>, StoreError> {
    let rows = db.fetch_all("SELECT tenant_id, seq FROM chain_heads ORDER BY tenant_id", vec![]).await?;
    rows.iter()
        .map(|r| {
            let t = r.id(0)?;
            Ok((t, r.i64(1)? as u64))
        })
        .collect()
}

/// Decoded entries of `tenant` with `from <= seq <= to`.
pub async fn entries(
    db: &Db,
    tenant: TenantId,
    from: u64,
    to: u64,
) -> Result<Vec<(Entry, [u8; 32], [u8; 32])>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT payload, prev_hash, hash FROM ledger WHERE tenant_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq",
            vals![tenant, from as i64, to as i64],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let e = Entry::decode(&r.bytes(0)?).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok((e, to_hash(r.bytes(1)?)?, to_hash(r.bytes(2)?)?))
        })
        .collect()
}

/// Entry hashes of `tenant` with `from <= seq <= to`, in seq order (for Merkle roots).
pub async fn hashes(db: &Db, tenant: TenantId, from: u64, to: u64) -> Result<Vec<[u8; 32]>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT hash FROM ledger WHERE tenant_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq",
            vals![tenant, from as i64, to as i64],
        )
        .await?;
    rows.iter().map(|r| to_hash(r.bytes(0)?)).collect()
}

/// A stored entry exactly as kept: seq, payload bytes, prev hash, hash.
pub type RawEntry = (u64, Vec<u8>, [u8; 32], [u8; 32]);

/// A stored entry that concerns a person, exactly as kept, and for a batch entry the person's
/// record in it with its proof to the entry's root.
#[derive(Debug, Clone)]
pub struct PersonEntry {
    /// The entry.
    pub raw: RawEntry,
    /// The person's record, for a batch entry.
    pub record: Option<RecordProof>,
}

impl PersonEntry {
    /// The person's events of this entry: the entry itself, or the events of their record.
    pub fn events(&self) -> Result<Vec<Entry>, StoreError> {
        let corrupt = |e: String| StoreError::Corrupt(format!("entry {}: {e}", self.raw.0));
        let entry = Entry::decode(&self.raw.1).map_err(|e| corrupt(e.to_string()))?;
        match &self.record {
            None => Ok(vec![entry]),
            Some(r) => Ok(Record::decode(&r.bytes).map_err(|e| corrupt(e.to_string()))?.entries(&entry)),
        }
    }
}

/// The stored entries that concern a person, in seq order (for proof packages and timelines):
/// entries naming them, and batch entries holding a record of theirs.
pub async fn person_entries(db: &Db, tenant: TenantId, person: &PersonId) -> Result<Vec<PersonEntry>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT seq, payload, prev_hash, hash FROM ledger WHERE tenant_id = $1 AND person_id = $2 ORDER BY seq",
            vals![tenant, person],
        )
        .await?;
    let mut out = rows
        .iter()
        .map(|r| {
            let raw = (r.i64(0)? as u64, r.bytes(1)?, to_hash(r.bytes(2)?)?, to_hash(r.bytes(3)?)?);
            Ok(PersonEntry { raw, record: None })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let batches = db
        .fetch_all(
            "SELECT l.seq, l.payload, l.prev_hash, l.hash, l.records, r.idx FROM ledger_refs r \
             JOIN ledger l ON l.tenant_id = r.tenant_id AND l.seq = r.seq \
             WHERE r.tenant_id = $1 AND r.person_id = $2 ORDER BY r.seq",
            vals![tenant, person],
        )
        .await?;
    for r in &batches {
        let seq = r.i64(0)? as u64;
        let stored = r.opt_bytes(4)?.ok_or_else(|| StoreError::Corrupt(format!("batch entry {seq} has no records")))?;
        let record = konsent_domain::ledger::prove(&super::pack::unpack(&stored)?, r.i64(5)? as usize)
            .map_err(|e| StoreError::Corrupt(format!("batch entry {seq}: {e}")))?;
        let raw = (seq, r.bytes(1)?, to_hash(r.bytes(2)?)?, to_hash(r.bytes(3)?)?);
        out.push(PersonEntry { raw, record: Some(record) });
    }
    out.sort_by_key(|e| e.raw.0);
    Ok(out)
}

/// Stores a signed checkpoint.
pub async fn insert_checkpoint(db: &Db, cp: &Checkpoint) -> Result<(), StoreError> {
    db.exec(
        "INSERT INTO checkpoints (tenant_id, seq, from_seq, head_hash, merkle_root, sealed_at, signature, public_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, seq) DO NOTHING",
        vals![
            cp.tenant,
            cp.seq as i64,
            cp.from_seq as i64,
            cp.head_hash.clone(),
            cp.merkle_root.clone(),
            micros(cp.sealed_at),
            cp.signature.clone(),
            cp.public_key.clone()
        ],
    )
    .await?;
    Ok(())
}

/// All checkpoints of a tenant, by seq.
pub async fn checkpoints(db: &Db, tenant: TenantId) -> Result<Vec<Checkpoint>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT seq, head_hash, sealed_at, signature, public_key, from_seq, merkle_root FROM checkpoints \
             WHERE tenant_id = $1 ORDER BY seq",
            vals![tenant],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Checkpoint {
                tenant,
                seq: r.i64(0)? as u64,
                head_hash: r.text(1)?,
                sealed_at: Timestamp::from_microsecond(r.i64(2)?).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                signature: r.text(3)?,
                public_key: r.text(4)?,
                from_seq: r.i64(5)? as u64,
                merkle_root: r.text(6)?,
            })
        })
        .collect()
}
