//! Ledger append, verification, append-only triggers, concurrency and rebuild on both engines.

use std::sync::Arc;

use konsent_domain::channel::{CategoryDef, ProductCategory};
use konsent_domain::ids::{EventId, PersonId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_store::{Db, PendingEvent, ledger, projection, queries};

use konsent_testkit::both_engines;

use super::common::{ev, now, person_events, tenant, verify};

/// Lets the test change stored entries, as an attacker with database access could.
async fn allow_ledger_updates(db: &Db) {
    match db {
        Db::Sqlite { .. } => db.exec_script("DROP TRIGGER ledger_no_update".into()).await.unwrap(),
        Db::Postgres(_) => {
            db.exec_script("ALTER TABLE ledger DISABLE TRIGGER ledger_no_update_delete".into()).await.unwrap()
        }
    }
}

both_engines!(appends_chain_and_projects, |db| {
    let t = tenant(1);
    let first =
        ledger::append(db, t, now(), vec![ev(1, EventBody::TenantCreated { name: "Pool Nord".into() })], vec![])
            .await
            .unwrap();
    assert_eq!(first[0].seq, 1);
    let cat =
        CategoryDef { code: ProductCategory::parse("insurance").unwrap(), label_de: "V".into(), label_en: "I".into() };
    let mut events = vec![ev(2, EventBody::CategoryDefined { category: cat })];
    events.extend(person_events(7));
    let out = ledger::append(db, t, now(), events, vec![]).await.unwrap();
    assert_eq!(out.iter().map(|a| a.seq).collect::<Vec<_>>(), vec![2, 3, 4]);
    assert_eq!(verify(db, t).await.unwrap(), 4);
    let tenants = queries::tenants(db).await.unwrap();
    assert_eq!(tenants, vec![(t, "Pool Nord".to_string())]);
    let found = queries::persons_by_blind_index(db, t, "bi7").await.unwrap();
    assert_eq!(found.len(), 1);
    // Another tenant's chain starts at 1 and does not see tenant 1's data.
    let t2 = tenant(2);
    let o2 = ledger::append(db, t2, now(), person_events(7), vec![]).await.unwrap();
    assert_eq!(o2[0].seq, 1);
    assert_eq!(queries::persons_by_blind_index(db, t2, "bi7").await.unwrap().len(), 1);
    assert_eq!(queries::stats(db, t).await.unwrap().persons, 1);
});

both_engines!(ledger_refuses_update_and_delete, |db| {
    let t = tenant(3);
    ledger::append(db, t, now(), person_events(1), vec![]).await.unwrap();
    let upd = db.exec("UPDATE ledger SET kind = 'x' WHERE seq = 1", vec![]).await.unwrap_err().to_string();
    assert!(upd.contains("append-only"), "{upd}");
    let del = db.exec("DELETE FROM ledger", vec![]).await.unwrap_err().to_string();
    assert!(del.contains("append-only"), "{del}");
    assert_eq!(verify(db, t).await.unwrap(), 2);
});

both_engines!(concurrent_appends_never_fork, |db| {
    let t = tenant(4);
    let db = Arc::new(db.clone());
    let mut tasks = Vec::new();
    for task in 0..16u64 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10u64 {
                ledger::append(&db, t, now(), person_events(task * 1000 + i), vec![]).await.unwrap();
            }
        }));
    }
    for h in tasks {
        h.await.unwrap();
    }
    assert_eq!(verify(&db, t).await.unwrap(), 16 * 10 * 2);
    assert_eq!(queries::stats(&db, t).await.unwrap().persons, 160);
});

both_engines!(rebuild_recreates_identical_state, |db| {
    let t = tenant(5);
    ledger::append(db, t, now(), vec![ev(1, EventBody::TenantCreated { name: "T".into() })], vec![]).await.unwrap();
    for n in 0..30 {
        ledger::append(db, t, now(), person_events(n), vec![]).await.unwrap();
    }
    let before = projection::dump(db).await.unwrap();
    assert!(before.lines().count() > 60);
    db.exec("DELETE FROM persons WHERE id IN (SELECT id FROM persons LIMIT 5)", vec![]).await.unwrap();
    assert_ne!(projection::dump(db).await.unwrap(), before);
    let n = projection::rebuild(db, &[t]).await.unwrap();
    assert_eq!(n, 61);
    assert_eq!(projection::dump(db).await.unwrap(), before);
});

