//! Imports of the realistic exports in `crates/formats/testdata` (copies of the shared fixtures)
//! through `POST /v1/imports` and the service, on both engines: what the gate then says about
//! rows with and without the tool's double opt-in record (R25), legacy phone permissions (R26),
//! opt-outs and bounces there honoured here, an erased person not brought back (R44), bad rows
//! named by row and column, and re-import changing nothing. How an import runs across its
//! batches (dry run, interruption, resume) is in `import_batches.rs`.

use std::path::PathBuf;

use konsent_service::imports::{Format, ImportOptions};
use serde_json::{Value, json};

use crate::api::{World, check, world};
use crate::app_test;
use crate::harness::TestApp;

pub(crate) fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../formats/testdata").join(rel)
}

pub(crate) const MAILCHIMP_ZIP: &str = "mailchimp/members_export_67bf5f325a.zip";
const SUBSCRIBED: &str = "mailchimp/members_export_67bf5f325a/subscribed_members_export_67bf5f325a.csv";

/// The subscribed file as a user reads it: (e-mail, has sign-up time, has confirmation time, has an IP).
fn subscribed_rows() -> Vec<(String, bool, bool, bool)> {
    let mut r = csv::Reader::from_path(fixture(SUBSCRIBED)).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|x| x == name).unwrap();
    let (e, ot, ct, oi, ci) =
        (col("Email Address"), col("OPTIN_TIME"), col("CONFIRM_TIME"), col("OPTIN_IP"), col("CONFIRM_IP"));
    r.records()
        .map(|x| x.unwrap())
        .map(|x| (x[e].to_string(), !x[ot].is_empty(), !x[ct].is_empty(), !x[oi].is_empty() || !x[ci].is_empty()))
        .collect()
}

fn other_file(name: &str) -> Vec<String> {
    let path = fixture(&format!("mailchimp/members_export_67bf5f325a/{name}_members_export_67bf5f325a.csv"));
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records().map(|x| x.unwrap()[0].to_string()).collect()
}

/// Options for a Mailchimp file under the world's text.
pub(crate) fn mailchimp(w: &World, dry_run: bool, batch_rows: u64) -> ImportOptions {
    ImportOptions {
        format: Format::Mailchimp,
        mapping: None,
        text_id: w.text.parse().unwrap(),
        advertisers: None,
        provider: None,
        third_party_contract: None,
        org_unit: None,
        dry_run,
        batch_rows,
        chunk_rows: batch_rows,
    }
}

pub(crate) async fn upload(app: &TestApp, w: &World, format: &str, file: &str, extra: &str) -> Value {
    let bytes = std::fs::read(fixture(file)).unwrap();
    let path = format!("/v1/imports?format={format}&text={}{extra}", w.text);
    let r = app.call_raw("POST", &path, Some(&app.api_key), Some(bytes), "application/octet-stream").await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    r.json
}

pub(crate) async fn email_allowed(app: &TestApp, w: &World, email: &str) -> (bool, String) {
    let d = check(app, &app.api_key, w, "email", json!({"email": email})).await;
    (d["allowed"].as_bool().unwrap(), d["reasons"].to_string())
}

