//! Appending to and reading the ledger. Appends are serialised per tenant (single writer on SQLite,
//! a row lock on the tenant's chain head on PostgreSQL) and applied to the projections in the
//! same transaction.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use jiff::Timestamp;
use konsent_domain::ids::{EventId, PersonId, TenantId};
use konsent_domain::ledger::{
    Actor, Checkpoint, Entry, EventBody, GENESIS_HASH, Record, RecordProof, Subject, encode_record, entry_hash,
    frame as batch_frame,
};
use sqlx::Row as _;

use crate::bulk::{Bulk, LEDGER, LEDGER_REFS};
use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::side::{SideWrite, write_side_bulk};
use crate::{projection, vals};

/// An event about to be appended.
#[derive(Debug, Clone)]
pub struct PendingEvent {
    /// Its id (made by the caller from injected entropy).
    pub event_id: EventId,
    /// Who caused it.
    pub actor: Actor,
    /// What happened.
    pub body: EventBody,
}

/// Where an event landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// Its seq in the tenant's chain.
    pub seq: u64,
    /// Its id.
    pub event_id: EventId,
    /// Its chain hash.
    pub hash: [u8; 32],
}

const LOCK_HEAD: &str = "INSERT INTO chain_heads (tenant_id, seq, hash) VALUES ($1, 0, $2) \
    ON CONFLICT (tenant_id) DO UPDATE SET seq = chain_heads.seq RETURNING seq, hash";
const SET_HEAD: &str = "UPDATE chain_heads SET seq = $2, hash = $3 WHERE tenant_id = $1";

fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

fn to_hash(v: Vec<u8>) -> Result<[u8; 32], StoreError> {
    v.try_into().map_err(|_| StoreError::Corrupt("chain hash is not 32 bytes".into()))
}

/// Appends `events` (and `side` rows) to `tenant`'s chain in one transaction.
pub async fn append(
    db: &Db,
    tenant: TenantId,
    recorded_at: Timestamp,
    events: Vec<PendingEvent>,
    side: Vec<SideWrite>,
) -> Result<Vec<Appended>, StoreError> {
    let mut tx = db.begin().await?;
    let out = append_in(&mut tx, tenant, recorded_at, events, side).await?;
    tx.commit().await?;
    Ok(out)
}

/// How an append folds persons' events into one batch entry (an import batch): the batch
/// entry's own id and actor, and what wrote it. Events of the kinds that create a person, a
/// contact point or a consent become one record per person; every other event stays an entry
/// of its own, after the batch entry.
#[derive(Debug, Clone)]
pub struct Folding {
    /// The batch entry's id.
    pub event_id: EventId,
    /// Who caused it; only events of the same actor are folded.
    pub actor: Actor,
    /// What wrote it (`import <id>`).
    pub label: String,
}

/// Whether an event of this kind may go into a batch record: it names its person (directly or
/// through a contact point or consent of the same append) and its projection needs no seq.
fn foldable(body: &EventBody) -> bool {
    matches!(
        body,
        EventBody::PersonRegistered { .. }
            | EventBody::ContactPointAdded { .. }
            | EventBody::ContactPointVerified { .. }
            | EventBody::ConsentRecorded { .. }
            | EventBody::EvidenceAdded { .. }
    )
}

/// The body of [`append`], usable inside a larger transaction.
pub async fn append_in(
    tx: &mut Tx,
    tenant: TenantId,
    recorded_at: Timestamp,
    events: Vec<PendingEvent>,
    side: Vec<SideWrite>,
) -> Result<Vec<Appended>, StoreError> {
    append_folding(tx, tenant, recorded_at, events, side, None).await
}

