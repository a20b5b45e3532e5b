//! Re-permission on both engines (R29, R43): candidates with the one route a request may take
//! (e-mail, SMS, post, none), one message per person that renews every consent due under the
//! current text, and renewals as `RenewedConsentGiven` records of their own. Requests that end
//! before the click: `repermission_ends.rs`.

use jiff::SignedDuration;
use serde_json::{Value, json};

use crate::api::World;
use crate::app_test;
use crate::harness::TestApp;
use crate::segments::subscriber;

/// A person with the given contacts (and an address when asked) and an imported consent without
/// proof: Unknown (R25, R26).
async fn legacy(app: &TestApp, w: &World, first: &str, contact: Value, channel: &str, address: bool) -> String {
    let key = Some(app.api_key.as_str());
    let mut body = json!({"first_name": first, "last_name": "Alt", "contacts": [contact]});
    if address {
        body["address"] = json!({"street": "Ringstraße 1", "postcode": "50667", "city": "Köln"});
    }
    let p = app.call("POST", "/v1/persons", key, Some(body)).await;
    assert_eq!(p.status, 201, "{:?}", p.json);
    let (person, cp) = (p.json["person_id"].as_str().unwrap(), p.json["contact_points"][0]["id"].as_str().unwrap());
    imported(app, w, person, cp, &w.text, channel).await
}

/// A consent of `person` on contact point `cp` under text `text`, imported without proof: Unknown.
async fn imported(app: &TestApp, w: &World, person: &str, cp: &str, text: &str, channel: &str) -> String {
    let c = app
        .call("POST", "/v1/consents", Some(&app.api_key), Some(json!({
            "person_id": person, "contact_point_ids": [cp], "text_id": text,
            "scope": {"advertisers": [w.advertiser], "product_categories": ["insurance"], "channels": [channel]},
            "capture_method": "import", "affirmative_action": true, "given_at": "2019-05-02T10:00:00Z",
            "evidence": [{"kind": "import", "provider": "Altbestand", "file_hash": "ab", "row": 3,
                          "reported_optin_at": "2019-05-02T10:00:00Z", "reported_confirm_at": null, "reported_ip": false}]
        })))
        .await;
    assert_eq!((c.status, c.json["status"].as_str()), (201, Some("ConsentUnknown")), "{:?}", c.json);
    c.json["consent_id"].as_str().unwrap().to_string()
}

/// Publishes a text of the world's advertiser for `channels`; answers its id.
async fn published(app: &TestApp, w: &World, key: &str, title: &str, body: &str, channels: Value) -> String {
    let t = app
        .call(
            "POST",
            "/v1/texts",
            Some(&app.api_key),
            Some(json!({
                "key": key, "title": title, "body": body,
                "scope": {"advertisers": [w.advertiser], "product_categories": ["insurance"], "channels": channels},
                "privacy_notice": {"url": "https://makler.example/datenschutz", "version": "2026-01"}
            })),
        )
        .await;
    assert_eq!(t.status, 201, "{:?}", t.json);
    t.json["id"].as_str().unwrap().to_string()
}

