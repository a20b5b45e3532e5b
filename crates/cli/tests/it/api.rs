//! The `/v1` API through HTTP on both engines: the gate scenarios, the use log (R28), withdrawal,
//! objection, suppression, batch checks and lists (bad input: `bad_input.rs`).

use serde_json::{Value, json};

use crate::app_test;
use crate::harness::TestApp;

pub struct World {
    pub advertiser: String,
    pub text: String,
    pub person: String,
    pub phone_cp: String,
    pub email_cp: String,
}

pub const PHONE: &str = "0171 2345678";
pub const EMAIL: &str = "anna.meier@example.de";

/// An advertiser, a phone + e-mail consent text, and a consumer with a mobile number and an e-mail.
pub async fn world(app: &TestApp) -> World {
    let key = Some(app.api_key.as_str());
    let a = app
        .call(
            "POST",
            "/v1/advertisers",
            key,
            Some(json!({
                "legal_name": "Muster Versicherungsmakler GmbH",
                "seat": "Köln",
                "address_for_service": {"street": "Domstraße 12", "postcode": "50667", "city": "Köln"}
            })),
        )
        .await;
    assert_eq!(a.status, 201, "{:?}", a.json);
    let advertiser = a.json["id"].as_str().unwrap().to_string();
    let t = app
        .call("POST", "/v1/texts", key, Some(json!({
            "key": "telefon-email",
            "title": "Einwilligung Telefon und E-Mail",
            "body": "Ich bin einverstanden, dass mich die Muster Versicherungsmakler GmbH per Telefon und per E-Mail über Versicherungen informiert. Diese Einwilligung kann ich jederzeit mit Wirkung für die Zukunft widerrufen.",
            "scope": {"advertisers": [advertiser], "product_categories": ["insurance"], "channels": ["phone_live", "email"]},
            "privacy_notice": {"url": "https://makler.example/datenschutz", "version": "2026-01"}
        })))
        .await;
    assert_eq!(t.status, 201, "{:?}", t.json);
    let p = app
        .call(
            "POST",
            "/v1/persons",
            key,
            Some(json!({
                "first_name": "Anna", "last_name": "Meier",
                "address": {"street": "Lindenstraße 5", "postcode": "50667", "city": "Köln"},
                "contacts": [{"phone": PHONE}, {"email": EMAIL}]
            })),
        )
        .await;
    assert_eq!(p.status, 201, "{:?}", p.json);
    World {
        advertiser,
        text: t.json["id"].as_str().unwrap().to_string(),
        person: p.json["person_id"].as_str().unwrap().to_string(),
        phone_cp: p.json["contact_points"][0]["id"].as_str().unwrap().to_string(),
        email_cp: p.json["contact_points"][1]["id"].as_str().unwrap().to_string(),
    }
}

pub fn now_str(app: &TestApp) -> String {
    app.k.now().to_string()
}

/// Records the phone + e-mail consent with the given evidence.
pub async fn consent(app: &TestApp, w: &World, evidence: Value) -> Value {
    let r = app
        .call("POST", "/v1/consents", Some(&app.api_key), Some(json!({
            "person_id": w.person,
            "contact_point_ids": [w.phone_cp, w.email_cp],
            "text_id": w.text,
            "scope": {"advertisers": [w.advertiser], "product_categories": ["insurance"], "channels": ["phone_live", "email"]},
            "capture_method": "web_form",
            "declaration_recipient": {"organisation": "Muster Versicherungsmakler GmbH", "agent_pseudonym": "WEB"},
            "affirmative_action": true,
            "capture_offset_seconds": 3600,
            "evidence": evidence
        })))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.json);
    r.json
}

