//! Webhooks out, on both engines: a receiver on 127.0.0.1 that fails, then recovers, gets each
//! event once, signed Standard Webhooks style (checked here with an independent HMAC), with ids
//! only; an always failing one is parked after the configured attempts and a replay delivers it;
//! private receivers are refused unless allowed (R39, R63). Webhooks in: `webhooks_in.rs`.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use jiff::SignedDuration;
use konsent_jobs::webhooks::{Deliverer, deliver_due};
use serde_json::{Value, json};

use crate::api::{EMAIL, PHONE, consent, doi, otp, web, world};
use crate::app_test;
use crate::harness::TestApp;

type Seen = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

/// A receiver on 127.0.0.1 that answers 500 to its first `fail_first` requests, then 204.
async fn receiver(fail_first: usize) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let log = log.clone();
            async move {
                let mut v = log.lock().unwrap();
                v.push((headers, body.to_vec()));
                if v.len() <= fail_first { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::NO_CONTENT }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), seen)
}

/// The Standard Webhooks check, written independently of Konsent's signer: HMAC-SHA256 under the
/// base64 part of the secret over "{webhook-id}.{webhook-timestamp}.{body}".
fn signature_ok(secret: &str, h: &HeaderMap, body: &[u8]) -> bool {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let id = h["webhook-id"].to_str().unwrap();
    let ts = h["webhook-timestamp"].to_str().unwrap();
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    h["webhook-signature"].to_str().unwrap().split(' ').any(|s| s == expected)
}