app_test!(r43_r29_repermission_goes_only_by_a_channel_with_a_legal_basis_by_the_campaigns_limits_and_leaves_the_old_record_alone, |app| {
    let w = crate::api::world(&app).await;
    let (_, anna) = subscriber(&app, &w, "Anna", "anna@example.de").await;
    let bernd = legacy(&app, &w, "Bernd", json!({"email": "bernd@example.de"}), "email", true).await;
    let carl = legacy(&app, &w, "Carl", json!({"phone": "0171 9876543"}), "phone_live", false).await;
    // Seventeen months on, Anna's consent turns stale within the next 60 days (R29: 18 months).
    app.clock.advance(SignedDuration::from_hours(24 * 30 * 17));
    let plan =
        app.call("GET", &format!("/v1/repermission?advertiser={}", w.advertiser), Some(&app.api_key), None).await;
    assert_eq!(plan.status, 200, "{:?}", plan.json);
    let of =
        |id: &str| plan.json["candidates"].as_array().unwrap().iter().find(|c| c["consent_id"] == id).cloned().unwrap();
    assert_eq!((of(&anna)["why"].as_str(), of(&anna)["route"].as_str()), (Some("nearing_staleness"), Some("email")));
    assert_eq!(
        (of(&bernd)["why"].as_str(), of(&bernd)["route"].as_str()),
        (Some("unknown"), Some("post")),
        "no valid e-mail consent: a letter"
    );
    assert_eq!(of(&carl)["route"], Value::Null, "no call to obtain phone consent, no address: nothing");
    assert_eq!(plan.json["staleness_months"], json!({"phone_live": 12, "phone_automated": 12, "email": 18, "sms": 18, "messenger_whatsapp": 18}));
    // The campaign's own limits (R29): with 24 months for e-mail Anna's consent is not due; with
    // 6 it is stale, and a stale consent cannot carry its own renewal request by mail (R43).
    let with = |limits: &str| {
        let path = format!("/v1/repermission?advertiser={}&staleness={limits}", w.advertiser);
        let app = &app;
        async move { app.call("GET", &path, Some(&app.api_key), None).await }
    };
    let long = with("email:24").await;
    assert_eq!(long.json["staleness_months"]["email"], 24, "{:?}", long.json);
    assert!(!long.json["candidates"].to_string().contains(&anna), "{:?}", long.json);
    let short = with("email:6").await.json;
    let annas = short["candidates"].as_array().unwrap().iter().find(|c| c["consent_id"] == anna.as_str()).unwrap();
    assert_eq!((annas["why"].as_str(), annas.get("route")), (Some("stale"), None), "{short}");
    let bad = with("email:0").await;
    assert_eq!((bad.status, bad.json["errors"][0]["field"].as_str()), (422, Some("staleness")), "{:?}", bad.json);
    // The letters: Bernd's name and address with his consent, for a mail merge; nobody else.
    let letters = app
        .call("GET", &format!("/v1/repermission/letters?advertiser={}", w.advertiser), Some(&app.api_key), None)
        .await;
    assert_eq!(letters.status, 200, "{}", letters.text());
    let csv = letters.text();
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 2, "a header and one letter: {csv}");
    assert!(lines[1].contains("Bernd;Alt;Ringstraße 1;50667;Köln;DE;Muster Versicherungsmakler GmbH"), "{csv}");
    assert!(lines[1].contains(&bernd) && lines[1].ends_with(";email"), "{csv}");

    let before = app.call("GET", &format!("/v1/consents/{anna}"), Some(&app.api_key), None).await.json;
    let sent =
        app.call("POST", "/v1/repermission", Some(&app.api_key), Some(json!({"advertiser": w.advertiser}))).await;
    assert_eq!(sent.status, 200, "{:?}", sent.json);
    assert_eq!(
        (sent.json["mails"].as_u64(), sent.json["post"].as_u64(), sent.json["none"].as_u64()),
        (Some(1), Some(1), Some(1))
    );
    let token = crate::doi::token_in(&crate::doi::the_mail(&app).await);
    assert_eq!(app.call("POST", &format!("/doi/{token}"), None, None).await.status, 200);
    // The renewal is a new consent under the current text; the old record is as it was.
    let after = app.call("GET", &format!("/v1/consents/{anna}"), Some(&app.api_key), None).await.json;
    assert_eq!(before, after);
    let list = app.call("GET", "/v1/consents", Some(&app.api_key), None).await.json.to_string();
    assert_eq!(
        (list.matches("\"ConsentGiven\"").count(), list.matches("\"RenewedConsentGiven\"").count()),
        (1, 1),
        "Anna's old and her renewed consent (R43): {list}"
    );
    let plan =
        app.call("GET", &format!("/v1/repermission?advertiser={}", w.advertiser), Some(&app.api_key), None).await;
    let annas: Vec<_> =
        plan.json["candidates"].as_array().unwrap().iter().filter(|c| c["person_id"] == before["person_id"]).collect();
    assert!(annas.is_empty(), "the renewal is fresh and the old consent is renewed: {annas:?}");
    // Sending again asks nobody twice.
    let again =
        app.call("POST", "/v1/repermission", Some(&app.api_key), Some(json!({"advertiser": w.advertiser}))).await;
    assert_eq!(
        (again.json["mails"].as_u64(), again.json["renewals"].as_u64(), again.json["post"].as_u64()),
        (Some(0), Some(0), Some(1)),
        "{:?}",
        again.json
    );
});

