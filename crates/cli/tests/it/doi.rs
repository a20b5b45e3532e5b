//! E-mail double opt-in through a real SMTP server (Debian's python3-aiosmtpd writing a Maildir),
//! on both engines: the mail waits in the outbox while the server is down and goes out once when
//! it is up; the link's GET confirms nothing, its button does, once, before it expires (R13).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::api::{EMAIL, web, world};
use crate::app_test;
use crate::harness::TestApp;

/// An SMTP server process that stores what it receives in a Maildir.
struct SmtpServer {
    child: Child,
    maildir: PathBuf,
}

impl SmtpServer {
    fn start(port: u16, maildir: &Path) -> Self {
        let child = Command::new("/usr/bin/python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3-aiosmtpd is installed (scripts/test.sh installs it)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the SMTP server did not start on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, maildir: maildir.to_path_buf() }
    }

    /// The delivered messages, as text.
    fn messages(&self) -> Vec<String> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(d) = std::fs::read_dir(self.maildir.join(sub)) {
                for e in d.flatten() {
                    out.push(std::fs::read_to_string(e.path()).unwrap());
                }
            }
        }
        out
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The outbox's senders with this mailer (text messages into a scratch folder).
pub fn senders(mail: &konsent_jobs::mailer::Mailer) -> konsent_jobs::mailer::Senders {
    konsent_jobs::mailer::Senders {
        mail: mail.clone(),
        from: "Konsent <konsent@localhost>".into(),
        sms: konsent_jobs::sms::SmsSender::Dir(std::env::temp_dir().join("konsent-test-sms")),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The decoded text of a plain-text mail as the outbox writes it (quoted-printable or base64).
pub fn body_of(raw: &str) -> String {
    use base64::Engine as _;
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").expect("headers, then the body");
    let head = head.to_ascii_lowercase();
    let bytes = if head.contains("content-transfer-encoding: base64") {
        let b64: String = body.split_whitespace().collect();
        base64::engine::general_purpose::STANDARD.decode(b64).expect("base64 body")
    } else if head.contains("content-transfer-encoding: quoted-printable") {
        let flat = body.replace("=\n", "");
        let (mut out, b) = (Vec::new(), flat.as_bytes());
        let mut i = 0;
        while i < b.len() {
            match (b[i], b.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok())) {
                (b'=', Some(v)) => {
                    out.push(v);
                    i += 3;
                }
                (c, _) => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        out
    } else {
        body.as_bytes().to_vec()
    };
    String::from_utf8(bytes).expect("UTF-8 text")
}

/// Delivers the one mail due into a folder and answers it as sent.
pub async fn the_mail(app: &TestApp) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mailer = konsent_jobs::mailer::Mailer::new("", dir.path().to_path_buf()).unwrap();
    assert_eq!(konsent_jobs::mailer::deliver_due(&app.k, &crate::doi::senders(&mailer)).await, 1);
    let file = std::fs::read_dir(dir.path()).unwrap().flatten().next().unwrap().path();
    std::fs::read_to_string(file).unwrap()
}

/// The confirmation token in a mail (quoted-printable may wrap long lines).
pub fn token_in(mail: &str) -> String {
    let flat = mail.replace("=\r\n", "").replace("=\n", "");
    let at = flat.find("/doi/").expect("the mail carries the link") + 5;
    flat[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

/// Posts a code on the page of a confirmation link, as the page's form does.
pub async fn enter_code(app: &TestApp, token: &str, code: &str) -> crate::harness::Response {
    let body = format!("code={code}").into_bytes();
    app.call_raw("POST", &format!("/doi/{token}"), None, Some(body), "application/x-www-form-urlencoded").await
}

pub async fn email_consent(app: &TestApp) -> (crate::api::World, String) {
    let w = world(app).await;
    let id = email_request(app, &w).await;
    (w, id)
}

/// An e-mail consent of the world's person by web form, waiting for its double opt-in.
pub async fn email_request(app: &TestApp, w: &crate::api::World) -> String {
    let r = app
        .call(
            "POST",
            "/v1/consents",
            Some(&app.api_key),
            Some(json!({
                "person_id": w.person, "contact_point_ids": [w.email_cp], "text_id": w.text,
                "scope": {"advertisers": [w.advertiser], "product_categories": ["insurance"], "channels": ["email"]},
                "capture_method": "web_form", "affirmative_action": true, "evidence": [web(app)]
            })),
        )
        .await;
    assert_eq!((r.status, r.json["status"].as_str()), (201, Some("ConsentRequested")), "{:?}", r.json);
    r.json["consent_id"].as_str().unwrap().to_string()
}

pub async fn status(app: &TestApp, consent: &str) -> String {
    let c = app.call("GET", &format!("/v1/consents/{consent}"), Some(&app.api_key), None).await;
    c.json["status"].as_str().unwrap().to_string()
}

app_test!(r13_r69_doi_mail_survives_smtp_outage_confirms_once_by_button_and_sends_a_receipt, |app| {
    let (_w, consent) = email_consent(&app).await;
    let q = app.call("POST", &format!("/v1/consents/{consent}/doi"), Some(&app.api_key), None).await;
    assert_eq!(q.status, 202, "{:?}", q.json);

    // The SMTP server is down: nothing is lost, the mail waits for the next attempt.
    let port = free_port();
    let mailer = konsent_jobs::mailer::Mailer::new(&format!("smtp://127.0.0.1:{port}"), "/nowhere".into()).unwrap();
    assert_eq!(konsent_jobs::mailer::deliver_due(&app.k, &senders(&mailer)).await, 0);
    assert_eq!(konsent_store::queries::outbox_counts(&app.k.db).await.unwrap(), (1, 0));
    let m = app.call("GET", "/metrics", None, None).await;
    assert!(m.json.as_str().unwrap().contains("konsent_outbox_messages{status=\"pending\"} 1"), "outbox depth");

    // It comes up; after the backoff the mail goes out, exactly once.
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(port, &dir.path().join("Maildir"));
    assert_eq!(konsent_jobs::mailer::deliver_due(&app.k, &senders(&mailer)).await, 0, "not due yet (backoff)");
    app.clock.advance(jiff::SignedDuration::from_secs(5));
    assert_eq!(konsent_jobs::mailer::deliver_due(&app.k, &senders(&mailer)).await, 1);
    app.clock.advance(jiff::SignedDuration::from_secs(120));
    assert_eq!(konsent_jobs::mailer::deliver_due(&app.k, &senders(&mailer)).await, 0, "sent once");
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert!(mail.contains(EMAIL), "addressed to the person");
    assert!(mail.contains(q.json["message_id"].as_str().unwrap()), "the queued message id");
    let token = token_in(mail);
    assert!(token.len() >= 22, "128-bit token: {token}");

    // Opening the link shows the button; it confirms nothing (mail scanners open links).
    let page = app.call("GET", &format!("/doi/{token}"), None, None).await;
    assert_eq!(page.status, 200);
    assert!(page.ctype.starts_with("text/html"), "{}", page.ctype);
    let html = page.json.as_str().unwrap();
    assert!(html.contains("<button") && html.contains("Muster Versicherungsmakler GmbH"), "{html}");
    assert_eq!(status(&app, &consent).await, "ConsentRequested");

    // The button confirms: DOI evidence with time and request details, consent given.
    let ok = app.call_with("POST", &format!("/doi/{token}"), None, None, "", &[("user-agent", "Firefox")]).await;
    assert_eq!(ok.status, 200, "{:?}", ok.json);
    assert_eq!(status(&app, &consent).await, "ConsentGiven");
    let c = app.call("GET", &format!("/v1/consents/{consent}"), Some(&app.api_key), None).await;
    let doi = c.json["evidence"].as_array().unwrap().iter().find(|e| e["kind"] == "email_doi").cloned().unwrap();
    assert!(doi["confirmed_at"].is_string() && doi["request_details"].is_string(), "{doi}");
    assert_eq!(doi["message_id"], q.json["message_id"]);

    // R69: a receipt goes to the confirmed address, and the ledger says so.
    assert_eq!(konsent_jobs::mailer::deliver_due(&app.k, &senders(&mailer)).await, 1);
    let receipt = smtp.messages().into_iter().find(|m| m.contains("Beleg")).expect("a receipt mail");
    let flat = receipt.replace("=\r\n", "").replace("=\n", "");
    for needle in ["Muster Versicherungsmakler GmbH (K", "telefon-email v1", "insurance", "widerrufen", EMAIL] {
        assert!(flat.contains(needle), "receipt lacks {needle}: {flat}");
    }
    let person = c.json["person_id"].as_str().unwrap();
    let tl = app.call("GET", &format!("/v1/persons/{person}/timeline"), Some(&app.api_key), None).await;
    assert!(tl.json.to_string().contains("receipt_issued"), "{:?}", tl.json);

    // Single use.
    let again = app.call("POST", &format!("/doi/{token}"), None, None).await;
    assert_eq!(again.status, 409);
    assert_eq!(app.call("GET", &format!("/doi/{token}"), None, None).await.status, 409);
    assert_eq!(app.call("POST", "/doi/not-a-token", None, None).await.status, 404);
    // A confirmed consent needs no second mail.
    let q2 = app.call("POST", &format!("/v1/consents/{consent}/doi"), Some(&app.api_key), None).await;
    assert_eq!(q2.status, 409, "{:?}", q2.json);
});

app_test!(r13_confirm_token_expires_after_seven_days, |app| {
    let (_w, consent) = email_consent(&app).await;
    let q = app.call("POST", &format!("/v1/consents/{consent}/doi"), Some(&app.api_key), None).await;
    assert_eq!(q.status, 202, "{:?}", q.json);
    // One confirmation mail while its link is valid (R13).
    let twice = app.call("POST", &format!("/v1/consents/{consent}/doi"), Some(&app.api_key), None).await;
    assert_eq!(twice.status, 409, "{:?}", twice.json);
    // No SMTP configured: the mail lands as a file in the outbox folder.
    let dir = tempfile::tempdir().unwrap();
    let mailer = konsent_jobs::mailer::Mailer::new("", dir.path().to_path_buf()).unwrap();
    assert_eq!(konsent_jobs::mailer::deliver_due(&app.k, &senders(&mailer)).await, 1);
    let file = std::fs::read_dir(dir.path()).unwrap().flatten().next().unwrap().path();
    let token = token_in(&std::fs::read_to_string(file).unwrap());
    app.clock.advance(jiff::SignedDuration::from_hours(7 * 24 + 1));
    assert_eq!(app.call("GET", &format!("/doi/{token}"), None, None).await.status, 410);
    assert_eq!(app.call("POST", &format!("/doi/{token}"), None, None).await.status, 410);
    assert_eq!(status(&app, &consent).await, "ConsentRequested");
    // Once expired, a new mail may be sent.
    let renewed = app.call("POST", &format!("/v1/consents/{consent}/doi"), Some(&app.api_key), None).await;
    assert_eq!(renewed.status, 202, "{:?}", renewed.json);
});

app_test!(r39_withdrawal_cancels_the_queued_confirmation_mail, |app| {
    let (_w, consent) = email_consent(&app).await;
    let q = app.call("POST", &format!("/v1/consents/{consent}/doi"), Some(&app.api_key), None).await;
    assert_eq!(q.status, 202, "{:?}", q.json);
    assert_eq!(konsent_store::queries::outbox_counts(&app.k.db).await.unwrap(), (1, 0));
    let r = app.call("POST", &format!("/v1/consents/{consent}/withdraw"), Some(&app.api_key), Some(json!({}))).await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    let dir = tempfile::tempdir().unwrap();
    let mailer = konsent_jobs::mailer::Mailer::new("", dir.path().to_path_buf()).unwrap();
    assert_eq!(konsent_jobs::mailer::deliver_due(&app.k, &senders(&mailer)).await, 0, "nothing goes out");
    assert_eq!(konsent_store::queries::outbox_counts(&app.k.db).await.unwrap(), (0, 0));
    assert_eq!(std::fs::read_dir(dir.path()).map(|d| d.count()).unwrap_or(0), 0);
});

app_test!(r13_at_most_one_reminder_and_only_while_unconfirmed, |app| {
    let (_w, consent) = email_consent(&app).await;
    assert_eq!(app.call("POST", &format!("/v1/consents/{consent}/doi"), Some(&app.api_key), None).await.status, 202);
    let day = jiff::SignedDuration::from_hours(24);
    assert_eq!(app.k.send_doi_reminders(day).await.unwrap(), 0, "not yet");
    app.clock.advance(jiff::SignedDuration::from_hours(25));
    assert_eq!(app.k.send_doi_reminders(day).await.unwrap(), 1);
    app.clock.advance(jiff::SignedDuration::from_hours(25));
    assert_eq!(app.k.send_doi_reminders(day).await.unwrap(), 0, "one reminder at most");
    let dir = tempfile::tempdir().unwrap();
    let mailer = konsent_jobs::mailer::Mailer::new("", dir.path().to_path_buf()).unwrap();
    assert_eq!(konsent_jobs::mailer::deliver_due(&app.k, &senders(&mailer)).await, 2);
    let subjects: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .filter(|m| m.contains("Erinnerung"))
        .collect();
    assert_eq!(subjects.len(), 1, "the second mail is marked as the reminder");
});

app_test!(r39_r43_a_confirmation_link_clicked_after_the_withdrawal_does_not_revive_the_consent, |app| {
    let (_w, consent) = email_consent(&app).await;
    assert_eq!(app.call("POST", &format!("/v1/consents/{consent}/doi"), Some(&app.api_key), None).await.status, 202);
    let dir = tempfile::tempdir().unwrap();
    let mailer = konsent_jobs::mailer::Mailer::new("", dir.path().to_path_buf()).unwrap();
    assert_eq!(konsent_jobs::mailer::deliver_due(&app.k, &senders(&mailer)).await, 1, "the mail is out");
    let file = std::fs::read_dir(dir.path()).unwrap().flatten().next().unwrap().path();
    let token = token_in(&std::fs::read_to_string(file).unwrap());
    let r = app.call("POST", &format!("/v1/consents/{consent}/withdraw"), Some(&app.api_key), Some(json!({}))).await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    // The person clicks the link in the mail that had already arrived.
    let page = app.call("GET", &format!("/doi/{token}"), None, None).await;
    assert_eq!(page.status, 410, "{}", page.text());
    assert!(page.text().contains("widerrufen"), "{}", page.text());
    let click = app.call("POST", &format!("/doi/{token}"), None, None).await;
    assert_eq!(click.status, 410, "{}", click.text());
    let c = app.call("GET", &format!("/v1/consents/{consent}"), Some(&app.api_key), None).await.json;
    assert_eq!(
        c["status"], "ConsentWithdrawn",
        "a withdrawal is not undone by an old link; a new consent is a new event (R43): {c}"
    );
    assert!(!c["evidence_kinds"].to_string().contains("email_doi"), "{c}");
});

/// Withdraws an e-mail consent, then appends a status change of it from `from` to `to` as a
/// click or job read before would. Answers the append's error, after checking that the consent
/// is still withdrawn and that nothing of the append reached the ledger.
async fn status_change_after_withdrawal(
    app: &TestApp,
    from: konsent_domain::consent::ConsentStatus,
    to: konsent_domain::consent::ConsentStatus,
) -> konsent_service::ServiceError {
    use konsent_domain::ids::{ConsentId, EventId};
    use konsent_domain::ledger::{Actor, EventBody};
    let (_w, consent) = email_consent(app).await;
    let r = app.call("POST", &format!("/v1/consents/{consent}/withdraw"), Some(&app.api_key), Some(json!({}))).await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    let entries = app.ledger_text().await.lines().count();
    let change = konsent_store::PendingEvent {
        event_id: EventId::from_parts(1_800_000_000_000, [7; 10]),
        actor: Actor::System,
        body: EventBody::ConsentStatusChanged {
            consent_id: consent.parse::<ConsentId>().unwrap(),
            from,
            to,
            reason: "test".into(),
            at: app.k.now(),
        },
    };
    let err = app.k.append(app.tenant, vec![change], vec![]).await.unwrap_err();
    assert_eq!(status(app, &consent).await, "ConsentWithdrawn");
    assert_eq!(app.ledger_text().await.lines().count(), entries, "nothing of the append is in the ledger");
    err
}

app_test!(r39_a_confirmation_decided_before_a_withdrawal_that_commits_first_is_refused_whole, |app| {
    use konsent_domain::consent::ConsentStatus;
    // What a click read before the withdrawal committed: still requested, so it would be given.
    let err = status_change_after_withdrawal(&app, ConsentStatus::Requested, ConsentStatus::Given).await;
    assert!(matches!(&err, konsent_service::ServiceError::Ended(_)), "{err}");
});

app_test!(r13_an_expiry_decided_before_the_confirmation_that_commits_first_is_refused_whole, |app| {
    use konsent_domain::consent::ConsentStatus;
    use konsent_domain::ledger::Actor;
    let (_w, consent) = email_consent(&app).await;
    // The sweep reads the request as still unconfirmed and decides to end it ...
    let stale = app.k.status_event(
        &Actor::System,
        consent.parse().unwrap(),
        ConsentStatus::Requested,
        ConsentStatus::Expired,
        "doi_not_confirmed",
        app.k.now(),
    );
    // ... while the person's click confirms it and commits first.
    let q = app.call("POST", &format!("/v1/consents/{consent}/doi"), Some(&app.api_key), None).await;
    assert_eq!(q.status, 202, "{:?}", q.json);
    let dir = tempfile::tempdir().unwrap();
    let mailer = konsent_jobs::mailer::Mailer::new("", dir.path().to_path_buf()).unwrap();
    assert_eq!(konsent_jobs::mailer::deliver_due(&app.k, &senders(&mailer)).await, 1);
    let file = std::fs::read_dir(dir.path()).unwrap().flatten().next().unwrap().path();
    let token = token_in(&std::fs::read_to_string(file).unwrap());
    assert_eq!(app.call("POST", &format!("/doi/{token}"), None, None).await.status, 200);
    assert_eq!(status(&app, &consent).await, "ConsentGiven");
    // Given may expire, but not by a decision about the request it no longer is.
    let entries = app.ledger_text().await;
    let err = app.k.append(app.tenant, vec![stale], vec![]).await.unwrap_err();
    assert!(matches!(&err, konsent_service::ServiceError::Conflict(_)), "{err}");
    assert_eq!(status(&app, &consent).await, "ConsentGiven");
    assert_eq!(app.ledger_text().await, entries, "nothing of the append is in the ledger");
});

app_test!(a_status_change_the_state_machine_has_no_edge_for_is_refused_whole, |app| {
    use konsent_domain::consent::ConsentStatus;
    // A withdrawn consent does not expire: section 5 has no such edge (expiry ends valid or
    // pending consents only), even though the change names the stored status.
    let err = status_change_after_withdrawal(&app, ConsentStatus::Withdrawn, ConsentStatus::Expired).await;
    assert!(err.to_string().contains("is not a permitted transition"), "{err}");
});