/// [`append_in`], folding persons' events into one batch entry when `folding` is given. The
/// answer lists every event in the order given; folded events answer with the batch entry's seq
/// and hash.
pub async fn append_folding(
    tx: &mut Tx,
    tenant: TenantId,
    recorded_at: Timestamp,
    events: Vec<PendingEvent>,
    side: Vec<SideWrite>,
    folding: Option<Folding>,
) -> Result<Vec<Appended>, StoreError> {
    let t = tenant.to_string();
    let head = tx
        .fetch_optional(LOCK_HEAD, vals![t.clone(), GENESIS_HASH.to_vec()])
        .await?
        .ok_or_else(|| StoreError::Corrupt("chain head upsert returned nothing".into()))?;
    let mut seq = u64::try_from(head.i64(0)?).map_err(|_| StoreError::Corrupt("negative seq".into()))?;
    let mut prev = to_hash(head.bytes(1)?)?;
    let mut out: Vec<Option<Appended>> = vec![None; events.len()];
    // Persons of the consents and contact points this append creates: an import's verification
    // events name their person without a query each.
    let mut known: HashMap<Subject, PersonId> = HashMap::new();
    for ev in &events {
        if let (Some(subject), Some(p)) = (ev.body.subject(), ev.body.person()) {
            known.insert(subject, p);
        }
    }
    let mut bulk = Bulk::default();
    let mut rest: Vec<(usize, PendingEvent)> = Vec::with_capacity(events.len());
    let mut records: Vec<(PersonId, Vec<(usize, PendingEvent)>)> = Vec::new();
    match &folding {
        None => rest.extend(events.into_iter().enumerate()),
        Some(f) => {
            let mut at: HashMap<PersonId, usize> = HashMap::new();
            for (i, ev) in events.into_iter().enumerate() {
                let person = ev.body.person().or_else(|| ev.body.subject().and_then(|s| known.get(&s).copied()));
                match person.filter(|_| foldable(&ev.body) && ev.actor == f.actor) {
                    Some(p) => {
                        let r = *at.entry(p).or_insert_with(|| {
                            records.push((p, Vec::new()));
                            records.len() - 1
                        });
                        records[r].1.push((i, ev));
                    }
                    None => rest.push((i, ev)),
                }
            }
        }
    }
    if let (Some(f), false) = (folding, records.is_empty()) {
        seq += 1;
        let mut encoded = Vec::with_capacity(records.len());
        let mut folded = Vec::new();
        let mut events_n = 0u64;
        for (idx, (person, evs)) in records.into_iter().enumerate() {
            bulk.push(&LEDGER_REFS, vals![t.clone(), person.to_string(), seq as i64, idx as i64]);
            let mut bodies = Vec::with_capacity(evs.len());
            for (i, ev) in evs {
                // A recorded consent is serialised once, for its record and for `consents.data`.
                let json = match &ev.body {
                    EventBody::ConsentRecorded { consent } => Some(serde_json::to_string(consent)?),
                    _ => None,
                };
                // The projection applies each event as an entry of the batch entry's seq.
                let entry = Entry {
                    v: 1,
                    tenant,
                    seq,
                    event_id: ev.event_id,
                    recorded_at,
                    actor: f.actor.clone(),
                    body: ev.body,
                };
                projection::apply_bulk_with(tx, &mut bulk, &entry, json.clone()).await?;
                folded.push((i, ev.event_id));
                bodies.push((ev.event_id, entry.body, json));
                events_n += 1;
            }
            let refs: Vec<_> = bodies.iter().map(|(id, body, json)| (*id, body, json.as_deref())).collect();
            encoded.push(encode_record(person, &refs));
        }
        let (stored, root) = batch_frame(&encoded);
        let body = EventBody::Batch {
            label: f.label,
            records: encoded.len() as u64,
            events: events_n,
            root: hex::encode(root),
        };
        let entry = Entry { v: 1, tenant, seq, event_id: f.event_id, recorded_at, actor: f.actor, body };
        let hash = push_entry(&mut bulk, &t, &entry, &prev, None, Some(stored));
        for (i, event_id) in folded {
            out[i] = Some(Appended { seq, event_id, hash });
        }
        prev = hash;
    }
    for (i, ev) in rest {
        seq += 1;
        let entry = Entry { v: 1, tenant, seq, event_id: ev.event_id, recorded_at, actor: ev.actor, body: ev.body };
        let person = match (entry.body.person(), entry.body.subject().and_then(|s| known.get(&s))) {
            (Some(p), _) | (None, Some(&p)) => Some(p.to_string()),
            (None, None) if entry.body.subject().is_some() => {
                bulk.flush(tx).await?;
                person_of(tx, &t, &entry.body).await?
            }
            (None, None) => None,
        };
        let hash = push_entry(&mut bulk, &t, &entry, &prev, person, None);
        projection::apply_bulk(tx, &mut bulk, &entry).await?;
        out[i] = Some(Appended { seq, event_id: ev.event_id, hash });
        prev = hash;
    }
    let out: Vec<Appended> = out.into_iter().flatten().collect();
    for s in side {
        write_side_bulk(tx, &mut bulk, &t, micros(recorded_at), s, &out).await?;
    }
    bulk.flush(tx).await?;
    tx.exec(SET_HEAD, vals![t, seq as i64, prev.to_vec()]).await?;
    Ok(out)
}

