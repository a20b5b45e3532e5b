//! Upgrades of stores written by earlier versions: migration 9 (typed ids as 16 bytes on SQLite).

use konsent_domain::ids::PersonId;
use konsent_domain::ledger::EventBody;
use konsent_store::{Engine, ledger, migrate, projection, queries};

use konsent_testkit::both_engines;

use super::common::{ev, now, person_events, tenant, verify};

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
