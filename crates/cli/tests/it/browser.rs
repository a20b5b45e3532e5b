//! A real headless Chromium (Debian's chromium and chromium-driver, driven by fantoccini) signs up
//! on the hosted form (solving its proof of work in JavaScript), the confirmation mail is read from the outbox folder, the link is opened and
//! the button clicked; then the consent is checked through the API. The pages set no cookie and
//! store nothing in the browser (R66), every field has a label, and the link's page alone
//! confirms nothing (R13).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::api::world;
use crate::app_test;
use crate::doi::senders;
use crate::harness::TestApp;

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn browser() -> (Driver, Client) {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver is installed (scripts/test.sh installs chromium and chromium-driver)");
    let driver = Driver(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"binary": "/usr/bin/chromium", "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=de"]}),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session");
    (driver, client)
}

/// Serves the app on a real port; returns its base URL.
async fn serve(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut k = app.k.clone();
    k.public_url = base.clone();
    tokio::spawn(konsent_web::serve(k, listener, std::future::pending()));
    base
}

async fn text_of(c: &Client) -> String {
    c.find(Locator::Css("body")).await.unwrap().text().await.unwrap()
}

/// Storage the page left in the browser: cookies, localStorage, sessionStorage.
async fn storage(c: &Client) -> String {
    let v = c
        .execute("return document.cookie + '|' + localStorage.length + '|' + sessionStorage.length;", vec![])
        .await
        .unwrap();
    v.as_str().unwrap_or_default().to_string()
}

/// The one queued text message, delivered to a fake SMS gateway over HTTP: checks its recipient
/// and answers the six-digit code it carries.
async fn code_by_sms(app: &TestApp, to: &str) -> String {
    let texts = crate::otp::texts_delivered(app, 1).await;
    assert_eq!(texts[0].0, to);
    texts[0].1.chars().take(6).collect()
}

/// Enters a wrong code on a number page (refused; the consent stays requested), then the right
/// one, and waits for the confirmation page.
async fn wrong_code_then_right(c: &Client, app: &TestApp, consent: &str, code: &str) {
    let wrong = if code == "000000" { "111111" } else { "000000" };
    c.find(Locator::Css("#code")).await.unwrap().send_keys(wrong).await.unwrap();
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//p[contains(., 'Code stimmt nicht')]")).await.unwrap();
    assert_eq!(status(app, consent).await, "ConsentRequested");
    c.find(Locator::Css("#code")).await.unwrap().send_keys(code).await.unwrap();
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//h1[contains(., 'bestätigt')]")).await.unwrap();
}

async fn status(app: &TestApp, consent: &str) -> String {
    let c = app.call("GET", &format!("/v1/consents/{consent}"), Some(&app.api_key), None).await;
    c.json["status"].as_str().unwrap().to_string()
}