/// Encodes `entry`, chains it after `prev` and queues its row; answers its hash.
fn push_entry(
    bulk: &mut Bulk,
    tenant: &str,
    entry: &Entry,
    prev: &[u8; 32],
    person: Option<String>,
    records: Option<Vec<u8>>,
) -> [u8; 32] {
    let payload = entry.encode();
    let hash = entry_hash(prev, &payload);
    bulk.push(
        &LEDGER,
        vals![
            tenant,
            entry.seq as i64,
            entry.event_id.to_string(),
            entry.body.kind(),
            person,
            micros(entry.recorded_at),
            payload,
            prev.to_vec(),
            hash.to_vec(),
            records
        ],
    );
    hash
}

/// The person an event concerns, so a person's timeline and proof package find every entry;
/// events that name only a consent or contact point are resolved through the projections.
async fn person_of(tx: &mut Tx, tenant: &str, body: &EventBody) -> Result<Option<String>, StoreError> {
    if let Some(p) = body.person() {
        return Ok(Some(p.to_string()));
    }
    let (sql, id) = match body.subject() {
        Some(Subject::Consent(id)) => {
            ("SELECT person_id FROM consents WHERE tenant_id = $1 AND id = $2", id.to_string())
        }
        Some(Subject::ContactPoint(id)) => {
            ("SELECT person_id FROM contact_points WHERE tenant_id = $1 AND id = $2", id.to_string())
        }
        None => return Ok(None),
    };
    tx.fetch_optional(sql, vals![tenant, id]).await?.map(|r| r.text(0)).transpose()
}

/// Every tenant that has a chain, with its head seq.
pub async fn chain_heads(db: &Db) -> Result<Vec<(TenantId, u64)>, StoreError> {
    let rows = db.fetch_all("SELECT tenant_id, seq FROM chain_heads ORDER BY tenant_id", vec![]).await?;
    rows.iter()
        .map(|r| {
            let t = r.text(0)?.parse().map_err(|e| StoreError::Corrupt(format!("{e}")))?;
            Ok((t, r.i64(1)? as u64))
        })
        .collect()
}

