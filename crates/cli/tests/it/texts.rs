//! Consent texts through HTTP on both engines: drafts change freely and nobody can consent to
//! them; a published version never changes again (R10); the linter blocks what R4–R9 forbid.

use serde_json::json;

use crate::api::{consent, doi, otp, web, world};
use crate::app_test;

app_test!(r7_r8_text_lint_preview_and_refused_publication, |app| {
    let w = world(&app).await;
    let key = Some(app.api_key.as_str());
    let partner = json!({
        "key": "partner-text",
        "title": "Einwilligung",
        "body": "Ich bin einverstanden, dass mich die Muster Versicherungsmakler GmbH und ihre Partner per Telefon über Versicherungen informieren.",
        "scope": {"advertisers": [w.advertiser], "product_categories": ["insurance"], "channels": ["phone_live"]},
        "privacy_notice": {"url": "https://makler.example/datenschutz", "version": "1"}
    });
    let lint = app.call("POST", "/v1/texts/lint", key, Some(partner.clone())).await;
    assert_eq!(lint.status, 200, "{:?}", lint.json);
    assert_eq!(lint.json["publishable"], false);
    let codes: Vec<&str> =
        lint.json["issues"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"catch_all_wording") && codes.contains(&"missing_withdrawal_notice"), "{codes:?}");
    let publish = app.call("POST", "/v1/texts", key, Some(partner)).await;
    assert_eq!(publish.status, 422, "lint errors block publishing: {:?}", publish.json);
    let texts = app.call("GET", "/v1/texts", key, None).await;
    assert_eq!(texts.json["items"].as_array().unwrap().len(), 1, "nothing was published");
});

app_test!(r10_draft_changes_until_published_then_never, |app| {
    let w = world(&app).await;
    let key = Some(app.api_key.as_str());
    let draft = json!({
        "key": "telefon-email",
        "title": "Einwilligung Telefon",
        "body": "Ich bin einverstanden, dass mich die Muster Versicherungsmakler GmbH und ihre Partner anrufen.",
        "scope": {"advertisers": [w.advertiser], "product_categories": ["insurance"], "channels": ["phone_live"]},
        "privacy_notice": {"url": "https://makler.example/datenschutz", "version": "2026-02"}
    });
    // A draft may fail the linter; it is saved with its findings.
    let d = app.call("POST", "/v1/texts/drafts", key, Some(draft.clone())).await;
    assert_eq!(d.status, 201, "{:?}", d.json);
    assert_eq!((d.json["state"].as_str(), d.json["publishable"].as_bool()), (Some("draft"), Some(false)));
    let id = d.json["id"].as_str().unwrap().to_string();
    let p = app.call("POST", &format!("/v1/texts/{id}/publish"), key, None).await;
    assert_eq!(p.status, 422, "lint errors block publishing: {:?}", p.json);
    assert!(p.json["errors"].to_string().contains("lint.catch_all_wording"), "{:?}", p.json);
    // Each finding German first, then English, like every other error.
    let finding = p.json["errors"][0]["message"].as_str().unwrap();
    let (de, en) = finding.split_once(" / ").unwrap_or_else(|| panic!("German / English: {finding}"));
    assert!(!de.is_empty() && en.is_ascii(), "{finding}");
    // Nobody can consent to a draft.
    let mut c = json!({
        "person_id": w.person, "contact_point_ids": [w.phone_cp], "text_id": id,
        "scope": {"advertisers": [w.advertiser], "product_categories": ["insurance"], "channels": ["phone_live"]},
        "capture_method": "web_form", "affirmative_action": true, "evidence": [web(&app)]
    });
    let r = app.call("POST", "/v1/consents", key, Some(c.clone())).await;
    assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("text_id")), "{:?}", r.json);
    // Fix the wording; the draft keeps its id.
    let mut fixed = draft.clone();
    fixed["body"] = json!(
        "Ich bin einverstanden, dass mich die Muster Versicherungsmakler GmbH per Telefon über Versicherungen informiert. Diese Einwilligung kann ich jederzeit mit Wirkung für die Zukunft widerrufen."
    );
    let u = app.call("PUT", &format!("/v1/texts/{id}"), key, Some(fixed.clone())).await;
    assert_eq!(
        (u.status, u.json["id"].as_str(), u.json["publishable"].as_bool()),
        (200, Some(id.as_str()), Some(true)),
        "{:?}",
        u.json
    );
    let listed = app.call("GET", "/v1/texts?state=draft", key, None).await;
    assert_eq!(listed.json["items"].as_array().unwrap().len(), 1, "{:?}", listed.json);
    // Publishing gives the next version of the family (world() published version 1).
    let p = app.call("POST", &format!("/v1/texts/{id}/publish"), key, None).await;
    assert_eq!(p.status, 200, "{:?}", p.json);
    assert_eq!((p.json["state"].as_str(), p.json["version"].as_u64()), (Some("published"), Some(2)));
    let sha = p.json["sha256"].as_str().unwrap().to_string();
    // From now on it never changes: editing, publishing again and discarding are refused.
    let u = app.call("PUT", &format!("/v1/texts/{id}"), key, Some(draft)).await;
    assert_eq!((u.status, u.json["code"].as_str()), (409, Some("conflict")), "{:?}", u.json);
    assert_eq!(app.call("POST", &format!("/v1/texts/{id}/publish"), key, None).await.status, 409);
    assert_eq!(app.call("DELETE", &format!("/v1/texts/{id}"), key, None).await.status, 409);
    let g = app.call("GET", &format!("/v1/texts/{id}"), key, None).await;
    assert_eq!((g.json["sha256"].as_str(), g.json["body"].clone()), (Some(sha.as_str()), fixed["body"].clone()));
    // Now a consent can name it.
    c["evidence"] = json!([web(&app), otp(&app, &w)]);
    let r = app.call("POST", "/v1/consents", key, Some(c)).await;
    assert_eq!(r.status, 201, "{:?}", r.json);
});

