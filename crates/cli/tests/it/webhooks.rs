//! Webhooks on both engines. Out: a receiver on 127.0.0.1 that fails, then recovers, gets each
//! event once, signed Standard Webhooks style (checked here with an independent HMAC), with ids
//! only; an always failing one is parked after the configured attempts and a replay delivers it;
//! private receivers are refused unless allowed. In: Mailchimp, HubSpot and CleverReach
//! unsubscribes, bounces and complaints withdraw and suppress (R39, R44, R63, R72).

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use jiff::SignedDuration;
use konsent_jobs::webhooks::{Deliverer, deliver_due};
use serde_json::{Value, json};

use crate::api::{EMAIL, PHONE, check, consent, doi, otp, web, world};
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
    assert!(seen.lock().unwrap().is_empty());

    let k = app.call("POST", "/v1/api-keys", Some(&app.api_key), Some(json!({"role": "compliance"}))).await;
    let key = k.json["api_key"].as_str().unwrap();
    let r = app.call("GET", "/v1/webhooks", Some(key), None).await;
    assert_eq!(r.status, 403);
});

/// Registers an incoming endpoint; returns its id and the path of its URL.
async fn inbound(app: &TestApp, body: Value) -> (String, String, Value) {
    let r = app.call("POST", "/v1/webhooks/inbound", Some(&app.api_key), Some(body)).await;
    assert_eq!(r.status, 201, "{:?}", r.json);
    let url = r.json["url"].as_str().unwrap();
    let path = url.strip_prefix(app.k.public_url.trim_end_matches('/')).unwrap().to_string();
    (r.json["id"].as_str().unwrap().to_string(), path, r.json.clone())
}

async fn suppressions(app: &TestApp, email: &str) -> Vec<Value> {
    let r = app.call("POST", "/v1/suppressions/lookup", Some(&app.api_key), Some(json!({"email": email}))).await;
    r.json["items"].as_array().unwrap().clone()
}

const FORM: &str = "application/x-www-form-urlencoded";

app_test!(r39_r44_r72_mailchimp_unsubscribe_withdraws_email_and_suppresses_cleaned_bounces, |app| {
    let w = world(&app).await;
    consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    assert_eq!(check(&app, &app.api_key, &w, "email", json!({"email": EMAIL})).await["allowed"], true);
    let (_, path, _) = inbound(&app, json!({"provider": "mailchimp", "advertisers": [w.advertiser]})).await;
    assert!(path.starts_with("/hooks/in/mailchimp/"), "{path}");

    // Mailchimp validates the URL with a GET.
    let g = app.call("GET", &path, None, None).await;
    assert_eq!(g.status, 200);
    assert_eq!(app.call("GET", "/hooks/in/mailchimp/wrongtoken", None, None).await.status, 404);

    let unsub = "type=unsubscribe&fired_at=2026-03-02+09%3A31%3A00&data%5Baction%5D=unsub&data%5Breason%5D=manual\
        &data%5Bid%5D=8a25ff1d98&data%5Blist_id%5D=a6b5da1054&data%5Bemail%5D=anna.meier%40example.de\
        &data%5Bemail_type%5D=html&data%5Bmerges%5D%5BEMAIL%5D=anna.meier%40example.de&data%5Bmerges%5D%5BFNAME%5D=Anna";
    let r = app.call_raw("POST", &path, None, Some(unsub.as_bytes().to_vec()), FORM).await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    assert_eq!((r.json["consents_withdrawn"].as_u64(), r.json["suppressions_added"].as_u64()), (Some(1), Some(1)));
    // R39: the gate blocks e-mail at once; R40: the phone consent stays.
    let d = check(&app, &app.api_key, &w, "email", json!({"email": EMAIL})).await;
    assert_eq!(d["allowed"], false, "{d}");
    assert_eq!(check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await["allowed"], true);
    let s = suppressions(&app, EMAIL).await;
    assert_eq!(s.len(), 1);
    assert_eq!((s[0]["reason"].as_str(), s[0]["source"].as_str()), (Some("withdrawal"), Some("webhook:mailchimp")));
    assert_eq!(s[0]["scope"]["channels"], json!(["email"]));
    // Mailchimp retries: nothing twice.
    let r = app.call_raw("POST", &path, None, Some(unsub.as_bytes().to_vec()), FORM).await;
    assert_eq!((r.json["consents_withdrawn"].as_u64(), r.json["suppressions_added"].as_u64()), (Some(0), Some(0)));

    // Cleaned (hard bounce): suppression with reason bounce. An unknown address is suppressed too.
    let cleaned = "type=cleaned&fired_at=2026-03-02+09%3A32%3A00&data%5Blist_id%5D=a6b5da1054\
        &data%5Bcampaign_id%5D=4fjk2ma9xd&data%5Breason%5D=hard&data%5Bemail%5D=niemand%40example.de";
    let r = app.call_raw("POST", &path, None, Some(cleaned.as_bytes().to_vec()), FORM).await;
    assert_eq!((r.status, r.json["suppressions_added"].as_u64()), (200, Some(1)), "{:?}", r.json);
    assert_eq!(suppressions(&app, "niemand@example.de").await[0]["reason"], "bounce");
    let abuse = "type=unsubscribe&data%5Breason%5D=abuse&data%5Bemail%5D=fremd%40example.de";
    let r = app.call_raw("POST", &path, None, Some(abuse.as_bytes().to_vec()), FORM).await;
    assert_eq!((r.json["consents_withdrawn"].as_u64(), r.json["suppressions_added"].as_u64()), (Some(0), Some(1)));
    assert_eq!(suppressions(&app, "fremd@example.de").await[0]["reason"], "complaint");

    // Payloads not understood name the field; a subscribe is ignored (no consent from a tool).
    let r = app.call_raw("POST", &path, None, Some(b"type=unsubscribe&data%5Breason%5D=manual".to_vec()), FORM).await;
    assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("data[email]")), "{:?}", r.json);
    assert_eq!(r.ctype, "application/problem+json");
    let r = app.call_raw("POST", &path, None, Some(b"foo=bar".to_vec()), FORM).await;
    assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("type")));
    let r = app
        .call_raw("POST", &path, None, Some(b"type=subscribe&data%5Bemail%5D=neu%40example.de".to_vec()), FORM)
        .await;
    assert_eq!((r.status, r.json["ignored"].as_u64()), (200, Some(1)));
    assert!(!app.ledger_text().await.contains("example.de"), "no address in the ledger");
});