pub fn web(app: &TestApp) -> Value {
    json!({"kind": "web_form", "at": now_str(app), "form_ref": "/f/beratung", "form_version": "1", "affirmative_action": true, "request_details": null})
}
pub fn doi(app: &TestApp, w: &World) -> Value {
    json!({"kind": "email_doi", "contact_point": w.email_cp, "sent_at": now_str(app), "message_id": "<1@x>", "token_hash": "ab", "confirmed_at": now_str(app), "request_details": null})
}
pub fn otp(app: &TestApp, w: &World) -> Value {
    json!({"kind": "otp", "contact_point": w.phone_cp, "sent_at": now_str(app), "verified_at": now_str(app)})
}

pub async fn check(app: &TestApp, key: &str, w: &World, channel: &str, contact: Value) -> Value {
    let mut body = json!({"channel": channel, "advertiser_id": w.advertiser, "product_categories": ["insurance"]});
    for (k, v) in contact.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = app.call("POST", "/v1/check", Some(key), Some(body)).await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    r.json
}

fn codes(v: &Value) -> Vec<String> {
    v["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap().to_string()).collect()
}

app_test!(r15_scenario2_email_doi_alone_blocks_the_phone_campaign, |app| {
    let w = world(&app).await;
    let c = consent(&app, &w, json!([web(&app), doi(&app, &w)])).await;
    assert_eq!(c["status"], "ConsentRequested", "phone number not verified: {c}");
    let missing: Vec<&str> = c["missing"].as_array().unwrap().iter().map(|m| m["code"].as_str().unwrap()).collect();
    assert!(missing.contains(&"phone_not_verified"), "the answer says why: {missing:?}");
    let d = check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await;
    assert_eq!(d["allowed"], false);
    assert!(!codes(&d).is_empty());
    // Each reason for the agent German first, then English.
    for r in d["reasons"].as_array().unwrap() {
        assert!(r["label_de"].as_str().is_some_and(|l| !l.is_empty()) && r["label_en"].as_str().is_some(), "{r}");
    }
});

app_test!(r23_scenario3_otp_consent_allows_the_call_and_the_use_moves_the_clock, |app| {
    let w = world(&app).await;
    let c = consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    assert_eq!(c["status"], "ConsentGiven", "{c}");
    let d = check(&app, &app.api_key, &w, "phone_live", json!({"phone": "+49 171 2345678"})).await;
    assert_eq!(d["allowed"], true, "{d}");
    assert_eq!(d["consents_relied_on"][0], c["consent_id"]);
    let u = app
        .call(
            "POST",
            "/v1/uses",
            Some(&app.api_key),
            Some(json!({"decision_id": d["decision_id"], "outcome": "connected", "agent": "AG-7"})),
        )
        .await;
    assert_eq!(u.status, 201, "{:?}", u.json);
    let got =
        app.call("GET", &format!("/v1/consents/{}", c["consent_id"].as_str().unwrap()), Some(&app.api_key), None).await;
    assert_eq!(got.json["last_use_at"], u.json["at"], "the use is the consent's last use (§ 7a clock)");
    let tl = app.call("GET", &format!("/v1/persons/{}/timeline", w.person), Some(&app.api_key), None).await;
    let types: Vec<&str> = tl.json["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(
        types.contains(&"use_recorded")
            && types.contains(&"consent_recorded")
            && types.contains(&"contact_point_verified"),
        "{types:?}"
    );
    let snap = tl.json["events"].as_array().unwrap().iter().find(|e| e["type"] == "use_recorded").unwrap();
    assert_eq!(
        snap["event"]["record"]["decision_snapshot"]["allowed"], true,
        "the use stores the decision snapshot (R28)"
    );
});

app_test!(r28_use_needs_a_genuine_allowed_recent_decision, |app| {
    let w = world(&app).await;
    consent(&app, &w, json!([web(&app), doi(&app, &w)])).await;
    let blocked = check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await;
    let key = Some(app.api_key.as_str());
    let u = app
        .call("POST", "/v1/uses", key, Some(json!({"decision_id": blocked["decision_id"], "outcome": "attempt"})))
        .await;
    assert_eq!(u.status, 409, "{:?}", u.json);
    assert_eq!(u.json["code"], "decision_not_usable");
    // The same token with "allowed": true and the original signature.
    let forged = {
        use base64::Engine as _;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
        let (body, mac) = blocked["decision_id"].as_str().unwrap().split_once('.').unwrap();
        let json = String::from_utf8(B64.decode(body).unwrap()).unwrap();
        assert!(json.contains("\"allowed\":false"), "{json}");
        format!("{}.{mac}", B64.encode(json.replace("\"allowed\":false", "\"allowed\":true")))
    };
    let u = app.call("POST", "/v1/uses", key, Some(json!({"decision_id": forged, "outcome": "attempt"}))).await;
    assert_eq!(u.status, 422, "{:?}", u.json);
    let u = app.call("POST", "/v1/uses", key, Some(json!({"outcome": "attempt"}))).await;
    assert_eq!(u.status, 422, "a use without decision is refused: {:?}", u.json);

    consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    let ok = check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await;
    app.clock.advance(jiff::SignedDuration::from_mins(61));
    let u =
        app.call("POST", "/v1/uses", key, Some(json!({"decision_id": ok["decision_id"], "outcome": "attempt"}))).await;
    assert_eq!(u.status, 409, "a stale decision must be checked again: {:?}", u.json);
});

app_test!(r40_partial_withdrawal_of_phone_keeps_email, |app| {
    let w = world(&app).await;
    let c = consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    let id = c["consent_id"].as_str().unwrap();
    let r = app
        .call("POST", &format!("/v1/consents/{id}/withdraw"), Some(&app.api_key), Some(json!({"scope": {"advertisers": [], "product_categories": [], "channels": ["phone_live"]}, "via": "phone_call"})))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    let phone = check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await;
    assert_eq!(phone["allowed"], false);
    let email = check(&app, &app.api_key, &w, "email", json!({"email": EMAIL})).await;
    assert_eq!(email["allowed"], true, "{email}");
});

app_test!(r42_objection_blocks_every_channel, |app| {
    let w = world(&app).await;
    consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    let r = app
        .call(
            "POST",
            &format!("/v1/persons/{}/objection", w.person),
            Some(&app.api_key),
            Some(json!({"via": "letter"})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.json);
    for (ch, contact) in [("phone_live", json!({"phone": PHONE})), ("email", json!({"email": EMAIL}))] {
        let d = check(&app, &app.api_key, &w, ch, contact).await;
        assert_eq!(d["allowed"], false);
        assert!(codes(&d).contains(&"objection".to_string()), "{d}");
    }
});

app_test!(r30_suppressed_number_is_blocked, |app| {
    let w = world(&app).await;
    consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    let r = app
        .call(
            "POST",
            "/v1/suppressions",
            Some(&app.api_key),
            Some(json!({"phone": "+491712345678", "channels": ["phone_live"], "reason": "complaint"})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.json);
    assert!(!r.json.to_string().contains("2345678"), "suppression entries hold no clear-text number");
    let d = check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await;
    assert!(codes(&d).contains(&"suppressed".to_string()), "{d}");
    assert_eq!(check(&app, &app.api_key, &w, "email", json!({"email": EMAIL})).await["allowed"], true);
    // The list syncs page by page, oldest first, and shows only keyed hashes.
    app.clock.advance(jiff::SignedDuration::from_secs(1));
    let r2 = app
        .call("POST", "/v1/suppressions", Some(&app.api_key), Some(json!({"email": EMAIL, "reason": "complaint"})))
        .await;
    assert_eq!(r2.status, 201, "{:?}", r2.json);
    let p1 = app.call("GET", "/v1/suppressions?limit=1", Some(&app.api_key), None).await;
    assert_eq!((p1.status, p1.json["items"][0]["id"].clone()), (200, r.json["id"].clone()), "{:?}", p1.json);
    let cursor = p1.json["next_cursor"].as_str().unwrap();
    let p2 = app.call("GET", &format!("/v1/suppressions?limit=1&cursor={cursor}"), Some(&app.api_key), None).await;
    assert_eq!(p2.json["items"][0]["id"], r2.json["id"]);
    assert!(!p2.json.to_string().contains("anna.meier"), "{:?}", p2.json);
    let since = r2.json["created_at"].as_str().unwrap();
    let recent = app.call("GET", &format!("/v1/suppressions?updated_since={since}"), Some(&app.api_key), None).await;
    assert_eq!(recent.json["items"].as_array().unwrap().len(), 1, "{:?}", recent.json);
});

app_test!(r19_backdated_consent_is_refused, |app| {
    let w = world(&app).await;
    let r = app
        .call(
            "POST",
            "/v1/consents",
            Some(&app.api_key),
            Some(json!({
                "person_id": w.person, "contact_point_ids": [w.email_cp], "text_id": w.text,
                "scope": {"advertisers": [w.advertiser], "product_categories": ["insurance"], "channels": ["email"]},
                "capture_method": "web_form", "affirmative_action": true,
                "given_at": (app.k.now() - jiff::SignedDuration::from_hours(3)).to_string(),
                "evidence": []
            })),
        )
        .await;
    assert_eq!(r.status, 422, "{:?}", r.json);
    assert_eq!(r.json["errors"][0]["field"], "given_at");
});

app_test!(metrics_count_requests_and_decisions, |app| {
    let w = world(&app).await;
    check(&app, &app.api_key, &w, "email", json!({"email": EMAIL})).await;
    let m = app.call("GET", "/metrics", None, None).await;
    let text = m.json.as_str().unwrap().to_string();
    assert!(
        text.contains("konsent_http_requests_total{method=\"POST\",route=\"/v1/persons\",status=\"201\"} 1"),
        "{text}"
    );
    assert!(!text.contains(&w.person), "no ids or personal data in metric labels");
});

app_test!(r24_batch_check_streams_ndjson_and_csv_with_row_errors, |app| {
    let w = world(&app).await;
    consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    let key = Some(app.api_key.as_str());
    let q = format!("/v1/check/batch?channel=phone_live&advertiser_id={}&product_categories=insurance", w.advertiser);
    let nd = format!(
        "{}\n{}\n{}\n{}\n",
        json!({"phone": PHONE, "ref": "lead-1"}),
        json!({"phone": "030 9876543", "ref": "lead-2"}),
        json!({"phone": "not a number", "ref": "lead-3"}),
        "{broken",
    );
    let r = app.call_raw("POST", &q, key, Some(nd.into_bytes()), "application/x-ndjson").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.ctype, "application/x-ndjson");
    let lines: Vec<Value> = r.json.as_str().unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4);
    assert_eq!((lines[0]["ref"].as_str(), lines[0]["allowed"].as_bool()), (Some("lead-1"), Some(true)));
    assert_eq!(lines[1]["allowed"], false);
    assert!(lines[1]["reasons"].as_array().unwrap().contains(&json!("no_consent")), "{}", lines[1]);
    assert_eq!((lines[2]["row"].as_u64(), lines[2]["error"]["field"].as_str()), (Some(3), Some("phone")));
    assert_eq!((lines[3]["row"].as_u64(), lines[3]["error"]["field"].as_str()), (Some(4), Some("line")));

    let csv = "\u{feff}Telefon;Ref\r\n0171 2345678;a\r\n0171 0000000;b\r\n";
    let r = app.call_raw("POST", &q, key, Some(csv.as_bytes().to_vec()), "text/csv").await;
    let text = r.json.as_str().unwrap().to_string();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0], "row,ref,allowed,reasons,legal_basis,decision_id,error");
    assert!(rows[1].starts_with("1,a,true,,GDPR-6-1-a+UWG-7-2,"), "{text}");
    assert!(rows[2].starts_with("2,b,false,no_consent"), "{text}");
});

