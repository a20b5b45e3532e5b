//! Assisted capture on both engines: a verbal consent stays requested until its recording (with
//! the consent to record) is stored and named (R17); paper needs the stored scan (R18); imported
//! phone consents without evidence are Unknown and cannot be completed, only re-permissioned
//! (R25, R26); the four-eyes option; evidence files are typed by their bytes and every read is
//! written to the ledger.

use serde_json::{Value, json};

use crate::api::{PHONE, World, check, now_str, world};
use crate::app_test;
use crate::harness::TestApp;

/// A real (tiny) WAV file: RIFF header and a few samples of silence.
pub fn wav(seed: u8) -> Vec<u8> {
    let mut w = b"RIFF\x2c\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x08\x00\x00\x00".to_vec();
    w.extend_from_slice(&[0, seed, 0, seed, 0, 0, 0, 0]);
    w
}

/// A real (minimal) PDF, as a scanner would deliver.
pub fn pdf_scan() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n".to_vec()
}

pub async fn key(app: &TestApp, role: &str) -> String {
    let r = app.call("POST", "/v1/api-keys", Some(&app.api_key), Some(json!({"role": role}))).await;
    assert_eq!(r.status, 201, "{:?}", r.json);
    r.json["api_key"].as_str().unwrap().to_string()
}

pub async fn upload(
    app: &TestApp,
    key: &str,
    w: &World,
    kind: &str,
    bytes: Vec<u8>,
    ctype: &str,
) -> crate::harness::Response {
    app.call_raw("POST", &format!("/v1/persons/{}/attachments?kind={kind}", w.person), Some(key), Some(bytes), ctype)
        .await
}

pub fn recording(app: &TestApp, w: &World, sha: &str, consent_to_record: bool) -> Value {
    json!({"kind": "call_recording", "contact_point": w.phone_cp, "recording_hash": sha,
           "recording_consent": consent_to_record, "script_version": "TEL-2026-03", "agent_pseudonym": "AG-0042",
           "at": now_str(app)})
}

/// A verbal phone consent taken by `key` in a call, with the given evidence.
pub async fn call_consent(app: &TestApp, key: &str, w: &World, evidence: Value) -> crate::harness::Response {
    app.call(
        "POST",
        "/v1/consents",
        Some(key),
        Some(json!({
            "person_id": w.person,
            "contact_point_ids": [w.phone_cp],
            "text_id": w.text,
            "scope": {"advertisers": [w.advertiser], "product_categories": ["insurance"], "channels": ["phone_live"]},
            "capture_method": "phone_call",
            "declaration_recipient": {"organisation": "Callcenter Rhein-Ruhr GmbH", "agent_pseudonym": "AG-0042"},
            "affirmative_action": true,
            "capture_offset_seconds": 3600,
            "evidence": evidence
        })),
    )
    .await
}

fn missing(v: &Value) -> Vec<String> {
    v["missing"].as_array().unwrap().iter().map(|m| m["code"].as_str().unwrap().to_string()).collect()
}

