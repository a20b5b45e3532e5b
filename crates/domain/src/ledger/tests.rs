//! Ledger encoding, chain verification and checkpoint tests.

use ed25519_dalek::SigningKey;
use jiff::Timestamp;

use super::*;
use crate::ids::{EventId, TenantId};
use proptest::prelude::*;

fn tenant() -> TenantId {
    TenantId::from_parts(1, [3; 10])
}

type Row = (u64, Vec<u8>, [u8; 32], [u8; 32]);

fn chain(n: u64) -> Vec<Row> {
    let mut prev = GENESIS_HASH;
    (1..=n)
        .map(|seq| {
            let e = Entry {
                v: 1,
                tenant: tenant(),
                seq,
                event_id: EventId::from_parts(seq, [seq as u8; 10]),
                recorded_at: Timestamp::from_second(1_700_000_000 + seq as i64).unwrap(),
                actor: Actor::System,
                body: EventBody::TenantCreated { name: format!("Tenant {seq}") },
            };
            let payload = e.encode();
            assert!(payload.starts_with(payload_prefix(tenant(), seq).as_bytes()));
            let hash = entry_hash(&prev, &payload);
            let row = (seq, payload, prev, hash);
            prev = hash;
            row
        })
        .collect()
}

fn verify(rows: &[Row]) -> Result<(), ChainBreak> {
    let mut v = ChainVerifier::new(tenant());
    for (seq, p, prev, h) in rows {
        v.feed(*seq, p, prev, h, None)?;
    }
    Ok(())
}

#[test]
fn intact_chain_verifies_and_round_trips() {
    let rows = chain(5);
    verify(&rows).unwrap();
    let e = Entry::decode(&rows[2].1).unwrap();
    assert_eq!(e.seq, 3);
    assert_eq!(e.encode(), rows[2].1);
}

#[test]
fn reordered_or_missing_entries_are_named() {
    let mut rows = chain(4);
    rows.remove(1);
    let err = verify(&rows).unwrap_err();
    assert_eq!(err.seq, 2);
    assert!(matches!(err.kind, BreakKind::Sequence { expected: 2, found: 3 }));
}

#[test]
fn segments_stitch_like_the_whole_chain() {
    let rows = chain(6);
    let mut a = ChainVerifier::new(tenant());
    for (seq, p, prev, h) in &rows[..3] {
        a.feed(*seq, p, prev, h, None).unwrap();
    }
    let mut b = ChainVerifier::segment(tenant(), 4, None);
    for (seq, p, prev, h) in &rows[3..] {
        b.feed(*seq, p, prev, h, None).unwrap();
    }
    assert_eq!(b.first_prev(), Some(a.head().1));
    assert_eq!(b.head().0, 6);
}

/// A chain of two entries, the second a batch entry, with that entry's stored records.
fn batch_chain() -> (Vec<Row>, Vec<u8>) {
    let mut rows = chain(1);
    let person = crate::ids::PersonId::from_parts(1, [4; 10]);
    let record = Record {
        person,
        events: vec![RecordEvent {
            event_id: EventId::from_parts(9, [9; 10]),
            body: EventBody::PersonRegistered {
                person_id: person,
                recipient_class: crate::party::RecipientClass::Consumer,
                org_unit: None,
                data_hash: "ab".repeat(32),
            },
        }],
    };
    let (stored, root) = frame(&[record.encode(), record.encode()]);
    let e = Entry {
        v: 1,
        tenant: tenant(),
        seq: 2,
        event_id: EventId::from_parts(2, [2; 10]),
        recorded_at: Timestamp::from_second(1_700_000_002).unwrap(),
        actor: Actor::Import("i".into()),
        body: EventBody::Batch { label: "import i".into(), records: 2, events: 2, root: hex::encode(root) },
    };
    let payload = e.encode();
    let hash = entry_hash(&rows[0].3, &payload);
    rows.push((2, payload, rows[0].3, hash));
    (rows, stored)
}

#[test]
fn a_batch_entry_verifies_only_with_the_records_its_root_names() {
    let (rows, stored) = batch_chain();
    let feed = |records: Option<&[u8]>, plain: Option<&[u8]>| {
        let mut v = ChainVerifier::new(tenant());
        let (s, p, prev, h) = &rows[0];
        v.feed(*s, p, prev, h, plain)?;
        let (s, p, prev, h) = &rows[1];
        v.feed(*s, p, prev, h, records)
    };
    feed(Some(&stored), None).unwrap();
    let mut changed = stored.clone();
    let last = changed.len() - 3;
    changed[last] ^= 1;
    for (records, plain, seq) in [
        (Some(&changed[..]), None, 2),
        (None, None, 2),
        (Some(&stored[..stored.len() - 1]), None, 2),
        (Some(&stored[..]), Some(&stored[..]), 1),
    ] {
        let err = feed(records, plain).unwrap_err();
        assert_eq!((err.seq, err.kind), (seq, BreakKind::Records));
    }
}

#[test]
fn checkpoint_signature() {
    let key = SigningKey::from_bytes(&[5; 32]);
    let range = Sealed { tenant: tenant(), from_seq: 1, seq: 3, head_hash: [9; 32], merkle_root: [7; 32] };
    let cp = Checkpoint::seal(&key, range, Timestamp::UNIX_EPOCH);
    assert!(cp.verify_signature(&key.verifying_key()));
    let other = SigningKey::from_bytes(&[6; 32]);
    assert!(!cp.verify_signature(&other.verifying_key()));
    let mut forged = cp.clone();
    forged.seq = 4;
    assert!(!forged.verify_signature(&key.verifying_key()));
    let mut moved = cp.clone();
    moved.from_seq = 2;
    assert!(!moved.verify_signature(&key.verifying_key()));
    let mut rooted = cp.clone();
    rooted.merkle_root = hex::encode([8u8; 32]);
    assert!(!rooted.verify_signature(&key.verifying_key()));
    let mut stripped = cp;
    stripped.merkle_root.clear();
    assert!(!stripped.verify_signature(&key.verifying_key()), "a v2 signature is no v1 signature");
}

proptest! {
    #[test]
    fn any_changed_byte_is_found_at_its_entry(entry in 0usize..6, pick in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let mut rows = chain(6);
        let payload = &mut rows[entry].1;
        let i = pick.index(payload.len());
        payload[i] ^= flip;
        let err = verify(&rows).unwrap_err();
        prop_assert_eq!(err.seq, entry as u64 + 1);
    }

    #[test]
    fn any_changed_hash_byte_is_found(entry in 0usize..6, i in 0usize..32, flip in 1u8..=255) {
        let mut rows = chain(6);
        rows[entry].3[i] ^= flip;
        let err = verify(&rows).unwrap_err();
        prop_assert_eq!(err.seq, entry as u64 + 1);
    }
}