fn total(r: &Value) -> u64 {
    r["outcomes"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum()
}

app_test!(r25_mailchimp_zip_confirmed_subscribers_are_usable_the_rest_unknown_opt_outs_and_bounces_honoured, |app| {
    let w = world(&app).await;
    let r = upload(&app, &w, "mailchimp", MAILCHIMP_ZIP, "").await;
    let rows = subscribed_rows();
    let (unsub, cleaned) = (other_file("unsubscribed"), other_file("cleaned"));
    assert_eq!(r["rows"], (rows.len() + unsub.len() + cleaned.len()) as u64);
    assert_eq!(total(&r), r["rows"].as_u64().unwrap(), "every row has exactly one outcome: {r}");
    assert_eq!((r["encoding"].as_str(), r["delimiter"].as_str()), (Some("utf-8"), Some(",")));

    // A subscriber with the whole double opt-in record may be mailed; one without the sign-up
    // record (imported into Mailchimp) is recorded but blocked until re-permission (R25).
    let whole = rows.iter().find(|r| r.1 && r.2 && r.3).unwrap();
    assert!(email_allowed(&app, &w, &whole.0).await.0, "{}", whole.0);
    let partial = rows.iter().find(|r| !r.1 && r.2 && r.0.contains('@') && !r.0.contains('<')).unwrap();
    let (allowed, reasons) = email_allowed(&app, &w, &partial.0).await;
    assert!(!allowed && reasons.contains("consent_not_valid"), "{reasons}");
    assert!(
        r["outcomes"]["unknown"].as_u64().unwrap() >= 1
            && r["unknown_because"]["email_not_confirmed"].as_u64().unwrap() >= 1
    );

    // Unsubscribed and cleaned there: on the suppression list here.
    for e in unsub.iter().chain(&cleaned) {
        let (allowed, reasons) = email_allowed(&app, &w, e).await;
        assert!(!allowed && reasons.contains("suppressed"), "{reasons}");
    }
    assert_eq!(r["outcomes"]["opt_out"], unsub.len() as u64);
    assert_eq!(r["outcomes"]["bounced"], cleaned.len() as u64);

    // Bad rows are named by row and column, without the address.
    let problems = r["problems"].as_array().unwrap();
    let display = rows.iter().position(|r| r.0.contains('<')).unwrap() as u64 + 2;
    assert!(problems.iter().any(|p| p["row"] == display && p["field"] == "email"), "{problems:?}");
    assert!(!r["problems"].to_string().contains('@'), "no address in the report: {problems:?}");
    // The address in other case is the same person, counted once.
    assert_eq!(r["outcomes"]["duplicate"], 1, "{r}");

    // The same file again changes nothing.
    let before = app.ledger_text().await;
    let again = upload(&app, &w, "mailchimp", MAILCHIMP_ZIP, "").await;
    assert_eq!(again["already_imported"], true);
    assert_eq!(app.ledger_text().await, before);
    assert!(before.contains("import_completed"), "the import is on record");
    let v = konsent_service::verify::verify(&app.k).await.unwrap();
    assert!(v.ok(), "{:?}", v.broken);
});

app_test!(r26_broker_export_in_windows_1252_legacy_phone_permissions_stay_unknown, |app| {
    let w = world(&app).await;
    let r = upload(&app, &w, "generic", "generic_makler/maklerverwaltung_kunden_export_cp1252.csv", "").await;
    assert_eq!((r["encoding"].as_str(), r["delimiter"].as_str()), (Some("windows-1252"), Some(";")), "{r}");
    assert_eq!(total(&r), r["rows"].as_u64().unwrap());
    // Phone permissions without number verification are never usable (R26).
    assert_eq!(r["consents"]["phone_live:given"], Value::Null, "{r}");
    assert!(r["consents"]["phone_live:unknown"].as_u64().unwrap() > 0, "{r}");
    assert!(r["unknown_because"]["phone_not_verified"].as_u64().unwrap() > 0);
    // Umlauts decoded: the first person's name reads as written.
    let d = check(&app, &app.api_key, &w, "phone_live", json!({"phone": "0152 28817386"})).await;
    assert_eq!(d["allowed"], false);
    let person = d["person_id"].as_str().expect("the row's person exists").to_string();
    let p = app.call("GET", &format!("/v1/persons/{person}"), Some(&app.api_key), None).await;
    assert_eq!((p.json["first_name"].as_str(), p.json["last_name"].as_str()), (Some("Jürgen"), Some("Weiß")));
});

app_test!(r25_hubspot_and_cleverreach_without_double_opt_in_records_import_as_unknown, |app| {
    let w = world(&app).await;
    let h = upload(&app, &w, "hubspot", "hubspot/hubspot-crm-exports-all-contacts-2024-05-17.csv", "").await;
    assert_eq!(total(&h), 50);
    assert_eq!(h["consents"]["email:given"], Value::Null, "HubSpot exports no confirmation record: {h}");
    assert!(h["outcomes"]["no_consent"].as_u64().unwrap() > 0, "non-marketing contacts get nothing: {h}");
    let c = upload(&app, &w, "cleverreach", "cleverreach/cleverreach_empfaenger_export_cp1252_semikolon.csv", "").await;
    assert_eq!((c["encoding"].as_str(), total(&c)), (Some("windows-1252"), 50), "{c}");
    assert!(c["outcomes"]["pending"].as_u64().unwrap() > 0, "never confirmed there: {c}");
});

app_test!(r44_an_erased_persons_address_is_not_imported_again, |app| {
    let w = world(&app).await;
    let rows = subscribed_rows();
    let victim = &rows.iter().find(|r| r.1 && r.2 && r.3).unwrap().0;
    let p = app
        .call(
            "POST",
            "/v1/persons",
            Some(&app.api_key),
            Some(json!({"first_name": "Jürgen", "last_name": "Weiß", "contacts": [{"email": victim}]})),
        )
        .await;
    assert_eq!(p.status, 201, "{:?}", p.json);
    let person = p.json["person_id"].as_str().unwrap();
    let e = app.call("POST", &format!("/v1/persons/{person}/erasure"), Some(&app.api_key), Some(json!({}))).await;
    assert_eq!(e.status, 200, "{:?}", e.json);
    let value =
        konsent_domain::contact::ContactValue::Email(konsent_domain::contact::EmailAddress::parse(victim).unwrap());
    let before = app.k.find_by_contact(app.tenant, &value).await.unwrap().len();
    let r = upload(&app, &w, "mailchimp", MAILCHIMP_ZIP, "").await;
    assert_eq!(r["outcomes"]["erased"], 1, "{r}");
    assert_eq!(app.k.find_by_contact(app.tenant, &value).await.unwrap().len(), before, "no new person");
    assert!(!email_allowed(&app, &w, victim).await.0);
});

app_test!(r25_bad_requests_name_the_field, |app| {
    let w = world(&app).await;
    let bytes = std::fs::read(fixture(SUBSCRIBED)).unwrap();
    for (query, field) in [
        (format!("format=excel&text={}", w.text), "format"),
        ("format=mailchimp&text=no-such-text".to_string(), "text"),
        (format!("format=mailchimp&text={}&advertisers=x", w.text), "advertisers"),
    ] {
        let r = app
            .call_raw("POST", &format!("/v1/imports?{query}"), Some(&app.api_key), Some(bytes.clone()), "text/csv")
            .await;
        assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some(field)), "{:?}", r.json);
    }
    let empty = app
        .call_raw(
            "POST",
            &format!("/v1/imports?format=mailchimp&text={}", w.text),
            Some(&app.api_key),
            Some(vec![]),
            "text/csv",
        )
        .await;
    assert_eq!((empty.status, empty.json["errors"][0]["field"].as_str()), (422, Some("file")));
    let no_header = b"a;b\n1;2\n".to_vec();
    let r = app
        .call_raw(
            "POST",
            &format!("/v1/imports?format=generic&text={}", w.text),
            Some(&app.api_key),
            Some(no_header),
            "text/csv",
        )
        .await;
    assert_eq!(r.status, 422, "{:?}", r.json);
    assert!(r.json["detail"].as_str().unwrap().contains("no e-mail or phone column"), "{:?}", r.json);
});

