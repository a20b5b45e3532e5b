//! Every kind of bad input to the `/v1` API answered with problem+json on both engines: the
//! status, a stable `code`, and the field that was wrong, German first.

use serde_json::json;

use crate::api::PHONE;
use crate::app_test;

app_test!(bad_input_gets_problem_json_naming_the_field, |app| {
    let key = Some(app.api_key.as_str());
    let r = app.call_raw("POST", "/v1/persons", key, Some(b"{not json".to_vec()), "application/json").await;
    assert_eq!(
        (r.status, r.ctype.as_str(), r.json["code"].as_str()),
        (400, "application/problem+json", Some("malformed_json"))
    );
    let detail = r.json["detail"].as_str().unwrap_or_default();
    assert!(detail.starts_with("kein gültiges JSON (Zeile 1, Spalte 2) / not valid JSON"), "{detail}");
    let r =
        app.call("POST", "/v1/persons", key, Some(json!({"first_name": "A", "last_name": "B", "shoe_size": 42}))).await;
    assert_eq!(r.status, 422);
    assert!(r.json["detail"].as_str().unwrap().contains("shoe_size"), "{:?}", r.json);
    // A body of the wrong shape names the field in `errors` as a failed validation does, German first.
    let field_error = |r: &crate::harness::Response| {
        let e = &r.json["errors"][0];
        (r.json["code"].as_str().map(String::from), e["field"].as_str().map(String::from), e["message"].to_string())
    };
    let (code, field, message) = field_error(&r);
    assert_eq!((code.as_deref(), field.as_deref()), (Some("invalid_body"), Some("shoe_size")), "{:?}", r.json);
    assert!(message.starts_with("\"unbekanntes Feld / unknown field"), "{message}");
    let r = app.call("POST", "/v1/persons", key, Some(json!({"first_name": 5, "last_name": "B"}))).await;
    assert_eq!(r.status, 422, "{:?}", r.json);
    let (_, field, message) = field_error(&r);
    assert_eq!(field.as_deref(), Some("first_name"), "{:?}", r.json);
    assert!(message.starts_with("\"falscher Typ / invalid type"), "{message}");
    let r = app.call("POST", "/v1/persons", key, Some(json!({"first_name": "A"}))).await;
    let (_, field, message) = field_error(&r);
    assert_eq!((r.status, field.as_deref()), (422, Some("last_name")), "{:?}", r.json);
    assert!(message.starts_with("\"Pflichtfeld fehlt / missing field"), "{message}");
    // A nested object given as a string: named as an object with a pointer to its fields, not
    // by the server's type name.
    let r = app.call("POST", "/v1/texts", key, Some(json!({"privacy_notice": "https://example.de/ds"}))).await;
    let detail = r.json["detail"].as_str().unwrap();
    assert_eq!(r.status, 422, "{:?}", r.json);
    assert!(detail.contains("privacy_notice") && detail.contains("expected a JSON object"), "{detail}");
    assert!(!detail.contains("struct"), "{detail}");
    let r = app
        .call(
            "POST",
            "/v1/persons",
            key,
            Some(json!({"first_name": "A", "last_name": "B", "contacts": [{"phone": "abc"}]})),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json["errors"][0]["field"], "contacts[0].phone", "{:?}", r.json);
    // The gate names the field that was wrong too, down to the address field.
    let adv = "01956f3a-0000-7000-8000-000000000001";
    let r = app
        .call("POST", "/v1/check", key, Some(json!({"phone": "abc", "channel": "phone_live", "advertiser_id": adv})))
        .await;
    assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("phone")), "{:?}", r.json);
    let postal = json!({"street": "Hauptstr. 1", "postcode": "123", "city": "Köln"});
    let r = app
        .call("POST", "/v1/check", key, Some(json!({"postal": postal, "channel": "post", "advertiser_id": adv})))
        .await;
    assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("postal.postcode")), "{:?}", r.json);
    let r = app.call("POST", "/v1/check", key, Some(json!({"channel": "phone_live", "advertiser_id": adv}))).await;
    let message = r.json["errors"][0]["message"].as_str().unwrap_or_default();
    assert_eq!(r.json["errors"][0]["field"], "email|phone|postal", "{:?}", r.json);
    assert!(message.starts_with("genau eines von email, phone, postal angeben"), "{message}");
    let r = app
        .call("POST", "/v1/check", key, Some(json!({"phone": PHONE, "channel": "telefon", "advertiser_id": "x"})))
        .await;
    assert_eq!(r.status, 422, "{:?}", r.json);
    let r = app.call_raw("POST", "/v1/persons", key, Some(vec![b'{'; 2 * 1024 * 1024]), "application/json").await;
    assert_eq!(r.status, 413, "{:?}", r.json);
    let r = app.call_raw("POST", "/v1/persons", key, Some(vec![0xff, 0xfe, b'{']), "application/json").await;
    assert_eq!(r.status / 100, 4, "bad UTF-8 is a 4xx: {:?}", r.json);
    let r = app.call_raw("POST", "/v1/persons", key, Some(b"{}".to_vec()), "text/plain").await;
    assert_eq!(r.status, 415);
    // A query parameter that does not parse, or one the route does not know, is named too.
    for (path, name) in [("/v1/consents?limit=abc", "limit"), ("/v1/texts?stat=published", "stat")] {
        let r = app.call("GET", path, key, None).await;
        assert_eq!(
            (r.status, r.ctype.as_str(), r.json["code"].as_str()),
            (400, "application/problem+json", Some("invalid_query")),
            "{path}: {:?}",
            r.json
        );
        let detail = r.json["detail"].as_str().unwrap();
        assert!(detail.starts_with("Abfrageparameter ungültig") && detail.contains(name), "{detail}");
    }
    let r = app.call("GET", "/v1/persons/not-an-id", key, None).await;
    assert_eq!(r.status, 404);
    // A path that exists, with a method it does not take: a problem naming the method, and the
    // methods it does take in `Allow`.
    let r = app.call("DELETE", "/v1/check", key, None).await;
    assert_eq!(
        (r.status, r.ctype.as_str(), r.json["code"].as_str()),
        (405, "application/problem+json", Some("method_not_allowed")),
        "{:?}",
        r.json
    );
    assert!(r.json["detail"].as_str().unwrap().starts_with("Methode DELETE ist hier nicht erlaubt"), "{:?}", r.json);
    assert_eq!(r.headers.get("allow").and_then(|v| v.to_str().ok()), Some("POST"));
    let r = app.call("GET", "/v1/persons/0198a0e0-0000-7000-8000-000000000000", None, None).await;
    assert_eq!((r.status, r.json["code"].as_str()), (401, Some("unauthorized")));
    assert!(r.json["detail"].as_str().unwrap().starts_with("API-Schlüssel fehlt"), "{:?}", r.json);
    let r = app.call("GET", "/v1/persons/0198a0e0-0000-7000-8000-000000000000", Some("knst_wrong"), None).await;
    assert_eq!(r.status, 401);
});
