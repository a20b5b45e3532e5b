//! Upgrades of stores written by earlier versions: migration 9 (typed ids as 16 bytes on SQLite),
//! migration 10 (the vault in the person's and contact point's rows).

use konsent_domain::ids::PersonId;
use konsent_domain::ledger::EventBody;
use konsent_store::{Engine, ledger, migrate, projection, queries};

use konsent_testkit::both_engines;

use super::common::{ev, now, person_events, tenant, verify};
use super::vault_tests::{ids, vault_of, vault_writes, versions};

const MIGRATION_9: &str = include_str!("../../migrations/sqlite/0009_binary_ids.sql");

/// The (table, columns) migration 9 converts, read from its `UPDATE` statements.
fn converted_columns() -> Vec<(String, Vec<String>)> {
    MIGRATION_9
        .lines()
        .filter_map(|l| l.strip_prefix("UPDATE "))
        .map(|l| {
            let (table, sets) = l.split_once(" SET ").expect("UPDATE t SET …");
            let cols = sets.split(" END, ").map(|s| s.split(" = ").next().unwrap_or("").trim().to_string()).collect();
            (table.to_string(), cols)
        })
        .collect()
}

/// SQL that puts back what migrations 1 to 8 stored on SQLite: each converted id as its
/// hyphenated lowercase text.
fn as_version_8() -> String {
    let text = |c: &str| {
        format!(
            "lower(substr(hex({c}), 1, 8) || '-' || substr(hex({c}), 9, 4) || '-' || substr(hex({c}), 13, 4) || '-' || \
             substr(hex({c}), 17, 4) || '-' || substr(hex({c}), 21, 12))"
        )
    };
    let mut sql = String::from(
        "DROP TRIGGER ledger_no_update; DROP TRIGGER ledger_refs_no_update; DROP TRIGGER checkpoints_no_update;\n",
    );
    for (table, cols) in converted_columns() {
        let sets: Vec<String> = cols
            .iter()
            .map(|c| format!("{c} = CASE WHEN typeof({c}) = 'blob' THEN {} ELSE {c} END", text(c)))
            .collect();
        sql.push_str(&format!("UPDATE {table} SET {};\n", sets.join(", ")));
    }
    // The append-only triggers as migration 9 leaves them (its last statements).
    let triggers = &MIGRATION_9[MIGRATION_9.rfind("\nCREATE TRIGGER ledger_no_update").expect("triggers")..];
    sql.push_str(triggers);
    sql
}

both_engines!(an_upgrade_to_migration_9_keeps_every_row_and_the_chain, |db| {
    let t = tenant(9);
    ledger::append(db, t, now(), vec![ev(1, EventBody::TenantCreated { name: "T".into() })], vec![]).await.unwrap();
    let events = (1..4).flat_map(person_events).collect();
    ledger::append(db, t, now(), events, vec![]).await.unwrap();
    let person = match &person_events(2)[0].body {
        EventBody::PersonRegistered { person_id, .. } => *person_id,
        _ => unreachable!(),
    };
    let head = verify(db, t).await.unwrap();
    let before = projection::dump(db).await.unwrap();
    assert!(converted_columns().len() > 30, "{:?}", converted_columns());

    // Migration 9 converts the vault tables migration 10 folds away: back to before both.
    db.exec_script(as_version_9(db.engine())).await.unwrap();
    if db.engine() == Engine::Sqlite {
        db.exec_script(as_version_8()).await.unwrap();
        // Stored as text, the person is not found by its id: the conversion is what finds it.
        assert_eq!(queries::person(db, t, person).await.unwrap(), None);
    }
    db.exec("DELETE FROM schema_migrations WHERE version = 9", vec![]).await.unwrap();
    migrate::migrate(db, 3).await.unwrap();

    assert_eq!(projection::dump(db).await.unwrap(), before, "every projection row as before");
    let found: Option<PersonId> = queries::person(db, t, person).await.unwrap().map(|p| p.id);
    assert_eq!(found, Some(person));
    assert_eq!(queries::timeline(db, t, person).await.unwrap().len(), 2);
    assert_eq!(verify(db, t).await.unwrap(), head, "the chain verifies to the same head");
});

