//! Number verification through a fake SMS gateway that speaks HTTP like a real one (the only fake
//! here: a provider's cloud cannot be reached from tests), on both engines: e-mail double opt-in
//! alone leaves a phone consent requested; the code from the text message makes it given; wrong
//! codes are counted and a code works once (R15, R16).

use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::api::{PHONE, check, consent, doi, web, world};
use crate::app_test;

/// What the gateway was sent: the `Authorization` header and the JSON body of each request.
pub type Seen = Arc<Mutex<Vec<(Option<String>, Value)>>>;

/// A gateway that records what it is sent.
pub async fn gateway() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let store = seen.clone();
    let app = axum::Router::new().route(
        "/send",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let store = store.clone();
            async move {
                let auth = headers.get("authorization").map(|v| v.to_str().unwrap().to_string());
                store.lock().unwrap().push((auth, serde_json::from_str(&body).unwrap()));
                axum::Json(json!({"status": "queued"}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

/// Delivers what is queued (`expect` messages: mails to a directory, texts through a fresh gateway
/// fake) and answers the texts as the gateway received them: (recipient, text), oldest first.
pub async fn texts_delivered(app: &crate::harness::TestApp, expect: usize) -> Vec<(String, String)> {
    let (url, seen) = gateway().await;
    let dir = tempfile::tempdir().unwrap();
    let mut senders = crate::doi::senders(&konsent_jobs::mailer::Mailer::new("", dir.path().to_path_buf()).unwrap());
    senders.sms = konsent_jobs::sms::SmsSender::new(&url, "", "", "/nowhere".into()).unwrap();
    assert_eq!(konsent_jobs::mailer::deliver_due(&app.k, &senders).await, expect);
    let seen = seen.lock().unwrap();
    seen.iter().map(|(_, b)| (b["to"].as_str().unwrap().to_string(), b["text"].as_str().unwrap().to_string())).collect()
}

app_test!(r15_r16_sms_code_verifies_the_number_and_only_then_the_call_is_allowed, |app| {
    let w = world(&app).await;
    let c = consent(&app, &w, json!([web(&app), doi(&app, &w)])).await;
    assert_eq!(c["status"], "ConsentRequested", "e-mail DOI alone does not verify a number (R15)");
    let id = c["consent_id"].as_str().unwrap().to_string();
    assert_eq!(check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await["allowed"], false);

    let (url, seen) = gateway().await;
    let key = Some(app.api_key.as_str());
    let q = app.call("POST", &format!("/v1/consents/{id}/otp"), key, None).await;
    assert_eq!(q.status, 202, "{:?}", q.json);
    let sms = konsent_jobs::sms::SmsSender::new(&url, "Bearer gw-secret", "", "/nowhere".into()).unwrap();
    let senders = konsent_jobs::mailer::Senders {
        mail: konsent_jobs::mailer::Mailer::new("", std::env::temp_dir().join("konsent-test-mail")).unwrap(),
        from: "konsent@localhost".into(),
        sms,
    };
    assert_eq!(konsent_jobs::mailer::deliver_due(&app.k, &senders).await, 1);
    let (auth, body) = seen.lock().unwrap()[0].clone();
    assert_eq!(auth.as_deref(), Some("Bearer gw-secret"));
    assert_eq!(body["to"], "+491712345678");
    let text = body["text"].as_str().unwrap().to_string();
    let code: String = text.chars().take(6).collect();
    assert!(code.chars().all(|c| c.is_ascii_digit()), "{text}");
    assert!(text.contains("Muster Versicherungsmakler GmbH"), "{text}");

    // A wrong code is refused and counted.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = app.call("POST", &format!("/v1/consents/{id}/otp/verify"), key, Some(json!({"code": wrong}))).await;
    assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("code")), "{:?}", r.json);
    // The right one verifies the number: the consent is given and the call allowed.
    let r = app.call("POST", &format!("/v1/consents/{id}/otp/verify"), key, Some(json!({"code": code}))).await;
    assert_eq!((r.status, r.json["status"].as_str()), (200, Some("ConsentGiven")), "{:?}", r.json);
    assert_eq!(check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await["allowed"], true);
    // Once.
    let again = app.call("POST", &format!("/v1/consents/{id}/otp/verify"), key, Some(json!({"code": code}))).await;
    assert_eq!(again.status, 409, "{:?}", again.json);
});

app_test!(r16_five_wrong_codes_void_the_code, |app| {
    let w = world(&app).await;
    let c = consent(&app, &w, json!([web(&app), doi(&app, &w)])).await;
    let id = c["consent_id"].as_str().unwrap().to_string();
    let key = Some(app.api_key.as_str());
    assert_eq!(app.call("POST", &format!("/v1/consents/{id}/otp"), key, None).await.status, 202);
    for _ in 0..5 {
        let r = app.call("POST", &format!("/v1/consents/{id}/otp/verify"), key, Some(json!({"code": "12345x"}))).await;
        assert_eq!(r.status, 422);
    }
    let r = app.call("POST", &format!("/v1/consents/{id}/otp/verify"), key, Some(json!({"code": "123456"}))).await;
    assert_eq!(r.status, 409, "{:?}", r.json);
    assert!(r.json["detail"].as_str().unwrap().contains("too many"), "{:?}", r.json);
    // The code also expires after 10 minutes.
    assert_eq!(app.call("POST", &format!("/v1/consents/{id}/otp"), key, None).await.status, 202);
    app.clock.advance(jiff::SignedDuration::from_mins(11));
    let r = app.call("POST", &format!("/v1/consents/{id}/otp/verify"), key, Some(json!({"code": "123456"}))).await;
    assert!(r.json["detail"].as_str().unwrap().contains("expired"), "{:?}", r.json);
});

app_test!(r72_sms_stop_from_the_gateway_withdraws_sms_and_suppresses_the_number, |app| {
    let w = world(&app).await;
    let key = Some(app.api_key.as_str());
    let r = app
        .call("POST", "/v1/consents", key, Some(json!({
            "person_id": w.person, "contact_point_ids": [w.phone_cp, w.email_cp], "text_id": sms_text(&app, &w).await,
            "scope": {"advertisers": [w.advertiser], "product_categories": ["insurance"], "channels": ["sms", "email"]},
            "capture_method": "web_form", "affirmative_action": true,
            "evidence": [web(&app), doi(&app, &w), crate::api::otp(&app, &w)]
        })))
        .await;
    assert_eq!((r.status, r.json["status"].as_str()), (201, Some("ConsentGiven")), "{:?}", r.json);
    assert_eq!(check(&app, &app.api_key, &w, "sms", json!({"phone": PHONE})).await["allowed"], true);
    // Chatter is ignored.
    let hi = app.call("POST", "/v1/inbound/sms", key, Some(json!({"from": "+491712345678", "text": "Danke!"}))).await;
    assert_eq!((hi.status, hi.json["opt_out"].as_bool()), (200, Some(false)), "{:?}", hi.json);
    // STOP withdraws SMS at once; e-mail stays.
    let stop = app.call("POST", "/v1/inbound/sms", key, Some(json!({"from": "+491712345678", "text": "Stopp"}))).await;
    assert_eq!((stop.status, stop.json["consents_withdrawn"].as_u64()), (200, Some(1)), "{:?}", stop.json);
    let d = check(&app, &app.api_key, &w, "sms", json!({"phone": PHONE})).await;
    assert_eq!(d["allowed"], false, "{d}");
    assert_eq!(check(&app, &app.api_key, &w, "email", json!({"email": crate::api::EMAIL})).await["allowed"], true);
    let tl = app.call("GET", &format!("/v1/persons/{}/timeline", w.person), key, None).await;
    assert!(tl.json.to_string().contains("sms_stop"), "the withdrawal names how it came");
    // A number nobody holds is suppressed all the same.
    let other = app.call("POST", "/v1/inbound/sms", key, Some(json!({"from": "0151 23456789", "text": "STOP"}))).await;
    assert_eq!(other.json["opt_out"], true);
    let l = app.call("POST", "/v1/suppressions/lookup", key, Some(json!({"phone": "0151 23456789"}))).await;
    assert_eq!(l.json["items"].as_array().unwrap().len(), 1, "{:?}", l.json);
});

/// A published text that covers SMS and e-mail.
async fn sms_text(app: &crate::harness::TestApp, w: &crate::api::World) -> String {
    let t = app
        .call("POST", "/v1/texts", Some(&app.api_key), Some(json!({
            "key": "sms-email",
            "title": "Einwilligung SMS und E-Mail",
            "body": "Ich bin einverstanden, dass mich die Muster Versicherungsmakler GmbH per SMS und per E-Mail über Versicherungen informiert. Diese Einwilligung kann ich jederzeit mit Wirkung für die Zukunft widerrufen.",
            "scope": {"advertisers": [w.advertiser], "product_categories": ["insurance"], "channels": ["sms", "email"]},
            "privacy_notice": {"url": "https://makler.example/datenschutz", "version": "2026-01"}
        })))
        .await;
    assert_eq!(t.status, 201, "{:?}", t.json);
    t.json["id"].as_str().unwrap().to_string()
}

app_test!(r15_a_confirmation_link_verifies_the_number_only_within_an_hour_and_three_codes, |app| {
    let w = world(&app).await;
    let c = consent(&app, &w, json!([web(&app)])).await;
    let id = c["consent_id"].as_str().unwrap().to_string();
    let key = Some(app.api_key.as_str());
    assert_eq!(app.call("POST", &format!("/v1/consents/{id}/doi"), key, None).await.status, 202);
    let dir = tempfile::tempdir().unwrap();
    let mailer = konsent_jobs::mailer::Mailer::new("", dir.path().to_path_buf()).unwrap();
    assert_eq!(konsent_jobs::mailer::deliver_due(&app.k, &crate::doi::senders(&mailer)).await, 1);
    let eml = std::fs::read_dir(dir.path()).unwrap().flatten().next().unwrap().path();
    let token = crate::doi::token_in(&std::fs::read_to_string(eml).unwrap());
    let form = |body: &str| body.as_bytes().to_vec();
    let post = |body: &'static str| {
        let path = format!("/doi/{token}");
        let app = &app;
        async move { app.call_raw("POST", &path, None, Some(form(body)), "application/x-www-form-urlencoded").await }
    };
    // Before the click, the link checks no codes.
    assert_eq!(post("code=123456").await.status, 410);
    // The click confirms the address and sends the first code.
    let first = post("").await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert!(first.text().contains("name=\"code\""), "{}", first.text());
    let sms = app.call("GET", &format!("/v1/consents/{id}"), key, None).await.json;
    assert_eq!(sms["status"], "ConsentRequested", "the number is not verified yet: {sms}");
    // Two more codes may be asked for; the fourth is refused.
    assert_eq!(post("resend=1").await.status, 200);
    assert_eq!(post("resend=1").await.status, 200);
    assert_eq!(post("resend=1").await.status, 429);
    assert_eq!(app.ledger_text().await.matches("otp_sent").count(), 3);
    // A wrong code is refused; an hour after the click the link is done with.
    assert_eq!(post("code=12345x").await.status, 422);
    app.clock.advance(jiff::SignedDuration::from_mins(61));
    let late = post("code=123456").await;
    assert_eq!(late.status, 410, "{}", late.text());
    assert_eq!(app.call("GET", &format!("/v1/consents/{id}"), key, None).await.json["status"], "ConsentRequested");
});
