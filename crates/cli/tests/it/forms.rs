//! The hosted signup form through HTTP on both engines: only the fields the channels need, every
//! box unticked, the full text and the advertisers named, no cookies; a submission records a
//! `ConsentRequested` consent tied to the logged serve and queues the double opt-in mail; a bot
//! filling the honeypot leaves no trace (R4, R7, R9, R12, R13, R66).

use serde_json::json;

use crate::api::world;
use crate::app_test;
use crate::harness::TestApp;

async fn define(app: &TestApp, w: &crate::api::World, channels: serde_json::Value) -> u16 {
    let r = app
        .call(
            "POST",
            "/v1/forms",
            Some(&app.api_key),
            Some(json!({
                "slug": "beratung", "text_id": w.text, "channels": channels, "title": "Beratung und Newsletter"
            })),
        )
        .await;
    r.status
}

fn serve_id(html: &str) -> String {
    let at = html.find("name=\"serve_id\" value=\"").unwrap() + 23;
    html[at..].chars().take_while(|c| *c != '"').collect()
}

async fn submit(app: &TestApp, body: &str) -> crate::harness::Response {
    app.call_raw("POST", "/f/beratung", None, Some(body.as_bytes().to_vec()), "application/x-www-form-urlencoded").await
}

app_test!(r4_r9_r12_hosted_form_offers_unticked_boxes_and_only_needed_fields, |app| {
    let w = world(&app).await;
    assert_eq!(define(&app, &w, json!(["email"])).await, 201);
    let page = app.call("GET", "/f/beratung", None, None).await;
    assert_eq!(page.status, 200);
    let html = page.json.as_str().unwrap();
    assert!(html.contains("<html lang=\"de\">"));
    assert!(html.contains("type=\"checkbox\" id=\"ch-email\""), "{html}");
    assert!(!html.contains("checked"), "no box is pre-ticked (R4)");
    assert!(html.contains("label for=\"ch-email\""), "every box has a label");
    assert!(html.contains("Muster Versicherungsmakler GmbH (Köln)"), "the advertiser is named (R7)");
    assert!(html.contains("jederzeit mit Wirkung für die Zukunft widerrufen"), "the full text is shown");
    assert!(html.contains("id=\"email\"") && !html.contains("id=\"phone\""), "only what e-mail needs (R12)");
    // Channels beyond the text, or an unknown text, are refused; another tenant cannot take the name.
    let r = app
        .call(
            "POST",
            "/v1/forms",
            Some(&app.api_key),
            Some(json!({
                "slug": "fax-form", "text_id": w.text, "channels": ["fax"], "title": "Fax"
            })),
        )
        .await;
    assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("channels")), "{:?}", r.json);
    assert_eq!(app.call("GET", "/f/unbekannt", None, None).await.status, 404);
});