app_test!(r17_verbal_consent_stays_requested_until_the_recording_is_stored_and_named, |app| {
    let w = world(&app).await;
    let agent = key(&app, "agent").await;
    let c = call_consent(&app, &agent, &w, json!([])).await;
    assert_eq!((c.status, c.json["status"].as_str()), (201, Some("ConsentRequested")), "{:?}", c.json);
    assert!(missing(&c.json).contains(&"verbal_not_recorded".to_string()), "{:?}", c.json);
    let id = c.json["consent_id"].as_str().unwrap().to_string();
    assert_eq!(check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await["allowed"], false);

    // A hash of a file nobody stored is refused, naming the evidence item.
    let sha = konsent_domain::crypto::sha256_hex(&wav(1));
    let r = app
        .call(
            "POST",
            &format!("/v1/consents/{id}/evidence"),
            Some(&agent),
            Some(json!({"evidence": [recording(&app, &w, &sha, true)]})),
        )
        .await;
    assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("evidence[0]")), "{:?}", r.json);

    // The agent uploads the recording after the call; the type comes from the bytes.
    let up = upload(&app, &agent, &w, "recording", wav(1), "audio/wav").await;
    assert_eq!(up.status, 201, "{:?}", up.json);
    assert_eq!(up.json["attachment"]["sha256"], sha);
    assert_eq!(up.json["attachment"]["content_type"], "audio/x-wav");
    let again = upload(&app, &agent, &w, "recording", wav(1), "audio/wav").await;
    assert_eq!((again.status, again.json["created"].as_bool()), (200, Some(false)), "stored once per hash");

    // A recording without the recorded consent to record does not count.
    let r = app
        .call(
            "POST",
            &format!("/v1/consents/{id}/evidence"),
            Some(&agent),
            Some(json!({"evidence": [recording(&app, &w, &sha, false)]})),
        )
        .await;
    assert_eq!((r.status, r.json["status"].as_str()), (200, Some("ConsentRequested")), "{:?}", r.json);
    let r = app
        .call(
            "POST",
            &format!("/v1/consents/{id}/evidence"),
            Some(&agent),
            Some(json!({"evidence": [recording(&app, &w, &sha, true)]})),
        )
        .await;
    assert_eq!((r.status, r.json["status"].as_str()), (200, Some("ConsentGiven")), "{:?}", r.json);
    assert_eq!(check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await["allowed"], true);

    // An agent may store evidence but not read it; compliance reads it, and the read is audited.
    let path = format!("/v1/persons/{}/attachments/{sha}", w.person);
    assert_eq!(app.call("GET", &path, Some(&agent), None).await.status, 403);
    let before = app.ledger_text().await.matches("attachment_read").count();
    let compliance = key(&app, "compliance").await;
    let got = app.call("GET", &path, Some(&compliance), None).await;
    assert_eq!((got.status, got.ctype.as_str()), (200, "audio/x-wav"));
    assert_eq!(app.ledger_text().await.matches("attachment_read").count(), before + 1, "every read is in the ledger");
    let listed = app.call("GET", &format!("/v1/persons/{}/attachments", w.person), Some(&compliance), None).await;
    assert_eq!(listed.json["attachments"][0]["kind"], "recording");
});

app_test!(r18_paper_consent_needs_its_scan_stored_and_of_a_scan_type, |app| {
    let w = world(&app).await;
    let k = app.api_key.clone();
    // A recording is not a scan, and a text file renamed .pdf is nothing.
    let wrong = upload(&app, &k, &w, "scan", wav(2), "application/octet-stream").await;
    assert_eq!(wrong.status, 422, "{:?}", wrong.json);
    assert!(wrong.json["detail"].as_str().unwrap().contains("audio/x-wav"), "{:?}", wrong.json);
    let fake = upload(&app, &k, &w, "scan", b"not a scan at all".to_vec(), "application/pdf").await;
    assert_eq!(fake.status, 422, "{:?}", fake.json);
    let lying = upload(&app, &k, &w, "scan", pdf_scan(), "image/png").await;
    assert_eq!(lying.status, 422, "a declared type that the bytes contradict is refused: {:?}", lying.json);

    let sha = konsent_domain::crypto::sha256_hex(&pdf_scan());
    let paper = |scan_hash: &str, location: &str| {
        json!({
            "person_id": w.person, "contact_point_ids": [w.phone_cp], "text_id": w.text,
            "scope": {"advertisers": [w.advertiser], "product_categories": ["insurance"], "channels": ["phone_live"]},
            "capture_method": "paper",
            "declaration_recipient": {"organisation": "Muster Versicherungsmakler GmbH", "agent_pseudonym": "BR-17"},
            "affirmative_action": true, "capture_offset_seconds": 3600,
            "given_at": (app.k.now() - jiff::SignedDuration::from_hours(20)).to_string(),
            "evidence": [{"kind": "paper_scan", "scan_hash": scan_hash, "form_version": "PF-2026-1",
                          "signature_date": "2026-01-15", "original_location": location}]
        })
    };
    let r = app.call("POST", "/v1/consents", Some(&k), Some(paper(&sha, "Akte 4711, Büro Köln"))).await;
    assert_eq!(
        (r.status, r.json["errors"][0]["field"].as_str()),
        (422, Some("evidence[0]")),
        "scan not stored yet: {:?}",
        r.json
    );
    assert_eq!(upload(&app, &k, &w, "scan", pdf_scan(), "application/pdf").await.status, 201);
    let r = app.call("POST", "/v1/consents", Some(&k), Some(paper(&sha, ""))).await;
    assert_eq!((r.status, r.json["status"].as_str()), (201, Some("ConsentRequested")), "{:?}", r.json);
    assert!(
        missing(&r.json).contains(&"paper_scan_incomplete".to_string()),
        "no location of the original: {:?}",
        r.json
    );
    let r = app.call("POST", "/v1/consents", Some(&k), Some(paper(&sha, "Akte 4711, Büro Köln"))).await;
    assert_eq!((r.status, r.json["status"].as_str()), (201, Some("ConsentGiven")), "{:?}", r.json);
});