app_test!(r43_r15_a_person_whose_two_consents_are_due_gets_one_mail_and_one_click_renews_both, |app| {
    use crate::api::{PHONE, consent, doi, otp, web};
    let w = crate::api::world(&app).await;
    let key = Some(app.api_key.as_str());
    // Anna's call and e-mail consent is valid; her newsletter consent was imported without proof.
    let given = consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    assert_eq!(given["status"], "ConsentGiven", "{given}");
    let news_text = published(
        &app,
        &w,
        "newsletter",
        "Newsletter Vorsorge",
        "Ich möchte den Newsletter der Muster Versicherungsmakler GmbH zur Altersvorsorge per E-Mail erhalten. Widerruf jederzeit.",
        json!(["email"]),
    )
    .await;
    let legacy = imported(&app, &w, &w.person, &w.email_cp, &news_text, "email").await;
    let old: Vec<String> = vec![given["consent_id"].as_str().unwrap().to_string(), legacy];
    let mut before: Vec<Value> = Vec::new();
    for id in &old {
        before.push(app.call("GET", &format!("/v1/consents/{id}"), key, None).await.json);
    }
    // Eleven and a half months on, the call consent turns stale within the window; the legacy one
    // is Unknown. Both may be asked for by e-mail, which the valid consent still allows (R43).
    app.clock.advance(SignedDuration::from_hours(24 * 345));
    let sent = app.call("POST", "/v1/repermission", key, Some(json!({"advertiser": w.advertiser}))).await;
    assert_eq!(sent.status, 200, "{:?}", sent.json);
    assert_eq!(
        (sent.json["mails"].as_u64(), sent.json["renewals"].as_u64(), sent.json["with_number"].as_u64()),
        (Some(1), Some(2), Some(1)),
        "one mail renews both: {:?}",
        sent.json
    );
    let again = app.call("POST", "/v1/repermission", key, Some(json!({"advertiser": w.advertiser}))).await;
    assert_eq!(
        (again.json["mails"].as_u64(), again.json["renewals"].as_u64()),
        (Some(0), Some(0)),
        "while the renewals wait for the click nobody is asked again: {:?}",
        again.json
    );
    let raw = crate::doi::the_mail(&app).await;
    let mail = crate::doi::body_of(&raw);
    assert!(raw.contains(crate::api::EMAIL), "to the address of the consent the request relies on");
    for needle in [
        "„Einwilligung Telefon und E-Mail“ (Kanäle: Telefon (persönlicher Anruf), E-Mail)",
        "„Newsletter Vorsorge“ (Kanäle: E-Mail)",
        "zur Altersvorsorge per E-Mail erhalten",
        "per Telefon und per E-Mail über Versicherungen",
        "Code per SMS",
    ] {
        assert!(mail.contains(needle), "{needle}: {mail}");
    }
    let token = crate::doi::token_in(&raw);
    let page = app.call("GET", &format!("/doi/{token}"), None, None).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("Einwilligung erneuern") && html.contains("Erneuern / Renew"), "{html}");
    assert!(html.contains("zur Altersvorsorge per E-Mail erhalten") && html.contains("über Versicherungen"), "{html}");

    let list = app.call("GET", "/v1/consents", key, None).await.json;
    let renewal_of = |channels: Value| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| {
                !old.contains(&c["consent_id"].as_str().unwrap().to_string()) && c["scope"]["channels"] == channels
            })
            .map(|c| c["consent_id"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("a renewal for {channels}: {list}"))
    };
    let (calls, news) = (renewal_of(json!(["phone_live", "email"])), renewal_of(json!(["email"])));
    let status = |id: String| {
        let app = &app;
        async move {
            let c = app.call("GET", &format!("/v1/consents/{id}"), Some(&app.api_key), None).await;
            c.json["status"].as_str().unwrap().to_string()
        }
    };
    // One click confirms both renewals; the call one still waits for its number (R15).
    let click = app.call("POST", &format!("/doi/{token}"), None, None).await;
    assert_eq!(click.status, 200, "{}", click.text());
    assert!(click.text().contains("E-Mail-Adresse ist bestätigt"), "{}", click.text());
    assert_eq!(status(news.clone()).await, "RenewedConsentGiven");
    assert_eq!(status(calls.clone()).await, "ConsentRequested");
    // The receipt of the newsletter renewal (R69) and the code to the number go out together.
    let texts = crate::otp::texts_delivered(&app, 2).await;
    assert_eq!(texts[0].0, "+491712345678", "the number the old consent was bound to ({PHONE})");
    let code: String = texts[0].1.chars().take(6).collect();
    let entered = crate::doi::enter_code(&app, &token, &code).await;
    assert_eq!(entered.status, 200, "{}", entered.text());
    assert_eq!(status(calls.clone()).await, "RenewedConsentGiven");
    // The ledger names the one mail for both renewals; the old records are as they were.
    let ledger = app.ledger_text().await;
    let requested: Vec<&str> = ledger.lines().filter(|l| l.contains("\"doi_requested\"")).collect();
    assert_eq!(requested.len(), 2, "{requested:?}");
    assert!(requested.iter().all(|l| l.contains(&news) || l.contains(&calls)), "{requested:?}");
    for (id, was) in old.iter().zip(&before) {
        assert_eq!(&app.call("GET", &format!("/v1/consents/{id}"), key, None).await.json, was);
    }
});