/// Streams `tenant`'s stored rows with `from <= seq <= to` in seq order to
/// `f(seq, payload, prev_hash, hash, records)` (`records` only for a batch entry); stops at the
/// first error `f` returns.
pub async fn for_each_row<E, F>(
    db: &Db,
    tenant: TenantId,
    from: u64,
    to: u64,
    mut f: F,
) -> Result<Result<(), E>, StoreError>
where
    F: FnMut(u64, &[u8], &[u8], &[u8], Option<&[u8]>) -> Result<(), E>,
{
    const SQL: &str = "SELECT seq, payload, prev_hash, hash, records FROM ledger \
        WHERE tenant_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq";
    let t = tenant.to_string();
    let (from, to) = (i64::try_from(from).unwrap_or(i64::MAX), i64::try_from(to).unwrap_or(i64::MAX));
    macro_rules! walk {
        ($pool:expr) => {{
            let mut rows = sqlx::query(SQL).bind(t).bind(from).bind(to).fetch($pool);
            while let Some(r) = rows.try_next().await? {
                let seq: i64 = r.try_get(0)?;
                let payload: &[u8] = r.try_get(1)?;
                let prev: &[u8] = r.try_get(2)?;
                let hash: &[u8] = r.try_get(3)?;
                let records: Option<&[u8]> = r.try_get(4)?;
                if let Err(e) = f(seq as u64, payload, prev, hash, records) {
                    return Ok(Err(e));
                }
            }
        }};
    }
    match db {
        Db::Sqlite { read, .. } => {
            // Bulk read fast path: sqlx hands each SQLite row across threads (~3 µs a row);
            // a plain read-only connection on this worker thread reads the same file 5-10x faster.
            // Same libsqlite3 build as sqlx (one copy in the tree). Falls back on a
            // current-thread runtime, where blocking in place is not possible.
            let path = read.connect_options().get_filename().to_path_buf();
            if tokio::runtime::Handle::current().runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread {
                return tokio::task::block_in_place(|| sqlite_bulk_walk(&path, &t, from, to, &mut f));
            }
            walk!(read)
        }
        Db::Postgres(p) => return pg_copy_walk(p, tenant, from, to, &mut f).await,
    }
    Ok(Ok(()))
}

/// Bulk read fast path on PostgreSQL: `COPY … TO STDOUT (FORMAT binary)` streams the rows without
/// per-row protocol and decoding overhead. The statement embeds only a typed tenant id and integers.
async fn pg_copy_walk<E, F>(
    pool: &sqlx::PgPool,
    tenant: TenantId,
    from: i64,
    to: i64,
    f: &mut F,
) -> Result<Result<(), E>, StoreError>
where
    F: FnMut(u64, &[u8], &[u8], &[u8], Option<&[u8]>) -> Result<(), E>,
{
    let sql = format!(
        "COPY (SELECT seq, payload, prev_hash, hash, records FROM ledger WHERE tenant_id = '{tenant}' \
         AND seq >= {from} AND seq <= {to} ORDER BY seq) TO STDOUT (FORMAT binary)"
    );
    // A connection of its own, closed afterwards: a COPY left unread (the walk stops at the first
    // broken entry) must never go back to the pool.
    let mut conn = pool.acquire().await?;
    conn.close_on_drop();
    let mut stream = conn.copy_out_raw(&sql).await?;
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
    let mut header_done = false;
    let corrupt = |m: &str| StoreError::Corrupt(format!("ledger COPY stream: {m}"));
    while let Some(chunk) = stream.try_next().await? {
        buf.extend_from_slice(&chunk);
        let mut pos = 0usize;
        if !header_done {
            if buf.len() < 19 {
                continue;
            }
            if &buf[..11] != b"PGCOPY\n\xff\r\n\0" {
                return Err(corrupt("bad signature"));
            }
            let ext = u32::from_be_bytes([buf[15], buf[16], buf[17], buf[18]]) as usize;
            if buf.len() < 19 + ext {
                continue;
            }
            pos = 19 + ext;
            header_done = true;
        }
        while let Some(fields) = buf.get(pos..pos + 2).map(|b| i16::from_be_bytes([b[0], b[1]])) {
            if fields == -1 {
                return Ok(Ok(()));
            }
            if fields != 5 {
                return Err(corrupt("unexpected field count"));
            }
            // Five length-prefixed fields (only `records` may be NULL, length -1); stop if the
            // tuple is not complete yet.
            let mut cur = pos + 2;
            let mut spans = [(0usize, 0usize); 5];
            let mut null_records = false;
            let mut complete = true;
            for (i, span) in spans.iter_mut().enumerate() {
                let Some(len) = buf.get(cur..cur + 4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]])) else {
                    complete = false;
                    break;
                };
                if len == -1 && i == 4 {
                    null_records = true;
                    cur += 4;
                    continue;
                }
                let len = usize::try_from(len).map_err(|_| corrupt("NULL column"))?;
                if buf.len() < cur + 4 + len {
                    complete = false;
                    break;
                }
                *span = (cur + 4, cur + 4 + len);
                cur += 4 + len;
            }
            if !complete {
                break;
            }
            let seq_bytes: [u8; 8] = buf[spans[0].0..spans[0].1].try_into().map_err(|_| corrupt("seq is not int8"))?;
            let seq = i64::from_be_bytes(seq_bytes);
            let records = (!null_records).then(|| &buf[spans[4].0..spans[4].1]);
            if let Err(e) = f(
                seq as u64,
                &buf[spans[1].0..spans[1].1],
                &buf[spans[2].0..spans[2].1],
                &buf[spans[3].0..spans[3].1],
                records,
            ) {
                return Ok(Err(e));
            }
            pos = cur;
        }
        buf.drain(..pos);
    }
    Ok(Ok(()))
}

