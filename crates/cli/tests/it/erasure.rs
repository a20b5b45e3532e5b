//! Erasure, restriction and the retention sweep on both engines, with the clock jumping years:
//! scenario 9 (a phone consent used two years ago: the proof stays, restricted, until the last use
//! plus five years, then goes), a legal hold that survives a run and goes after release, and an
//! erased person that an import cannot bring back (R44, R47, R48, R58, R59, R61).

use jiff::{SignedDuration, Span, Timestamp};
use serde_json::{Value, json};

use crate::api::{EMAIL, PHONE, check, consent, doi, otp, web, world};
use crate::app_test;
use crate::assisted::key;
use crate::harness::TestApp;

fn plus_years(t: Timestamp, y: i64) -> Timestamp {
    t.to_zoned_datetime(jiff::tz::TimeZone::UTC).checked_add(Span::new().years(y)).unwrap().timestamp()
}

async fn sweep(app: &TestApp, key: &str) -> Value {
    let r = app.call("POST", "/v1/retention/run", Some(key), Some(json!({}))).await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    r.json
}

/// Whether the person appears in the person list and the consent list for `key`.
async fn listed(app: &TestApp, key: &str, person: &str) -> (bool, bool) {
    let p = app.call("GET", "/v1/persons", Some(key), None).await.json["items"].to_string();
    let c = app.call("GET", "/v1/consents", Some(key), None).await.json["items"].to_string();
    (p.contains(person), c.contains(person))
}

async fn first_name(app: &TestApp, key: &str, person: &str) -> (u16, Value) {
    let r = app.call("GET", &format!("/v1/persons/{person}"), Some(key), None).await;
    (r.status, r.json["first_name"].clone())
}

app_test!(r47_r59_scenario9_erasure_keeps_the_used_phone_proof_restricted_until_last_use_plus_five_years, |app| {
    let w = world(&app).await;
    consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    // A call, then two quiet years.
    app.clock.advance(SignedDuration::from_hours(24 * 30));
    let call_at = app.k.now() - SignedDuration::from_mins(10);
    let csv = format!("phone;time;outcome\n{PHONE};{call_at};connected\n");
    let r = app
        .call_raw(
            "POST",
            &format!("/v1/uses/import?advertiser={}", w.advertiser),
            Some(&app.api_key),
            Some(csv.into_bytes()),
            "text/csv",
        )
        .await;
    assert_eq!(r.json["recorded"], 1, "{:?}", r.json);
    app.clock.advance(SignedDuration::from_hours(24 * 730));

    let compliance = key(&app, "compliance").await;
    let marketing = key(&app, "marketing").await;
    let e = app
        .call("POST", &format!("/v1/persons/{}/erasure", w.person), Some(&compliance), Some(json!({"via": "email"})))
        .await;
    assert_eq!(e.status, 200, "{:?}", e.json);
    let kept: Timestamp = e.json["kept_until"].as_str().unwrap().parse().unwrap();
    assert_eq!(kept, plus_years(call_at, 5), "the § 7a proof is kept five years after the last use");
    assert_eq!(e.json["key_destroyed"], false);
    let reply = e.json["reply"].as_str().unwrap();
    assert!(
        reply.contains("gesperrt aufbewahrt bis") && reply.contains("§ 7a UWG") && reply.contains("Gelöscht:"),
        "{reply}"
    );

    // Every consent ended, the number is blocked everywhere, marketing no longer sees the person.
    assert_eq!(check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await["allowed"], false);
    assert_eq!(first_name(&app, &marketing, &w.person).await.0, 404, "restricted: compliance only (R48)");
    assert_eq!(listed(&app, &marketing, &w.person).await, (false, false), "no selection shows a restricted person");
    assert_eq!(listed(&app, &compliance, &w.person).await, (true, true));
    let before = app.ledger_text().await.matches("restricted_data_read").count();
    assert_eq!(first_name(&app, &compliance, &w.person).await, (200, json!("Anna")), "the proof keeps the name (R20)");
    assert_eq!(
        app.ledger_text().await.matches("restricted_data_read").count(),
        before + 1,
        "and the read is on record"
    );

    // A CRM sync or import cannot bring the person back (R44).
    let again = app
        .call(
            "POST",
            "/v1/persons",
            Some(&app.api_key),
            Some(json!({"first_name": "Anna", "last_name": "Meier", "contacts": [{"email": EMAIL}, {"phone": PHONE}]})),
        )
        .await;
    assert_eq!(again.status, 422, "{:?}", again.json);
    assert_eq!(again.json["errors"][0]["field"], "contacts[0]");

    // Runs before the date keep it; the first run after deletes it and destroys the key.
    assert_eq!(sweep(&app, &compliance).await["erased"], json!([]));
    app.clock.set(kept - SignedDuration::from_hours(1));
    assert_eq!(sweep(&app, &compliance).await["erased"], json!([]));
    app.clock.set(kept + SignedDuration::from_hours(1));
    assert_eq!(sweep(&app, &compliance).await["erased"], json!([w.person]));
    assert_eq!(first_name(&app, &compliance, &w.person).await, (200, Value::Null), "nothing readable any more");
    assert!(app.k.person_data(app.tenant, w.person.parse().unwrap()).await.unwrap().is_none());
    // The ledger keeps its pseudonymous entries: still intact.
    let v = konsent_service::verify::verify(&app.k).await.unwrap();
    assert!(v.ok(), "{:?}", v.broken);
    assert!(app.ledger_text().await.contains("\"key_destroyed\":true"), "the deletion protocol is in the ledger");
    // Suppression outlives the data (R63).
    assert_eq!(check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await["allowed"], false);
});

