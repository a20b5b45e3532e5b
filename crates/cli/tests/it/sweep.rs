//! The retention sweep beyond whole persons, on both engines, with the clock jumping years: an
//! unconfirmed double opt-in goes a month after its link expired (D9), its token after six months
//! (D10) and its send log after three years to the year's end (D5), but never takes a proof that
//! must still be kept with it (R23); a consent unused for five
//! years expires before its proof may go (E10, R60); a withdrawn consent's address goes after D4
//! while the person stays; closed request records go after D13 (R58).

use jiff::SignedDuration;
use konsent_domain::ids::{ContactPointId, PersonId};
use serde_json::{Value, json};

use crate::api::{PHONE, World, check, consent, doi, otp, web, world};
use crate::app_test;
use crate::doi::{email_consent, email_request, senders, status};
use crate::harness::TestApp;

const DAY: i64 = 24;

async fn sweep(app: &TestApp) -> Value {
    let r = app.call("POST", "/v1/retention/run", Some(&app.api_key), Some(json!({}))).await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    r.json
}

async fn value_of(app: &TestApp, w: &World, cp: &str) -> Option<String> {
    let person: PersonId = w.person.parse().unwrap();
    let cp: ContactPointId = cp.parse().unwrap();
    app.k.contact_value(app.tenant, person, cp).await.unwrap().map(|v| v.match_key())
}

async fn first_name(app: &TestApp, person: &str) -> Value {
    app.call("GET", &format!("/v1/persons/{person}"), Some(&app.api_key), None).await.json["first_name"].clone()
}

app_test!(r58_d9_d10_d5_unconfirmed_double_opt_in_goes_a_month_after_its_link_expired, |app| {
    let (w, consent) = email_consent(&app).await;
    let q = app.call("POST", &format!("/v1/consents/{consent}/doi"), Some(&app.api_key), None).await;
    assert_eq!(q.status, 202, "{:?}", q.json);
    let dir = tempfile::tempdir().unwrap();
    let mailer = konsent_jobs::mailer::Mailer::new("", dir.path().to_path_buf()).unwrap();
    assert_eq!(konsent_jobs::mailer::deliver_due(&app.k, &senders(&mailer)).await, 1);

    // The link expires after seven days; the request stays for D9's month after that.
    app.clock.advance(SignedDuration::from_hours(DAY * 7 + DAY * 29));
    let r = sweep(&app).await;
    assert_eq!((r["expired"].clone(), r["erased"].clone()), (json!([]), json!([])), "{r:?}");
    assert_eq!(first_name(&app, &w.person).await, json!("Anna"));

    app.clock.advance(SignedDuration::from_hours(DAY * 2));
    let r = sweep(&app).await;
    assert_eq!(r["expired"], json!([consent]), "{r:?}");
    assert_eq!(r["erased"], json!([w.person]), "nothing else of the person must be kept");
    assert_eq!(status(&app, &consent).await, "ConsentExpired");
    assert_eq!(first_name(&app, &w.person).await, Value::Null, "the clear data is gone");
    assert_eq!(r["tokens"], 0, "the hashed token stays for D10's six months");
    assert_eq!(sweep(&app).await["expired"], json!([]), "a second run finds nothing new");

    app.clock.advance(SignedDuration::from_hours(DAY * 183));
    assert_eq!(sweep(&app).await["tokens"], 1, "the unused token goes after six months");
    assert_eq!(sweep(&app).await["tokens"], 0);

    // The send log (no content) follows D5: three years to the end of the year.
    let r = sweep(&app).await;
    assert_eq!(r["messages"], 0);
    app.clock.advance(SignedDuration::from_hours(DAY * 365 * 4));
    assert_eq!(sweep(&app).await["messages"], 1);
    assert!(app.ledger_text().await.contains("\"messages\":1"), "the run's protocol counts what went (E7)");
    let v = konsent_service::verify::verify(&app.k).await.unwrap();
    assert!(v.ok(), "{:?}", v.broken);
});

