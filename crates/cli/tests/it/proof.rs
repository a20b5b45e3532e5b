//! The § 7a UWG proof on both engines: the dialer's call log moves the retention of the proof
//! (R23, R59), the lead check before a campaign (R24), and the proof package (R27) whose PDF is
//! read back with pdftotext, whose JSON matches the ledger, and which `konsent verify-package`
//! accepts offline and rejects after any one byte is changed.

use std::collections::BTreeMap;

use jiff::SignedDuration;
use serde_json::{Value, json};

use crate::api::{PHONE, World, check, consent, doi, otp, web, world};
use crate::app_test;
use crate::assisted::{call_consent, key, recording, upload, wav};
use crate::harness::TestApp;

async fn get(app: &TestApp, id: &str) -> Value {
    let r = app.call("GET", &format!("/v1/consents/{id}"), Some(&app.api_key), None).await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    r.json
}

async fn call_log(app: &TestApp, w: &World, csv: &str) -> Value {
    let path = format!("/v1/uses/import?advertiser={}", w.advertiser);
    let r = app.call_raw("POST", &path, Some(&app.api_key), Some(csv.as_bytes().to_vec()), "text/csv").await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    r.json
}

app_test!(r23_r59_every_call_in_the_dialer_log_moves_the_proof_retention, |app| {
    let w = world(&app).await;
    let c = consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    let id = c["consent_id"].as_str().unwrap().to_string();
    let granted: jiff::Timestamp = c["granted_at"].as_str().unwrap().parse().unwrap();
    let until = |v: &Value| v["proof_retained_until"].as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    let five_years = |t: jiff::Timestamp| {
        t.to_zoned_datetime(jiff::tz::TimeZone::UTC).checked_add(jiff::Span::new().years(5)).unwrap().timestamp()
    };
    assert_eq!(until(&get(&app, &id).await), five_years(granted), "kept five years after the grant");

    app.clock.advance(SignedDuration::from_hours(24 * 400));
    let call_at = app.k.now() - SignedDuration::from_mins(30);
    let csv = format!(
        "Telefon;Zeitpunkt;Ergebnis;Kampagne;Agent\n\
         {PHONE};{};verbunden;Herbst-2027;AG-7\n\
         12;{};verbunden;Herbst-2027;AG-7\n\
         0171 9999999;{};besetzt;Herbst-2027;AG-7\n\
         {PHONE};gestern;verbunden;Herbst-2027;AG-7\n",
        call_at, call_at, call_at
    );
    let r = call_log(&app, &w, &csv).await;
    assert_eq!((r["rows"].as_u64(), r["recorded"].as_u64()), (Some(4), Some(1)), "{r}");
    let fields: Vec<&str> = r["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["row 3: Telefon", "row 4: Telefon", "row 5: Zeitpunkt"], "{r}");
    let after = get(&app, &id).await;
    assert_eq!(until(&after), five_years(call_at), "the call moved the clock (R23)");
    assert_eq!(after["last_use_at"].as_str().unwrap().parse::<jiff::Timestamp>().unwrap(), call_at);

    // The same file again records nothing twice.
    let again = call_log(&app, &w, &csv).await;
    assert_eq!((again["recorded"].as_u64(), again["already_imported"].as_u64()), (Some(0), Some(1)), "{again}");
    // Nothing is lost when the file is broken: what was stored stays.
    let bad = app
        .call_raw(
            "POST",
            &format!("/v1/uses/import?advertiser={}", w.advertiser),
            Some(&app.api_key),
            Some(b"foo;bar\n1;2\n".to_vec()),
            "text/csv",
        )
        .await;
    assert_eq!(bad.status, 422, "{:?}", bad.json);
    assert!(bad.json["detail"].as_str().unwrap().contains("phone"), "{:?}", bad.json);
    assert_eq!(until(&get(&app, &id).await), five_years(call_at));
});

app_test!(r24_lead_check_allows_and_blocks_each_lead_with_reasons, |app| {
    let w = world(&app).await;
    consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    let csv = format!("ref;telefon;name\nL1;{PHONE};Anna Meier\nL2;0171 7654321;Unbekannt\nL3;12;Kaputt\n");
    let path = format!("/v1/leads/check?advertiser={}&categories=insurance&campaign=Q1", w.advertiser);
    let r = app.call_raw("POST", &path, Some(&app.api_key), Some(csv.clone().into_bytes()), "text/csv").await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    assert_eq!(
        (r.json["total"].as_u64(), r.json["allowed"].as_u64(), r.json["blocked"].as_u64()),
        (Some(3), Some(1), Some(2)),
        "{:?}",
        r.json
    );
    let leads = r.json["leads"].as_array().unwrap();
    assert_eq!((leads[0]["reference"].as_str(), leads[0]["allowed"].as_bool()), (Some("L1"), Some(true)));
    assert!(!leads[1]["reasons"].as_array().unwrap().is_empty(), "a blocked lead names why: {:?}", leads[1]);
    // Why, German first and in English, one label per reason code.
    for lang in ["reasons_de", "reasons_en"] {
        let labels = leads[1][lang].as_array().unwrap();
        assert_eq!(labels.len(), leads[1]["reasons"].as_array().unwrap().len(), "{lang}: {:?}", leads[1]);
        assert!(labels.iter().all(|l| !l.as_str().unwrap().is_empty()), "{lang}: {:?}", leads[1]);
    }
    assert_ne!(leads[1]["reasons_de"], leads[1]["reasons_en"], "{:?}", leads[1]);
    assert_eq!(leads[2]["reasons"], json!(["invalid_number"]));
    let (de, en) = (leads[2]["reasons_de"][0].as_str().unwrap(), leads[2]["reasons_en"][0].as_str().unwrap());
    assert!(de.starts_with("keine gültige Rufnummer: ") && !de.contains(" / "), "{de}");
    assert!(en.starts_with("not a valid phone number: ") && !en.contains("Telefonnummer"), "{en}");
    assert_eq!(r.json["by_reason"]["invalid_number"], 1);
    // The report as CSV, for the campaign file.
    let c = app
        .call_with("POST", &path, Some(&app.api_key), Some(csv.into_bytes()), "text/csv", &[("accept", "text/csv")])
        .await;
    let text = c.json.as_str().unwrap().to_string();
    assert!(text.starts_with("ref;telefon;erlaubt;gruende"), "{text}");
    assert!(text.contains("L1;+491712345678;ja;"), "{text}");
    assert!(text.contains("L3;;nein;invalid_number"), "{text}");
    // A wrong advertiser is named German first, with where to find the right ids.
    let bad = app
        .call_raw(
            "POST",
            "/v1/leads/check?advertiser=nope",
            Some(&app.api_key),
            Some(b"ref;telefon\n".to_vec()),
            "text/csv",
        )
        .await;
    assert_eq!(bad.status, 422, "{:?}", bad.json);
    let msg = bad.json["errors"][0]["message"].as_str().unwrap();
    assert!(msg.starts_with("keine ID eines Werbenden") && msg.contains("/v1/advertisers"), "{msg}");
    // The check itself is on record (Prüfpflicht done).
    assert_eq!(app.ledger_text().await.matches("leads_checked").count(), 2);
});

/// A phone consent taken in a call with its recording, one call from the dialer, a partial
/// withdrawal of e-mail: the full story a package must tell.
async fn story(app: &TestApp) -> (World, Vec<u8>) {
    let w = world(app).await;
    let rec = wav(9);
    assert_eq!(upload(app, &app.api_key, &w, "recording", rec.clone(), "audio/x-wav").await.status, 201);
    let sha = konsent_domain::crypto::sha256_hex(&rec);
    let c = call_consent(app, &app.api_key, &w, json!([recording(app, &w, &sha, true)])).await;
    assert_eq!(c.json["status"], "ConsentGiven", "{:?}", c.json);
    app.clock.advance(SignedDuration::from_hours(48));
    let at = app.k.now() - SignedDuration::from_mins(5);
    call_log(app, &w, &format!("phone,time,outcome,campaign\n{PHONE},{at},connected,Winter-2026\n")).await;
    (w, rec)
}

/// The proof package of a person, as the service builds it.
pub async fn package(app: &TestApp, person: &str) -> konsent_service::proof::ProofPackage {
    app.k
        .evidence_package(
            app.tenant,
            &konsent_domain::ledger::Actor::System,
            konsent_service::proof::ProofSubject::Person(person.parse().unwrap()),
            None,
        )
        .await
        .unwrap()
}

/// The files of a person's proof package by name.
pub async fn package_files(app: &TestApp, person: &str) -> BTreeMap<String, Vec<u8>> {
    konsent_service::proof::read_package(&package(app, person).await.zip).unwrap()
}

pub fn pdftotext(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nachweis.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (Debian poppler-utils) must be installed; scripts/test.sh installs it");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn verify(files: &BTreeMap<String, Vec<u8>>, app: &TestApp) -> konsent_domain::proof::VerifyOutcome {
    konsent_domain::proof::verify_package(files, &app.k.keys.public())
}

app_test!(r27_proof_package_tells_the_whole_story_and_verifies_offline, |app| {
    let (w, rec) = story(&app).await;
    let agent = key(&app, "agent").await;
    assert_eq!(app.call("POST", "/v1/evidence", Some(&agent), Some(json!({"phone": PHONE}))).await.status, 403);
    let compliance = key(&app, "compliance").await;
    let res = app.call("POST", "/v1/evidence", Some(&compliance), Some(json!({"phone": "+49 171 2345678"}))).await;
    assert_eq!((res.status, res.ctype.as_str()), (200, "application/zip"), "{:?}", res.json);
    let files = package_files(&app, &w.person).await;
    let outcome = verify(&files, &app);
    assert!(outcome.ok(), "{:#?}", outcome.checks);

    // The PDF, read back as text, in German.
    let text = pdftotext(&files["nachweis.pdf"]);
    for needle in [
        "Nachweis der Einwilligung in Werbung",
        "Anna",
        "Meier",
        "Lindenstraße 5, 50667 Köln",
        "+491712345678",
        "Muster Versicherungsmakler GmbH",
        "Sitz Köln",
        "Domstraße 12",
        "mündlich im Telefongespräch",
        "Callcenter Rhein-Ruhr GmbH",
        "AG-0042",
        "Gesprächsaufzeichnung",
        "TEL-2026-03",
        "Winter-2026",
        "Aufbewahrung des Nachweises",
        "mindestens bis",
        "Ich bin einverstanden, dass mich die Muster",
    ] {
        assert!(text.contains(needle), "the report lacks {needle:?}:\n{text}");
    }
    // The same content as ISO/IEC TS 27560 JSON.
    let proof: Value = serde_json::from_slice(&files["proof.json"]).unwrap();
    let r = &proof["records"][0];
    assert_eq!(r["schema_version"], "dpv-27560-de-fv-1");
    assert_eq!(r["declaration_recipient"]["agent_pseudonym"], "AG-0042");
    assert_eq!(r["controllers"][0]["legal_name"], "Muster Versicherungsmakler GmbH");
    assert_eq!(r["collection_method"], "phone_call");
    assert!(r["consent_text"]["body"].as_str().unwrap().starts_with("Ich bin einverstanden"));
    assert_eq!(r["events"][0]["state"], "ConsentGiven");
    assert_eq!(proof["use_log"].as_array().unwrap().len(), 1);
    assert_eq!(proof["use_log"][0]["campaign_id"], "Winter-2026");
    assert_eq!(proof["pii_principals"][0]["residential_address"], "Lindenstraße 5, 50667 Köln");
    // The original recording, byte for byte.
    let sha = konsent_domain::crypto::sha256_hex(&rec);
    assert_eq!(files[&format!("attachments/{sha}.wav")], rec);
    // Producing it is on record, and so is the read of the recording.
    let ledger = app.ledger_text().await;
    assert_eq!(ledger.matches("proof_exported").count(), 2);
    assert!(ledger.contains("proof_package"), "the recording read for the package is audited");

    // Any one changed byte in any file fails the check.
    for name in files.keys() {
        let mut bad = files.clone();
        let f = bad.get_mut(name).unwrap();
        let i = f.len() / 2;
        f[i] ^= 0x01;
        assert!(!verify(&bad, &app).ok(), "a changed byte in {name} went unnoticed");
    }
    // A file taken out or added is found too, and another key does not verify.
    let mut fewer = files.clone();
    fewer.remove("proof.json");
    assert!(!verify(&fewer, &app).ok());
    let mut more = files.clone();
    more.insert("extra.txt".into(), b"x".to_vec());
    assert!(!verify(&more, &app).ok());
    let other = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
    assert!(!konsent_domain::proof::verify_package(&files, &other).ok());
});

app_test!(r27_verify_package_command_accepts_the_package_and_rejects_one_changed_byte, |app| {
    let (w, _) = story(&app).await;
    let p = package(&app, &w.person).await;
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("nachweis.zip");
    std::fs::write(&zip, &p.zip).unwrap();
    let key = hex::encode(app.k.keys.public().to_bytes());
    let run = |file: &std::path::Path, key: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_konsent"))
            .args(["verify-package", file.to_str().unwrap(), "--public-key", key])
            .output()
            .unwrap()
    };
    let ok = run(&zip, &key);
    assert!(ok.status.success(), "{}{}", String::from_utf8_lossy(&ok.stdout), String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("Paket unverändert"));
    // One byte inside the stored PDF, in the ZIP itself.
    let mut bytes = p.zip.clone();
    let at = bytes.windows(5).position(|w| w == b"%PDF-").unwrap() + 400;
    bytes[at] ^= 0x20;
    let bad = dir.path().join("manipuliert.zip");
    std::fs::write(&bad, &bytes).unwrap();
    let out = run(&bad, &key);
    assert!(!out.status.success(), "a changed byte must fail: {}", String::from_utf8_lossy(&out.stdout));
    // A wrong key fails even for the intact package.
    let wrong = run(&zip, &hex::encode(ed25519_dalek::SigningKey::from_bytes(&[3; 32]).verifying_key().to_bytes()));
    assert!(!wrong.status.success());
    let _ = check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await;
});