app_test!(r39_reconciliation_lists_who_is_subscribed_there_but_blocked_here_and_the_reverse, |app| {
    let w = world(&app).await;
    let unsub = other_file("unsubscribed");
    // Before any import: an address unsubscribed there still has a valid consent here.
    let p = app
        .call(
            "POST",
            "/v1/persons",
            Some(&app.api_key),
            Some(json!({"first_name": "U", "last_name": "X", "contacts": [{"email": unsub[0]}]})),
        )
        .await;
    let cp = p.json["contact_points"][0]["id"].clone();
    let now = app.k.now().to_string();
    let c = app
        .call("POST", "/v1/consents", Some(&app.api_key), Some(json!({
            "person_id": p.json["person_id"], "contact_point_ids": [cp], "text_id": w.text,
            "scope": {"advertisers": [w.advertiser], "product_categories": ["insurance"], "channels": ["email"]},
            "capture_method": "web_form", "affirmative_action": true,
            "evidence": [{"kind": "web_form", "at": now, "form_ref": "/f/n", "form_version": "1", "affirmative_action": true, "request_details": null},
                         {"kind": "email_doi", "contact_point": cp, "sent_at": now, "message_id": "<1@x>", "token_hash": "ab", "confirmed_at": now, "request_details": null}]
        })))
        .await;
    assert_eq!(c.json["status"], "ConsentGiven", "{:?}", c.json);
    let bytes = std::fs::read(fixture(MAILCHIMP_ZIP)).unwrap();
    let path = format!("/v1/reconcile?format=mailchimp&advertiser={}", w.advertiser);
    let r = app.call_raw("POST", &path, Some(&app.api_key), Some(bytes.clone()), "application/zip").await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    let reverse = r.json["opted_out_there_allowed_here"].as_array().unwrap();
    assert_eq!(reverse.len(), 1, "{reverse:?}");
    assert_eq!(reverse[0]["email"], unsub[0].as_str());
    assert!(
        r.json["subscribed_there_blocked_here"].as_array().unwrap().len() > 30,
        "nobody subscribed there has a consent here yet"
    );

    // After the import, a withdrawal here makes that subscriber a mismatch to fix in the tool.
    upload(&app, &w, "mailchimp", MAILCHIMP_ZIP, "").await;
    let whole = &subscribed_rows().into_iter().find(|r| r.1 && r.2 && r.3).unwrap().0.clone();
    let d = check(&app, &app.api_key, &w, "email", json!({"email": whole})).await;
    let consent = d["consents_relied_on"][0].as_str().unwrap().to_string();
    let wd = app
        .call("POST", &format!("/v1/consents/{consent}/withdraw"), Some(&app.api_key), Some(json!({"via": "letter"})))
        .await;
    assert!(wd.status < 300);
    let r = app.call_raw("POST", &path, Some(&app.api_key), Some(bytes), "application/zip").await;
    let blocked = r.json["subscribed_there_blocked_here"].as_array().unwrap();
    let mine = blocked.iter().find(|m| m["email"] == whole.as_str()).expect("the withdrawn subscriber is listed");
    assert!(
        mine["reasons_here"].to_string().contains("consent_not_valid")
            || mine["reasons_here"].to_string().contains("withdrawn"),
        "{mine}"
    );
    assert_eq!(r.json["opted_out_there_allowed_here"], json!([]), "the import suppressed them");
    assert!(r.json["in_sync"].as_u64().unwrap() > 0);
});

