//! Campaign segments on both engines: every contact point of the universe in or out with the
//! gate's reasons (stale R29, suppressed R30, withdrawn), Robinson matching by campaign policy
//! (R31), exports in Mailchimp's and a dialer's format that leave out whoever opted out after
//! freezing, expire with the list, and log uses where the export is one.

use jiff::SignedDuration;
use serde_json::{Value, json};

use crate::api::World;
use crate::app_test;
use crate::harness::TestApp;

/// A person with one e-mail address and a confirmed e-mail consent for the world's advertiser.
pub(crate) async fn subscriber(app: &TestApp, w: &World, first: &str, email: &str) -> (String, String) {
    let key = Some(app.api_key.as_str());
    let p = app
        .call(
            "POST",
            "/v1/persons",
            key,
            Some(json!({"first_name": first, "last_name": "Muster", "contacts": [{"email": email}]})),
        )
        .await;
    assert_eq!(p.status, 201, "{:?}", p.json);
    let person = p.json["person_id"].as_str().unwrap().to_string();
    let cp = p.json["contact_points"][0]["id"].as_str().unwrap().to_string();
    let now = app.k.now().to_string();
    let c = app
        .call("POST", "/v1/consents", key, Some(json!({
            "person_id": person, "contact_point_ids": [cp], "text_id": w.text,
            "scope": {"advertisers": [w.advertiser], "product_categories": ["insurance"], "channels": ["email"]},
            "capture_method": "web_form", "affirmative_action": true,
            "evidence": [
                {"kind": "web_form", "at": now, "form_ref": "/f/newsletter", "form_version": "1", "affirmative_action": true, "request_details": null},
                {"kind": "email_doi", "contact_point": cp, "sent_at": now, "message_id": "<1@x>", "token_hash": "ab", "confirmed_at": now, "request_details": null}
            ]
        })))
        .await;
    assert_eq!((c.status, c.json["status"].as_str()), (201, Some("ConsentGiven")), "{:?}", c.json);
    (person, c.json["consent_id"].as_str().unwrap().to_string())
}

async fn freeze(app: &TestApp, w: &World, extra: Value) -> Value {
    let mut body = json!({"name": "Herbstaktion", "channel": "email", "advertiser": w.advertiser});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = app.call("POST", "/v1/segments", Some(&app.api_key), Some(body)).await;
    assert_eq!(r.status, 201, "{:?}", r.json);
    r.json
}

async fn members(app: &TestApp, id: &str) -> Vec<Value> {
    let r = app.call("GET", &format!("/v1/segments/{id}/members"), Some(&app.api_key), None).await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    r.json["items"].as_array().unwrap().clone()
}

fn member<'a>(all: &'a [Value], person: &str) -> &'a Value {
    all.iter().find(|m| m["person_id"] == person).unwrap_or_else(|| panic!("{person} is not in {all:?}"))
}

app_test!(r29_r30_every_contact_is_in_or_out_with_reasons_and_the_export_leaves_out_later_opt_outs, |app| {
    let w = crate::api::world(&app).await;
    let (old, _) = subscriber(&app, &w, "Otto", "otto@example.de").await;
    app.clock.advance(SignedDuration::from_hours(24 * 31 * 19));
    let (anna, _) = subscriber(&app, &w, "Anna", "anna@example.de").await;
    let (bernd, bernd_consent) = subscriber(&app, &w, "Bernd", "bernd@example.de").await;
    let (clara, _) = subscriber(&app, &w, "Clara", "clara@example.de").await;
    let (dora, dora_consent) = subscriber(&app, &w, "Dora", "dora@example.de").await;
    let s = app
        .call(
            "POST",
            "/v1/suppressions",
            Some(&app.api_key),
            Some(json!({"email": "clara@example.de", "reason": "complaint"})),
        )
        .await;
    assert_eq!(s.status, 201, "{:?}", s.json);
    let wd = app
        .call(
            "POST",
            &format!("/v1/consents/{dora_consent}/withdraw"),
            Some(&app.api_key),
            Some(json!({"via": "one_click"})),
        )
        .await;
    assert!(wd.status < 300, "{:?}", wd.json);

    let seg = freeze(&app, &w, json!({})).await;
    let id = seg["id"].as_str().unwrap().to_string();
    assert_eq!((seg["members"].as_u64(), seg["included"].as_u64()), (Some(5), Some(2)), "{seg}");
    let all = members(&app, &id).await;
    assert_eq!(member(&all, &anna)["included"], true);
    assert_eq!(member(&all, &bernd)["included"], true);
    assert!(member(&all, &old)["reasons"].to_string().contains("stale"), "unused for 19 months (R29)");
    assert!(member(&all, &clara)["reasons"].to_string().contains("suppressed"), "R30");
    assert_eq!(member(&all, &dora)["included"], false, "withdrawn before freezing");
    assert_eq!(seg["by_reason"]["stale"], 1);
    assert!(app.ledger_text().await.contains("segment_frozen"), "the selection is on record");
    let state = konsent_store::projection::dump(&app.k.db).await.unwrap();
    assert!(state.contains("Herbstaktion"), "segments are a projection");
    konsent_store::projection::rebuild(&app.k.db, &[app.tenant]).await.unwrap();
    assert_eq!(konsent_store::projection::dump(&app.k.db).await.unwrap(), state, "rebuilt from the ledger alone");

    // Bernd withdraws after the segment was frozen: the export leaves him out.
    let wd = app
        .call(
            "POST",
            &format!("/v1/consents/{bernd_consent}/withdraw"),
            Some(&app.api_key),
            Some(json!({"via": "one_click"})),
        )
        .await;
    assert!(wd.status < 300);
    let before_uses = app.ledger_text().await.matches("use_recorded").count();
    let x = app.call("POST", &format!("/v1/segments/{id}/export?format=mailchimp"), Some(&app.api_key), None).await;
    assert_eq!(x.status, 200, "{}", x.text());
    let fixture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../formats/testdata/export/mailchimp_import_contacts.csv"
    ))
    .unwrap();
    assert_eq!(x.text().lines().next(), fixture.lines().next(), "Mailchimp's import header");
    assert!(x.text().contains("anna@example.de") && !x.text().contains("bernd@example.de"), "{}", x.text());
    assert_eq!(x.text().lines().count(), 2);
    assert_eq!(app.ledger_text().await.matches("use_recorded").count(), before_uses + 1, "the send is a use");

    // A week later the list has expired.
    app.clock.advance(SignedDuration::from_hours(24 * 8));
    let late = app.call("POST", &format!("/v1/segments/{id}/export?format=mailchimp"), Some(&app.api_key), None).await;
    assert_eq!(late.status, 409, "{}", late.text());
    let bad = app.call("POST", &format!("/v1/segments/{id}/export?format=excel"), Some(&app.api_key), None).await;
    assert_eq!((bad.status, bad.json["errors"][0]["field"].as_str()), (422, Some("format")));
});