fn sqlite_bulk_walk<E, F>(
    path: &std::path::Path,
    tenant: &str,
    from: i64,
    to: i64,
    f: &mut F,
) -> Result<Result<(), E>, StoreError>
where
    F: FnMut(u64, &[u8], &[u8], &[u8], Option<&[u8]>) -> Result<(), E>,
{
    use rusqlite::{Connection, OpenFlags};
    let err = |e: rusqlite::Error| StoreError::Corrupt(format!("reading the ledger: {e}"));
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(err)?;
    conn.pragma_update(None, "mmap_size", 1_i64 << 30).map_err(err)?;
    let mut stmt = conn
        .prepare(
            "SELECT seq, payload, prev_hash, hash, records FROM ledger WHERE tenant_id = ?1 AND seq >= ?2 AND seq <= ?3 \
             ORDER BY seq",
        )
        .map_err(err)?;
    let mut rows = stmt.query(rusqlite::params![tenant, from, to]).map_err(err)?;
    while let Some(r) = rows.next().map_err(err)? {
        let seq: i64 = r.get(0).map_err(err)?;
        let payload = r.get_ref(1).and_then(|v| v.as_bytes().map_err(Into::into)).map_err(err)?;
        let prev = r.get_ref(2).and_then(|v| v.as_bytes().map_err(Into::into)).map_err(err)?;
        let hash = r.get_ref(3).and_then(|v| v.as_bytes().map_err(Into::into)).map_err(err)?;
        let records = r.get_ref(4).and_then(|v| v.as_bytes_or_null().map_err(Into::into)).map_err(err)?;
        if let Err(e) = f(seq as u64, payload, prev, hash, records) {
            return Ok(Err(e));
        }
    }
    Ok(Ok(()))
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
            vals![tenant.to_string(), from as i64, to as i64],
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
            vals![tenant.to_string(), from as i64, to as i64],
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
pub async fn person_entries(db: &Db, tenant: TenantId, person: &str) -> Result<Vec<PersonEntry>, StoreError> {
    let t = tenant.to_string();
    let rows = db
        .fetch_all(
            "SELECT seq, payload, prev_hash, hash FROM ledger WHERE tenant_id = $1 AND person_id = $2 ORDER BY seq",
            vals![t.clone(), person],
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
            vals![t, person],
        )
        .await?;
    for r in &batches {
        let seq = r.i64(0)? as u64;
        let stored = r.opt_bytes(4)?.ok_or_else(|| StoreError::Corrupt(format!("batch entry {seq} has no records")))?;
        let record = konsent_domain::ledger::prove(&stored, r.i64(5)? as usize)
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
            cp.tenant.to_string(),
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
            vals![tenant.to_string()],
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
