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
        v.feed(*seq, p, prev, h)?;
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
        a.feed(*seq, p, prev, h).unwrap();
    }
    let mut b = ChainVerifier::segment(tenant(), 4, None);
    for (seq, p, prev, h) in &rows[3..] {
        b.feed(*seq, p, prev, h).unwrap();
    }
    assert_eq!(b.first_prev(), Some(a.head().1));
    assert_eq!(b.head().0, 6);
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