app_test!(r31_robinson_policy_listed_contacts_are_out_and_a_required_check_without_a_list_blocks_all, |app| {
    let w = crate::api::world(&app).await;
    let (anna, _) = subscriber(&app, &w, "Anna", "Anna@Example.de").await;
    let (bernd, _) = subscriber(&app, &w, "Bernd", "bernd@example.de").await;
    use sha2::Digest;
    let listed = hex::encode(sha2::Sha256::digest(b"anna@example.de"));
    let body = format!("sha256\n{listed}\n").into_bytes();
    let r = app.call_raw("POST", "/v1/robinson-lists/idi-2026-12", Some(&app.api_key), Some(body), "text/plain").await;
    assert_eq!((r.status, r.json["entries"].as_u64()), (200, Some(1)), "{:?}", r.json);

    let seg = freeze(&app, &w, json!({"robinson": {"required": true, "list": "idi-2026-12"}})).await;
    let all = members(&app, seg["id"].as_str().unwrap()).await;
    assert!(member(&all, &anna)["reasons"].to_string().contains("robinson_match"), "{all:?}");
    assert_eq!(member(&all, &bernd)["included"], true);

    let unchecked = freeze(&app, &w, json!({"robinson": {"required": true}})).await;
    assert_eq!(
        (unchecked["included"].as_u64(), unchecked["by_reason"]["robinson_check_missing"].as_u64()),
        (Some(0), Some(2))
    );

    app.clock.advance(SignedDuration::from_hours(24 * 91));
    let stale = app
        .call("POST", "/v1/segments", Some(&app.api_key), Some(json!({"name": "x", "channel": "email", "advertiser": w.advertiser, "robinson": {"required": true, "list": "idi-2026-12"}})))
        .await;
    assert_eq!(
        (stale.status, stale.json["errors"][0]["field"].as_str()),
        (422, Some("robinson.list")),
        "{:?}",
        stale.json
    );
    let bad = app
        .call_raw(
            "POST",
            "/v1/robinson-lists/x",
            Some(&app.api_key),
            Some(b"hash\nnot-a-hash\n".to_vec()),
            "text/plain",
        )
        .await;
    assert_eq!((bad.status, bad.json["errors"][0]["field"].as_str()), (422, Some("line 2")));
});

app_test!(r24_a_dialer_list_carries_its_expiry_and_is_not_itself_a_use, |app| {
    let w = crate::api::world(&app).await;
    crate::api::consent(&app, &w, json!([crate::api::web(&app), crate::api::doi(&app, &w), crate::api::otp(&app, &w)]))
        .await;
    let seg = freeze(&app, &w, json!({"channel": "phone_live", "valid_days": 2})).await;
    assert_eq!(seg["included"], 1, "{seg}");
    let before = app.ledger_text().await.matches("use_recorded").count();
    let x = app
        .call(
            "POST",
            &format!("/v1/segments/{}/export?format=dialer", seg["id"].as_str().unwrap()),
            Some(&app.api_key),
            None,
        )
        .await;
    assert_eq!(x.status, 200, "{}", x.text());
    let body = x.text();
    let text = body.trim_start_matches('\u{feff}');
    assert!(text.starts_with("personen_id;telefon;"), "{text}");
    assert!(
        text.contains("+491712345678") && text.contains(seg["valid_until"].as_str().unwrap().get(..10).unwrap()),
        "{text}"
    );
    assert_eq!(app.ledger_text().await.matches("use_recorded").count(), before, "calls are logged from the call log");
    let wrong = app
        .call(
            "POST",
            &format!("/v1/segments/{}/export?format=mailchimp", seg["id"].as_str().unwrap()),
            Some(&app.api_key),
            None,
        )
        .await;
    assert_eq!(wrong.status, 422, "a phone segment is no newsletter list");
});