app_test!(r25_uploads_carry_their_file_name_and_a_mapping_file, |app| {
    let w = world(&app).await;
    // A single Mailchimp member file says its status by its name: unsubscribed rows are opt-outs,
    // never consents.
    let unsub =
        std::fs::read(fixture("mailchimp/members_export_67bf5f325a/unsubscribed_members_export_67bf5f325a.csv"))
            .unwrap();
    let path = format!("/v1/imports?format=mailchimp&text={}&name=unsubscribed_members_export_67bf5f325a.csv", w.text);
    let r = app.call_raw("POST", &path, Some(&app.api_key), Some(unsub), "text/csv").await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    assert_eq!(
        (r.json["outcomes"]["opt_out"].as_u64(), r.json["outcomes"]["given"].as_u64()),
        (Some(5), None),
        "{}",
        r.json
    );

    // A CRM export read through a mapping file sent with it as a form.
    let csv = std::fs::read(fixture("mapping-example.csv")).unwrap();
    let toml = std::fs::read(fixture("mapping-example.toml")).unwrap();
    let form = |mapping: &[u8]| {
        let mut b = Vec::new();
        b.extend_from_slice(b"--XyZ\r\nContent-Disposition: form-data; name=\"mapping\"\r\n\r\n");
        b.extend_from_slice(mapping);
        b.extend_from_slice(b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"kontakte.csv\"\r\nContent-Type: text/csv\r\n\r\n");
        b.extend_from_slice(&csv);
        b.extend_from_slice(b"\r\n--XyZ--\r\n");
        b
    };
    let path = format!("/v1/imports?format=generic&text={}&dry_run=true", w.text);
    let ct = "multipart/form-data; boundary=XyZ";
    let r = app.call_raw("POST", &path, Some(&app.api_key), Some(form(&toml)), ct).await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    assert_eq!(r.json["columns"]["email"], "Mailadresse", "{}", r.json);
    assert_eq!(r.json["outcomes"]["pending"], 1, "\"DOI offen\" is pending by the mapping: {}", r.json);
    let bad = app.call_raw("POST", &path, Some(&app.api_key), Some(form(b"colums = 1\n")), ct).await;
    assert_eq!((bad.status, bad.json["errors"][0]["field"].as_str()), (422, Some("mapping")), "{:?}", bad.json);
    assert!(bad.json["detail"].as_str().unwrap().contains("colums"), "the unknown key is named: {:?}", bad.json);
    let uploads = app.k.data_dir.join("uploads");
    assert!(std::fs::read_dir(&uploads).map_or(true, |mut d| d.next().is_none()), "uploads are removed after the run");
});