/// SQL that puts the vault back as migrations 1 to 9 stored it: the key and the contact values
/// in tables of their own, every data version in `person_data`, no vault columns in the rows.
pub(crate) fn as_version_9(engine: Engine) -> String {
    let blob = if engine == Engine::Sqlite { "BLOB" } else { "BYTEA" };
    let mut sql = format!(
        "CREATE TABLE person_keys (tenant_id TEXT NOT NULL, person_id TEXT NOT NULL, wrapped_key {blob} NOT NULL, \
         key_fp TEXT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (tenant_id, person_id));
         CREATE TABLE contact_values (tenant_id TEXT NOT NULL, contact_point_id TEXT NOT NULL, person_id TEXT NOT NULL, \
         sealed {blob} NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (tenant_id, contact_point_id));
         CREATE INDEX contact_values_person ON contact_values (tenant_id, person_id);
         INSERT INTO person_keys SELECT tenant_id, id, wrapped_key, key_fp, key_created_at FROM persons WHERE wrapped_key IS NOT NULL;
         INSERT INTO person_data SELECT tenant_id, id, sealed_version, sealed, sealed_sha256, sealed_at FROM persons WHERE sealed IS NOT NULL;
         INSERT INTO contact_values SELECT tenant_id, id, person_id, sealed, sealed_sha256 FROM contact_points WHERE sealed IS NOT NULL;
         DELETE FROM schema_migrations WHERE version = 10;\n"
    );
    for c in ["wrapped_key", "key_fp", "key_created_at", "sealed_version", "sealed", "sealed_sha256", "sealed_at"] {
        sql.push_str(&format!("ALTER TABLE persons DROP COLUMN {c};\n"));
    }
    for c in ["sealed", "sealed_sha256"] {
        sql.push_str(&format!("ALTER TABLE contact_points DROP COLUMN {c};\n"));
    }
    sql
}

both_engines!(an_upgrade_to_migration_10_moves_every_key_data_version_and_contact_value_into_the_rows, |db| {
    let t = tenant(10);
    for n in 1..=3 {
        ledger::append(db, t, now(), person_events(n), vault_writes(n)).await.unwrap();
    }
    let (p2, cp3) = (ids(2).0, ids(3).1);
    let v2 =
        konsent_store::SideWrite::PersonData { person_id: p2, version: 2, sealed: vec![5; 40], sha256: "v2".into() };
    let erased = konsent_store::SideWrite::EraseVault {
        person_id: ids(3).0,
        person_data: false,
        contact_points: vec![cp3],
        attachments: vec![],
        destroy_key: false,
    };
    ledger::append(db, t, now(), vec![], vec![v2, erased]).await.unwrap();
    let mut vaults = Vec::new();
    for n in 1..=3 {
        vaults.push((vault_of(db, t, n).await, versions(db, t, n).await));
    }
    assert_eq!(vaults[1].1, [1, 2]);
    assert_eq!(vaults[2].0.2, None);
    let before = projection::dump(db).await.unwrap();

    db.exec_script(as_version_9(db.engine())).await.unwrap();
    assert!(queries::person_key(db, t, ids(1).0).await.is_err(), "no vault columns before migration 10");
    migrate::migrate(db, 4).await.unwrap();
    for n in 1..=3 {
        assert_eq!((vault_of(db, t, n).await, versions(db, t, n).await), vaults[n as usize - 1], "person {n}");
    }
    assert_eq!(projection::dump(db).await.unwrap(), before, "every row as before");
    assert!(db.fetch_all("SELECT count(*) FROM person_keys", vec![]).await.is_err(), "person_keys is gone");
    assert!(db.fetch_all("SELECT count(*) FROM contact_values", vec![]).await.is_err(), "contact_values is gone");

    // A contact value whose contact point is not stored: the migration fails, names why and
    // changes nothing; once the stray row is gone it runs.
    db.exec_script(as_version_9(db.engine())).await.unwrap();
    db.exec(
        "INSERT INTO contact_values (tenant_id, contact_point_id, person_id, sealed, sha256) VALUES ($1, $2, $3, $4, 'x')",
        konsent_store::vals![t, ids(9).1, ids(9).0, vec![1u8; 9]],
    )
    .await
    .unwrap();
    let err = migrate::migrate(db, 5).await.unwrap_err();
    assert!(err.to_string().contains("every_vault_row_has_its_person_or_contact_point"), "{err}");
    assert_eq!(db.fetch_all("SELECT count(*) FROM person_keys", vec![]).await.unwrap()[0].i64(0).unwrap(), 3);
    db.exec("DELETE FROM contact_values WHERE contact_point_id = $1", konsent_store::vals![ids(9).1]).await.unwrap();
    migrate::migrate(db, 6).await.unwrap();
    for n in 1..=3 {
        assert_eq!((vault_of(db, t, n).await, versions(db, t, n).await), vaults[n as usize - 1], "person {n}");
    }
});