app_test!(
    r43_r16_without_an_e_mail_route_a_valid_sms_consent_carries_the_renewal_of_a_phone_consent_by_text_message,
    |app| {
        use crate::api::{check, otp, web};
        let w = crate::api::world(&app).await;
        let key = Some(app.api_key.as_str());
        let sms_text = published(
            &app,
            &w,
            "sms-info",
            "SMS-Info",
            "Ich möchte Informationen der Muster Versicherungsmakler GmbH zu Versicherungen per SMS erhalten. Widerruf jederzeit.",
            json!(["sms"]),
        )
        .await;
        // Anna's SMS consent is valid (number verified, R16); her call and her e-mail consents were
        // imported without proof. No e-mail consent allows a mail.
        let sms = app
            .call(
                "POST",
                "/v1/consents",
                key,
                Some(json!({
                    "person_id": w.person, "contact_point_ids": [w.phone_cp], "text_id": sms_text,
                    "scope": {"advertisers": [w.advertiser], "product_categories": ["insurance"], "channels": ["sms"]},
                    "capture_method": "web_form", "affirmative_action": true,
                    "evidence": [web(&app), otp(&app, &w)]
                })),
            )
            .await;
        assert_eq!(sms.json["status"], "ConsentGiven", "{:?}", sms.json);
        let calls = imported(&app, &w, &w.person, &w.phone_cp, &w.text, "phone_live").await;
        let mails = imported(&app, &w, &w.person, &w.email_cp, &w.text, "email").await;
        let before = app.call("GET", &format!("/v1/consents/{calls}"), key, None).await.json;

        let plan =
            app.call("GET", &format!("/v1/repermission?advertiser={}", w.advertiser), Some(&app.api_key), None).await;
        let of = |id: &str| {
            plan.json["candidates"].as_array().unwrap().iter().find(|c| c["consent_id"] == id).cloned().unwrap()
        };
        assert_eq!(
            (of(&calls)["route"].as_str(), of(&calls)["via_consent"].clone()),
            (Some("sms"), sms.json["consent_id"].clone())
        );
        assert_eq!(of(&mails)["route"], "post", "a text message cannot renew an e-mail consent: a letter");

        let sent = app.call("POST", "/v1/repermission", key, Some(json!({"advertiser": w.advertiser}))).await;
        assert_eq!(sent.status, 200, "{:?}", sent.json);
        assert_eq!(
            (
                sent.json["sms"].as_u64(),
                sent.json["mails"].as_u64(),
                sent.json["renewals"].as_u64(),
                sent.json["post"].as_u64()
            ),
            (Some(1), Some(0), Some(1), Some(1)),
            "{:?}",
            sent.json
        );
        let deliver = || {
            let app = &app;
            async move {
                let texts = crate::otp::texts_delivered(app, 1).await;
                assert_eq!(texts[0].0, "+491712345678");
                texts[0].1.clone()
            }
        };
        let request = deliver().await;
        assert!(
            request.contains("Muster Versicherungsmakler GmbH bittet Sie, Ihre Einwilligung zu erneuern"),
            "{request}"
        );
        let token = crate::doi::token_in(&request);
        let page = app.call("GET", &format!("/doi/{token}"), None, None).await.text();
        assert!(
            page.contains("Einwilligung erneuern") && page.contains("per Telefon und per E-Mail über Versicherungen"),
            "{page}"
        );

        let list = app.call("GET", "/v1/consents", key, None).await.json;
        let renewal = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["consent_id"].as_str().unwrap().to_string())
            .find(|id| ![&calls, &mails, sms.json["consent_id"].as_str().unwrap()].contains(&id.as_str()))
            .unwrap();
        let click = app.call("POST", &format!("/doi/{token}"), None, None).await;
        assert_eq!(click.status, 200, "{}", click.text());
        assert!(click.text().contains("Erneuerung ist vermerkt") && click.text().contains("Code"), "{}", click.text());
        let r = app.call("GET", &format!("/v1/consents/{renewal}"), key, None).await.json;
        assert_eq!(r["status"], "ConsentRequested", "the click alone does not show the number is Anna's (R15): {r}");
        let code: String = deliver().await.chars().take(6).collect();
        let entered = crate::doi::enter_code(&app, &token, &code).await;
        assert_eq!(entered.status, 200, "{}", entered.text());
        let r = app.call("GET", &format!("/v1/consents/{renewal}"), key, None).await.json;
        assert_eq!(
            (r["status"].as_str(), r["renews"].as_str()),
            (Some("RenewedConsentGiven"), Some(calls.as_str())),
            "{r}"
        );
        assert_eq!(r["scope"]["channels"], json!(["phone_live"]), "by text message only the number's channels: {r}");
        assert_eq!(r["contact_point_ids"], json!([w.phone_cp]));
        assert_eq!(r["evidence_kinds"], json!(["web_form", "otp"]), "no e-mail double opt-in was made: {r}");
        assert!(
            app.ledger_text().await.contains("Neueinholung per SMS"),
            "the renewal is declared to the advertiser (R20)"
        );
        // The proof names the consent the renewal renews, in the PDF and in the JSON.
        let files = crate::proof::package_files(&app, &w.person).await;
        let pdf = crate::proof::pdftotext(&files["nachweis.pdf"]);
        assert!(pdf.contains("Erneuert die Einwilligung") && pdf.contains(&calls), "{pdf}");
        let proof = String::from_utf8(files["proof.json"].clone()).unwrap();
        assert!(
            proof.contains(&format!("\"renews\":\"{calls}\"")) || proof.contains(&format!("\"renews\": \"{calls}\"")),
            "{proof}"
        );
        let d = check(&app, &app.api_key, &w, "phone_live", json!({"phone": crate::api::PHONE})).await;
        assert_eq!(d["allowed"], true, "{d}");
        assert_eq!(app.call("GET", &format!("/v1/consents/{calls}"), key, None).await.json, before);
    }
);