app_test!(lists_page_with_cursor_and_updated_since, |app| {
    let key = Some(app.api_key.as_str());
    let mut ids = Vec::new();
    for i in 0..5 {
        let r = app
            .call("POST", "/v1/persons", key, Some(json!({"first_name": format!("P{i}"), "last_name": "Test"})))
            .await;
        ids.push(r.json["person_id"].as_str().unwrap().to_string());
        app.clock.advance(jiff::SignedDuration::from_secs(1));
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/persons?limit=2&cursor={c}"),
            None => "/v1/persons?limit=2".to_string(),
        };
        let r = app.call("GET", &path, key, None).await;
        assert_eq!(r.status, 200, "{:?}", r.json);
        seen.extend(r.json["items"].as_array().unwrap().iter().map(|p| p["person_id"].as_str().unwrap().to_string()));
        match r.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ids, "every person once, in change order");
    let since = (crate::harness::t0() + jiff::SignedDuration::from_secs(3)).to_string();
    let r = app.call("GET", &format!("/v1/persons?updated_since={since}"), key, None).await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 2);
    let r = app.call("GET", "/v1/persons?cursor=zz", key, None).await;
    assert_eq!((r.status, r.json["code"].as_str()), (400, Some("bad_cursor")));
    let r = app.call("GET", "/v1/consents?limit=5000", key, None).await;
    assert_eq!(r.status, 400);
});