app_test!(r10_retired_text_keeps_its_consents_and_drafts_can_be_discarded, |app| {
    let w = world(&app).await;
    let key = Some(app.api_key.as_str());
    let given = consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    let r = app.call("POST", &format!("/v1/texts/{}/retire", w.text), key, None).await;
    assert_eq!((r.status, r.json["state"].as_str()), (200, Some("retired")), "{:?}", r.json);
    assert_eq!(app.call("POST", &format!("/v1/texts/{}/retire", w.text), key, None).await.status, 409);
    let c = app.call("GET", &format!("/v1/consents/{}", given["consent_id"].as_str().unwrap()), key, None).await;
    assert_eq!((c.json["text_id"].as_str(), c.json["status"].as_str()), (Some(w.text.as_str()), Some("ConsentGiven")));
    let published = app.call("GET", "/v1/texts?state=published", key, None).await;
    assert_eq!(published.json["items"], json!([]));

    let d = app
        .call(
            "POST",
            "/v1/texts/drafts",
            key,
            Some(json!({
                "key": "entwurf", "title": "T", "body": "Entwurf",
                "scope": {"advertisers": [w.advertiser], "product_categories": ["insurance"], "channels": ["email"]},
                "privacy_notice": {"url": "https://makler.example/datenschutz", "version": "1"}
            })),
        )
        .await;
    let id = d.json["id"].as_str().unwrap();
    assert_eq!(app.call("DELETE", &format!("/v1/texts/{id}"), key, None).await.status, 204);
    assert_eq!(app.call("GET", &format!("/v1/texts/{id}"), key, None).await.status, 404);
    // The ledger still holds the draft's wording and its discarding.
    let rebuilt = konsent_store::projection::rebuild(&app.k.db, &[app.tenant]).await;
    assert!(rebuilt.is_ok(), "{rebuilt:?}");
    assert_eq!(app.call("GET", &format!("/v1/texts/{id}"), key, None).await.status, 404);
    let t = app.call("GET", &format!("/v1/texts/{}", w.text), key, None).await;
    assert_eq!(t.json["state"], "retired", "rebuild keeps the retired state");
});
