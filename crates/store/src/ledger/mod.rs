//! Appending to and reading the ledger. Appends are serialised per tenant (single writer on SQLite,
//! a row lock on the tenant's chain head on PostgreSQL) and applied to the projections in the
//! same transaction.

use std::collections::HashMap;

use jiff::Timestamp;
use konsent_domain::ids::{EventId, PersonId, TenantId};
use konsent_domain::ledger::{Actor, Entry, EventBody, GENESIS_HASH, Subject, encode_record, entry_hash};

use crate::bulk::{Bulk, LEDGER, LEDGER_REFS};
use crate::db::{Db, Tx, Val};
use crate::error::StoreError;
use crate::side::{SideWrite, write_side};
use crate::{projection, vals};

mod pack;
mod read;
mod walk;

pub use pack::unpack as unpack_records;
pub use read::{PersonEntry, RawEntry, chain_heads, checkpoints, entries, hashes, insert_checkpoint, person_entries};
pub use walk::for_each_row;

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
    /// How the transaction holding it commits.
    pub commit: Commit,
}

/// How the transaction holding a batch append commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// With the log's flush: on disk when answered (an import's last batch).
    Durable,
    /// Without the flush: the append may be lost with a power failure or an operating-system
    /// crash (never with a crash of the process) until a later durable commit, because what
    /// made it resumes after the last durable one: the batches of an import before its last. A
    /// transaction holding only such appends skips the log's flush (SQLite `synchronous=NORMAL`
    /// in WAL mode, PostgreSQL `synchronous_commit=off`); both keep the database consistent, and
    /// the next durable commit makes everything before it durable.
    Lazy,
    /// As [`Commit::Lazy`], and the transaction stays open for the next append of the same
    /// kind (see [`crate::group`]): an import's batches within one of its transactions.
    Open,
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

/// Events in a batch record of their person, in order, with each one's place in the append.
type Folded = Vec<(PersonId, Vec<(usize, PendingEvent)>)>;

/// Splits an append's events into one record per person (the foldable events of `actor`, persons
/// in order of their first event) and the rest, each event with its place in the append.
fn fold(
    events: Vec<PendingEvent>,
    actor: &Actor,
    known: &HashMap<Subject, PersonId>,
) -> (Folded, Vec<(usize, PendingEvent)>) {
    let mut records: Folded = Vec::new();
    let mut rest = Vec::new();
    let mut at: HashMap<PersonId, usize> = HashMap::new();
    for (i, ev) in events.into_iter().enumerate() {
        let person = ev.body.person().or_else(|| ev.body.subject().and_then(|s| known.get(&s).copied()));
        match person.filter(|_| foldable(&ev.body) && ev.actor == *actor) {
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
    (records, rest)
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
    let t = tenant;
    let head = tx
        .fetch_optional(LOCK_HEAD, vals![t, GENESIS_HASH.to_vec()])
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
    // The vault writes for the persons and contact points registered here go into their rows.
    let (vault, side) = crate::vault::Pending::take(&events, side);
    bulk.vault = vault;
    let (records, rest) = match &folding {
        None => (Vec::new(), events.into_iter().enumerate().collect()),
        Some(f) => fold(events, &f.actor, &known),
    };
    if let (Some(f), false) = (folding, records.is_empty()) {
        seq += 1;
        let mut packer = pack::Packer::new()?;
        let mut folded = Vec::new();
        for (idx, (person, evs)) in records.into_iter().enumerate() {
            bulk.push(&LEDGER_REFS, vals![t, person, seq as i64, idx as i64]);
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
            }
            let refs: Vec<_> = bodies.iter().map(|(id, body, json)| (*id, body, json.as_deref())).collect();
            packer.push(&encode_record(person, &refs))?;
            bulk.flush_full(tx).await?;
        }
        let records = packer.len() as u64;
        let (stored, root) = packer.finish()?;
        let body = EventBody::Batch { label: f.label, records, events: folded.len() as u64, root: hex::encode(root) };
        let entry = Entry { v: 1, tenant, seq, event_id: f.event_id, recorded_at, actor: f.actor, body };
        let hash = push_entry(&mut bulk, t, &entry, &prev, None, Some(stored));
        for (i, event_id) in folded {
            out[i] = Some(Appended { seq, event_id, hash });
        }
        prev = hash;
    }
    for (i, ev) in rest {
        seq += 1;
        let entry = Entry { v: 1, tenant, seq, event_id: ev.event_id, recorded_at, actor: ev.actor, body: ev.body };
        let person = match (entry.body.person(), entry.body.subject().and_then(|s| known.get(&s))) {
            (Some(p), _) | (None, Some(&p)) => Some(p),
            (None, None) if entry.body.subject().is_some() => {
                bulk.flush(tx).await?;
                person_of(tx, t, &entry.body).await?
            }
            (None, None) => None,
        };
        let hash = push_entry(&mut bulk, t, &entry, &prev, person, None);
        projection::apply_bulk(tx, &mut bulk, &entry).await?;
        out[i] = Some(Appended { seq, event_id: ev.event_id, hash });
        prev = hash;
    }
    let out: Vec<Appended> = out.into_iter().flatten().collect();
    bulk.flush(tx).await?;
    let unplaced = std::mem::take(&mut bulk.vault).into_rest();
    for s in unplaced.into_iter().chain(side) {
        write_side(tx, t, micros(recorded_at), s, &out).await?;
    }
    tx.exec(SET_HEAD, vals![t, seq as i64, prev.to_vec()]).await?;
    Ok(out)
}

/// Encodes `entry`, chains it after `prev` and queues its row; answers its hash.
fn push_entry(
    bulk: &mut Bulk,
    tenant: TenantId,
    entry: &Entry,
    prev: &[u8; 32],
    person: Option<PersonId>,
    records: Option<Vec<u8>>,
) -> [u8; 32] {
    let payload = entry.encode();
    let hash = entry_hash(prev, &payload);
    bulk.push(
        &LEDGER,
        vals![
            tenant,
            entry.seq as i64,
            entry.event_id,
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
async fn person_of(tx: &mut Tx, tenant: TenantId, body: &EventBody) -> Result<Option<PersonId>, StoreError> {
    if let Some(p) = body.person() {
        return Ok(Some(p));
    }
    let (sql, id) = match body.subject() {
        Some(Subject::Consent(id)) => {
            ("SELECT person_id FROM consents WHERE tenant_id = $1 AND id = $2", Val::from(id))
        }
        Some(Subject::ContactPoint(id)) => {
            ("SELECT person_id FROM contact_points WHERE tenant_id = $1 AND id = $2", Val::from(id))
        }
        None => return Ok(None),
    };
    tx.fetch_optional(sql, vec![Val::from(tenant), id]).await?.map(|r| r.id(0)).transpose()
}
