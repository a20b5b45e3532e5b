//! What the store tests share: tenants, events and persons made from a number, the chain check.

use jiff::Timestamp;
use konsent_domain::contact::ContactKind;
use konsent_domain::ids::{ContactPointId, EventId, PersonId, TenantId};
use konsent_domain::ledger::{Actor, ChainBreak, ChainVerifier, EventBody};
use konsent_domain::party::RecipientClass;
use konsent_store::{Db, PendingEvent, ledger};

pub(crate) fn tenant(n: u8) -> TenantId {
    TenantId::from_parts(1_700_000_000_000, [n; 10])
}

pub(crate) fn ev(n: u64, body: EventBody) -> PendingEvent {
    let mut r = [0u8; 10];
    r[..8].copy_from_slice(&n.to_le_bytes());
    PendingEvent { event_id: EventId::from_parts(1_700_000_000_000 + n, r), actor: Actor::System, body }
}

pub(crate) fn person_events(n: u64) -> Vec<PendingEvent> {
    let mut r = [0u8; 10];
    r[..8].copy_from_slice(&n.to_le_bytes());
    let person_id = PersonId::from_parts(n, r);
    vec![
        ev(
            n * 10,
            EventBody::PersonRegistered {
                person_id,
                recipient_class: RecipientClass::Consumer,
                org_unit: None,
                data_hash: format!("{n:064x}"),
            },
        ),
        ev(
            n * 10 + 1,
            EventBody::ContactPointAdded {
                contact_point_id: ContactPointId::from_parts(n, r),
                person_id,
                kind: ContactKind::Phone,
                blind_index: format!("bi{n}"),
                value_hash: format!("{n:064x}"),
            },
        ),
    ]
}

pub(crate) async fn verify(db: &Db, t: TenantId) -> Result<u64, ChainBreak> {
    let mut v = ChainVerifier::new(t);
    ledger::for_each_row(db, t, 1, u64::MAX, |seq, p, prev, h, r| v.feed(seq, p, prev, h, r)).await.unwrap()?;
    Ok(v.head().0)
}

pub(crate) fn now() -> Timestamp {
    "2026-12-04T10:00:00Z".parse().unwrap()
}