app_test!(r39_cached_gate_sees_own_writes_at_once_and_another_instances_by_notification, |app| {
    let w = world(&app).await;
    let given = consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    // Warm the cache.
    for _ in 0..3 {
        assert_eq!(check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await["allowed"], true);
    }
    // A write through this instance shows in its very next answer.
    let id = given["consent_id"].as_str().unwrap();
    let r = app
        .call(
            "POST",
            &format!("/v1/consents/{id}/withdraw"),
            Some(&app.api_key),
            Some(json!({"scope": {"advertisers": [], "product_categories": [], "channels": ["email"]}})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    let d = check(&app, &app.api_key, &w, "email", json!({"email": EMAIL})).await;
    assert_eq!(d["allowed"], false, "{d}");
    assert_eq!(check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await["allowed"], true);
    // A second instance on the same database (another `konsent serve`, or the CLI) records an
    // objection; the first instance learns of that commit by notification (PostgreSQL NOTIFY,
    // SQLite's data_version) and drops what it touched.
    let other = konsent_service::Konsent::open(
        &app.k.data_dir,
        app.db_url.as_deref(),
        app.clock.clone(),
        std::sync::Arc::new(konsent_domain::time::SeededEntropy::new(77)),
    )
    .await
    .unwrap();
    let person: konsent_domain::ids::PersonId = w.person.parse().unwrap();
    other
        .object(
            app.tenant,
            &konsent_domain::ledger::Actor::System,
            person,
            Default::default(),
            Default::default(),
            "letter",
        )
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let d = loop {
        let d = check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await;
        if d["allowed"] == false || std::time::Instant::now() > deadline {
            break d;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    };
    assert_eq!(d["allowed"], false, "the other instance's objection never reached the cache: {d}");
    assert!(codes(&d).contains(&"objection".to_string()));
    // The objection covers every channel, e-mail included.
    assert_eq!(check(&app, &app.api_key, &w, "email", json!({"email": EMAIL})).await["allowed"], false);
});

app_test!(r29_cached_state_still_ages_consents_by_the_clock, |app| {
    let w = world(&app).await;
    consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    assert_eq!(check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await["allowed"], true);
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 400));
    let d = check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await;
    assert!(codes(&d).contains(&"stale".to_string()), "an unused phone consent is stale after 12 months: {d}");
});
