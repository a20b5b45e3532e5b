//! Batch entries: many persons' events in one ledger entry (an import batch). Each person's
//! events are one record; the records are stored beside the entry, and the entry's payload holds
//! their Merkle root, so a record is proven part of the chain by a short audit path without the
//! other persons' records.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::entry::Entry;
use super::events::EventBody;
use super::merkle;
use crate::ids::{EventId, PersonId};

/// One event inside a record: its id and what happened (who and when are the batch entry's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordEvent {
    /// Event id.
    pub event_id: EventId,
    /// What happened.
    pub body: EventBody,
}

/// One person's events of a batch, in the order they happened: a leaf of the batch's tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The person every event concerns.
    pub person: PersonId,
    /// The events.
    pub events: Vec<RecordEvent>,
}

/// What is wrong with stored records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordsError {
    /// The framing (lengths) does not add up.
    #[error("records are cut off or framed wrongly")]
    Framing,
    /// A record is not valid JSON of a record.
    #[error("record {0} is unreadable")]
    Unreadable(usize),
    /// There are no records.
    #[error("a batch entry holds no records")]
    Empty,
}

impl Record {
    /// The exact bytes stored and hashed.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("records always serialise")
    }

    /// Parses stored bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// The record's events as entries of the batch entry `batch` (its seq, time and actor).
    pub fn entries(&self, batch: &Entry) -> Vec<Entry> {
        self.events
            .iter()
            .map(|e| Entry {
                v: batch.v,
                tenant: batch.tenant,
                seq: batch.seq,
                event_id: e.event_id,
                recorded_at: batch.recorded_at,
                actor: batch.actor.clone(),
                body: e.body.clone(),
            })
            .collect()
    }
}

/// The bytes [`Record::encode`] writes for `person`'s `events`, from the events by reference. A
/// recorded consent's JSON may be given when the caller has it already (the append writes the
/// same JSON into `consents.data`), so it is serialised once.
pub fn encode_record(person: PersonId, events: &[(EventId, &EventBody, Option<&str>)]) -> Vec<u8> {
    const FAILED: &str = "records always serialise";
    let mut out = Vec::with_capacity(64 + events.len() * 600);
    out.extend_from_slice(b"{\"person\":");
    serde_json::to_writer(&mut out, &person).expect(FAILED);
    out.extend_from_slice(b",\"events\":[");
    for (i, (id, body, consent)) in events.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"event_id\":");
        serde_json::to_writer(&mut out, id).expect(FAILED);
        out.extend_from_slice(b",\"body\":");
        match (body, consent) {
            (EventBody::ConsentRecorded { .. }, Some(json)) => {
                out.extend_from_slice(b"{\"type\":\"consent_recorded\",\"consent\":");
                out.extend_from_slice(json.as_bytes());
                out.push(b'}');
            }
            _ => serde_json::to_writer(&mut out, body).expect(FAILED),
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    out
}

/// SHA-256 of a record's bytes: its leaf in the batch's tree.
pub fn record_hash(bytes: &[u8]) -> merkle::Hash {
    Sha256::digest(bytes).into()
}

/// Frames encoded records for storage (each preceded by its length, 4 bytes big-endian) and
/// returns the stored bytes with the Merkle root over the records' hashes.
pub fn frame(records: &[Vec<u8>]) -> (Vec<u8>, merkle::Hash) {
    let mut out = Vec::with_capacity(records.iter().map(|r| r.len() + 4).sum());
    let mut hashes = Vec::with_capacity(records.len());
    for r in records {
        out.extend_from_slice(&(r.len() as u32).to_be_bytes());
        out.extend_from_slice(r);
        hashes.push(record_hash(r));
    }
    (out, merkle::root(&hashes).unwrap_or([0; 32]))
}

/// The stored records, each as its exact bytes, in order.
pub fn split(stored: &[u8]) -> Result<Vec<&[u8]>, RecordsError> {
    let mut out = Vec::new();
    let mut rest = stored;
    while !rest.is_empty() {
        let (len, tail) = rest.split_first_chunk::<4>().ok_or(RecordsError::Framing)?;
        let len = u32::from_be_bytes(*len) as usize;
        if tail.len() < len {
            return Err(RecordsError::Framing);
        }
        out.push(&tail[..len]);
        rest = &tail[len..];
    }
    if out.is_empty() {
        return Err(RecordsError::Empty);
    }
    Ok(out)
}

/// The Merkle root over stored records.
pub fn root_of(stored: &[u8]) -> Result<merkle::Hash, RecordsError> {
    let hashes: Vec<merkle::Hash> = split(stored)?.into_iter().map(record_hash).collect();
    merkle::root(&hashes).ok_or(RecordsError::Empty)
}

/// Every event of a batch entry as an entry of its own, record by record.
pub fn unfold(batch: &Entry, stored: &[u8]) -> Result<Vec<Entry>, RecordsError> {
    let mut out = Vec::new();
    for (i, bytes) in split(stored)?.into_iter().enumerate() {
        out.extend(Record::decode(bytes).map_err(|_| RecordsError::Unreadable(i))?.entries(batch));
    }
    Ok(out)
}