fn hubspot_signature(secret: &str, uri: &str, body: &[u8], ts: &str) -> String {
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(b"POST");
    mac.update(uri.as_bytes());
    mac.update(body);
    mac.update(ts.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

app_test!(r72_hubspot_signed_opt_out_is_honoured_bad_or_stale_signatures_are_refused, |app| {
    let w = world(&app).await;
    consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    let r = app.call("POST", "/v1/webhooks/inbound", Some(&app.api_key), Some(json!({"provider": "hubspot"}))).await;
    assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("signing_secret")));
    let secret = "9f2c1e7a-hubspot-client-secret";
    let (_, path, _) = inbound(&app, json!({"provider": "hubspot", "signing_secret": secret})).await;
    let uri = format!("{}{path}", app.k.public_url.trim_end_matches('/'));
    let body = json!([
        {"eventId": 100, "subscriptionId": 25, "portalId": 33, "appId": 1160452, "occurredAt": 1772443800000_i64,
         "subscriptionType": "contact.propertyChange", "attemptNumber": 0, "objectId": 123, "changeSource": "CRM",
         "propertyName": "email", "propertyValue": EMAIL},
        {"eventId": 101, "subscriptionId": 26, "portalId": 33, "appId": 1160452, "occurredAt": 1772443801000_i64,
         "subscriptionType": "contact.propertyChange", "attemptNumber": 0, "objectId": 123, "changeSource": "EMAIL",
         "propertyName": "hs_email_optout", "propertyValue": "true"}
    ])
    .to_string()
    .into_bytes();
    let now = app.k.now().as_millisecond().to_string();
    let sig = hubspot_signature(secret, &uri, &body, &now);
    let post = |sig: String, ts: String, body: Vec<u8>| {
        let path = path.clone();
        let app = &app;
        async move {
            app.call_with(
                "POST",
                &path,
                None,
                Some(body),
                "application/json",
                &[("x-hubspot-signature-v3", &sig), ("x-hubspot-request-timestamp", &ts)],
            )
            .await
        }
    };
    let bad = post("AAAA".into(), now.clone(), body.clone()).await;
    assert_eq!((bad.status, bad.json["code"].as_str()), (401, Some("bad_signature")), "{:?}", bad.json);
    let stale_ts = (app.k.now().as_millisecond() - 6 * 60 * 1000).to_string();
    let stale = post(hubspot_signature(secret, &uri, &body, &stale_ts), stale_ts, body.clone()).await;
    assert_eq!(stale.status, 401, "{:?}", stale.json);
    assert!(stale.json["detail"].as_str().unwrap().contains("5 minutes"));
    assert_eq!(
        check(&app, &app.api_key, &w, "email", json!({"email": EMAIL})).await["allowed"],
        true,
        "nothing changed"
    );

    let ok = post(sig, now.clone(), body.clone()).await;
    assert_eq!(ok.status, 200, "{:?}", ok.json);
    assert_eq!((ok.json["consents_withdrawn"].as_u64(), ok.json["suppressions_added"].as_u64()), (Some(1), Some(1)));
    assert_eq!(check(&app, &app.api_key, &w, "email", json!({"email": EMAIL})).await["allowed"], false);
    assert_eq!(suppressions(&app, EMAIL).await[0]["source"], "webhook:hubspot");

    // An opt-out of a contact whose address was never reported cannot be honoured: counted.
    let body = json!([{"eventId": 102, "subscriptionType": "contact.propertyChange", "objectId": 999,
        "propertyName": "hs_email_optout", "propertyValue": "true"}])
    .to_string()
    .into_bytes();
    let r = post(hubspot_signature(secret, &uri, &body, &now), now.clone(), body).await;
    assert_eq!((r.status, r.json["unresolved"].as_u64()), (200, Some(1)));
    let body = br#"[{"eventId": 103, "objectId": 5}]"#.to_vec();
    let r = post(hubspot_signature(secret, &uri, &body, &now), now, body).await;
    assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("[0].subscriptionType")));
});