app_test!(r61_a_hold_survives_the_run_and_the_data_goes_after_its_release, |app| {
    let w = world(&app).await;
    // Never confirmed: without a hold, everything would go at once.
    consent(&app, &w, json!([web(&app)])).await;
    let compliance = key(&app, "compliance").await;
    let review = (app.k.now() + SignedDuration::from_hours(24 * 90)).to_string();
    let h = app.call("POST", "/v1/holds", Some(&compliance), Some(json!({"person_id": w.person, "reason": "authority_request", "owner": "Datenschutz", "review_at": review}))).await;
    assert_eq!(h.status, 201, "{:?}", h.json);
    let hold_id = h.json["id"].as_str().unwrap().to_string();
    let e = app.call("POST", &format!("/v1/persons/{}/erasure", w.person), Some(&compliance), Some(json!({}))).await;
    assert_eq!((e.status, e.json["key_destroyed"].as_bool()), (200, Some(false)), "{:?}", e.json);
    assert!(e.json["reply"].as_str().unwrap().contains("laufendes Verfahren"), "{:?}", e.json);

    app.clock.advance(SignedDuration::from_hours(24 * 400));
    let r = sweep(&app, &compliance).await;
    assert_eq!((r["erased"].clone(), r["held"].clone()), (json!([]), json!([w.person])), "the hold survives the run");
    assert_eq!(first_name(&app, &compliance, &w.person).await, (200, json!("Anna")));

    let rel = app.call("POST", &format!("/v1/holds/{hold_id}/release"), Some(&compliance), None).await;
    assert_eq!(rel.status, 200, "{:?}", rel.json);
    assert_eq!(app.call("POST", &format!("/v1/holds/{hold_id}/release"), Some(&compliance), None).await.status, 409);
    assert_eq!(sweep(&app, &compliance).await["erased"], json!([w.person]), "released: gone at the next run");
    assert_eq!(first_name(&app, &compliance, &w.person).await, (200, Value::Null));
    // Erasing twice is refused, the person is gone.
    let twice =
        app.call("POST", &format!("/v1/persons/{}/erasure", w.person), Some(&compliance), Some(json!({}))).await;
    assert_eq!(twice.status, 409);
});

app_test!(r58_dry_run_lists_and_deletes_nothing_and_marketing_may_not_erase, |app| {
    let w = world(&app).await;
    consent(&app, &w, json!([web(&app)])).await;
    let marketing = key(&app, "marketing").await;
    let e = app.call("POST", &format!("/v1/persons/{}/erasure", w.person), Some(&marketing), Some(json!({}))).await;
    assert_eq!(e.status, 403);
    // A person without any valid consent and a year without activity is due.
    app.clock.advance(SignedDuration::from_hours(24 * 400));
    let dry = app.call("POST", "/v1/retention/run", Some(&app.api_key), Some(json!({"dry_run": true}))).await;
    assert_eq!(
        (dry.json["dry_run"].as_bool(), dry.json["erased"].clone()),
        (Some(true), json!([w.person])),
        "{:?}",
        dry.json
    );
    assert_eq!(first_name(&app, &app.api_key, &w.person).await, (200, json!("Anna")), "a dry run deletes nothing");
    assert_eq!(sweep(&app, &app.api_key).await["erased"], json!([w.person]));
    assert_eq!(first_name(&app, &app.api_key, &w.person).await, (200, Value::Null));
});

