//! Personal data lives sealed in the vault, never in the ledger; the blind index finds it;
//! corrections append versions (R46).

use jiff::civil::date;
use konsent_domain::contact::{ContactValue, EmailAddress, PhoneE164, PostalAddress};
use konsent_domain::ledger::Actor;
use konsent_domain::party::{PersonData, RecipientClass};
use konsent_service::persons::NewPerson;

use crate::app_test;

fn anna() -> NewPerson {
    let address = PostalAddress::new("Lindenstraße 5", "50667", "Köln", "DE").unwrap();
    NewPerson {
        data: PersonData {
            first_name: "Anna".into(),
            last_name: "Müller-Lüdenscheidt".into(),
            address: Some(address.clone()),
            birth_date: Some(date(1980, 4, 1)),
        },
        recipient_class: RecipientClass::Consumer,
        org_unit: None,
        contacts: vec![
            ContactValue::Email(EmailAddress::parse("Anna.M@Example.DE").unwrap()),
            ContactValue::Phone(PhoneE164::parse("0171 2345678").unwrap()),
            ContactValue::Postal(address),
        ],
    }
}

/// The versions of a person's sealed data the vault holds, oldest first: those a correction
/// replaced and the current one in the person's row.
async fn data_versions(app: &crate::harness::TestApp, person: konsent_domain::ids::PersonId) -> Vec<i64> {
    let sql = "SELECT version FROM person_data WHERE tenant_id = $1 AND person_id = $2 \
               UNION ALL SELECT sealed_version FROM persons WHERE tenant_id = $1 AND id = $2 AND sealed IS NOT NULL \
               ORDER BY 1";
    let rows = app.k.db.fetch_all(sql, konsent_store::vals![app.tenant, person]).await.unwrap();
    rows.iter().map(|r| r.i64(0).unwrap()).collect()
}

app_test!(personal_data_is_sealed_and_found_by_blind_index, |app| {
    let w = app.k.register_person(app.tenant, &Actor::System, &anna()).await.unwrap();
    let data = app.k.person_data(app.tenant, w.person_id).await.unwrap().unwrap();
    assert_eq!(data.last_name, "Müller-Lüdenscheidt");
    let phone = ContactValue::Phone(PhoneE164::parse("+49 (0)171 234 5678").unwrap());
    let found = app.k.find_by_contact(app.tenant, &phone).await.unwrap();
    assert_eq!(found, vec![(w.person_id, w.contact_point_ids[1])]);
    let email = ContactValue::Email(EmailAddress::parse("anna.m@example.de").unwrap());
    assert_eq!(app.k.find_by_contact(app.tenant, &email).await.unwrap().len(), 1);
    assert_eq!(
        app.k.contact_value(app.tenant, w.person_id, w.contact_point_ids[1]).await.unwrap(),
        Some(phone.clone())
    );
    let ledger = app.ledger_text().await;
    for secret in ["Anna", "Lüdenscheidt", "Lindenstra", "2345678", "example.de", "1980"] {
        assert!(!ledger.contains(secret), "ledger leaks '{secret}'");
    }
});

app_test!(r46_correction_appends_a_version_and_keeps_history, |app| {
    let w = app.k.register_person(app.tenant, &Actor::System, &anna()).await.unwrap();
    let mut corrected = anna().data;
    corrected.last_name = "Schmidt".into();
    app.k.correct_person(app.tenant, &Actor::User("u-1".into()), w.person_id, &corrected, None).await.unwrap();
    assert_eq!(app.k.person_data(app.tenant, w.person_id).await.unwrap().unwrap().last_name, "Schmidt");
    assert_eq!(data_versions(&app, w.person_id).await, vec![1, 2], "the original capture data stays");
    assert!(app.ledger_text().await.contains("person_corrected"));
});

