//! Tenant isolation and the role matrix through HTTP, on both engines: another tenant's ids
//! answer exactly like ids that do not exist; each role reaches only what it may.

use konsent_service::apikeys::{self, Role};
use serde_json::{Value, json};

use crate::api::{EMAIL, PHONE, check, consent, doi, otp, web, world};
use crate::app_test;

const NOWHERE: &str = "0198a0e0-0000-7000-8000-000000000000";

app_test!(every_route_with_another_tenants_key_sees_nothing, |app| {
    let w = world(&app).await;
    let c = consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    let consent_id = c["consent_id"].as_str().unwrap().to_string();
    let mine = check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await;
    assert_eq!(mine["allowed"], true);

    let other = konsent_service::init::create_tenant(&app.k, "Fremdvertrieb AG").await.unwrap();
    let key = apikeys::create(&app.k, other, Role::Admin, None, "other").await.unwrap();
    let k = Some(key.as_str());
    let sha = upload_recording(&app, &w).await;

    // Reads and writes on tenant A's ids answer like ids that do not exist.
    for (method, path, body) in [
        ("GET", format!("/v1/persons/{}", w.person), None),
        ("GET", format!("/v1/persons/{}/timeline", w.person), None),
        ("GET", format!("/v1/persons/{}/links", w.person), None),
        ("PATCH", format!("/v1/persons/{}", w.person), Some(json!({"first_name": "X", "last_name": "Y"}))),
        ("POST", format!("/v1/persons/{}/objection", w.person), Some(json!({}))),
        ("GET", format!("/v1/consents/{consent_id}"), None),
        ("POST", format!("/v1/consents/{consent_id}/withdraw"), Some(json!({}))),
        ("GET", format!("/v1/texts/{}", w.text), None),
        ("POST", format!("/v1/texts/{}/publish", w.text), None),
        ("POST", format!("/v1/texts/{}/retire", w.text), None),
        ("DELETE", format!("/v1/texts/{}", w.text), None),
        ("GET", format!("/v1/persons/{}/attachments", w.person), None),
        ("GET", format!("/v1/persons/{}/attachments/{}", w.person, sha), None),
        ("POST", format!("/v1/consents/{consent_id}/evidence"), Some(json!({"evidence": [otp(&app, &w)]}))),
        ("POST", format!("/v1/consents/{consent_id}/approve"), None),
        ("POST", "/v1/evidence".into(), Some(json!({"person_id": w.person}))),
    ] {
        let foreign = app.call(method, &path, k, body.clone()).await;
        let missing_path = path.replace(&w.person, NOWHERE).replace(&consent_id, NOWHERE).replace(&w.text, NOWHERE);
        let missing = app.call(method, &missing_path, k, body).await;
        assert_eq!(foreign.status, 404, "{method} {path}: {:?}", foreign.json);
        let echoed = foreign
            .json
            .to_string()
            .replace(&w.person, NOWHERE)
            .replace(&consent_id, NOWHERE)
            .replace(&w.text, NOWHERE);
        assert_eq!(echoed, missing.json.to_string(), "{method} {path} must look exactly like a missing id");
    }
    let r = app
        .call("POST", "/v1/consents", k, Some(json!({
            "person_id": w.person, "contact_point_ids": [w.phone_cp], "text_id": w.text,
            "scope": {"advertisers": [w.advertiser], "product_categories": ["insurance"], "channels": ["phone_live"]},
            "capture_method": "web_form", "affirmative_action": true, "evidence": []
        })))
        .await;
    assert_eq!(r.status, 404, "{:?}", r.json);

    // The gate of tenant B knows neither A's advertiser nor A's person.
    let body = json!({"phone": PHONE, "channel": "phone_live", "advertiser_id": w.advertiser});
    let theirs = app.call("POST", "/v1/check", k, Some(body)).await;
    assert_eq!(theirs.status, 422, "{:?}", theirs.json);
    assert_eq!(theirs.json["errors"][0]["field"], "advertiser_id");
    let b_adv = app
        .call("POST", "/v1/advertisers", k, Some(json!({"legal_name": "Fremd AG", "seat": "Bonn", "address_for_service": {"street": "A 1", "postcode": "53111", "city": "Bonn"}})))
        .await;
    let body = json!({"phone": PHONE, "channel": "phone_live", "advertiser_id": b_adv.json["id"]});
    let theirs = app.call("POST", "/v1/check", k, Some(body)).await;
    assert_eq!(theirs.json["allowed"], false);
    assert!(theirs.json["person_id"].is_null());
    // A's decision cannot be used with B's key.
    let u =
        app.call("POST", "/v1/uses", k, Some(json!({"decision_id": mine["decision_id"], "outcome": "attempt"}))).await;
    assert_eq!(u.status, 422, "{:?}", u.json);
    // Lists show nothing of A.
    for path in ["/v1/advertisers", "/v1/texts"] {
        let l = app.call("GET", path, k, None).await;
        assert_eq!(l.status, 200);
        assert!(!l.json.to_string().contains(&w.advertiser), "{path} leaks tenant A");
    }
    let s = app
        .call("POST", "/v1/suppressions", Some(&app.api_key), Some(json!({"email": EMAIL, "reason": "manual"})))
        .await;
    assert_eq!(s.status, 201);
    let l = app.call("POST", "/v1/suppressions/lookup", k, Some(json!({"email": EMAIL}))).await;
    assert_eq!(l.json["items"], json!([]));
    let mine = app.call("GET", "/v1/suppressions", Some(&app.api_key), None).await;
    assert_eq!(mine.json["items"].as_array().unwrap().len(), 1);
    let l = app.call("GET", "/v1/suppressions", k, None).await;
    assert_eq!((l.status, l.json["items"].clone()), (200, json!([])));

    // Webhooks: A's endpoints, deliveries and callback URLs are invisible and untouchable for B.
    let mine = Some(app.api_key.as_str());
    let hook = app
        .call(
            "POST",
            "/v1/webhooks",
            mine,
            Some(json!({"url": "https://93.184.215.14/hook", "events": ["suppression.added"]})),
        )
        .await;
    assert_eq!(hook.status, 201, "{:?}", hook.json);
    let hook_id = hook.json["id"].as_str().unwrap().to_string();
    let inb = app.call("POST", "/v1/webhooks/inbound", mine, Some(json!({"provider": "cleverreach"}))).await;
    let inb_id = inb.json["id"].as_str().unwrap().to_string();
    app.call("POST", "/v1/suppressions", mine, Some(json!({"phone": PHONE, "reason": "manual"}))).await;
    let dl = app.call("GET", "/v1/webhooks/deliveries", mine, None).await;
    let delivery = dl.json["items"][0]["id"].as_str().unwrap().to_string();
    for path in ["/v1/webhooks", "/v1/webhooks/deliveries", "/v1/webhooks/inbound"] {
        let l = app.call("GET", path, k, None).await;
        assert_eq!((l.status, l.json["items"].clone()), (200, json!([])), "{path}");
    }
    for (method, path, body) in [
        ("DELETE", format!("/v1/webhooks/{hook_id}"), None),
        ("POST", format!("/v1/webhooks/deliveries/{delivery}/replay"), None),
        ("DELETE", format!("/v1/webhooks/inbound/{inb_id}"), None),
        ("PUT", format!("/v1/webhooks/inbound/{inb_id}/secret"), Some(json!({"signing_secret": "x"}))),
    ] {
        let foreign = app.call(method, &path, k, body.clone()).await;
        assert_eq!(foreign.status, 404, "{method} {path}: {:?}", foreign.json);
        let missing_path = path.replace(&hook_id, "wh_0").replace(&delivery, "msg_0").replace(&inb_id, "whin_0");
        let missing = app.call(method, &missing_path, k, body).await;
        assert_eq!(foreign.json, missing.json, "{method} {path} must look exactly like a missing id");
    }
});