app_test!(r68_proof_json_carries_every_mandatory_field_of_section_4_and_the_range_limits_uses, |app| {
    let (w, _) = story(&app).await;
    let files = package_files(&app, &w.person).await;
    let proof: Value = serde_json::from_slice(&files["proof.json"]).unwrap();
    let r = &proof["records"][0];
    for field in [
        "record_id",
        "schema_version",
        "jurisdiction",
        "applicable_law",
        "language",
        "created_at",
        "integrity",
        "pii_principal_id",
        "contact_points",
        "recipient_class",
        "controllers",
        "declaration_recipient",
        "purposes",
        "channels",
        "product_categories",
        "legal_basis",
        "consent_type",
        "pii_categories",
        "retention_rule_ref",
        "storage_locations",
        "withdrawal_method",
        "privacy_notice_ref",
        "consent_text",
        "validity",
        "source",
        "events",
    ] {
        assert!(!r[field].is_null(), "record lacks mandatory {field}: {r:#}");
    }
    for field in ["prev_hash", "hash", "seal_ref"] {
        assert!(r["integrity"][field].is_string(), "integrity.{field}");
    }
    for field in ["consent_text_version_id", "text_hash", "body"] {
        assert!(r["consent_text"][field].is_string(), "consent_text.{field}");
    }
    let first = &r["events"][0];
    for field in [
        "event_id",
        "record_id",
        "state",
        "event_time",
        "recorded_at",
        "actor_entity",
        "indication_method",
        "collection_method",
        "affirmative_action",
        "event_hash",
        "prev_event_hash",
    ] {
        assert!(!first[field].is_null(), "event lacks {field}: {first:#}");
    }
    for field in
        ["use_id", "consent_record_ids", "advertiser", "channel", "contact_point", "attempt_at", "outcome", "hash"]
    {
        assert!(!proof["use_log"][0][field].is_null(), "use lacks {field}");
    }
    // A range before the call lists no use, and still verifies.
    let before = app.k.now() - SignedDuration::from_hours(24);
    let p = app
        .k
        .evidence_package(
            app.tenant,
            &konsent_domain::ledger::Actor::System,
            konsent_service::proof::ProofSubject::Person(w.person.parse().unwrap()),
            Some((jiff::Timestamp::MIN, before)),
        )
        .await
        .unwrap();
    let files = konsent_service::proof::read_package(&p.zip).unwrap();
    let proof: Value = serde_json::from_slice(&files["proof.json"]).unwrap();
    assert_eq!(proof["use_log"], json!([]));
    assert!(verify(&files, &app).ok());
});
