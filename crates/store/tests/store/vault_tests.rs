//! The vault in the person's and contact point's rows: written with their registration, updated
//! by later writes, erased to NULL, kept by `rebuild`.

use konsent_domain::ids::{ContactPointId, PersonId, TenantId};
use konsent_domain::ledger::EventBody;
use konsent_store::{Db, SideWrite, StoreError, ledger, projection, queries};

use konsent_testkit::both_engines;

use super::common::{ev, now, person_events, tenant};

/// The person and contact point `person_events(n)` registers.
pub(crate) fn ids(n: u64) -> (PersonId, ContactPointId) {
    let evs = person_events(n);
    match (&evs[0].body, &evs[1].body) {
        (EventBody::PersonRegistered { person_id, .. }, EventBody::ContactPointAdded { contact_point_id, .. }) => {
            (*person_id, *contact_point_id)
        }
        _ => unreachable!("person_events registers a person, then a contact point"),
    }
}

/// The vault writes registering person `n` comes with: key, data version 1, contact value.
pub(crate) fn vault_writes(n: u64) -> Vec<SideWrite> {
    let (person_id, contact_point_id) = ids(n);
    vec![
        SideWrite::PersonKey { person_id, wrapped_key: vec![n as u8; 72], key_fp: format!("fp{n}") },
        SideWrite::PersonData { person_id, version: 1, sealed: vec![n as u8 ^ 0x55; 199], sha256: format!("d{n}v1") },
        SideWrite::ContactValue {
            contact_point_id,
            person_id,
            sealed: vec![n as u8 ^ 0xaa; 102],
            sha256: format!("c{n}"),
        },
    ]
}

/// What the vault answers for person `n`: key, current data (version, sealed), contact value.
pub(crate) async fn vault_of(
    db: &Db,
    t: TenantId,
    n: u64,
) -> (Option<Vec<u8>>, Option<(i64, Vec<u8>)>, Option<Vec<u8>>) {
    let (p, cp) = ids(n);
    (
        queries::person_key(db, t, p).await.unwrap(),
        queries::person_data(db, t, p).await.unwrap().map(|(v, s, _)| (v, s)),
        queries::contact_value(db, t, cp).await.unwrap(),
    )
}

/// The versions of person `n`'s data the store holds, oldest first.
pub(crate) async fn versions(db: &Db, t: TenantId, n: u64) -> Vec<i64> {
    let sql = "SELECT version FROM person_data WHERE tenant_id = $1 AND person_id = $2 \
               UNION ALL SELECT sealed_version FROM persons WHERE tenant_id = $1 AND id = $2 AND sealed IS NOT NULL \
               ORDER BY 1";
    let rows = db.fetch_all(sql, konsent_store::vals![t, ids(n).0]).await.unwrap();
    rows.iter().map(|r| r.i64(0).unwrap()).collect()
}

async fn register(db: &Db, t: TenantId, n: u64) {
    ledger::append(db, t, now(), person_events(n), vault_writes(n)).await.unwrap();
}

both_engines!(a_registration_writes_its_vault_into_the_rows_and_a_correction_keeps_the_old_version, |db| {
    let t = tenant(40);
    ledger::append(db, t, now(), vec![ev(1, EventBody::TenantCreated { name: "T".into() })], vec![]).await.unwrap();
    register(db, t, 1).await;
    register(db, t, 2).await;
    // One person row and one contact point row each, holding the vault's columns.
    let rows = db
        .fetch_all(
            "SELECT count(*) FROM persons WHERE tenant_id = $1 AND wrapped_key IS NOT NULL",
            konsent_store::vals![t],
        )
        .await
        .unwrap();
    assert_eq!(rows[0].i64(0).unwrap(), 2);
    assert_eq!(vault_of(db, t, 1).await, (Some(vec![1; 72]), Some((1, vec![0x54; 199])), Some(vec![0xab; 102])));

    // A new version of person 1's data: the current one is in the row, the replaced one kept.
    let p = ids(1).0;
    let v2 = SideWrite::PersonData { person_id: p, version: 2, sealed: vec![7; 210], sha256: "d1v2".into() };
    ledger::append(db, t, now(), vec![], vec![v2]).await.unwrap();
    assert_eq!(vault_of(db, t, 1).await.1, Some((2, vec![7; 210])));
    assert_eq!(versions(db, t, 1).await, [1, 2]);
    assert_eq!(versions(db, t, 2).await, [1], "the other person is untouched");
});