/// Stores a recording for the world's person; returns its SHA-256.
async fn upload_recording(app: &crate::harness::TestApp, w: &crate::api::World) -> String {
    let r = crate::assisted::upload(app, &app.api_key, w, "recording", crate::assisted::wav(6), "audio/x-wav").await;
    assert_eq!(r.status, 201, "{:?}", r.json);
    r.json["attachment"]["sha256"].as_str().unwrap().to_string()
}

app_test!(r53_role_matrix_through_http, |app| {
    let w = world(&app).await;
    let sha = upload_recording(&app, &w).await;
    let c = consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    let consent_id = c["consent_id"].as_str().unwrap().to_string();
    let mut keys = std::collections::BTreeMap::new();
    for role in ["agent", "marketing", "compliance", "integration"] {
        let r = app.call("POST", "/v1/api-keys", Some(&app.api_key), Some(json!({"role": role}))).await;
        assert_eq!(r.status, 201, "{:?}", r.json);
        keys.insert(role, r.json["api_key"].as_str().unwrap().to_string());
    }
    let check_body = json!({"phone": PHONE, "channel": "phone_live", "advertiser_id": w.advertiser, "product_categories": ["insurance"]});
    let routes: Vec<(&str, String, Option<Value>, [bool; 4])> = vec![
        // (method, path, body, [agent, marketing, compliance, integration] may)
        ("POST", "/v1/check".into(), Some(check_body), [true, true, true, true]),
        ("GET", format!("/v1/persons/{}", w.person), None, [false, true, true, true]),
        ("GET", format!("/v1/persons/{}/timeline", w.person), None, [false, true, true, true]),
        (
            "POST",
            "/v1/persons".into(),
            Some(json!({"first_name": "Max", "last_name": "Muster"})),
            [true, false, true, true],
        ),
        ("POST", "/v1/api-keys".into(), Some(json!({"role": "agent"})), [false, false, false, false]),
        (
            "POST",
            "/v1/advertisers".into(),
            Some(
                json!({"legal_name": "X GmbH", "seat": "Bonn", "address_for_service": {"street": "A 1", "postcode": "53111", "city": "Bonn"}}),
            ),
            [false, true, false, false],
        ),
        (
            "POST",
            "/v1/suppressions".into(),
            Some(json!({"email": "x@example.de", "reason": "manual"})),
            [false, true, true, true],
        ),
        // The proof package and evidence files are compliance's; settings the admin's alone.
        ("POST", "/v1/evidence".into(), Some(json!({"phone": PHONE})), [false, false, true, false]),
        ("GET", format!("/v1/persons/{}/attachments/{sha}", w.person), None, [false, false, true, false]),
        ("GET", "/v1/settings".into(), None, [false, false, false, false]),
        // Webhooks send data out and take it in: the admin's alone.
        ("GET", "/v1/webhooks".into(), None, [false, false, false, false]),
        (
            "POST",
            "/v1/webhooks".into(),
            Some(json!({"url": "https://93.184.215.14/hook", "events": ["consent.given"]})),
            [false, false, false, false],
        ),
        ("GET", "/v1/webhooks/deliveries".into(), None, [false, false, false, false]),
        ("GET", "/v1/webhooks/inbound".into(), None, [false, false, false, false]),
        ("POST", "/v1/webhooks/inbound".into(), Some(json!({"provider": "mailchimp"})), [false, false, false, false]),
    ];
    for (method, path, body, may) in routes {
        for (i, role) in ["agent", "marketing", "compliance", "integration"].iter().enumerate() {
            let r = app.call(method, &path, Some(&keys[role]), body.clone()).await;
            if may[i] {
                assert!(r.status < 400, "{role} should be allowed {method} {path}: {} {:?}", r.status, r.json);
            } else {
                assert_eq!(r.status, 403, "{role} must not {method} {path}: {:?}", r.json);
                assert_eq!(r.json["code"], "forbidden");
                let detail = r.json["detail"].as_str().unwrap_or_default();
                assert!(detail.starts_with("die Rolle dieses Schlüssels darf das nicht: "), "{detail}");
            }
        }
    }
    // Evidence details only for roles that may read evidence.
    let path = format!("/v1/consents/{consent_id}");
    let m = app.call("GET", &path, Some(&keys["marketing"]), None).await;
    assert!(m.json.get("evidence").is_none(), "marketing sees no evidence: {:?}", m.json);
    let co = app.call("GET", &path, Some(&keys["compliance"]), None).await;
    assert!(co.json["evidence"].as_array().is_some_and(|e| e.len() == 3), "{:?}", co.json);
});