app_test!(r25_r26_imported_phone_consent_without_evidence_is_unknown_and_needs_repermission, |app| {
    let w = world(&app).await;
    let k = app.api_key.clone();
    let r = app.call("POST", "/v1/consents", Some(&k), Some(json!({
        "person_id": w.person, "contact_point_ids": [w.phone_cp], "text_id": w.text,
        "scope": {"advertisers": [w.advertiser], "product_categories": ["insurance"], "channels": ["phone_live"]},
        "capture_method": "import",
        "source": {"party": "third_party", "provider": "Leadhaus GmbH", "contract_ref": "LV-2019-3"},
        "affirmative_action": true, "capture_offset_seconds": 3600,
        "given_at": "2019-05-02T10:00:00Z",
        "evidence": [{"kind": "import", "provider": "Leadhaus GmbH", "file_hash": "ab", "row": 17,
                      "contract_ref": "LV-2019-3", "reported_optin_at": "2019-05-02T10:00:00Z",
                      "reported_confirm_at": null, "reported_ip": false}]
    }))).await;
    assert_eq!(
        (r.status, r.json["status"].as_str()),
        (201, Some("ConsentUnknown")),
        "legacy without verification: {:?}",
        r.json
    );
    let id = r.json["consent_id"].as_str().unwrap().to_string();
    let d = check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await;
    assert_eq!(d["allowed"], false, "{d}");
    // Evidence found later does not revive it: a new consent under the current text is needed.
    let sha = konsent_domain::crypto::sha256_hex(&wav(3));
    assert_eq!(upload(&app, &k, &w, "recording", wav(3), "audio/x-wav").await.status, 201);
    let add = app
        .call(
            "POST",
            &format!("/v1/consents/{id}/evidence"),
            Some(&k),
            Some(json!({"evidence": [recording(&app, &w, &sha, true)]})),
        )
        .await;
    assert_eq!(add.status, 409, "{:?}", add.json);
});

app_test!(four_eyes_a_staff_capture_waits_for_a_second_person, |app| {
    let w = world(&app).await;
    let s = app.call("PUT", "/v1/settings", Some(&app.api_key), Some(json!({"four_eyes": true}))).await;
    assert_eq!((s.status, s.json["four_eyes"].as_bool()), (200, Some(true)), "{:?}", s.json);
    let agent = key(&app, "agent").await;
    assert_eq!(app.call("GET", "/v1/settings", Some(&agent), None).await.status, 403);
    assert_eq!(upload(&app, &agent, &w, "recording", wav(4), "audio/x-wav").await.status, 201);
    let sha = konsent_domain::crypto::sha256_hex(&wav(4));
    let c = call_consent(&app, &agent, &w, json!([recording(&app, &w, &sha, true)])).await;
    assert_eq!(
        (c.json["status"].as_str(), c.json["approval_pending"].as_bool()),
        (Some("ConsentGiven"), Some(true)),
        "{:?}",
        c.json
    );
    let id = c.json["consent_id"].as_str().unwrap().to_string();
    let d = check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await;
    let codes: Vec<&str> = d["reasons"].as_array().unwrap().iter().filter_map(|r| r["code"].as_str()).collect();
    assert_eq!((d["allowed"].as_bool(), codes.contains(&"approval_pending")), (Some(false), true), "{d}");

    assert_eq!(app.call("POST", &format!("/v1/consents/{id}/approve"), Some(&agent), None).await.status, 403);
    // The same key cannot be both eyes.
    let compliance = key(&app, "compliance").await;
    let own = call_consent(&app, &compliance, &w, json!([recording(&app, &w, &sha, true)])).await;
    assert_eq!(own.json["approval_pending"], true);
    let own_id = own.json["consent_id"].as_str().unwrap().to_string();
    let r = app.call("POST", &format!("/v1/consents/{own_id}/approve"), Some(&compliance), None).await;
    assert_eq!(r.status, 409, "{:?}", r.json);
    assert!(r.json["detail"].as_str().unwrap().contains("four-eyes"), "{:?}", r.json);
    let r = app.call("POST", &format!("/v1/consents/{id}/approve"), Some(&compliance), None).await;
    assert_eq!((r.status, r.json["approval_pending"].as_bool()), (200, Some(false)), "{:?}", r.json);
    assert_eq!(check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await["allowed"], true);
    let twice = app.call("POST", &format!("/v1/consents/{id}/approve"), Some(&compliance), None).await;
    assert_eq!(twice.status, 409);
    // Settings and approvals are facts of the ledger: a rebuild reproduces them.
    let before = konsent_store::projection::dump(&app.k.db).await.unwrap();
    konsent_store::projection::rebuild(&app.k.db, &[app.tenant]).await.unwrap();
    assert_eq!(konsent_store::projection::dump(&app.k.db).await.unwrap(), before);
});