app_test!(r44_r72_cleverreach_unsubscribe_with_call_token_unknown_address_suppression_only, |app| {
    let w = world(&app).await;
    consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    let (id, path, created) = inbound(&app, json!({"provider": "cleverreach", "advertisers": [w.advertiser]})).await;
    let verify = created["verify_token"].as_str().unwrap();
    // CleverReach's verification: "<verify token> <secret>".
    let g = app.call("GET", &format!("{path}?secret=1029384756"), None, None).await;
    assert_eq!((g.status, g.json.as_str().unwrap().to_string()), (200, format!("{verify} 1029384756")));
    let put = app
        .call(
            "PUT",
            &format!("/v1/webhooks/inbound/{id}/secret"),
            Some(&app.api_key),
            Some(json!({"signing_secret": "call-token-64"})),
        )
        .await;
    assert_eq!(put.status, 204, "{:?}", put.json);
    let listed = app.call("GET", "/v1/webhooks/inbound", Some(&app.api_key), None).await;
    assert_eq!(listed.json["items"][0]["signing_secret_set"], true);
    assert!(!listed.json.to_string().contains("call-token-64") && !listed.json.to_string().contains(&path[25..]));

    let call = |token: &'static str, body: Value| {
        let path = path.clone();
        let app = &app;
        async move {
            app.call_with(
                "POST",
                &path,
                None,
                Some(body.to_string().into_bytes()),
                "application/json",
                &[("x-cr-calltoken", token)],
            )
            .await
        }
    };
    let unknown = json!({"event": "receiver.unsubscribed", "condition": "1939",
        "payload": {"pool_id": "77", "group_id": "1939", "email": "unbekannt@example.de"}});
    assert_eq!(call("wrong", unknown.clone()).await.status, 401);
    let r = call("call-token-64", unknown).await;
    assert_eq!(
        (r.status, r.json["consents_withdrawn"].as_u64(), r.json["suppressions_added"].as_u64()),
        (200, Some(0), Some(1))
    );
    assert_eq!(suppressions(&app, "unbekannt@example.de").await.len(), 1, "never imported again");

    let mine = json!({"event": "receiver.unsubscribed", "condition": "1939",
        "payload": {"pool_id": "42", "group_id": "1939", "email": EMAIL}});
    let r = call("call-token-64", mine).await;
    assert_eq!((r.status, r.json["consents_withdrawn"].as_u64()), (200, Some(1)), "{:?}", r.json);
    assert_eq!(check(&app, &app.api_key, &w, "email", json!({"email": EMAIL})).await["allowed"], false);
    let r = call(
        "call-token-64",
        json!({"event": "receiver.unsubscribed", "payload": {"pool_id": "42", "group_id": "1939"}}),
    )
    .await;
    assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("payload.email")), "{:?}", r.json);

    // Deleted: the URL is gone.
    assert_eq!(app.call("DELETE", &format!("/v1/webhooks/inbound/{id}"), Some(&app.api_key), None).await.status, 204);
    assert_eq!(call("call-token-64", json!({"event": "receiver.updated"})).await.status, 404);
});