app_test!(r13_r66_form_submission_is_requested_until_confirmed_and_sets_no_cookie, |app| {
    let w = world(&app).await;
    assert_eq!(define(&app, &w, json!(["email", "phone_live"])).await, 201);
    let html = app.call("GET", "/f/beratung", None, None).await.json.as_str().unwrap().to_string();
    let sid = serve_id(&html);
    let persons_before =
        app.call("GET", "/v1/persons", Some(&app.api_key), None).await.json["items"].as_array().unwrap().len();

    // A bot fills the honeypot: the same answer, nothing stored.
    let bot = submit(
        &app,
        &format!("serve_id={sid}&first_name=Bot&last_name=Bot&email=bot%40example.de&channel=email&website=spam"),
    )
    .await;
    assert_eq!(bot.status, 200);
    let after_bot =
        app.call("GET", "/v1/persons", Some(&app.api_key), None).await.json["items"].as_array().unwrap().len();
    assert_eq!(after_bot, persons_before);

    // E-mail ticked without an address: the field is named.
    let bad = submit(&app, &format!("serve_id={sid}&first_name=Jan&last_name=Roth&channel=email")).await;
    assert_eq!(bad.status, 422);
    assert!(bad.json.as_str().unwrap().contains("email"), "{:?}", bad.json);
    // Nothing ticked.
    let none = submit(&app, &format!("serve_id={sid}&first_name=Jan&last_name=Roth&email=jan.roth%40example.de")).await;
    assert_eq!(none.status, 422);

    // A person ticks e-mail only.
    let ok = submit(
        &app,
        &format!("serve_id={sid}&first_name=Jan&last_name=Roth&email=jan.roth%40example.de&channel=email"),
    )
    .await;
    assert_eq!(ok.status, 200, "{:?}", ok.json);
    assert!(ok.json.as_str().unwrap().contains("bestätigen"));
    let consents = app.call("GET", "/v1/consents", Some(&app.api_key), None).await;
    let c = consents.json["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(c["status"], "ConsentRequested", "not usable before the double opt-in (R13)");
    assert_eq!(c["scope"]["channels"], json!(["email"]), "only what was ticked");
    let full =
        app.call("GET", &format!("/v1/consents/{}", c["consent_id"].as_str().unwrap()), Some(&app.api_key), None).await;
    let ev = &full.json["evidence"][0];
    assert_eq!(
        (ev["kind"].as_str(), ev["form_version"].as_str()),
        (Some("web_form"), Some(sid.as_str())),
        "tied to the serve"
    );
    assert_eq!(
        konsent_store::queries::outbox_counts(&app.k.db).await.unwrap(),
        (1, 0),
        "the confirmation mail is queued"
    );
    // A stale or forged serve id is refused.
    let forged = submit(&app, "serve_id=nope&first_name=A&last_name=B&email=a%40example.de&channel=email").await;
    assert_eq!(forged.status, 422);
});

app_test!(public_pages_answer_429_per_ip_and_per_address, |app| {
    let w = world(&app).await;
    assert_eq!(define(&app, &w, json!(["email"])).await, 201);
    let html = app.call("GET", "/f/beratung", None, None).await.json.as_str().unwrap().to_string();
    let sid = serve_id(&html);
    // The same address: five submissions an hour.
    let same = format!("serve_id={sid}&first_name=Eva&last_name=Ost&email=eva.ost%40example.de&channel=email");
    for i in 0..5 {
        assert_eq!(submit(&app, &same).await.status, 200, "submission {i}");
    }
    let sixth = submit(&app, &same).await;
    assert_eq!(sixth.status, 429);
    assert!(sixth.json.as_str().unwrap().contains("Zu viele Anfragen"));
    // The same IP: twenty posts a minute, whatever they are.
    for _ in 0..14 {
        assert_eq!(submit(&app, &format!("serve_id={sid}&first_name=X&last_name=Y&channel=email")).await.status, 422);
    }
    assert_eq!(submit(&app, &format!("serve_id={sid}&first_name=X&last_name=Y&channel=email")).await.status, 429);
    assert_eq!(app.call("POST", "/doi/whatever", None, None).await.status, 429, "confirmations count too");
    app.clock.advance(jiff::SignedDuration::from_secs(61));
    assert_eq!(submit(&app, &format!("serve_id={sid}&first_name=X&last_name=Y&channel=email")).await.status, 422);
});

app_test!(embed_snippet_and_only_named_origins_may_frame_the_form, |app| {
    let w = world(&app).await;
    let csp = |r: &crate::harness::Response| {
        r.headers.get("content-security-policy").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
    };
    assert_eq!(define(&app, &w, json!(["email"])).await, 201);
    let page = app.call("GET", "/f/beratung", None, None).await;
    assert!(csp(&page).contains("frame-ancestors 'none'"), "{}", csp(&page));
    assert!(page.headers.get("set-cookie").is_none(), "no cookie (R66)");
    let r = app
        .call(
            "POST",
            "/v1/forms",
            Some(&app.api_key),
            Some(json!({
                "slug": "beratung", "text_id": w.text, "channels": ["email"], "title": "Beratung",
                "embed_origins": ["https://www.makler.de"]
            })),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.json);
    let snippet = r.json["embed_snippet"].as_str().unwrap();
    assert!(snippet.starts_with("<iframe src=\"") && snippet.contains("/f/beratung"), "{snippet}");
    let page = app.call("GET", "/f/beratung", None, None).await;
    assert!(csp(&page).contains("frame-ancestors https://www.makler.de"), "{}", csp(&page));
    let bad = app
        .call(
            "POST",
            "/v1/forms",
            Some(&app.api_key),
            Some(json!({
                "slug": "beratung", "text_id": w.text, "channels": ["email"], "title": "Beratung",
                "embed_origins": ["https://x.de; script-src *"]
            })),
        )
        .await;
    assert_eq!((bad.status, bad.json["errors"][0]["field"].as_str()), (422, Some("embed_origins")), "{:?}", bad.json);
});

app_test!(proof_of_work_is_checked_when_the_form_asks_for_it, |app| {
    let w = world(&app).await;
    let r = app
        .call(
            "POST",
            "/v1/forms",
            Some(&app.api_key),
            Some(json!({
                "slug": "beratung", "text_id": w.text, "channels": ["email"], "title": "Beratung", "proof_of_work": true
            })),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.json);
    let page = app.call("GET", "/f/beratung", None, None).await;
    let html = page.json.as_str().unwrap().to_string();
    let csp = page.headers.get("content-security-policy").unwrap().to_str().unwrap().to_string();
    assert!(html.contains("<script nonce=") && csp.contains("script-src 'nonce-"), "{csp}");
    let sid = serve_id(&html);
    let fields = format!("serve_id={sid}&first_name=Ida&last_name=Kern&email=ida.kern%40example.de&channel=email");
    let without = submit(&app, &fields).await;
    assert_eq!(without.status, 422);
    assert!(without.json.as_str().unwrap().contains("JavaScript"), "{:?}", without.json);
    let answer = (0u64..).find(|n| konsent_domain::form::pow_ok(&sid, &n.to_string())).unwrap();
    let with = submit(&app, &format!("{fields}&pow={answer}")).await;
    assert_eq!(with.status, 200, "{:?}", with.json);
});

app_test!(r20_r12_a_form_offering_calls_asks_for_the_address_and_names_who_receives_the_declaration, |app| {
    let w = world(&app).await;
    let key = Some(app.api_key.as_str());
    // Calls offered: the address fields are there; e-mail only: they are not (R12).
    assert_eq!(define(&app, &w, json!(["email", "phone_live"])).await, 201);
    let html = app.call("GET", "/f/beratung", None, None).await.json.as_str().unwrap().to_string();
    assert!(html.contains("id=\"street\"") && html.contains("id=\"postcode\"") && html.contains("id=\"city\""));
    // A bad postcode is named by its field, in German first, without echoing it.
    let bad = submit(
        &app,
        &format!(
            "serve_id={}&first_name=Jan&last_name=Roth&phone=0171+5550111&street=Weg+2&postcode=5066&city=K%C3%B6ln\
             &channel=phone_live",
            serve_id(&html)
        ),
    )
    .await;
    let page = bad.json.as_str().unwrap().to_string();
    assert_eq!(bad.status, 422, "{page}");
    assert!(
        page.contains(
            "<li data-field=\"postcode\"><strong>Postleitzahl / postcode</strong>: Postleitzahl muss fünfstellig sein"
        ),
        "named by the label the person sees: {page}"
    );
    assert!(!page.contains("5066"), "{page}");
    assert_eq!(define(&app, &w, json!(["email"])).await, 201);
    let html = app.call("GET", "/f/beratung", None, None).await.json.as_str().unwrap().to_string();
    assert!(!html.contains("id=\"street\""), "{html}");

    // A text of two advertisers: the form must say who receives the declarations.
    let b = app
        .call(
            "POST",
            "/v1/advertisers",
            key,
            Some(json!({"legal_name": "Partner Finanz AG", "seat": "Bonn",
                "address_for_service": {"street": "Markt 1", "postcode": "53111", "city": "Bonn"}})),
        )
        .await;
    assert_eq!(b.status, 201, "{:?}", b.json);
    let t = app
        .call("POST", "/v1/texts", key, Some(json!({
            "key": "zwei",
            "title": "Einwilligung Telefon",
            "body": "Ich bin einverstanden, dass mich die Muster Versicherungsmakler GmbH und die Partner Finanz AG per Telefon über Versicherungen informieren. Widerruf jederzeit.",
            "scope": {"advertisers": [w.advertiser, b.json["id"]], "product_categories": ["insurance"], "channels": ["phone_live"]},
            "privacy_notice": {"url": "https://makler.example/datenschutz", "version": "2026-01"}
        })))
        .await;
    assert_eq!(t.status, 201, "{:?}", t.json);
    let form = |extra: serde_json::Value| {
        let mut body = json!({"slug": "zwei", "text_id": t.json["id"], "channels": ["phone_live"], "title": "Zwei"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        app.call("POST", "/v1/forms", key, Some(body))
    };
    let r = form(json!({})).await;
    assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("declaration_recipient")), "{:?}", r.json);
    let r = form(
        json!({"declaration_recipient": {"organisation": "Muster Versicherungsmakler GmbH", "agent_pseudonym": " "}}),
    )
    .await;
    assert_eq!(r.status, 422, "{:?}", r.json);
    let mine = json!({"organisation": "Muster Versicherungsmakler GmbH", "agent_pseudonym": "Web-Team 7"});
    let r = form(json!({ "declaration_recipient": mine })).await;
    assert_eq!((r.status, &r.json["declaration_recipient"]), (201, &mine), "{:?}", r.json);
});

app_test!(r15_r20_a_form_never_changes_a_person_on_record_and_its_follow_up_pages_stay_in_the_frame, |app| {
    let w = world(&app).await;
    let key = Some(app.api_key.as_str());
    let r = app
        .call(
            "POST",
            "/v1/forms",
            key,
            Some(json!({"slug": "beratung", "text_id": w.text, "channels": ["email", "phone_live"],
                "title": "Beratung", "embed_origins": ["https://www.makler.example"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.json);
    // Eva is on record with her address only: no number, no postal address.
    let eva = app
        .call(
            "POST",
            "/v1/persons",
            key,
            Some(json!({"first_name": "Eva", "last_name": "Ost", "contacts": [{"email": "eva.ost@example.de"}]})),
        )
        .await;
    assert_eq!(eva.status, 201, "{:?}", eva.json);
    let eva_id = eva.json["person_id"].as_str().unwrap().to_string();
    let before = app.call("GET", &format!("/v1/persons/{eva_id}"), key, None).await.json;

    // Someone types Eva's address next to their own number and an address, and ticks calls only.
    let html = app.call("GET", "/f/beratung", None, None).await.json.as_str().unwrap().to_string();
    let sid = serve_id(&html);
    let res = submit(
        &app,
        &format!(
            "serve_id={sid}&first_name=Max&last_name=Fremd&email=eva.ost%40example.de&phone=0171+5550999\
             &street=Nebenweg+1&postcode=50667&city=K%C3%B6ln&channel=phone_live"
        ),
    )
    .await;
    assert_eq!(res.status, 200, "{:?}", res.json);
    assert!(res.json.as_str().unwrap().contains("id=\"code\""), "the code page follows");
    let csp = res.headers.get("content-security-policy").unwrap().to_str().unwrap().to_string();
    assert!(csp.contains("frame-ancestors https://www.makler.example"), "stays in the embedding frame: {csp}");

    // Eva's record is as it was; the number and the consent belong to a person of their own.
    assert_eq!(app.call("GET", &format!("/v1/persons/{eva_id}"), key, None).await.json, before);
    let number = konsent_domain::contact::ContactValue::Phone(
        konsent_domain::contact::PhoneE164::parse("+491715550999").unwrap(),
    );
    let holders = app.k.find_by_contact(app.tenant, &number).await.unwrap();
    assert_eq!(holders.len(), 1);
    assert_ne!(holders[0].0.to_string(), eva_id, "the number did not join Eva");
    let consents = app.call("GET", "/v1/consents", key, None).await.json;
    let c = consents["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(c["person_id"], holders[0].0.to_string());
});

app_test!(r15_a_callback_forms_code_page_allows_three_codes_an_hour_and_ends_after_an_hour, |app| {
    let w = world(&app).await;
    let r = app
        .call(
            "POST",
            "/v1/forms",
            Some(&app.api_key),
            Some(json!({"slug": "beratung", "text_id": w.text, "channels": ["phone_live"], "title": "Rückruf"})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.json);
    let html = app.call("GET", "/f/beratung", None, None).await.json.as_str().unwrap().to_string();
    let res = submit(
        &app,
        &format!(
            "serve_id={}&first_name=Ida&last_name=Kern&phone=0171+5550222&street=Weg+3&postcode=50667\
             &city=K%C3%B6ln&channel=phone_live",
            serve_id(&html)
        ),
    )
    .await;
    assert_eq!(res.status, 200, "{:?}", res.json);
    let page = res.json.as_str().unwrap();
    let at = page.find("action=\"/f/beratung/code/").expect("the code form posts to the form's code path") + 8;
    let path: String = page[at..].chars().take_while(|c| *c != '"').collect();
    assert!(!path.contains("0171") && !path.contains("Kern"), "no personal data in the reference: {path}");
    let post = |body: &'static str| {
        let (app, path) = (&app, path.clone());
        async move {
            app.call_raw("POST", &path, None, Some(body.as_bytes().to_vec()), "application/x-www-form-urlencoded").await
        }
    };
    // The first code went with the submission; two more this hour, then 429.
    assert_eq!(post("resend=1").await.status, 200);
    assert_eq!(post("resend=1").await.status, 200);
    assert_eq!(post("resend=1").await.status, 429);
    assert_eq!(konsent_store::queries::outbox_counts(&app.k.db).await.unwrap().0, 3, "three text messages queued");
    // An hour after the submission the page takes no code any more.
    app.clock.advance(jiff::SignedDuration::from_mins(61));
    let late = post("code=123456").await;
    assert_eq!(late.status, 410, "{}", late.text());
    assert!(late.text().contains("nicht mehr möglich"), "{}", late.text());
});

app_test!(r15_r16_no_text_message_goes_to_a_number_outside_the_allowed_countries, |app| {
    let w = world(&app).await;
    let key = Some(app.api_key.as_str());
    assert_eq!(define(&app, &w, json!(["email", "phone_live"])).await, 201);
    let html = app.call("GET", "/f/beratung", None, None).await.json.as_str().unwrap().to_string();
    // A British mobile number on a form that verifies numbers by SMS: refused, named by its field.
    let abroad = submit(
        &app,
        &format!(
            "serve_id={}&first_name=Jan&last_name=Roth&phone=%2B44+7911+123456&street=Weg+2&postcode=50667&city=K%C3%B6ln\
             &channel=phone_live",
            serve_id(&html)
        ),
    )
    .await;
    let page = abroad.json.as_str().unwrap().to_string();
    assert_eq!(abroad.status, 422, "{page}");
    assert!(page.contains("data-field=\"phone\"") && page.contains("Landesvorwahl"), "{page}");
    assert!(!page.contains("7911"), "the number is not echoed: {page}");
    assert_eq!(app.call("GET", "/v1/consents", key, None).await.json["items"].as_array().unwrap().len(), 0);
    // A consent recorded through the API on that number gets no code either (default +49, +43, +41).
    let code_for = |phone: &'static str| {
        let (app, w) = (&app, &w);
        async move {
            let key = Some(app.api_key.as_str());
            let p = app
                .call(
                    "POST",
                    "/v1/persons",
                    key,
                    Some(json!({"first_name": "Jan", "last_name": "Roth", "contacts": [{"phone": phone}]})),
                )
                .await;
            assert_eq!(p.status, 201, "{:?}", p.json);
            let c = app
                .call("POST", "/v1/consents", key, Some(json!({
                    "person_id": p.json["person_id"], "contact_point_ids": [p.json["contact_points"][0]["id"]],
                    "text_id": w.text, "capture_method": "web_form", "affirmative_action": true,
                    "scope": {"advertisers": [w.advertiser], "product_categories": ["insurance"], "channels": ["phone_live"]},
                    "evidence": [crate::api::web(app)]
                })))
                .await;
            assert_eq!(c.status, 201, "{:?}", c.json);
            let id = c.json["consent_id"].as_str().unwrap();
            app.call("POST", &format!("/v1/consents/{id}/otp"), key, None).await
        }
    };
    let otp = code_for("+44 7911 123456").await;
    assert_eq!((otp.status, otp.json["errors"][0]["field"].as_str()), (422, Some("phone")), "{:?}", otp.json);
    assert_eq!(konsent_store::queries::outbox_counts(&app.k.db).await.unwrap(), (0, 0), "nothing queued");
    // A German number is fine.
    assert_eq!(code_for("0171 5550111").await.status, 202);
});