// The vault is not in the ledger, so a rebuild of the projections from the ledger must leave it
// whole: every person's data (and its earlier versions), every contact value, the blind index.
app_test!(a_rebuild_keeps_every_persons_sealed_data_and_contact_values, |app| {
    let a = app.k.register_person(app.tenant, &Actor::System, &anna()).await.unwrap();
    let mut ben = anna();
    ben.data.first_name = "Ben".into();
    ben.contacts = vec![ContactValue::Email(EmailAddress::parse("ben@example.de").unwrap())];
    let b = app.k.register_person(app.tenant, &Actor::System, &ben).await.unwrap();
    let mut corrected = anna().data;
    corrected.last_name = "Schmidt".into();
    app.k.correct_person(app.tenant, &Actor::User("u-1".into()), a.person_id, &corrected, None).await.unwrap();
    let points: Vec<_> = a.contact_point_ids.iter().chain(&b.contact_point_ids).copied().collect();
    let values = app.k.contact_values(app.tenant, &points).await.unwrap();
    assert_eq!(values.len(), 4);

    konsent_store::projection::rebuild(&app.k.db, &[app.tenant]).await.unwrap();

    assert_eq!(app.k.person_data(app.tenant, a.person_id).await.unwrap(), Some(corrected));
    assert_eq!(app.k.person_data(app.tenant, b.person_id).await.unwrap(), Some(ben.data));
    assert_eq!(app.k.contact_values(app.tenant, &points).await.unwrap(), values);
    assert_eq!(data_versions(&app, a.person_id).await, vec![1, 2], "the earlier version stays");
    let email = ContactValue::Email(EmailAddress::parse("BEN@example.de").unwrap());
    assert_eq!(app.k.find_by_contact(app.tenant, &email).await.unwrap(), vec![(b.person_id, b.contact_point_ids[0])]);
});

/// Whether `needle` occurs anywhere in the bytes of the SQLite database and its log.
fn in_sqlite_files(dir: &std::path::Path, needle: &[u8]) -> bool {
    ["konsent.db", "konsent.db-wal"]
        .iter()
        .any(|f| std::fs::read(dir.join(f)).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle)))
}

// E6: deletion is physical. A shredded person's wrapped key, sealed data and sealed contact values
// must not stay behind in the free space of the SQLite file's pages (the master key would open
// them), so the connections run with `secure_delete = FAST`; nor in the older frames of the log,
// so the commit of an erasure has the log emptied into the database, while the server runs on.
// PostgreSQL has no such setting: see docs/operations.md, "Erasure on disk".
#[tokio::test]
async fn r58_a_shredded_persons_key_and_sealed_data_leave_no_bytes_in_the_sqlite_file() {
    let app = crate::harness::TestApp::sqlite().await;
    let w = app.k.register_person(app.tenant, &Actor::System, &anna()).await.unwrap();
    let key = konsent_store::queries::person_key(&app.k.db, app.tenant, w.person_id).await.unwrap().unwrap();
    let (_, data, _) = konsent_store::queries::person_data(&app.k.db, app.tenant, w.person_id).await.unwrap().unwrap();
    let values = konsent_store::queries::sealed_contacts(&app.k.db, app.tenant, &w.contact_point_ids).await.unwrap();
    assert_eq!(values.len(), 3);
    let dir = app.data_dir();
    assert!(in_sqlite_files(&dir, &key) && in_sqlite_files(&dir, &data), "stored before the erasure");

    let e = app
        .call("POST", &format!("/v1/persons/{}/erasure", w.person_id), Some(&app.api_key), Some(serde_json::json!({})))
        .await;
    assert_eq!((e.status, e.json["key_destroyed"].as_bool()), (200, Some(true)), "{:?}", e.json);
    let gone = |bytes: &[u8]| !in_sqlite_files(&dir, bytes);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !(gone(&key) && gone(&data)) && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!in_sqlite_files(&dir, &key), "the wrapped key is overwritten");
    assert!(!in_sqlite_files(&dir, &data), "the sealed data is overwritten");
    for (_, (_, _, sealed)) in values {
        assert!(!in_sqlite_files(&dir, &sealed), "every sealed contact value is overwritten");
    }
}