both_engines!(tampered_payload_is_named, |db| {
    let t = tenant(6);
    for n in 0..5 {
        ledger::append(db, t, now(), person_events(n), vec![]).await.unwrap();
    }
    allow_ledger_updates(db).await;
    db.exec(
        "UPDATE ledger SET payload = CAST(REPLACE(CAST(payload AS TEXT), 'consumer', 'business') AS BLOB) WHERE seq = 7",
        vec![],
    )
    .await
    .or(db
        .exec(
            "UPDATE ledger SET payload = convert_to(replace(convert_from(payload, 'UTF8'), 'consumer', 'business'), 'UTF8') WHERE seq = 7",
            vec![],
        )
        .await)
    .unwrap();
    let err = verify(db, t).await.unwrap_err();
    assert_eq!(err.seq, 7, "{err}");
});

both_engines!(migrations_are_idempotent, |db| {
    konsent_store::migrate::migrate(db, 1).await.unwrap();
    konsent_store::migrate::migrate(db, 2).await.unwrap();
});

both_engines!(head_watch_follows_other_writers_and_survives_a_lost_listener, |db| {
    use std::time::{Duration, Instant};
    let t = tenant(8);
    let watch = konsent_store::HeadWatch::start(db.clone());
    let until = |want: u64| {
        let watch = watch.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(10);
            while watch.known(t) != Some(want) {
                assert!(Instant::now() < deadline, "the watch never saw head {want}: {:?}", watch.known(t));
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    };
    until(0).await;
    // Another process's writer: it does not report to this watch, the database does.
    let other = konsent_store::GroupCommit::start(db.clone(), konsent_store::HeadWatch::inert());
    other.append(t, now(), person_events(1), vec![]).await.unwrap();
    until(2).await;
    if db.engine() == konsent_store::Engine::Postgres {
        // The listener's connection dies; commits in the meantime must not be missed.
        let killed = db
            .fetch_all(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(killed.len(), 1, "one listener");
        other.append(t, now(), person_events(2), vec![]).await.unwrap();
        until(4).await;
        other.append(t, now(), person_events(3), vec![]).await.unwrap();
        until(6).await;
    }
    // This process's own writer reports at commit, before the append is answered.
    let mine = konsent_store::GroupCommit::start(db.clone(), watch.clone());
    mine.append(t, now(), person_events(4), vec![]).await.unwrap();
    let head = konsent_store::queries::chain_head(db, t).await.unwrap();
    assert_eq!(watch.known(t), Some(head));
});

both_engines!(an_upgrade_to_migration_7_keeps_the_tokens_and_lets_one_link_cover_several_consents, |db| {
    use konsent_domain::ids::{ConsentId, ContactPointId};
    let (t, c1, c2, cp) = (
        tenant(7),
        ConsentId::from_uuid(uuid::Uuid::from_u128(0xc1)),
        ConsentId::from_uuid(uuid::Uuid::from_u128(0xc2)),
        ContactPointId::from_uuid(uuid::Uuid::from_u128(0xcc)),
    );
    // The table as migrations 1 to 6 left it, with a token of an open mail (ids as text, as
    // before migration 9, which converts them on SQLite; the vault as before migration 10, whose
    // tables migration 9 converts).
    db.exec_script(crate::migration_tests::as_version_9(db.engine())).await.unwrap();
    db.exec_script(format!(
        "DROP TABLE doi_tokens; \
         CREATE TABLE doi_tokens (token_hash TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, consent_id TEXT NOT NULL, \
         contact_point_id TEXT NOT NULL, message_id TEXT NOT NULL, sent_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, \
         used_at BIGINT, purpose TEXT NOT NULL DEFAULT 'doi'); \
         DELETE FROM schema_migrations WHERE version IN (7, 9); \
         INSERT INTO doi_tokens (token_hash, tenant_id, consent_id, contact_point_id, message_id, sent_at, expires_at) \
         VALUES ('h1', '{t}', '{c1}', '{cp}', '<m@x>', 1, 2);"
    ))
    .await
    .unwrap();
    konsent_store::migrate::migrate(db, 3).await.unwrap();
    let rows = konsent_store::queries::doi_token(db, "h1").await.unwrap();
    assert_eq!(
        rows.iter().map(|r| (r.tenant_id, r.consent_id, r.contact_point_id, r.purpose.as_str())).collect::<Vec<_>>(),
        [(t, c1, cp, "doi")]
    );
    let add = |consent: ConsentId| {
        db.exec(
            "INSERT INTO doi_tokens (token_hash, tenant_id, consent_id, contact_point_id, message_id, sent_at, expires_at) \
             VALUES ('h1', $1, $2, $3, '<m@x>', 1, 2)",
            konsent_store::vals![t, consent, cp],
        )
    };
    add(c2).await.unwrap();
    assert!(add(c2).await.is_err(), "a consent once per token");
    assert_eq!(konsent_store::queries::doi_token(db, "h1").await.unwrap().len(), 2);
});

both_engines!(a_batch_entry_holds_one_record_a_person_and_verifies_rebuilds_and_proves, |db| {
    use konsent_domain::ledger::{BreakKind, Entry, proves};
    let t = tenant(8);
    ledger::append(db, t, now(), vec![ev(1, EventBody::TenantCreated { name: "T".into() })], vec![]).await.unwrap();
    let cat =
        CategoryDef { code: ProductCategory::parse("insurance").unwrap(), label_de: "V".into(), label_en: "I".into() };
    let mut events: Vec<PendingEvent> = (20..23).flat_map(person_events).collect();
    events.insert(2, ev(3, EventBody::CategoryDefined { category: cat }));
    let folding = ledger::Folding {
        event_id: EventId::from_parts(1, [8; 10]),
        actor: Actor::System,
        label: "import x".into(),
        commit: ledger::Commit::Durable,
    };
    let mut tx = db.begin().await.unwrap();
    let out = ledger::append_folding(&mut tx, t, now(), events, vec![], Some(folding)).await.unwrap();
    tx.commit().await.unwrap();
    // Six person events in one batch entry (seq 2), the category after it (seq 3); answered in
    // the order given.
    assert_eq!(out.iter().map(|a| a.seq).collect::<Vec<_>>(), vec![2, 2, 3, 2, 2, 2, 2]);
    assert_eq!(verify(db, t).await.unwrap(), 3);
    assert_eq!(queries::stats(db, t).await.unwrap().persons, 3);
    assert_eq!(queries::persons_by_blind_index(db, t, "bi21").await.unwrap().len(), 1);

    // A person's entries: their record only, proven to the root the batch entry holds.
    let person = PersonId::from_parts(21, {
        let mut r = [0u8; 10];
        r[..8].copy_from_slice(&21u64.to_le_bytes());
        r
    });
    let mine = ledger::person_entries(db, t, &person).await.unwrap();
    assert_eq!(mine.len(), 1);
    let record = mine[0].record.clone().unwrap();
    let batch = Entry::decode(&mine[0].raw.1).unwrap();
    assert_eq!((record.index, record.count), (1, 3));
    assert!(proves(&record.bytes, record.index, record.count, &record.path, &batch.body.batch_root().unwrap()));
    let events = mine[0].events().unwrap();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e.seq == 2 && e.body.person() == Some(person)));
    assert_eq!(queries::timeline(db, t, person).await.unwrap(), events);

    // The projections rebuild from the records.
    let before = projection::dump(db).await.unwrap();
    db.exec("DELETE FROM persons", vec![]).await.unwrap();
    assert_eq!(projection::rebuild(db, &[t]).await.unwrap(), 3);
    assert_eq!(projection::dump(db).await.unwrap(), before);

    // The records are stored compressed, several times smaller than framed.
    let stored = db
        .fetch_optional("SELECT records FROM ledger WHERE tenant_id = $1 AND seq = 2", konsent_store::vals![t])
        .await
        .unwrap()
        .unwrap()
        .bytes(0)
        .unwrap();
    let framed = ledger::unpack_records(&stored).unwrap().into_owned();
    assert_eq!(konsent_domain::ledger::split(&framed).unwrap().len(), 3);
    assert!(stored.len() < framed.len() && !stored.starts_with(&framed[..4]));
    let set_records = |records: Vec<u8>| {
        db.exec("UPDATE ledger SET records = $1 WHERE tenant_id = $2 AND seq = 2", konsent_store::vals![records, t])
    };
    allow_ledger_updates(db).await;
    // Records stored uncompressed (as before compression) verify, prove and rebuild the same.
    set_records(framed.clone()).await.unwrap();
    assert_eq!(verify(db, t).await.unwrap(), 3);
    let again = ledger::person_entries(db, t, &person).await.unwrap();
    assert_eq!(again[0].record.as_ref().unwrap().bytes, record.bytes);
    db.exec("DELETE FROM persons", vec![]).await.unwrap();
    assert_eq!(projection::rebuild(db, &[t]).await.unwrap(), 3);
    assert_eq!(projection::dump(db).await.unwrap(), before);

    // A changed record breaks the chain at the batch entry, in either stored form.
    for form in [stored, framed] {
        let mut changed = form.clone();
        let at = changed.len() - 5;
        changed[at] ^= 0x20;
        set_records(changed).await.unwrap();
        let err = verify(db, t).await.unwrap_err();
        assert_eq!((err.seq, err.kind), (2, BreakKind::Records));
    }
});
