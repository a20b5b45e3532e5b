//! Webhooks in, on both engines: Mailchimp, HubSpot and CleverReach unsubscribes, bounces and
//! complaints withdraw the e-mail consents of the address and suppress it; an unknown address is
//! suppressed all the same; bad signatures, stale timestamps and unknown payloads are refused
//! (R39, R44, R63, R72).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};

use crate::api::{EMAIL, PHONE, check, consent, doi, otp, web, world};
use crate::app_test;
use crate::harness::TestApp;

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
