//! The `consents` projection: a recorded consent's row is inserted once; later events change it.

use konsent_domain::consent::{ConsentRecord, ConsentStatus};
use konsent_domain::ids::{ConsentId, PersonId};
use konsent_domain::ledger::EventBody;
use konsent_store::{Engine, ledger, queries, vals};

use konsent_testkit::both_engines;

use super::common::{ev, now, tenant, verify};

/// A consent record as an import makes it.
fn record(person: PersonId, consent: ConsentId) -> ConsentRecord {
    serde_json::from_str(&format!(
        r#"{{"id":"{consent}","person_id":"{person}","contact_points":["01a248bb-a83f-73e1-9774-142432d2c6a9"],"text_id":"01a248bb-956d-70a3-b9dc-b834049a051f","text_sha256":"e3a2c94a6e25a44b4e23edf4ca88384bbfd11dbd915a1e436c980b73cf7543ad","language":"de","scope":{{"advertisers":["01a248bb-9560-7262-b6a6-0b0720d8fd35"],"product_categories":["insurance"],"channels":["email"]}},"status":"ConsentGiven","recipient_class":"consumer","capture_method":"import","declaration_recipient":null,"source":{{"party":"first_party"}},"affirmative_action":true,"given_at":"2025-07-27T14:25:32Z","capture_offset_seconds":0,"recorded_at":"2026-12-01T00:23:07Z","granted_at":"2026-12-01T00:23:07Z","last_use_at":null,"last_change_at":"2026-12-01T00:23:07Z","evidence":[{{"kind":"import","provider":"Mailchimp","file_hash":"0419975de066ca391a6b1feb799cf782346705091ae1f6c46fb82b182dfe058f","row":2,"contract_ref":null,"reported_optin_at":"2025-07-27T14:25:32Z","reported_confirm_at":"2025-07-27T14:28:30Z","reported_ip":true,"confirmed_contact_point":"01a248bb-a83f-73e1-9774-142432d2c6a9"}}],"validity":{{"type":"endless"}},"approval_pending":false}}"#
    ))
    .expect("a consent record")
}

/// The event that lets a given consent expire.
fn expired(consent_id: ConsentId) -> EventBody {
    EventBody::ConsentStatusChanged {
        consent_id,
        from: ConsentStatus::Given,
        to: ConsentStatus::Expired,
        reason: "stale".into(),
        at: now(),
    }
}

both_engines!(recording_a_consent_id_already_stored_fails_and_keeps_the_record, |db| {
    let t = tenant(11);
    let person = PersonId::from_parts(1_700_000_000_001, [1; 10]);
    let id = ConsentId::from_parts(1_700_000_000_002, [2; 10]);
    let first = record(person, id);
    ledger::append(db, t, now(), vec![ev(1, EventBody::ConsentRecorded { consent: Box::new(first) })], vec![])
        .await
        .unwrap();

    // The same id recorded again (with another status) would replace the record the ledger
    // proves; the append fails whole instead.
    let mut second = record(person, id);
    second.status = ConsentStatus::Refused;
    let err =
        ledger::append(db, t, now(), vec![ev(2, EventBody::ConsentRecorded { consent: Box::new(second) })], vec![])
            .await
            .expect_err("a second record of one consent id");
    assert!(err.to_string().to_lowercase().contains("unique"), "{err}");
    let stored = queries::consent(db, t, id).await.unwrap().expect("the first record");
    assert_eq!(stored.status, ConsentStatus::Given);
    assert_eq!(verify(db, t).await.unwrap(), 1, "the failed append left no ledger entry");

    // Later events change the row in place.
    let change = expired(id);
    ledger::append(db, t, now(), vec![ev(3, change)], vec![]).await.unwrap();
    let stored = queries::consents_of(db, t, person).await.unwrap();
    assert_eq!(stored.iter().map(|c| (c.id, c.status)).collect::<Vec<_>>(), vec![(id, ConsentStatus::Expired)]);
});

both_engines!(a_consent_row_is_compact_on_sqlite_and_rows_written_as_json_before_read_the_same, |db| {
    let t = tenant(12);
    let person = PersonId::from_parts(1_700_000_000_011, [1; 10]);
    let id = ConsentId::from_parts(1_700_000_000_012, [2; 10]);
    let rec = record(person, id);
    let json = serde_json::to_string(&rec).unwrap();
    ledger::append(db, t, now(), vec![ev(1, EventBody::ConsentRecorded { consent: Box::new(rec.clone()) })], vec![])
        .await
        .unwrap();
    let form = |db: &konsent_store::Db| {
        let sql = match db.engine() {
            Engine::Sqlite => "SELECT typeof(data), CAST(length(data) AS BIGINT) FROM consents WHERE id = $1",
            Engine::Postgres => "SELECT 'text', CAST(length(data) AS BIGINT) FROM consents WHERE id = $1",
        };
        let db = db.clone();
        async move {
            let r = db.fetch_optional(sql, vals![id]).await.unwrap().expect("the row");
            (r.text(0).unwrap(), r.i64(1).unwrap() as usize)
        }
    };
    match db.engine() {
        Engine::Sqlite => {
            let (kind, len) = form(db).await;
            assert_eq!(kind, "blob");
            assert!(len * 2 < json.len(), "{len} bytes stored against {} of JSON", json.len());
        }
        Engine::Postgres => assert_eq!(form(db).await, ("text".to_string(), json.len())),
    }
    assert_eq!(queries::consent(db, t, id).await.unwrap(), Some(rec.clone()));

    // A row as versions before MessagePack wrote it on SQLite: the record's JSON as text.
    db.exec("UPDATE consents SET data = $1 WHERE id = $2", vals![json.clone(), id]).await.unwrap();
    assert_eq!(queries::consent(db, t, id).await.unwrap(), Some(rec.clone()));
    assert_eq!(queries::consents_of(db, t, person).await.unwrap(), vec![rec.clone()]);
    let page = queries::consents_page(db, t, 0, None, 10).await.unwrap();
    assert_eq!(page.items, vec![rec.clone()]);

    // Its next change reads it and writes it in the engine's form. The change goes through the
    // group writer, as the service appends: on SQLite its own connection reads the TEXT row.
    let writer = konsent_store::GroupCommit::start(db.clone(), konsent_store::HeadWatch::inert());
    writer.append(t, now(), vec![ev(2, expired(id))], vec![]).await.unwrap();
    let stored = queries::consent(db, t, id).await.unwrap().expect("the record");
    assert_eq!((stored.status, stored.evidence), (ConsentStatus::Expired, rec.evidence));
    if db.engine() == Engine::Sqlite {
        assert_eq!(form(db).await.0, "blob");
    }
});