app_test!(r43_a_consent_captured_in_answer_to_a_letter_names_the_consent_it_renews, |app| {
    use crate::api::{doi, web};
    let w = crate::api::world(&app).await;
    let key = Some(app.api_key.as_str());
    let bernd = legacy(&app, &w, "Bernd", json!({"email": "bernd@example.de"}), "email", true).await;
    let old_id = imported(&app, &w, &w.person, &w.email_cp, &w.text, "email").await;
    let before = app.call("GET", &format!("/v1/consents/{old_id}"), key, None).await.json;
    let renewal = |renews: &str| {
        json!({
            "person_id": w.person, "contact_point_ids": [w.email_cp], "text_id": w.text,
            "scope": {"advertisers": [w.advertiser], "product_categories": ["insurance"], "channels": ["email"]},
            "capture_method": "web_form", "affirmative_action": true, "renews": renews,
            "evidence": [web(&app), doi(&app, &w)]
        })
    };
    // Another person's consent cannot be renewed by Anna.
    let wrong = app.call("POST", "/v1/consents", key, Some(renewal(&bernd))).await;
    assert_eq!((wrong.status, wrong.json["errors"][0]["field"].as_str()), (422, Some("renews")), "{:?}", wrong.json);
    let r = app.call("POST", "/v1/consents", key, Some(renewal(&old_id))).await;
    assert_eq!(r.status, 201, "{:?}", r.json);
    assert_eq!(
        (r.json["status"].as_str(), r.json["renews"].as_str()),
        (Some("RenewedConsentGiven"), Some(old_id.as_str()))
    );
    assert_eq!(
        app.call("GET", &format!("/v1/consents/{old_id}"), key, None).await.json,
        before,
        "the old record stays"
    );
    let plan = app.call("GET", &format!("/v1/repermission?advertiser={}", w.advertiser), key, None).await;
    assert!(!plan.json.to_string().contains(&old_id), "renewed, so not asked again: {:?}", plan.json);
});