app_test!(r23_r58_an_unconfirmed_double_opt_in_does_not_take_a_kept_proof_with_it, |app| {
    // Anna's phone and e-mail consent of today must be kept five years (§ 7a UWG) ...
    let w = world(&app).await;
    let given = consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    assert_eq!(given["status"], "ConsentGiven", "{given:?}");
    // ... and a newsletter request of hers is never confirmed.
    let request = email_request(&app, &w).await;
    let q = app.call("POST", &format!("/v1/consents/{request}/doi"), Some(&app.api_key), None).await;
    assert_eq!(q.status, 202, "{:?}", q.json);

    // D9: the request ends a month after its link expired, but Anna and her proof stay.
    app.clock.advance(SignedDuration::from_hours(DAY * 7 + DAY * 31));
    let r = sweep(&app).await;
    assert_eq!((r["expired"].clone(), r["erased"].clone()), (json!([request]), json!([])), "{r:?}");
    assert_eq!(status(&app, &request).await, "ConsentExpired");
    assert_eq!(first_name(&app, &w.person).await, json!("Anna"));
    assert_eq!(value_of(&app, &w, &w.phone_cp).await.as_deref(), Some("phone:+491712345678"));
    let proof = app
        .call("GET", &format!("/v1/consents/{}", given["consent_id"].as_str().unwrap()), Some(&app.api_key), None)
        .await;
    assert_eq!(proof.json["status"], "ConsentGiven", "{:?}", proof.json);
});

app_test!(e10_r60_a_consent_unused_for_five_years_expires_first_and_its_proof_goes_five_years_later, |app| {
    let w = world(&app).await;
    let c = consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    let id = c["consent_id"].as_str().unwrap().to_string();

    app.clock.advance(SignedDuration::from_hours(DAY * 365 * 5));
    let r = sweep(&app).await;
    assert_eq!(r["expired"], json!([]), "not yet five years after the grant (a leap day lies between): {r:?}");

    app.clock.advance(SignedDuration::from_hours(DAY * 2));
    let r = sweep(&app).await;
    assert_eq!((r["expired"].clone(), r["erased"].clone(), r["items"].clone()), (json!([id]), json!([]), json!(0)));
    assert_eq!(status(&app, &id).await, "ConsentExpired");
    let gate = check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await;
    assert_eq!(gate["reasons"][0]["code"], "consent_not_valid", "{gate:?}");
    // The proof stays, now counted from the expiry.
    assert_eq!(first_name(&app, &w.person).await, json!("Anna"));
    assert_eq!(value_of(&app, &w, &w.phone_cp).await.as_deref(), Some("phone:+491712345678"));
    let view = app.call("GET", &format!("/v1/consents/{id}"), Some(&app.api_key), None).await;
    let until: jiff::Timestamp = view.json["proof_retained_until"].as_str().unwrap().parse().unwrap();
    assert!(until > app.k.now() + SignedDuration::from_hours(DAY * 365 * 4), "{until}");

    app.clock.set(until - SignedDuration::from_hours(1));
    assert_eq!(sweep(&app).await["erased"], json!([]));
    app.clock.set(until + SignedDuration::from_hours(1));
    assert_eq!(sweep(&app).await["erased"], json!([w.person]), "then the person goes (D12)");
    assert_eq!(first_name(&app, &w.person).await, Value::Null);
});