/// Sends what is queued through a gateway fake; returns the confirmation token of the last text.
async fn deliver_sms_token(app: &TestApp) -> String {
    let (url, seen) = crate::otp::gateway().await;
    let sms = konsent_jobs::sms::SmsSender::new(&url, "Bearer gw", "", "/nowhere".into()).unwrap();
    let senders = konsent_jobs::mailer::Senders {
        mail: konsent_jobs::mailer::Mailer::new("", std::env::temp_dir().join("konsent-test-mail")).unwrap(),
        from: "konsent@localhost".into(),
        sms,
    };
    assert_eq!(konsent_jobs::mailer::deliver_due(&app.k, &senders).await, 1);
    let (_, body) = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(body["to"], "+491712345678");
    let text = body["text"].as_str().unwrap().to_string();
    assert!(text.contains("Muster Versicherungsmakler GmbH") && text.contains("telefonische Einwilligung"), "{text}");
    let at = text.find("/doi/").expect("the text carries the link") + 5;
    text[at..].split_whitespace().next().unwrap().to_string()
}

app_test!(r17_text_confirmation_after_the_call_counts_only_where_the_policy_allows_it, |app| {
    let w = world(&app).await;
    let k = app.api_key.clone();
    let c = call_consent(&app, &k, &w, json!([])).await;
    let id = c.json["consent_id"].as_str().unwrap().to_string();
    let r = app.call("POST", &format!("/v1/consents/{id}/confirmation"), Some(&k), Some(json!({"via": "sms"}))).await;
    assert_eq!(r.status, 202, "{:?}", r.json);
    let token = deliver_sms_token(&app).await;
    assert_eq!(app.call("POST", &format!("/doi/{token}"), None, None).await.status, 200);
    let after = app.call("GET", &format!("/v1/consents/{id}"), Some(&k), None).await.json;
    assert_eq!(after["status"], "ConsentRequested", "default policy: a recording is required (R17 a)");
    assert!(after["evidence_kinds"].as_array().unwrap().contains(&json!("text_confirmation")), "{after}");

    // Where the tenant accepts a confirmation in text form, the click makes the consent usable.
    let s = app
        .call(
            "PUT",
            "/v1/settings",
            Some(&k),
            Some(json!({"verification": {"allow_text_confirmation_for_verbal": true}})),
        )
        .await;
    assert_eq!(s.status, 200, "{:?}", s.json);
    let c2 = call_consent(&app, &k, &w, json!([])).await;
    let id2 = c2.json["consent_id"].as_str().unwrap().to_string();
    assert_eq!(c2.json["status"], "ConsentRequested");
    let r = app.call("POST", &format!("/v1/consents/{id2}/confirmation"), Some(&k), Some(json!({"via": "sms"}))).await;
    assert_eq!(r.status, 202, "{:?}", r.json);
    let token = deliver_sms_token(&app).await;
    assert_eq!(app.call("POST", &format!("/doi/{token}"), None, None).await.status, 200);
    let given = app.call("GET", &format!("/v1/consents/{id2}"), Some(&k), None).await.json;
    assert_eq!(given["status"], "ConsentGiven", "{given}");
    assert_eq!(check(&app, &k, &w, "phone_live", json!({"phone": PHONE})).await["allowed"], true);
    // Only a requested verbal consent can be confirmed this way.
    let again =
        app.call("POST", &format!("/v1/consents/{id2}/confirmation"), Some(&k), Some(json!({"via": "sms"}))).await;
    assert_eq!(again.status, 409, "{:?}", again.json);
});