both_engines!(a_vault_write_for_a_person_not_stored_fails_its_append, |db| {
    let t = tenant(41);
    let (p, cp) = ids(7);
    for write in [
        SideWrite::PersonKey { person_id: p, wrapped_key: vec![1; 72], key_fp: "fp".into() },
        SideWrite::PersonData { person_id: p, version: 1, sealed: vec![1; 10], sha256: "x".into() },
        SideWrite::ContactValue { contact_point_id: cp, person_id: p, sealed: vec![1; 10], sha256: "x".into() },
    ] {
        let err = ledger::append(db, t, now(), vec![], vec![write]).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err}");
    }
    // A contact value given for another person's contact point is not written either.
    register(db, t, 8).await;
    let other =
        SideWrite::ContactValue { contact_point_id: ids(8).1, person_id: p, sealed: vec![2; 10], sha256: "y".into() };
    assert!(ledger::append(db, t, now(), vec![], vec![other]).await.is_err());
    assert_eq!(vault_of(db, t, 8).await.2, Some(vec![8 ^ 0xaa; 102]));
});

both_engines!(erasure_clears_the_vault_columns_and_destroying_the_key_shreds_the_person, |db| {
    let t = tenant(42);
    for n in 1..=3 {
        register(db, t, n).await;
    }
    let erase = |n: u64, data: bool, points: bool, destroy_key: bool| {
        let (person_id, cp) = ids(n);
        SideWrite::EraseVault {
            person_id,
            person_data: data,
            contact_points: if points { vec![cp] } else { vec![] },
            attachments: vec![],
            destroy_key,
        }
    };
    ledger::append(db, t, now(), vec![], vec![erase(1, true, false, false)]).await.unwrap();
    ledger::append(db, t, now(), vec![], vec![erase(2, false, true, false)]).await.unwrap();
    ledger::append(db, t, now(), vec![], vec![erase(3, false, false, true)]).await.unwrap();
    assert_eq!(vault_of(db, t, 1).await, (Some(vec![1; 72]), None, Some(vec![1 ^ 0xaa; 102])));
    assert_eq!(versions(db, t, 1).await, Vec::<i64>::new());
    assert_eq!(vault_of(db, t, 2).await, (Some(vec![2; 72]), Some((1, vec![2 ^ 0x55; 199])), None));
    assert_eq!(vault_of(db, t, 3).await, (None, None, None));
    assert!(queries::contact_points_stored(db, t, ids(3).0).await.unwrap().is_empty());
    assert_eq!(queries::contact_points_stored(db, t, ids(1).0).await.unwrap(), [ids(1).1]);
    // The rows themselves stay: the person and contact point are still known (their proofs).
    assert!(queries::person(db, t, ids(3).0).await.unwrap().is_some());
});

both_engines!(a_rebuild_keeps_the_vault_columns_and_refuses_to_drop_any, |db| {
    let t = tenant(43);
    for n in 1..=4 {
        register(db, t, n).await;
    }
    let p = ids(2).0;
    let v2 = SideWrite::PersonData { person_id: p, version: 2, sealed: vec![9; 50], sha256: "d2v2".into() };
    ledger::append(db, t, now(), vec![], vec![v2]).await.unwrap();
    let before = projection::dump(db).await.unwrap();
    let mut vaults = Vec::new();
    for n in 1..=4 {
        vaults.push(vault_of(db, t, n).await);
    }

    projection::rebuild(db, &[t]).await.unwrap();
    assert_eq!(projection::dump(db).await.unwrap(), before);
    for n in 1..=4 {
        assert_eq!(vault_of(db, t, n).await, vaults[n as usize - 1], "person {n}");
    }
    assert_eq!(versions(db, t, 2).await, [1, 2]);

    // A person holding sealed data whose registration the ledger does not have (a row written
    // outside the ledger, or a ledger cut short): the rebuild fails and changes nothing.
    let (stray, _) = ids(9);
    db.exec(
        "INSERT INTO persons (tenant_id, id, recipient_class, data_hash, data_version, created_at, updated_at, wrapped_key) \
         VALUES ($1, $2, 'consumer', 'h', 1, 1, 1, $3)",
        konsent_store::vals![t, stray, vec![1u8; 72]],
    )
    .await
    .unwrap();
    let with_stray = projection::dump(db).await.unwrap();
    let err = projection::rebuild(db, &[t]).await.unwrap_err();
    assert!(err.to_string().contains("1 of 5 persons"), "{err}");
    assert_eq!(projection::dump(db).await.unwrap(), with_stray, "nothing rebuilt");
    assert_eq!(queries::person_key(db, t, stray).await.unwrap(), Some(vec![1u8; 72]));
});
