//! Re-permission requests (R43) that end before the person's click, on both engines: a renewal
//! whose message could not be queued, and a queued request cancelled by an objection (R42) or a
//! withdrawal (R39) before the mail has left.

use jiff::SignedDuration;
use serde_json::json;

use crate::app_test;
use crate::harness::TestApp;
use crate::segments::subscriber;

/// Delivers what is due and checks that no message went out and none is left in the outbox.
async fn nothing_goes_out(app: &TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let mailer = konsent_jobs::mailer::Mailer::new("", dir.path().to_path_buf()).unwrap();
    assert_eq!(konsent_jobs::mailer::deliver_due(&app.k, &crate::doi::senders(&mailer)).await, 0, "nothing goes out");
    assert_eq!(konsent_store::queries::outbox_counts(&app.k.db).await.unwrap(), (0, 0));
}

/// Makes every insert into the outbox fail, as a full disk would (`false` mends it).
async fn outbox_fails(app: &TestApp, fail: bool) {
    use konsent_store::Db;
    let sql = match (&app.k.db, fail) {
        (Db::Sqlite { .. }, true) => {
            "CREATE TRIGGER outbox_fails BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'outbox unavailable'); END;"
        }
        (Db::Sqlite { .. }, false) => "DROP TRIGGER outbox_fails;",
        (Db::Postgres(_), true) => {
            "CREATE FUNCTION outbox_fails() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN RAISE EXCEPTION 'outbox unavailable'; END $$; \
             CREATE TRIGGER outbox_fails BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION outbox_fails();"
        }
        (Db::Postgres(_), false) => "DROP TRIGGER outbox_fails ON outbox;",
    };
    app.k.db.exec_script(sql.into()).await.unwrap();
}

app_test!(r43_a_renewal_whose_request_could_not_be_queued_ends_and_is_asked_for_again_by_the_next_run, |app| {
    let w = crate::api::world(&app).await;
    let (_, anna) = subscriber(&app, &w, "Anna", "anna@example.de").await;
    app.clock.advance(SignedDuration::from_hours(24 * 30 * 17));
    let send = || {
        let app = &app;
        let body = json!({"advertiser": w.advertiser});
        async move { app.call("POST", "/v1/repermission", Some(&app.api_key), Some(body)).await }
    };
    let statuses = || {
        let app = &app;
        async move {
            let list = app.call("GET", "/v1/consents", Some(&app.api_key), None).await.json.to_string();
            ["ConsentGiven", "ConsentRequested", "ConsentExpired", "RenewedConsentGiven"]
                .map(|s| list.matches(&format!("\"{s}\"")).count())
        }
    };
    // The renewal is recorded, then its mail cannot be queued.
    outbox_fails(&app, true).await;
    let sent = send().await;
    assert_eq!(sent.status, 200, "{:?}", sent.json);
    assert_eq!(
        (sent.json["renewals"].as_u64(), sent.json["mails"].as_u64(), sent.json["failed"].as_u64()),
        (Some(1), Some(0), Some(1)),
        "{:?}",
        sent.json
    );
    // Nobody was asked, so the renewal does not wait for a click: it has ended. Anna's consent is
    // as it was.
    assert_eq!(statuses().await, [1, 0, 1, 0]);
    let old = app.call("GET", &format!("/v1/consents/{anna}"), Some(&app.api_key), None).await.json;
    assert_eq!(old["status"], "ConsentGiven", "{old:?}");
    // Mended, the next run asks her at once (not only once an unsent link would have expired),
    // and her click renews the consent.
    outbox_fails(&app, false).await;
    let again = send().await;
    assert_eq!(
        (again.json["renewals"].as_u64(), again.json["mails"].as_u64(), again.json["failed"].as_u64()),
        (Some(1), Some(1), Some(0)),
        "{:?}",
        again.json
    );
    let token = crate::doi::token_in(&crate::doi::the_mail(&app).await);
    assert_eq!(app.call("POST", &format!("/doi/{token}"), None, None).await.status, 200);
    assert_eq!(statuses().await, [1, 0, 1, 1]);
});

app_test!(r43_r42_an_objection_to_e_mail_advertising_cancels_a_queued_repermission_request, |app| {
    use crate::api::{consent, doi, otp, web};
    let w = crate::api::world(&app).await;
    let key = Some(app.api_key.as_str());
    let given = consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    assert_eq!(given["status"], "ConsentGiven");
    app.clock.advance(SignedDuration::from_hours(24 * 345));
    let queued = || {
        let app = &app;
        async move {
            let sent = app
                .call("POST", "/v1/repermission", Some(&app.api_key), Some(json!({"advertiser": w.advertiser})))
                .await;
            assert_eq!(sent.json["mails"].as_u64(), Some(1), "{:?}", sent.json);
        }
    };
    // Anna objects to e-mail advertising only (R42) before the mail has left: it does not go.
    queued().await;
    let o = app
        .call(
            "POST",
            &format!("/v1/persons/{}/objection", w.person),
            key,
            Some(json!({"channels": ["email"], "via": "letter"})),
        )
        .await;
    assert!(o.status < 300, "{:?}", o.json);
    nothing_goes_out(&app).await;
});

app_test!(r43_r39_withdrawing_the_consent_a_request_relies_on_cancels_the_queued_request, |app| {
    use crate::api::{consent, doi, otp, web};
    let w = crate::api::world(&app).await;
    let key = Some(app.api_key.as_str());
    let given = consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    let id = given["consent_id"].as_str().unwrap();
    app.clock.advance(SignedDuration::from_hours(24 * 345));
    let sent = app.call("POST", "/v1/repermission", key, Some(json!({"advertiser": w.advertiser}))).await;
    assert_eq!(sent.json["mails"].as_u64(), Some(1), "{:?}", sent.json);
    // Anna withdraws e-mail from the consent the request relies on before the mail has left.
    let r = app
        .call(
            "POST",
            &format!("/v1/consents/{id}/withdraw"),
            key,
            Some(json!({"scope": {"advertisers": [], "product_categories": [], "channels": ["email"]}})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    nothing_goes_out(&app).await;
});
