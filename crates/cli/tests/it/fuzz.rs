//! Every route that takes a body, fed with thousands of mutated bodies (random bytes, truncation,
//! broken UTF-8, wrong types, unknown fields, deep nesting, huge numbers and strings): the answer
//! is always a 2xx or a 4xx problem+json with a `code`, never a 5xx, and nothing stored breaks.

use serde_json::{Value, json};

use crate::api::{EMAIL, PHONE, check, consent, doi, otp, web, world};
use crate::app_test;

/// A small deterministic generator (xorshift64*), so a failing case can be replayed by its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A value of a random, usually wrong, type.
fn odd_value(r: &mut Rng) -> Value {
    match r.below(12) {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(-1),
        3 => serde_json::from_str("18446744073709551616").unwrap(),
        4 => json!(1.5e300),
        5 => json!("x".repeat(100_000)),
        6 => json!("\u{0000}\u{202e}\u{feff}ö🙂"),
        7 => json!([]),
        8 => json!({}),
        9 => json!(["a", 1, null]),
        10 => json!("2026-13-45T99:99:99Z"),
        _ => json!("0198a0e0-0000-7000-8000-000000000000"),
    }
}

/// Replaces one random node of `v` (at any depth) with an odd value, or drops/adds a field.
fn mutate_value(v: &mut Value, r: &mut Rng) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            let keys: Vec<String> = m.keys().cloned().collect();
            let k = &keys[r.below(keys.len())];
            match r.below(4) {
                0 => {
                    m.remove(k);
                }
                1 => {
                    m.insert(format!("unknown_{}", r.below(100)), odd_value(r));
                }
                2 => mutate_value(m.get_mut(k).unwrap(), r),
                _ => {
                    m.insert(k.clone(), odd_value(r));
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let i = r.below(a.len());
            if r.below(2) == 0 { a[i] = odd_value(r) } else { mutate_value(&mut a[i], r) }
        }
        other => *other = odd_value(r),
    }
}

/// One mutated body as raw bytes.
fn mutant(valid: &Value, r: &mut Rng) -> Vec<u8> {
    let text = valid.to_string().into_bytes();
    match r.below(8) {
        0 => (0..r.below(300)).map(|_| r.next() as u8).collect(),
        1 => text[..r.below(text.len())].to_vec(),
        2 => {
            let mut t = text.clone();
            let i = r.below(t.len());
            t.insert(i, [0xff, 0xc3, 0x80, 0xed][r.below(4)]);
            t
        }
        3 => {
            let depth = 1 + r.below(20_000);
            format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
        }
        4 => {
            let mut t = text.clone();
            let i = r.below(t.len());
            let junk = b"{}[]\",:\\0ae-";
            t[i] = junk[r.below(junk.len())];
            t
        }
        _ => {
            let mut v = valid.clone();
            for _ in 0..=r.below(3) {
                mutate_value(&mut v, r);
            }
            v.to_string().into_bytes()
        }
    }
}