async fn register(app: &TestApp, url: &str, events: Value) -> (String, String) {
    let r = app
        .call(
            "POST",
            "/v1/webhooks",
            Some(&app.api_key),
            Some(json!({"url": url, "events": events, "description": "CRM"})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.json);
    let secret = r.json["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert!(STANDARD.decode(&secret[6..]).unwrap().len() >= 24, "24+ random bytes");
    (r.json["id"].as_str().unwrap().to_string(), secret)
}

async fn deliveries(app: &TestApp, status: &str) -> Vec<Value> {
    let r = app.call("GET", &format!("/v1/webhooks/deliveries?status={status}"), Some(&app.api_key), None).await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    r.json["items"].as_array().unwrap().clone()
}

/// No personal data of the world's person in a text.
fn assert_no_personal_data(text: &str) {
    for needle in [EMAIL, PHONE, "+491712345678", "2345678", "Anna", "Meier", "Lindenstraße"] {
        assert!(!text.contains(needle), "{needle} leaked: {text}");
    }
}

app_test!(r39_withdrawal_reaches_a_recovering_receiver_once_signed_with_ids_only, |app| {
    let mut app = app;
    app.allow_private_webhooks();
    let (url, seen) = receiver(1).await;
    let (hook, secret) = register(&app, &url, json!(["consent.withdrawn"])).await;
    let listed = app.call("GET", "/v1/webhooks", Some(&app.api_key), None).await;
    assert_eq!(listed.json["items"][0]["id"], hook);
    assert!(!listed.json.to_string().contains(&secret[6..]), "the secret is shown only once");

    let w = world(&app).await;
    let c = consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    let consent_id = c["consent_id"].as_str().unwrap();
    assert!(deliveries(&app, "pending").await.is_empty(), "not subscribed to consent.given");
    let r = app.call("POST", &format!("/v1/consents/{consent_id}/withdraw"), Some(&app.api_key), Some(json!({}))).await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    assert_eq!(deliveries(&app, "pending").await.len(), 1, "enqueued with the withdrawal");

    // The receiver fails: the attempt is recorded (status code, no body), retried after backoff.
    let d = Deliverer::new(app.k.webhooks.clone());
    assert_eq!(deliver_due(&app.k, &d).await, 0);
    let p = deliveries(&app, "pending").await;
    assert_eq!((p[0]["attempts"].as_i64(), p[0]["last_status"].as_i64()), (Some(1), Some(500)), "{p:?}");
    assert_eq!(p[0]["log"].as_array().unwrap().len(), 1);
    assert_eq!(deliver_due(&app.k, &d).await, 0, "not due before the backoff");
    assert_eq!(seen.lock().unwrap().len(), 1);

    // It recovers: after the backoff the event is delivered, once.
    app.clock.advance(SignedDuration::from_secs(40));
    assert_eq!(deliver_due(&app.k, &d).await, 1);
    app.clock.advance(SignedDuration::from_secs(7 * 3600));
    assert_eq!(deliver_due(&app.k, &d).await, 0, "delivered once");
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    let (h, body) = &got[1];
    assert_eq!(h["webhook-id"], got[0].0["webhook-id"], "a retry keeps the message id");
    assert_eq!(h["content-type"], "application/json");
    assert!(signature_ok(&secret, h, body), "signature verifies independently");
    assert!(!signature_ok("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", h, body));
    let ts: i64 = h["webhook-timestamp"].to_str().unwrap().parse().unwrap();
    assert_eq!(ts, app.k.now().as_second() - 7 * 3600, "unix seconds of the attempt");

    // Ids only: the person, the consent, channels, advertisers, what was withdrawn, the ledger seq.
    let text = String::from_utf8(body.clone()).unwrap();
    assert_no_personal_data(&text);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["type"], "consent.withdrawn");
    assert_eq!(v["data"]["person_id"], w.person);
    assert_eq!(v["data"]["consent_id"], consent_id);
    assert_eq!(v["data"]["full"], true);
    assert_eq!(v["data"]["advertisers"], json!([w.advertiser]));
    assert!(v["data"]["ledger_seq"].as_u64().unwrap() > 1, "{v}");
    let done = deliveries(&app, "delivered").await;
    assert_eq!((done.len(), done[0]["last_status"].as_i64()), (1, Some(204)));
    assert_eq!(done[0]["log"].as_array().unwrap().len(), 2);

    // The ledger records the endpoint, never its secret.
    let ledger = app.ledger_text().await;
    assert!(ledger.contains("webhook_created"));
    assert!(!ledger.contains(&secret[6..]) && !ledger.contains("/hook"), "no secret, no path in the ledger");
    // Deleting the endpoint: new events are no longer enqueued.
    let del = app.call("DELETE", &format!("/v1/webhooks/{hook}"), Some(&app.api_key), None).await;
    assert_eq!(del.status, 204);
    assert_eq!(app.call("DELETE", &format!("/v1/webhooks/{hook}"), Some(&app.api_key), None).await.status, 404);
    let c2 = consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    let id2 = c2["consent_id"].as_str().unwrap();
    app.call("POST", &format!("/v1/consents/{id2}/withdraw"), Some(&app.api_key), Some(json!({}))).await;
    assert!(deliveries(&app, "pending").await.is_empty());
    assert!(app.ledger_text().await.contains("webhook_deleted"));
});

app_test!(r63_suppression_event_parks_after_max_attempts_and_a_replay_delivers_it, |app| {
    let mut app = app;
    app.allow_private_webhooks();
    app.k.webhooks.max_attempts = 3;
    let (url, seen) = receiver(3).await;
    let (_hook, secret) = register(&app, &url, json!(["suppression.added", "consent.given"])).await;
    let s = app
        .call("POST", "/v1/suppressions", Some(&app.api_key), Some(json!({"email": EMAIL, "reason": "manual"})))
        .await;
    assert_eq!(s.status, 201);
    let d = Deliverer::new(app.k.webhooks.clone());
    for _ in 0..3 {
        assert_eq!(deliver_due(&app.k, &d).await, 0);
        app.clock.advance(SignedDuration::from_secs(7 * 3600));
    }
    assert_eq!(seen.lock().unwrap().len(), 3);
    let parked = deliveries(&app, "parked").await;
    assert_eq!(parked.len(), 1, "parked after 3 attempts");
    assert_eq!(parked[0]["attempts"], 3);
    assert_eq!(deliver_due(&app.k, &d).await, 0, "a parked delivery is not tried again");
    assert_eq!(seen.lock().unwrap().len(), 3);
    let m = app.call("GET", "/metrics", None, None).await;
    assert!(m.json.as_str().unwrap().contains("konsent_webhook_deliveries{status=\"parked\"} 1"));

    // Replay: queued again, due now, and delivered (same id, signature still valid).
    let id = parked[0]["id"].as_str().unwrap();
    let r = app.call("POST", &format!("/v1/webhooks/deliveries/{id}/replay"), Some(&app.api_key), None).await;
    assert_eq!(r.status, 202, "{:?}", r.json);
    let again = app.call("POST", &format!("/v1/webhooks/deliveries/{id}/replay"), Some(&app.api_key), None).await;
    assert_eq!(again.status, 409, "a pending delivery is not replayed: {:?}", again.json);
    let none = app.call("POST", "/v1/webhooks/deliveries/msg_nothing/replay", Some(&app.api_key), None).await;
    assert_eq!(none.status, 404);
    assert_eq!(deliver_due(&app.k, &d).await, 1);
    let got = seen.lock().unwrap().clone();
    let (h, body) = got.last().unwrap();
    assert_eq!(h["webhook-id"].to_str().unwrap(), id);
    assert!(signature_ok(&secret, h, body));
    let text = String::from_utf8(body.clone()).unwrap();
    assert_no_personal_data(&text);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!((v["type"].as_str(), v["data"]["reason"].as_str()), (Some("suppression.added"), Some("manual")));
    assert!(v["data"].get("key_hmac").is_none() && v["data"].get("source").is_none(), "{v}");
    // A delivered one may be replayed too (a receiver that lost it).
    let r = app.call("POST", &format!("/v1/webhooks/deliveries/{id}/replay"), Some(&app.api_key), None).await;
    assert_eq!(r.status, 202);
});

app_test!(private_receivers_are_refused_unless_allowed_and_only_the_admin_manages_webhooks, |app| {
    for url in [
        "http://10.0.0.1/hook",
        "https://127.0.0.1:9/hook",
        "https://192.168.1.1/",
        "https://[::1]/",
        "https://localhost/",
        "https://100.64.0.1/",
    ] {
        let r = app
            .call("POST", "/v1/webhooks", Some(&app.api_key), Some(json!({"url": url, "events": ["consent.given"]})))
            .await;
        assert_eq!(r.status, 422, "{url}: {:?}", r.json);
        assert_eq!(r.json["errors"][0]["field"], "url", "{url}");
    }
    for (url, events, field) in [
        ("ftp://example.de/", json!(["consent.given"]), "url"),
        ("https://example.de/", json!([]), "events"),
        ("https://example.de/", json!(["consent.everything"]), "events[0]"),
    ] {
        let r = app.call("POST", "/v1/webhooks", Some(&app.api_key), Some(json!({"url": url, "events": events}))).await;
        assert_eq!(r.status, 422, "{:?}", r.json);
        assert!(r.json["errors"].as_array().unwrap().iter().any(|e| e["field"] == field), "{field}: {:?}", r.json);
    }
    // At delivery too: a receiver on this machine is not contacted without allow_private.
    let (url, seen) = receiver(0).await;
    let strict = Deliverer::new(Default::default());
    let out = strict.post(&url, b"key", "msg_1", 1, b"{}".to_vec()).await;
    assert!(format!("{out:?}").contains("refused_address"), "{out:?}");
    // A host that is no IP literal is checked where it resolves, at every delivery: a name may
    // point elsewhere than when the endpoint was registered (DNS rebinding), and "127.1" is this
    // machine to the system's resolver.
    let by_name = url.replace("127.0.0.1", "127.1");
    let http = Deliverer::new(konsent_domain::webhook::HookPolicy { allow_http: true, ..Default::default() });
    let out = http.post(&by_name, b"key", "msg_2", 1, b"{}".to_vec()).await;
    assert!(format!("{out:?}").contains("refused_address"), "{by_name}: {out:?}");
    assert!(seen.lock().unwrap().is_empty());

    let k = app.call("POST", "/v1/api-keys", Some(&app.api_key), Some(json!({"role": "compliance"}))).await;
    let key = k.json["api_key"].as_str().unwrap();
    let r = app.call("GET", "/v1/webhooks", Some(key), None).await;
    assert_eq!(r.status, 403);
});

app_test!(r50_corrections_restrictions_objections_withdrawals_and_erasure_reach_every_receiver_acknowledged, |app| {
    let mut app = app;
    app.allow_private_webhooks();
    let (crm, crm_seen) = receiver(0).await;
    let (pool, pool_seen) = receiver(0).await;
    let all = json!([
        "consent.withdrawn",
        "objection.recorded",
        "erasure.requested",
        "person.erased",
        "person.corrected",
        "restriction.requested",
        "restriction.lifted"
    ]);
    register(&app, &crm, all.clone()).await;
    register(&app, &pool, all).await;
    let w = world(&app).await;
    let c = consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    let key = Some(app.api_key.as_str());
    let person = format!("/v1/persons/{}", w.person);
    let fix = app.call("PATCH", &person, key, Some(json!({"first_name": "Anne", "last_name": "Meier"}))).await;
    assert!(fix.status < 300, "{:?}", fix.json);
    let r =
        app.call("POST", &format!("{person}/restriction"), key, Some(json!({"reason": "accuracy_contested"}))).await;
    assert!(r.status < 300, "{:?}", r.json);
    assert!(app.call("DELETE", &format!("{person}/restriction"), key, None).await.status < 300);
    let o = app
        .call("POST", &format!("{person}/objection"), key, Some(json!({"channels": ["email"], "via": "letter"})))
        .await;
    assert!(o.status < 300, "{:?}", o.json);
    let id = c["consent_id"].as_str().unwrap();
    assert!(app.call("POST", &format!("/v1/consents/{id}/withdraw"), key, Some(json!({}))).await.status < 300);
    assert_eq!(app.call("POST", &format!("{person}/erasure"), key, Some(json!({}))).await.status, 200);

    let d = Deliverer::new(app.k.webhooks.clone());
    while deliver_due(&app.k, &d).await > 0 {}
    let wanted = [
        "person.corrected",
        "restriction.requested",
        "restriction.lifted",
        "objection.recorded",
        "consent.withdrawn",
        "erasure.requested",
    ];
    for seen in [&crm_seen, &pool_seen] {
        let types: Vec<String> = seen
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| serde_json::from_slice::<Value>(b).unwrap()["type"].as_str().unwrap().to_string())
            .collect();
        for t in wanted {
            assert!(types.iter().any(|x| x == t), "{t} not received: {types:?}");
        }
        for (_, b) in seen.lock().unwrap().iter() {
            assert_no_personal_data(&String::from_utf8_lossy(b));
        }
    }
    // Every notification is acknowledged on record: delivered, with the receiver's answer.
    let done = deliveries(&app, "delivered").await;
    assert!(done.len() >= 2 * wanted.len(), "{}", done.len());
    assert!(done.iter().all(|d| d["last_status"] == 204), "{done:?}");
    assert!(deliveries(&app, "pending").await.is_empty() && deliveries(&app, "parked").await.is_empty());
});
