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

/// Person `n`'s id and the id of its contact point, as [`person_events`] registers them.
pub(crate) fn ids_of(n: u64) -> (PersonId, ContactPointId) {
    let mut r = [0u8; 10];
    r[..8].copy_from_slice(&n.to_le_bytes());
    (PersonId::from_parts(n, r), ContactPointId::from_parts(n, r))
}

pub(crate) fn person_events(n: u64) -> Vec<PendingEvent> {
    let (person_id, contact_point_id) = ids_of(n);
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
                contact_point_id,
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