/// A record with what proves it part of its batch entry: its index among `count` records and
/// the audit path to the root the entry holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordProof {
    /// The record's exact bytes.
    pub bytes: Vec<u8>,
    /// Its index.
    pub index: usize,
    /// Records in the batch.
    pub count: usize,
    /// Sibling hashes from the record up to the root.
    pub path: Vec<merkle::Hash>,
}

/// Record `index` of stored records with its audit path.
pub fn prove(stored: &[u8], index: usize) -> Result<RecordProof, RecordsError> {
    let records = split(stored)?;
    let hashes: Vec<merkle::Hash> = records.iter().map(|r| record_hash(r)).collect();
    let path = merkle::audit_path(&hashes, index).ok_or(RecordsError::Unreadable(index))?;
    Ok(RecordProof { bytes: records[index].to_vec(), index, count: records.len(), path })
}

/// Whether a record with its index and path leads to `root`.
pub fn proves(record: &[u8], index: usize, count: usize, path: &[merkle::Hash], root: &merkle::Hash) -> bool {
    merkle::root_from_path(&record_hash(record), index, count, path).as_ref() == Some(root)
}

impl EventBody {
    /// The root a batch entry holds, when this is one.
    pub fn batch_root(&self) -> Option<merkle::Hash> {
        match self {
            Self::Batch { root, .. } => super::hash32(root),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;
    use crate::ids::TenantId;
    use crate::ledger::Actor;

    fn record(i: u8) -> Record {
        let person = PersonId::from_parts(1, [i; 10]);
        Record {
            person,
            events: vec![RecordEvent {
                event_id: EventId::from_parts(2, [i; 10]),
                body: EventBody::PersonRegistered {
                    person_id: person,
                    recipient_class: crate::party::RecipientClass::Consumer,
                    org_unit: None,
                    data_hash: format!("{i:064x}"),
                },
            }],
        }
    }

    #[test]
    fn every_record_is_proven_to_the_root_and_unfolds_to_its_events() {
        let records: Vec<Vec<u8>> = (0..5).map(|i| record(i).encode()).collect();
        let (stored, root) = frame(&records);
        assert_eq!(root_of(&stored).unwrap(), root);
        for i in 0..5 {
            let p = prove(&stored, i).unwrap();
            assert_eq!(p.bytes, records[i]);
            assert!(proves(&p.bytes, i, 5, &p.path, &root));
            assert!(!proves(&records[(i + 1) % 5], i, 5, &p.path, &root), "another record does not fit the path");
        }
        let batch = Entry {
            v: 1,
            tenant: TenantId::from_parts(1, [1; 10]),
            seq: 7,
            event_id: EventId::from_parts(3, [0; 10]),
            recorded_at: Timestamp::from_second(1_700_000_000).unwrap(),
            actor: Actor::Import("x".into()),
            body: EventBody::Batch { label: "import".into(), records: 5, events: 5, root: hex::encode(root) },
        };
        let all = unfold(&batch, &stored).unwrap();
        assert_eq!(all.len(), 5);
        assert!(all.iter().all(|e| e.seq == 7 && e.actor == batch.actor));
        assert_eq!(all[3].body, record(3).events[0].body);
    }

    #[test]
    fn a_record_encoded_from_references_is_byte_for_byte_the_serialised_record() {
        let consent = crate::consent::testkit::email_record();
        let mut r = record(1);
        r.events.push(RecordEvent {
            event_id: EventId::from_parts(5, [5; 10]),
            body: EventBody::ConsentRecorded { consent: Box::new(consent.clone()) },
        });
        let json = serde_json::to_string(&consent).unwrap();
        let refs: Vec<(EventId, &EventBody, Option<&str>)> = r
            .events
            .iter()
            .map(|e| {
                (e.event_id, &e.body, matches!(e.body, EventBody::ConsentRecorded { .. }).then_some(json.as_str()))
            })
            .collect();
        assert_eq!(encode_record(r.person, &refs), r.encode());
        let plain: Vec<(EventId, &EventBody, Option<&str>)> =
            r.events.iter().map(|e| (e.event_id, &e.body, None)).collect();
        assert_eq!(encode_record(r.person, &plain), r.encode());
        assert_eq!(Record::decode(&r.encode()).unwrap(), r);
    }

    #[test]
    fn a_changed_or_cut_record_no_longer_leads_to_the_root() {
        let records: Vec<Vec<u8>> = (0..3).map(|i| record(i).encode()).collect();
        let (stored, root) = frame(&records);
        let mut changed = stored.clone();
        let at = changed.len() - 10;
        changed[at] ^= 1;
        assert_ne!(root_of(&changed).ok(), Some(root));
        assert_eq!(root_of(&stored[..stored.len() - 1]), Err(RecordsError::Framing));
        assert_eq!(root_of(&[]), Err(RecordsError::Empty));
    }
}
