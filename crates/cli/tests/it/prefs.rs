//! The preference centre and one-click unsubscribe through HTTP on both engines: signed links, a
//! GET that only asks, a POST that withdraws at once for the gate (R39, R40, R42).

use serde_json::json;

use crate::api::{EMAIL, PHONE, check, consent, doi, otp, web, world};
use crate::app_test;

fn path_of(url: &str) -> String {
    let at = url.find("://").map(|i| i + 3).unwrap_or(0);
    url[at..].find('/').map(|i| url[at + i..].to_string()).unwrap()
}

fn codes(v: &serde_json::Value) -> String {
    v["reasons"].to_string()
}

app_test!(r39_r40_one_click_unsubscribe_withdraws_email_at_once, |app| {
    let w = world(&app).await;
    consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    let links = app.call("GET", &format!("/v1/persons/{}/links", w.person), Some(&app.api_key), None).await;
    assert_eq!(links.status, 200, "{:?}", links.json);
    let u = &links.json["unsubscribe"][0];
    assert_eq!(u["list_unsubscribe_post"], "List-Unsubscribe=One-Click");
    assert_eq!(u["list_unsubscribe"], format!("<{}>", u["url"].as_str().unwrap()));
    let path = path_of(u["url"].as_str().unwrap());

    // The GET only asks (mail scanners open links).
    let page = app.call("GET", &path, None, None).await;
    assert_eq!(page.status, 200);
    assert!(page.json.as_str().unwrap().contains("<button"));
    assert_eq!(check(&app, &app.api_key, &w, "email", json!({"email": EMAIL})).await["allowed"], true);

    // The mail client's one-click POST withdraws e-mail, now; the phone consent part stays.
    let one_click = || {
        app.call_raw(
            "POST",
            &path,
            None,
            Some(b"List-Unsubscribe=One-Click".to_vec()),
            "application/x-www-form-urlencoded",
        )
    };
    assert_eq!(one_click().await.status, 200);
    let d = check(&app, &app.api_key, &w, "email", json!({"email": EMAIL})).await;
    assert_eq!(d["allowed"], false, "{d}");
    assert_eq!(check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await["allowed"], true);
    assert_eq!(one_click().await.status, 200, "a second click is still a success");

    // Altered or misused links are unknown.
    let forged = path.replacen("/u/e", "/u/f", 1);
    assert_eq!(app.call("POST", &format!("{forged}x"), None, None).await.status, 404);
    assert_eq!(app.call("GET", &path.replacen("/u/", "/p/", 1), None, None).await.status, 404, "not a preference link");
});

app_test!(r42_preference_centre_shows_consents_and_objects_to_all, |app| {
    let w = world(&app).await;
    consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    let links = app.call("GET", &format!("/v1/persons/{}/links", w.person), Some(&app.api_key), None).await;
    let path = path_of(links.json["preference_centre"].as_str().unwrap());
    let page = app.call("GET", &path, None, None).await;
    assert_eq!(page.status, 200);
    let html = page.json.as_str().unwrap();
    assert!(html.contains("Einwilligung Telefon und E-Mail") && html.contains("Widerrufen / withdraw"), "{html}");
    let r =
        app.call_raw("POST", &path, None, Some(b"action=object".to_vec()), "application/x-www-form-urlencoded").await;
    assert_eq!(r.status, 200);
    assert!(r.json.as_str().unwrap().contains("Widerspruch erfasst"));
    let d = check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await;
    assert!(codes(&d).contains("objection"), "{d}");
    // A request for a copy is recorded in the person's timeline.
    let r = app.call_raw("POST", &path, None, Some(b"action=copy".to_vec()), "application/x-www-form-urlencoded").await;
    assert!(r.json.as_str().unwrap().contains("innerhalb eines Monats"));
    let tl = app.call("GET", &format!("/v1/persons/{}/timeline", w.person), Some(&app.api_key), None).await;
    assert!(tl.json.to_string().contains("access_requested"), "{:?}", tl.json);
    // Withdraw everything: the consent shows as withdrawn.
    let r = app
        .call_raw("POST", &path, None, Some(b"action=withdraw_all".to_vec()), "application/x-www-form-urlencoded")
        .await;
    assert_eq!(r.status, 200);
    let c = app.call("GET", "/v1/consents", Some(&app.api_key), None).await;
    assert_eq!(c.json["items"][0]["status"], "ConsentWithdrawn");
});

app_test!(r51_objection_through_the_preference_centre_is_the_same_as_a_manual_one, |app| {
    let w = world(&app).await;
    consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    // A manual objection through the API (e.g. entered from a letter) …
    let other = world(&app).await;
    let manual = app
        .call(
            "POST",
            &format!("/v1/persons/{}/objection", other.person),
            Some(&app.api_key),
            Some(json!({"via": "letter"})),
        )
        .await;
    assert_eq!(manual.status, 201, "{:?}", manual.json);
    // … and the automated signal from the preference centre create the same event.
    let links = app.call("GET", &format!("/v1/persons/{}/links", w.person), Some(&app.api_key), None).await;
    let path = path_of(links.json["preference_centre"].as_str().unwrap());
    app.call_raw("POST", &path, None, Some(b"action=object".to_vec()), "application/x-www-form-urlencoded").await;
    let event = |person: String| {
        let app = &app;
        async move {
            let tl = app.call("GET", &format!("/v1/persons/{person}/timeline"), Some(&app.api_key), None).await;
            tl.json["events"].as_array().unwrap().iter().find(|e| e["type"] == "objection_recorded").cloned().unwrap()
        }
    };
    let (a, b) = (event(w.person.clone()).await, event(other.person.clone()).await);
    for field in ["channels", "advertisers"] {
        assert_eq!(a["event"][field], b["event"][field], "{field}: {a} vs {b}");
    }
    assert_eq!((a["event"]["via"].as_str(), b["event"]["via"].as_str()), (Some("preference_centre"), Some("letter")));
    let d = check(&app, &app.api_key, &w, "email", json!({"email": EMAIL})).await;
    assert!(codes(&d).contains("objection"), "{d}");
});

app_test!(r55_a_new_person_may_be_contacted_on_no_channel, |app| {
    let w = world(&app).await;
    for (channel, contact) in [
        ("phone_live", json!({"phone": PHONE})),
        ("phone_automated", json!({"phone": PHONE})),
        ("sms", json!({"phone": PHONE})),
        ("messenger_whatsapp", json!({"phone": PHONE})),
        ("fax", json!({"phone": PHONE})),
        ("email", json!({"email": EMAIL})),
    ] {
        let d = check(&app, &app.api_key, &w, channel, contact).await;
        assert_eq!(d["allowed"], false, "{channel}: {d}");
    }
});