app_test!(mutated_bodies_get_4xx_problems_never_5xx, |app| {
    let w = world(&app).await;
    let c = consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    let consent_id = c["consent_id"].as_str().unwrap().to_string();
    let d = check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await;
    let scope = json!({"advertisers": [w.advertiser], "product_categories": ["insurance"], "channels": ["phone_live"]});
    let text = json!({
        "key": "fuzz", "title": "T", "body": "B", "scope": scope,
        "privacy_notice": {"url": "https://makler.example/datenschutz", "version": "1"}
    });
    let inbound = |provider: &'static str| {
        let app = &app;
        async move {
            let r =
                app.call("POST", "/v1/webhooks/inbound", Some(&app.api_key), Some(json!({"provider": provider}))).await;
            assert_eq!(r.status, 201, "{:?}", r.json);
            let path = r.json["url"].as_str().unwrap().replace(app.k.public_url.trim_end_matches('/'), "");
            (r.json["id"].as_str().unwrap().to_string(), path)
        }
    };
    let (inbound_id, mailchimp) = inbound("mailchimp").await;
    let (_, cleverreach) = inbound("cleverreach").await;
    // A valid body per route; each is the seed its mutants grow from.
    let seeds: Vec<(&str, String, Value)> = vec![
        (
            "POST",
            "/v1/check".into(),
            json!({"phone": PHONE, "channel": "phone_live", "advertiser_id": w.advertiser, "product_categories": ["insurance"], "campaign": "c"}),
        ),
        ("POST", "/v1/uses".into(), json!({"decision_id": d["decision_id"], "outcome": "attempt"})),
        (
            "POST",
            "/v1/advertisers".into(),
            json!({"legal_name": "A GmbH", "seat": "Bonn", "address_for_service": {"street": "A 1", "postcode": "53111", "city": "Bonn"}}),
        ),
        ("POST", "/v1/categories".into(), json!({"code": "pension", "label_de": "Rente", "label_en": "Pension"})),
        ("POST", "/v1/texts".into(), text.clone()),
        ("POST", "/v1/texts/lint".into(), text.clone()),
        ("POST", "/v1/texts/drafts".into(), text.clone()),
        ("PUT", format!("/v1/texts/{}", w.text), text),
        (
            "POST",
            "/v1/persons".into(),
            json!({"first_name": "Jan", "last_name": "Roth", "birth_date": "1980-02-29", "address": {"street": "B 2", "postcode": "50667", "city": "Köln"}, "contacts": [{"phone": "030 1234567"}, {"email": "jan@example.de"}]}),
        ),
        ("PATCH", format!("/v1/persons/{}", w.person), json!({"first_name": "Anna", "last_name": "Meyer"})),
        ("POST", format!("/v1/persons/{}/objection", w.person), json!({"channels": ["email"], "via": "letter"})),
        (
            "POST",
            "/v1/consents".into(),
            json!({
                "person_id": w.person, "contact_point_ids": [w.phone_cp], "text_id": w.text, "scope": scope,
                "capture_method": "web_form", "affirmative_action": true, "evidence": [web(&app), otp(&app, &w)]
            }),
        ),
        ("POST", format!("/v1/consents/{consent_id}/evidence"), json!({"evidence": [otp(&app, &w)]})),
        ("POST", format!("/v1/consents/{consent_id}/confirmation"), json!({"via": "sms"})),
        ("POST", "/v1/evidence".into(), json!({"phone": PHONE, "from": "2026-01-01T00:00:00Z"})),
        ("PUT", "/v1/settings".into(), json!({"four_eyes": false, "verification": {"min_age": 16}})),
        (
            "POST",
            "/v1/holds".into(),
            json!({"person_id": w.person, "reason": "complaint", "owner": "DSB", "review_at": "2030-01-01T00:00:00Z"}),
        ),
        ("POST", "/v1/retention/run".into(), json!({"dry_run": true})),
        ("POST", format!("/v1/persons/{}/access-requests", w.person), json!({"via": "email"})),
        (
            "POST",
            format!("/v1/consents/{consent_id}/withdraw"),
            json!({"scope": {"advertisers": [], "product_categories": [], "channels": ["email"]}, "via": "phone"}),
        ),
        ("POST", "/v1/suppressions".into(), json!({"email": EMAIL, "channels": ["email"], "reason": "complaint"})),
        ("POST", "/v1/suppressions/lookup".into(), json!({"phone": PHONE})),
        ("POST", "/v1/repermission".into(), json!({"advertiser": w.advertiser, "within_days": 30})),
        (
            "POST",
            "/v1/segments".into(),
            json!({"name": "Fuzz", "channel": "email", "advertiser": w.advertiser, "staleness_months": 18, "robinson": {"required": false}}),
        ),
        ("POST", "/v1/inbound/sms".into(), json!({"from": "+491712345678", "text": "Hallo"})),
        ("POST", "/v1/api-keys".into(), json!({"role": "agent", "label": "fuzz"})),
        (
            "POST",
            "/v1/forms".into(),
            json!({"slug": "fuzz-form", "text_id": w.text, "channels": ["email"], "title": "T"}),
        ),
        // A public IP literal: registering resolves no name.
        (
            "POST",
            "/v1/webhooks".into(),
            json!({"url": "https://93.184.215.14/hook", "events": ["consent.withdrawn"], "description": "CRM"}),
        ),
        (
            "POST",
            "/v1/webhooks/inbound".into(),
            json!({"provider": "mailchimp", "advertisers": [w.advertiser], "description": "Newsletter"}),
        ),
        ("PUT", format!("/v1/webhooks/inbound/{inbound_id}/secret"), json!({"signing_secret": "call-token"})),
        // The newsletter tools' callbacks parse what strangers may send.
        ("POST", mailchimp, json!({"type": "unsubscribe", "data": {"email": "x@example.de"}})),
        (
            "POST",
            cleverreach,
            json!({"event": "receiver.unsubscribed", "condition": "1", "payload": {"pool_id": 1, "email": "y@example.de"}}),
        ),
    ];
    // Every route that takes a body has a seed.
    for (m, p) in konsent_web::V1_ROUTES {
        let takes_body = matches!(*m, "post" | "put" | "patch")
            && !p.ends_with("/publish")
            && !p.ends_with("/retire")
            && !p.ends_with("/approve")
            && !p.ends_with("/release")
            && !p.ends_with("/access-export")
            && !p.ends_with("/replay")
            // An export takes no body; its query is tested in segments.rs.
            && !p.ends_with("/export")
            // Erasure is irreversible: its own tests send bodies, the fuzzer would erase the seed person.
            && !p.ends_with("/erasure")
            && !p.ends_with("/restriction")
            // Raw bodies (CSV, files), not JSON: their own tests send broken ones.
            && !konsent_web::RAW_BODY_ROUTES.contains(p);
        if takes_body {
            let known = seeds.iter().any(|(sm, sp, _)| {
                sm.eq_ignore_ascii_case(m)
                    && (sp == p || (p.contains("{id}") && sp.starts_with(p.split("{id}").next().unwrap())))
            });
            assert!(known, "{m} {p} has no fuzz seed");
        }
    }
    let key = Some(app.api_key.as_str());
    let mut r = Rng(0x5EED_0FC0_FFEE);
    let mut answered = std::collections::BTreeMap::<u16, usize>::new();
    for (method, path, valid) in &seeds {
        for case in 0..150 {
            let seed = r.0;
            let body = mutant(valid, &mut r);
            let res = app.call_raw(method, path, key, Some(body.clone()), "application/json").await;
            *answered.entry(res.status).or_default() += 1;
            let shown = String::from_utf8_lossy(&body[..body.len().min(300)]).to_string();
            assert!(
                res.status < 500,
                "{method} {path} case {case} (seed {seed:#x}) answered {}: {:?}\nbody: {shown}",
                res.status,
                res.json
            );
            if res.status >= 400 {
                assert_eq!(res.ctype, "application/problem+json", "{method} {path} case {case}: {:?}", res.json);
                assert!(res.json["code"].is_string(), "{method} {path} case {case}: {:?}", res.json);
            }
        }
    }
    assert!(answered.keys().any(|s| (400..500).contains(s)), "the mutants were refused: {answered:?}");
    // What was stored before is intact: the chain verifies and the consent still allows the call.
    let report = konsent_service::verify::verify(&app.k).await.unwrap();
    assert!(report.broken.is_none(), "{:?}", report.broken);
    let again = check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await;
    assert!(again["reasons"].is_array(), "{again}");
});