app_test!(r27_an_imported_persons_proof_package_holds_only_their_record_of_the_batch_entry, |app| {
    use konsent_domain::contact::{ContactValue, EmailAddress};
    let w = world(&app).await;
    upload(&app, &w, "mailchimp", MAILCHIMP_ZIP, "").await;
    // The import wrote its rows as a batch entry.
    assert_eq!(app.ledger_text().await.matches("\"type\":\"batch\"").count(), 1);

    let person_of = |email: String| {
        let bi = app
            .k
            .keys
            .blind_index(app.tenant)
            .index(&ContactValue::Email(EmailAddress::parse(&email).unwrap()).match_key());
        let db = app.k.db.clone();
        let tenant = app.tenant;
        async move { konsent_store::queries::persons_by_blind_index(&db, tenant, &bi).await.unwrap()[0].0 }
    };
    let rows = subscribed_rows();
    let whole = rows.iter().find(|r| r.1 && r.2 && r.3).unwrap();
    let other = rows.iter().find(|r| r.1 && r.2 && r.3 && r.0 != whole.0).unwrap();
    let (me, them) = (person_of(whole.0.clone()).await, person_of(other.0.clone()).await);
    let files = crate::proof::package_files(&app, &me.to_string()).await;
    let outcome = konsent_domain::proof::verify_package(&files, &app.k.keys.public());
    assert!(outcome.ok(), "{:#?}", outcome.checks);

    // The package proves the person's record with its path to the batch entry's root; the other
    // persons of that batch are not in it.
    let lines = String::from_utf8(files["ledger/entries.jsonl"].clone()).unwrap();
    let batch: Vec<Value> =
        lines.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).filter(|e| e["record"].is_object()).collect();
    assert_eq!(batch.len(), 1, "{lines}");
    let record = batch[0]["record"]["record"].as_str().unwrap();
    assert!(record.contains(&me.to_string()) && record.contains("consent_recorded"), "{record}");
    assert!(batch[0]["record"]["count"].as_u64().unwrap() > 1);
    assert!(!lines.contains(&them.to_string()), "another person of the batch is in the package");
    let proof: Value = serde_json::from_slice(&files["proof.json"]).unwrap();
    assert_eq!(proof["records"][0]["events"][0]["state"], "ConsentGiven", "{proof}");

    // A record changed inside a package signed anew still fails: it no longer leads to the root.
    let mut forged = files.clone();
    let changed = lines.replacen("\\\"consent_recorded\\\"", "\\\"consent_recorded\\\" ", 1);
    assert_ne!(changed, lines);
    forged.insert("ledger/entries.jsonl".into(), changed.into_bytes());
    let mut manifest: konsent_domain::proof::Manifest = serde_json::from_slice(&forged["manifest.json"]).unwrap();
    for f in &mut manifest.files {
        f.sha256 = konsent_domain::crypto::sha256_hex(&forged[&f.path]);
        f.size = forged[&f.path].len() as u64;
    }
    let bytes = serde_json::to_vec(&manifest).unwrap();
    forged
        .insert("manifest.sig".into(), konsent_domain::proof::sign_manifest(app.k.keys.signing(), &bytes).into_bytes());
    forged.insert("manifest.json".into(), bytes);
    let outcome = konsent_domain::proof::verify_package(&forged, &app.k.keys.public());
    let ledger_check = outcome.checks.iter().find(|c| c.name == "ledger").unwrap();
    assert!(!ledger_check.ok && ledger_check.detail.contains("Sammeleintrag"), "{:#?}", outcome.checks);
    assert!(outcome.checks.iter().find(|c| c.name == "manifest_signature").unwrap().ok);
});
