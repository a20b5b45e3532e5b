//! `Idempotency-Key`: a retried POST gets the first answer and writes nothing twice.

use serde_json::json;

use crate::app_test;

app_test!(retried_post_with_the_same_key_records_once, |app| {
    let body = json!({"first_name": "Jörg", "last_name": "Schäfer", "contacts": [{"email": "joerg@example.de"}]})
        .to_string()
        .into_bytes();
    let call = |b: Vec<u8>, key: &'static str| {
        let app = &app;
        async move {
            app.call_with(
                "POST",
                "/v1/persons",
                Some(&app.api_key),
                Some(b),
                "application/json",
                &[("Idempotency-Key", key)],
            )
            .await
        }
    };
    let first = call(body.clone(), "crm-4711").await;
    assert_eq!(first.status, 201, "{:?}", first.json);
    assert!(!first.replayed);
    let again = call(body.clone(), "crm-4711").await;
    assert_eq!(again.status, 201);
    assert!(again.replayed);
    assert_eq!(again.json, first.json, "the retry gets the first answer");
    let stats = konsent_store::queries::stats(&app.k.db, app.tenant).await.unwrap();
    assert_eq!(stats.persons, 1, "nothing recorded twice");

    let other = json!({"first_name": "Eva", "last_name": "Schäfer"}).to_string().into_bytes();
    let reused = call(other, "crm-4711").await;
    assert_eq!((reused.status, reused.json["code"].as_str()), (422, Some("idempotency_key_reused")));
    let fresh = call(body, "crm-4712").await;
    assert_eq!(fresh.status, 201);
    assert_ne!(fresh.json["person_id"], first.json["person_id"], "a new key is a new request");
    let bad = call(b"{}".to_vec(), "").await;
    assert_eq!((bad.status, bad.json["code"].as_str()), (400, Some("bad_idempotency_key")));
});