app_test!(r45_r49_access_request_is_tracked_for_a_month_and_answered_with_json_csv_and_a_german_summary, |app| {
    let w = world(&app).await;
    consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    let at = app.k.now() - SignedDuration::from_mins(1);
    let csv = format!("phone;time;outcome;executing_party\n{PHONE};{at};connected;Callcenter Rhein-Ruhr GmbH\n");
    app.call_raw(
        "POST",
        &format!("/v1/uses/import?advertiser={}", w.advertiser),
        Some(&app.api_key),
        Some(csv.into_bytes()),
        "text/csv",
    )
    .await;
    let compliance = key(&app, "compliance").await;
    let r = app
        .call(
            "POST",
            &format!("/v1/persons/{}/access-requests", w.person),
            Some(&compliance),
            Some(json!({"via": "letter"})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.json);
    let due: Timestamp = r.json["due_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        due,
        app.k.now().to_zoned_datetime(jiff::tz::TimeZone::UTC).checked_add(Span::new().months(1)).unwrap().timestamp(),
        "one month (Art. 12(3))"
    );
    let open = app.call("GET", "/v1/requests", Some(&compliance), None).await;
    assert_eq!(
        (open.json["items"][0]["kind"].as_str(), open.json["items"][0]["overdue"].as_bool()),
        (Some("access"), Some(false))
    );
    app.clock.advance(SignedDuration::from_hours(24 * 32));
    let late = app.call("GET", "/v1/requests", Some(&compliance), None).await;
    assert_eq!(late.json["items"][0]["overdue"], true, "past the month it shows as overdue");

    let x = app.call("POST", &format!("/v1/persons/{}/access-export", w.person), Some(&compliance), None).await;
    assert_eq!((x.status, x.ctype.as_str()), (200, "application/zip"));
    assert_eq!(app.call("GET", "/v1/requests", Some(&compliance), None).await.json["items"], json!([]), "answered");

    let zip = app
        .k
        .access_export(app.tenant, &konsent_domain::ledger::Actor::System, w.person.parse().unwrap())
        .await
        .unwrap();
    let files = konsent_service::proof::read_package(&zip.zip).unwrap();
    let j: Value = serde_json::from_slice(&files["auskunft.json"]).unwrap();
    assert_eq!((j["first_name"].as_str(), j["last_name"].as_str()), (Some("Anna"), Some("Meier")));
    assert!(j["consents"][0]["text"]["body"].as_str().unwrap().starts_with("Ich bin einverstanden"));
    assert_eq!(j["uses"].as_array().unwrap().len(), 1);
    let recipients: Vec<&str> = j["recipients"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(recipients, ["Callcenter Rhein-Ruhr GmbH", "Muster Versicherungsmakler GmbH"]);
    assert!(j["consents"][0]["storage_period"].as_str().unwrap().starts_with("bis mindestens"), "{j}");
    assert_eq!(j["contact_points"].as_array().unwrap().len(), 2);
    let csv = String::from_utf8(files["auskunft.csv"].clone()).unwrap();
    assert!(
        csv.starts_with("einwilligung;status;unternehmen;kanaele")
            && csv.contains("ConsentGiven;Muster Versicherungsmakler GmbH"),
        "{csv}"
    );
    let text = crate::proof::pdftotext(&files["auskunft.pdf"]);
    for needle in [
        "Auskunft über Ihre gespeicherten Daten",
        "Anna Meier",
        "Ihre Einwilligungen",
        "Callcenter Rhein-Ruhr",
        "widersprechen",
    ] {
        assert!(text.contains(needle), "the summary lacks {needle:?}:\n{text}");
    }
    // The agent role may not read it.
    let agent = key(&app, "agent").await;
    assert_eq!(
        app.call("POST", &format!("/v1/persons/{}/access-export", w.person), Some(&agent), None).await.status,
        403
    );
});

app_test!(r52_deletion_concept_has_a_rule_for_every_datenart_tenant_overrides_apply_but_never_below_the_law, |app| {
    let w = world(&app).await;
    let r = app.call("GET", "/v1/retention/rules", Some(&app.api_key), None).await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    let rules = r.json["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 15, "one rule per Datenart D1–D15");
    for rule in rules {
        assert!(
            !rule["vorhaltefrist"].as_str().unwrap().is_empty() && !rule["basis"].as_str().unwrap().is_empty(),
            "{rule}"
        );
    }
    assert_eq!((rules[0]["code"].as_str(), rules[0]["vorhaltefrist"].as_str()), (Some("D1"), Some("5 Jahre")));

    // The tenant shortens D4 to two years; § 7a's five years cannot be shortened.
    let d4 = json!({"start": "end_of_process", "vorhaltefrist": {"years": 2}, "deletion_cycle": {"months": 1}, "end_of_year": true});
    let bad = app.call("PUT", "/v1/settings", Some(&app.api_key), Some(json!({"retention": {"D1": d4}}))).await;
    assert_eq!((bad.status, bad.json["errors"][0]["field"].as_str()), (422, Some("retention")), "{:?}", bad.json);
    assert!(bad.json["detail"].as_str().unwrap().contains("D1"), "{:?}", bad.json);
    let ok = app.call("PUT", "/v1/settings", Some(&app.api_key), Some(json!({"retention": {"D4": d4}}))).await;
    assert_eq!(ok.status, 200, "{:?}", ok.json);
    let rules = app.call("GET", "/v1/retention/rules", Some(&app.api_key), None).await.json;
    let d4_now = rules["rules"].as_array().unwrap().iter().find(|r| r["code"] == "D4").unwrap().clone();
    assert_eq!(
        (d4_now["vorhaltefrist"].as_str(), d4_now["tenant_override"].as_bool()),
        (Some("2 Jahre zum Jahresende"), Some(true))
    );

    // The erasure applies the tenant's rule to an e-mail consent.
    let c = app
        .call(
            "POST",
            "/v1/consents",
            Some(&app.api_key),
            Some(json!({
                "person_id": w.person, "contact_point_ids": [w.email_cp], "text_id": w.text,
                "scope": {"advertisers": [w.advertiser], "product_categories": ["insurance"], "channels": ["email"]},
                "capture_method": "web_form", "affirmative_action": true, "capture_offset_seconds": 3600,
                "evidence": [web(&app), doi(&app, &w)]
            })),
        )
        .await;
    assert_eq!(c.json["status"], "ConsentGiven", "{:?}", c.json);
    let year = konsent_domain::time::utc_date(app.k.now()).year();
    // Withdrawn, its proof is kept by the tenant's D4: two years, to the end of that year.
    let id = c.json["consent_id"].as_str().unwrap();
    let wd = app.call("POST", &format!("/v1/consents/{id}/withdraw"), Some(&app.api_key), Some(json!({}))).await;
    assert_eq!((wd.status, wd.json["proof_retention_rule"].as_str()), (200, Some("D4")), "{:?}", wd.json);
    assert_eq!(wd.json["proof_retained_until"].as_str().unwrap(), format!("{}-01-01T00:00:00Z", year + 3));
    let e = app.call("POST", &format!("/v1/persons/{}/erasure", w.person), Some(&app.api_key), Some(json!({}))).await;
    assert_eq!(
        e.json["kept_until"].as_str().unwrap(),
        format!("{}-01-01T00:00:00Z", year + 3),
        "two years to the end of that year: {:?}",
        e.json
    );

    // The document for the data protection officer.
    let name = konsent_store::queries::tenants(&app.k.db).await.unwrap()[0].1.clone();
    let pdf = app.k.deletion_concept_pdf(app.tenant, &name).await.unwrap();
    let text = crate::proof::pdftotext(&pdf);
    for needle in ["Löschkonzept", "Vorhaltefrist", "D1", "D15", "§ 7a Abs. 2 UWG", "Werbesperrdatei", "Löschjournal"]
    {
        assert!(text.contains(needle), "the document lacks {needle:?}:\n{text}");
    }
});

app_test!(r48_art18_restriction_blocks_every_selection_shows_only_to_compliance_and_is_lifted, |app| {
    let w = world(&app).await;
    consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    assert_eq!(check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await["allowed"], true);
    let compliance = key(&app, "compliance").await;
    let marketing = key(&app, "marketing").await;
    let path = format!("/v1/persons/{}/restriction", w.person);
    let r = app.call("POST", &path, Some(&compliance), Some(json!({"reason": "accuracy_contested"}))).await;
    assert_eq!(r.status, 201, "{:?}", r.json);
    let d = check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await;
    let codes: Vec<&str> = d["reasons"].as_array().unwrap().iter().filter_map(|r| r["code"].as_str()).collect();
    assert_eq!((d["allowed"].as_bool(), codes), (Some(false), vec!["restricted"]), "{d}");
    assert_eq!(listed(&app, &marketing, &w.person).await, (false, false));
    assert_eq!(first_name(&app, &marketing, &w.person).await.0, 404);
    assert_eq!(first_name(&app, &compliance, &w.person).await, (200, json!("Anna")));
    assert!(app.ledger_text().await.contains("restricted_data_read"), "the compliance read is on record");
    // The sweep leaves a restricted person alone; the restriction is lifted by a second request.
    app.clock.advance(SignedDuration::from_hours(24 * 30));
    assert_eq!(sweep(&app, &compliance).await["erased"], json!([]));
    assert_eq!(app.call("DELETE", &path, Some(&compliance), None).await.status, 200);
    assert_eq!(check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await["allowed"], true);
    assert_eq!(listed(&app, &marketing, &w.person).await, (true, true));
    assert_eq!(app.call("DELETE", &path, Some(&compliance), None).await.status, 409);
});