app_test!(r58_a_withdrawn_consents_address_goes_after_d4_while_the_live_phone_consent_keeps_the_person, |app| {
    let w = world(&app).await;
    let consent_on = |cp: &str, channel: &str, evidence: Value| {
        json!({
            "person_id": w.person, "contact_point_ids": [cp], "text_id": w.text,
            "scope": {"advertisers": [w.advertiser], "product_categories": ["insurance"], "channels": [channel]},
            "capture_method": "web_form", "affirmative_action": true, "capture_offset_seconds": 3600,
            "declaration_recipient": {"organisation": "Muster Versicherungsmakler GmbH", "agent_pseudonym": "WEB"},
            "evidence": evidence
        })
    };
    let phone = app
        .call(
            "POST",
            "/v1/consents",
            Some(&app.api_key),
            Some(consent_on(&w.phone_cp, "phone_live", json!([web(&app), otp(&app, &w)]))),
        )
        .await;
    assert_eq!(phone.status, 201, "{:?}", phone.json);
    let mail = app
        .call(
            "POST",
            "/v1/consents",
            Some(&app.api_key),
            Some(consent_on(&w.email_cp, "email", json!([web(&app), doi(&app, &w)]))),
        )
        .await;
    assert_eq!((mail.status, mail.json["status"].as_str()), (201, Some("ConsentGiven")), "{:?}", mail.json);
    let mail_id = mail.json["consent_id"].as_str().unwrap();
    let wd = app
        .call(
            "POST",
            &format!("/v1/consents/{mail_id}/withdraw"),
            Some(&app.api_key),
            Some(json!({"via": "one_click"})),
        )
        .await;
    assert!(wd.status < 300, "{:?}", wd.json);
    // A call a year later keeps the phone consent in use.
    app.clock.advance(SignedDuration::from_hours(DAY * 365));
    let at = app.k.now();
    let csv = format!("phone;time;outcome\n{PHONE};{at};connected\n");
    let path = format!("/v1/uses/import?advertiser={}", w.advertiser);
    let u = app.call_raw("POST", &path, Some(&app.api_key), Some(csv.into_bytes()), "text/csv").await;
    assert_eq!(u.json["recorded"], 1, "{:?}", u.json);

    // D4: three years after the withdrawal, to the end of that year; run in the January after.
    let withdrawn = at - SignedDuration::from_hours(DAY * 365);
    let year = konsent_domain::time::utc_date(withdrawn).year() + 4;
    let jan: jiff::Timestamp = format!("{year}-01-02T00:00:00Z").parse().unwrap();
    app.clock.set(jan - SignedDuration::from_hours(DAY * 3));
    assert_eq!(sweep(&app).await["items"], 0, "still in D4's last year");
    assert!(value_of(&app, &w, &w.email_cp).await.is_some());
    app.clock.set(jan);
    let r = sweep(&app).await;
    assert_eq!(
        (r["items"].clone(), r["erased"].clone(), r["expired"].clone()),
        (json!(1), json!([]), json!([])),
        "{r:?}"
    );
    assert_eq!(value_of(&app, &w, &w.email_cp).await, None, "the e-mail address is gone");
    assert_eq!(value_of(&app, &w, &w.phone_cp).await.as_deref(), Some("phone:+491712345678"), "the phone proof stays");
    assert_eq!(first_name(&app, &w.person).await, json!("Anna"));
    assert_eq!(sweep(&app).await["items"], 0, "nothing twice");
});

app_test!(r58_d13_closed_request_records_go_three_years_after_the_end_of_their_year, |app| {
    let w = world(&app).await;
    consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    let r = app
        .call(
            "POST",
            &format!("/v1/persons/{}/access-requests", w.person),
            Some(&app.api_key),
            Some(json!({"via": "letter"})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.json);
    let x = app.call("POST", &format!("/v1/persons/{}/access-export", w.person), Some(&app.api_key), None).await;
    assert_eq!(x.status, 200);
    let tenant = app.tenant;
    let closed = || async { konsent_store::queries::closed_requests(&app.k.db, tenant, i64::MAX).await.unwrap().len() };
    assert_eq!(closed().await, 1);
    app.clock.advance(SignedDuration::from_hours(DAY * 365 * 3));
    assert_eq!(sweep(&app).await["requests"], 0, "not before the end of the third year");
    app.clock.advance(SignedDuration::from_hours(DAY * 366));
    assert_eq!(sweep(&app).await["requests"], 1);
    assert_eq!(closed().await, 0);
    // The record is gone from the projection for good: a rebuild from the ledger agrees.
    let before = konsent_store::projection::dump(&app.k.db).await.unwrap();
    konsent_store::projection::rebuild(&app.k.db, &[tenant]).await.unwrap();
    assert_eq!(konsent_store::projection::dump(&app.k.db).await.unwrap(), before);
});