app_test!(r13_r66_a_browser_signs_up_and_confirms_by_mail, |app| {
    let w = world(&app).await;
    let f = app
        .call(
            "POST",
            "/v1/forms",
            Some(&app.api_key),
            Some(json!({
                "slug": "beratung", "text_id": w.text, "channels": ["email"], "title": "Newsletter"
            })),
        )
        .await;
    assert_eq!(f.status, 201, "{:?}", f.json);
    let base = serve(&app).await;
    let (_driver, c) = browser().await;

    c.goto(&format!("{base}/f/beratung")).await.unwrap();
    // Every visible field and box has a label.
    let unlabelled = c
        .execute(
            "return [...document.querySelectorAll('input:not([type=hidden])')]
               .filter(i => !i.closest('.hp') && !document.querySelector('label[for=\"' + i.id + '\"]')).length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(unlabelled, json!(0));
    let boxes = c.find(Locator::Css("#ch-email")).await.unwrap();
    assert_eq!(boxes.prop("checked").await.unwrap().as_deref(), Some("false"), "not pre-ticked (R4)");
    c.find(Locator::Css("#first_name")).await.unwrap().send_keys("Clara").await.unwrap();
    c.find(Locator::Css("#last_name")).await.unwrap().send_keys("Berg").await.unwrap();
    c.find(Locator::Css("#email")).await.unwrap().send_keys("clara.berg@example.de").await.unwrap();
    boxes.click().await.unwrap();
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//h1[contains(., 'Fast geschafft')]")).await.unwrap();
    assert_eq!(storage(&c).await, "|0|0", "no cookie, nothing stored (R66)");

    // The mail: no SMTP configured, so it lands as a file.
    let dir = tempfile::tempdir().unwrap();
    let mailer = konsent_jobs::mailer::Mailer::new("", dir.path().to_path_buf()).unwrap();
    assert_eq!(konsent_jobs::mailer::deliver_due(&app.k, &senders(&mailer)).await, 1);
    let eml = std::fs::read_dir(dir.path()).unwrap().flatten().next().unwrap().path();
    let mail = std::fs::read_to_string(eml).unwrap().replace("=\r\n", "").replace("=\n", "");
    let at = mail.find(&format!("{base}/doi/")).expect("the link points at this installation");
    let link: String = mail[at..].chars().take_while(|ch| !ch.is_whitespace()).collect();

    c.goto(&link).await.unwrap();
    assert!(text_of(&c).await.contains("Einwilligung bestätigen"));
    let consents = app.call("GET", "/v1/consents", Some(&app.api_key), None).await;
    let consent =
        consents.json["items"].as_array().unwrap().last().unwrap()["consent_id"].as_str().unwrap().to_string();
    assert_eq!(status(&app, &consent).await, "ConsentRequested", "opening the link confirms nothing");
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//h1[contains(., 'bestätigt')]")).await.unwrap();
    assert_eq!(status(&app, &consent).await, "ConsentGiven");
    assert_eq!(storage(&c).await, "|0|0");
    let full = app.call("GET", &format!("/v1/consents/{consent}"), Some(&app.api_key), None).await;
    let doi = full.json["evidence"].as_array().unwrap().iter().find(|e| e["kind"] == "email_doi").cloned().unwrap();
    assert!(doi["request_details"].is_string(), "IP and user agent are kept as a hash: {doi}");
    c.close().await.unwrap();
});

app_test!(r43_r15_a_phone_consent_renewed_by_mail_counts_only_after_the_sms_code_entered_in_the_browser, |app| {
    use jiff::SignedDuration;

    use crate::api::{PHONE, check, consent, doi, otp, web};
    let w = world(&app).await;
    let key = Some(app.api_key.as_str());
    let old = consent(&app, &w, json!([web(&app), doi(&app, &w), otp(&app, &w)])).await;
    assert_eq!(old["status"], "ConsentGiven", "{old}");
    let old_id = old["consent_id"].as_str().unwrap().to_string();
    // Eleven and a half months on, the phone consent turns stale within the window (R29: 12 months).
    app.clock.advance(SignedDuration::from_hours(24 * 345));
    let sent = app.call("POST", "/v1/repermission", key, Some(json!({"advertiser": w.advertiser}))).await;
    assert_eq!(sent.status, 200, "{:?}", sent.json);
    assert_eq!((sent.json["mails"].as_u64(), sent.json["with_number"].as_u64()), (Some(1), Some(1)), "{:?}", sent.json);
    let before = app.call("GET", &format!("/v1/consents/{old_id}"), key, None).await.json;

    let base = serve(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let mailer = konsent_jobs::mailer::Mailer::new("", dir.path().to_path_buf()).unwrap();
    assert_eq!(konsent_jobs::mailer::deliver_due(&app.k, &senders(&mailer)).await, 1);
    let eml = std::fs::read_dir(dir.path()).unwrap().flatten().next().unwrap().path();
    let token = crate::doi::token_in(&std::fs::read_to_string(eml).unwrap());
    let list = app.call("GET", "/v1/consents", key, None).await.json;
    let renewal =
        list["items"].as_array().unwrap().iter().find(|c| c["consent_id"] != old_id.as_str()).cloned().unwrap();
    let renewal = renewal["consent_id"].as_str().unwrap().to_string();

    let (_driver, c) = browser().await;
    c.goto(&format!("{base}/doi/{token}")).await.unwrap();
    assert!(text_of(&c).await.contains("Code per SMS"), "the page says a text message follows");
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#code")).await.unwrap();
    assert!(text_of(&c).await.contains("E-Mail-Adresse ist bestätigt"));
    assert_eq!(status(&app, &renewal).await, "ConsentRequested", "e-mail alone does not verify the number (R15)");

    let code = code_by_sms(&app, "+491712345678").await;

    wrong_code_then_right(&c, &app, &renewal, &code).await;
    assert!(text_of(&c).await.contains("Rufnummer und Ihre Einwilligung sind bestätigt"));
    assert_eq!(storage(&c).await, "|0|0");
    c.close().await.unwrap();
    assert_eq!(status(&app, &renewal).await, "RenewedConsentGiven", "a renewal is RenewedConsentGiven (R43)");
    // The link is done with: the same code again is answered as already verified, no new code goes.
    let again = crate::doi::enter_code(&app, &token, &code).await;
    assert_eq!(again.status, 409, "{}", again.text());
    assert!(again.text().contains("bereits bestätigt"), "{}", again.text());
    let resend = app
        .call_raw(
            "POST",
            &format!("/doi/{token}"),
            None,
            Some(b"resend=1".to_vec()),
            "application/x-www-form-urlencoded",
        )
        .await;
    assert_eq!(resend.status, 409, "{}", resend.text());

    // The old record is as it was (R43); a month later it is stale and the call rests on the renewal.
    assert_eq!(app.call("GET", &format!("/v1/consents/{old_id}"), key, None).await.json, before);
    app.clock.advance(SignedDuration::from_hours(24 * 30));
    let d = check(&app, &app.api_key, &w, "phone_live", json!({"phone": PHONE})).await;
    assert_eq!(d["allowed"], true, "{d}");
    assert!(d.to_string().contains(&renewal), "{d}");
    assert!(!d.to_string().contains(&old_id), "{d}");
});

app_test!(r20_r15_a_phone_consent_from_the_hosted_form_is_given_after_the_mail_click_and_the_sms_code, |app| {
    use crate::api::check;
    let w = world(&app).await;
    let key = Some(app.api_key.as_str());
    let f = app
        .call(
            "POST",
            "/v1/forms",
            key,
            Some(json!({
                "slug": "rueckruf", "text_id": w.text, "channels": ["email", "phone_live"], "title": "Beratung"
            })),
        )
        .await;
    assert_eq!(f.status, 201, "{:?}", f.json);
    // The text names one advertiser: it receives the declarations, through this form (R20).
    assert_eq!(
        f.json["declaration_recipient"],
        json!({"organisation": "Muster Versicherungsmakler GmbH", "agent_pseudonym": "Webformular /f/rueckruf"})
    );
    let base = serve(&app).await;
    let (_driver, c) = browser().await;
    c.goto(&format!("{base}/f/rueckruf")).await.unwrap();
    let fill = |id: &'static str, v: &'static str| {
        let c = c.clone();
        async move { c.find(Locator::Css(id)).await.unwrap().send_keys(v).await.unwrap() }
    };
    fill("#first_name", "Clara").await;
    fill("#last_name", "Berg").await;
    fill("#email", "clara.berg@example.de").await;
    fill("#phone", "0171 9876543").await;
    c.find(Locator::Css("#ch-email")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#ch-phone_live")).await.unwrap().click().await.unwrap();
    // Calls need the residential address: without it the form names the fields.
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//h1[contains(., 'Bitte prüfen')]")).await.unwrap();
    let page = text_of(&c).await;
    assert!(page.contains("Straße und Hausnummer") && page.contains("Für Telefonwerbung erforderlich"), "{page}");
    assert_eq!(app.call("GET", "/v1/consents", key, None).await.json["items"].as_array().unwrap().len(), 0);
    c.back().await.unwrap();
    c.wait().for_element(Locator::Css("#street")).await.unwrap();
    fill("#street", "Hohe Straße 3").await;
    fill("#postcode", "50667").await;
    fill("#city", "Köln").await;
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//h1[contains(., 'Fast geschafft')]")).await.unwrap();
    let list = app.call("GET", "/v1/consents", key, None).await.json;
    let consent = list["items"].as_array().unwrap().last().unwrap()["consent_id"].as_str().unwrap().to_string();

    // The mail's link confirms the address; the page then sends a code to the number.
    let dir = tempfile::tempdir().unwrap();
    let mailer = konsent_jobs::mailer::Mailer::new("", dir.path().to_path_buf()).unwrap();
    assert_eq!(konsent_jobs::mailer::deliver_due(&app.k, &senders(&mailer)).await, 1);
    let eml = std::fs::read_dir(dir.path()).unwrap().flatten().next().unwrap().path();
    let token = crate::doi::token_in(&std::fs::read_to_string(eml).unwrap());
    c.goto(&format!("{base}/doi/{token}")).await.unwrap();
    assert!(text_of(&c).await.contains("Code per SMS"), "the page says a text message follows");
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#code")).await.unwrap();
    assert_eq!(status(&app, &consent).await, "ConsentRequested", "the number is not verified yet (R15)");
    let d = check(&app, &app.api_key, &w, "phone_live", json!({"phone": "+491719876543"})).await;
    assert_eq!(d["allowed"], false, "{d}");

    let code = code_by_sms(&app, "+491719876543").await;
    c.find(Locator::Css("#code")).await.unwrap().send_keys(&code).await.unwrap();
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//h1[contains(., 'bestätigt')]")).await.unwrap();
    assert_eq!(storage(&c).await, "|0|0");
    c.close().await.unwrap();

    // Complete (R20) and verified (R15): the call may be made, and the proof names the recipient.
    assert_eq!(status(&app, &consent).await, "ConsentGiven");
    let d = check(&app, &app.api_key, &w, "phone_live", json!({"phone": "+491719876543"})).await;
    assert_eq!(d["allowed"], true, "{d}");
    let full = app.call("GET", &format!("/v1/consents/{consent}"), key, None).await.json;
    assert_eq!(full["declaration_recipient"]["agent_pseudonym"], "Webformular /f/rueckruf", "{full}");
});

app_test!(r15_r20_a_callback_form_without_e_mail_verifies_the_number_by_sms_code_on_the_next_page, |app| {
    use crate::api::check;
    let w = world(&app).await;
    let key = Some(app.api_key.as_str());
    let f = app
        .call(
            "POST",
            "/v1/forms",
            key,
            Some(json!({"slug": "rueckruf", "text_id": w.text, "channels": ["phone_live"], "title": "Rückruf"})),
        )
        .await;
    assert_eq!(f.status, 201, "{:?}", f.json);
    let base = serve(&app).await;
    let (_driver, c) = browser().await;
    c.goto(&format!("{base}/f/rueckruf")).await.unwrap();
    for (id, v) in [
        ("#first_name", "Dora"),
        ("#last_name", "Lenz"),
        ("#phone", "0171 5550123"),
        ("#street", "Ringstraße 9"),
        ("#postcode", "50667"),
        ("#city", "Köln"),
    ] {
        c.find(Locator::Css(id)).await.unwrap().send_keys(v).await.unwrap();
    }
    c.find(Locator::Css("#ch-phone_live")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    // No mail to click: the next page asks for the code that went to the number.
    c.wait().for_element(Locator::Css("#code")).await.unwrap();
    assert!(text_of(&c).await.contains("Code per SMS"));
    let list = app.call("GET", "/v1/consents", key, None).await.json;
    let consent = list["items"].as_array().unwrap().last().unwrap()["consent_id"].as_str().unwrap().to_string();
    assert_eq!(status(&app, &consent).await, "ConsentRequested", "not before the code (R15)");

    let code = code_by_sms(&app, "+491715550123").await;
    wrong_code_then_right(&c, &app, &consent, &code).await;
    assert_eq!(storage(&c).await, "|0|0");
    let url = c.current_url().await.unwrap();
    c.close().await.unwrap();
    assert_eq!(status(&app, &consent).await, "ConsentGiven");
    let d = check(&app, &app.api_key, &w, "phone_live", json!({"phone": "+491715550123"})).await;
    assert_eq!(d["allowed"], true, "{d}");

    // The reference names the consent but cannot be forged, and it is done with once verified.
    assert!(url.path().starts_with("/f/rueckruf/code/"), "{url}");
    let reference = url.path().trim_start_matches("/f/rueckruf/code/").to_string();
    let post = |path: String, body: &'static str| {
        let app = &app;
        async move {
            app.call_raw("POST", &path, None, Some(body.as_bytes().to_vec()), "application/x-www-form-urlencoded").await
        }
    };
    let forged = format!("{}0", &reference[..reference.len() - 1]);
    let forged = if forged == reference { format!("{}1", &reference[..reference.len() - 1]) } else { forged };
    assert_eq!(post(format!("/f/rueckruf/code/{forged}"), "resend=1").await.status, 404);
    let again = post(format!("/f/rueckruf/code/{reference}"), "resend=1").await;
    assert_eq!(again.status, 409, "already verified: no new code");
});