both_engines!(a_blind_index_is_32_bytes_on_sqlite_is_found_as_its_hex_and_migration_11_converts_it, |db| {
    use konsent_domain::contact::ContactKind;
    use konsent_domain::ids::ContactPointId;
    let t = tenant(11);
    let (person, _) = ids(1);
    let key = "9f".repeat(32);
    let cp = ContactPointId::from_parts(1_700_000_000_111, [3; 10]);
    let added = EventBody::ContactPointAdded {
        contact_point_id: cp,
        person_id: person,
        kind: ContactKind::Email,
        blind_index: key.clone(),
        value_hash: "00".repeat(32),
    };
    // Person 1 with a contact point under "bi1" (not a keyed hash: kept as text) and one under `key`.
    let mut events = person_events(1);
    events.push(ev(5, added));
    ledger::append(db, t, now(), events, vec![]).await.unwrap();
    let stored = |sql: &'static str| async move {
        db.fetch_all(sql, konsent_store::vals![t]).await.unwrap().iter().map(|r| r.text(0).unwrap()).collect::<Vec<_>>()
    };
    let forms = "SELECT CAST(length(blind_index) AS TEXT) FROM contact_points WHERE tenant_id = $1 ORDER BY id";
    let found = async || {
        let by_key = queries::persons_by_blind_index(db, t, &key).await.unwrap();
        let lookup = queries::key_lookup(db, t, &[key.clone(), "bi1".into()]).await.unwrap();
        let listed: Vec<String> =
            queries::contact_points(db, t, person).await.unwrap().into_iter().map(|c| c.blind_index).collect();
        (by_key, lookup.holders.get(&key).cloned(), lookup.holders.contains_key("bi1"), listed)
    };
    let expected = (vec![(person, cp)], Some(vec![(person, cp)]), true, vec!["bi1".to_string(), key.clone()]);
    assert_eq!(found().await, expected);
    let before = projection::dump(db).await.unwrap();
    assert!(before.contains(&key), "dumped as its hex");
    if db.engine() == Engine::Sqlite {
        assert_eq!(stored(forms).await, ["3", "32"], "32 bytes; the other value as it was");
        // As migrations 1 to 10 stored it: 64 characters. Until migration 11 runs, the lookups
        // (which bind bytes) do not find it.
        db.exec_script(
            "UPDATE contact_points SET blind_index = lower(hex(blind_index)) WHERE typeof(blind_index) = 'blob'; \
             DELETE FROM schema_migrations WHERE version = 11;"
                .into(),
        )
        .await
        .unwrap();
        assert_eq!(stored(forms).await, ["3", "64"]);
        assert!(queries::persons_by_blind_index(db, t, &key).await.unwrap().is_empty());
        migrate::migrate(db, 7).await.unwrap();
        assert_eq!(stored(forms).await, ["3", "32"]);
    } else {
        assert_eq!(stored(forms).await, ["3", "64"], "text on PostgreSQL");
    }
    assert_eq!(found().await, expected);
    assert_eq!(projection::dump(db).await.unwrap(), before);
});
