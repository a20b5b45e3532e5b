//! How an import runs across its batches, through the service on both engines: a dry run writes
//! nothing and finds what the import finds, an import stopped between batches or inside a
//! transaction of several resumes where it stopped, and rows of one person in different batches
//! (an opt-out after the sign-up, a sign-up after the opt-out) are honoured as in one (R25, R30,
//! R39); two imports of one tenant started together make one person an address.

use konsent_service::imports::{ImportOptions, ImportReport};

use crate::api::world;
use crate::app_test;
use crate::imports::{MAILCHIMP_ZIP, email_allowed, fixture, mailchimp, upload};

/// A Mailchimp member file of `rows`, each (address, first and last name, status, whether it has
/// the whole double opt-in record: sign-up and confirmation time and IP).
fn members_file(path: &std::path::Path, rows: &[(String, &str, &str, bool)]) {
    let mut csv =
        String::from("Email Address,First Name,Last Name,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,Status\n");
    for (email, name, status, record) in rows {
        let (first, last) = name.split_once(' ').unwrap_or((name, ""));
        let record = if *record { "2025-03-01 10:00:00,192.0.2.7,2025-03-01 10:05:00,192.0.2.7" } else { ",,," };
        csv += &format!("{email},{first},{last},{record},{status}\n");
    }
    std::fs::write(path, csv).unwrap();
}

app_test!(r25_dry_run_writes_nothing_and_an_interrupted_import_resumes_where_it_stopped, |app| {
    let w = world(&app).await;
    let before = app.ledger_text().await;
    let dry = upload(&app, &w, "mailchimp", MAILCHIMP_ZIP, "&dry_run=true").await;
    assert_eq!(app.ledger_text().await, before, "a dry run writes nothing");

    let opts = mailchimp(&w, false, 10);
    let actor = konsent_domain::ledger::Actor::User("test".into());
    let path = fixture(MAILCHIMP_ZIP);
    // Stopped after the second batch: rows 1–20 are committed.
    let first: ImportReport = app.k.import_file(app.tenant, &actor, &path, &opts, &|p| p.rows < 20).await.unwrap();
    assert!(first.stopped);
    assert_eq!(first.rows, 20);
    let rest = app.k.import_file(app.tenant, &actor, &path, &opts, &|_| true).await.unwrap();
    assert_eq!(rest.resumed_after, 20);
    assert!(!rest.stopped);
    // Together they did what the dry run said the whole file would do.
    assert_eq!(serde_json::to_value(&rest.outcomes).unwrap(), dry["outcomes"], "{:?}", rest);
    assert_eq!(rest.persons_created, dry["persons_created"].as_u64().unwrap());
    let again = app.k.import_file(app.tenant, &actor, &path, &opts, &|_| true).await.unwrap();
    assert!(again.already_imported);
});

app_test!(r25_an_import_stopped_inside_a_transaction_of_several_batches_resumes_after_its_last_batch, |app| {
    let w = world(&app).await;
    let actor = konsent_domain::ledger::Actor::User("test".into());
    let path = fixture(MAILCHIMP_ZIP);
    let dry = app.k.import_file(app.tenant, &actor, &path, &mailchimp(&w, true, 10), &|_| true).await.unwrap();
    let batches = || async {
        let row = app.k.db.fetch_optional("SELECT count(*) FROM ledger WHERE kind = 'batch'", vec![]).await.unwrap();
        row.unwrap().i64(0).unwrap()
    };
    // Transactions of 20 rows written as batches of 5: stopped after the third batch, inside
    // the first transaction. What was handed on is committed when the run answers.
    let opts = ImportOptions { chunk_rows: 5, ..mailchimp(&w, false, 20) };
    let first = app.k.import_file(app.tenant, &actor, &path, &opts, &|p| p.rows < 15).await.unwrap();
    assert!(first.stopped);
    assert_eq!(first.rows, 15);
    assert_eq!(batches().await, 3, "one batch entry a batch of five rows");
    let rest = app.k.import_file(app.tenant, &actor, &path, &opts, &|_| true).await.unwrap();
    assert_eq!(rest.resumed_after, 15);
    assert!(!rest.stopped);
    // Together they did what the dry run said the whole file would do.
    assert_eq!(rest.outcomes, dry.outcomes, "{rest:?}");
    assert_eq!(rest.persons_created, dry.persons_created);
});

app_test!(r25_a_dry_run_finds_a_duplicate_batches_apart_as_the_import_does, |app| {
    let w = world(&app).await;
    let dir = tempfile::tempdir().unwrap();
    // Anna's address again in the sixth row, in other case: three batches of two rows later.
    let path = dir.path().join("members.csv");
    let rows = ["anna", "bernd", "carl", "dora", "emil", "ANNA"]
        .map(|who| (format!("{who}@beispiel.de"), "Nora Hahn", "subscribed", true));
    members_file(&path, &rows);
    let opts = mailchimp(&w, true, 2);
    let actor = konsent_domain::ledger::Actor::User("test".into());
    let before = app.ledger_text().await;
    let dry = app.k.import_file(app.tenant, &actor, &path, &opts, &|_| true).await.unwrap();
    assert_eq!(app.ledger_text().await, before, "a dry run writes nothing");
    assert_eq!((dry.persons_created, dry.outcomes.get("duplicate")), (5, Some(&1)), "{dry:?}");
    let real = ImportOptions { dry_run: false, ..opts };
    let real = app.k.import_file(app.tenant, &actor, &path, &real, &|_| true).await.unwrap();
    assert_eq!((&real.outcomes, real.persons_created), (&dry.outcomes, dry.persons_created));
});

app_test!(r39_an_unsubscribe_row_withdraws_the_consent_a_row_of_the_same_file_just_gave, |app| {
    let w = world(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let actor = konsent_domain::ledger::Actor::User("test".into());
    // One batch for the whole file, then one batch a row: there the unsubscribe row is planned
    // while the row before it is still being committed.
    for (round, batch_rows) in [(0, 100), (1, 1)] {
        // Rows of the same person, as a tool's "all contacts with history" export has them: the
        // sign-up with its whole double opt-in record, then the unsubscribe, at once or later.
        let path = dir.path().join(format!("members-{round}.csv"));
        let rows = [
            ("nah", "subscribed", true),
            ("nah", "unsubscribed", true),
            ("fern", "subscribed", true),
            ("x", "subscribed", true),
            ("fern", "unsubscribed", false),
        ]
        .map(|(who, status, record)| (format!("{who}{round}@beispiel.de"), "Nora Hahn", status, record));
        members_file(&path, &rows);
        let opts = mailchimp(&w, false, batch_rows);
        let r = app.k.import_file(app.tenant, &actor, &path, &opts, &|_| true).await.unwrap();
        assert_eq!((r.outcomes.get("given"), r.outcomes.get("opt_out")), (Some(&3), Some(&2)), "round {round}: {r:?}");
        assert!(email_allowed(&app, &w, &format!("x{round}@beispiel.de")).await.0, "round {round}: x stays subscribed");
        for who in ["nah", "fern"] {
            let email = format!("{who}{round}@beispiel.de");
            let (allowed, reasons) = email_allowed(&app, &w, &email).await;
            assert!(!allowed, "round {round}: {email} {reasons}");
            let value = konsent_domain::contact::ContactValue::Email(
                konsent_domain::contact::EmailAddress::parse(&email).unwrap(),
            );
            let found = app.k.find_by_contact(app.tenant, &value).await.unwrap();
            assert_eq!(found.len(), 1, "round {round}: {email}");
            let p = app.call("GET", &format!("/v1/persons/{}", found[0].0), Some(&app.api_key), None).await;
            let consents = p.json["consents"].as_array().unwrap();
            assert_eq!(consents.len(), 1, "round {round}: {email}: {consents:?}");
            assert_eq!(
                consents[0]["status"], "ConsentWithdrawn",
                "round {round}: {email} is withdrawn, not only suppressed"
            );
        }
    }
    let v = konsent_service::verify::verify(&app.k).await.unwrap();
    assert!(v.ok(), "{:?}", v.broken);
});

app_test!(r30_an_address_unsubscribed_in_a_row_gets_no_consent_from_a_later_row_of_the_same_file, |app| {
    let w = world(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let actor = konsent_domain::ledger::Actor::User("test".into());
    // One batch for the whole file, then one batch a row: there the unsubscribe is still being
    // committed while the subscribe row is planned.
    for (round, batch_rows) in [(0, 100), (1, 1)] {
        let path = dir.path().join(format!("history-{round}.csv"));
        let ida = format!("ida{round}@beispiel.de");
        members_file(&path, &[(ida.clone(), "Ida Roth", "unsubscribed", false), (ida, "Ida Roth", "subscribed", true)]);
        let r =
            app.k.import_file(app.tenant, &actor, &path, &mailchimp(&w, false, batch_rows), &|_| true).await.unwrap();
        assert_eq!(
            (r.outcomes.get("suppressed"), r.outcomes.get("given"), r.persons_created),
            (Some(&1), None, 0),
            "round {round}: {r:?}"
        );
        let (allowed, why) = email_allowed(&app, &w, &format!("ida{round}@beispiel.de")).await;
        assert!(!allowed, "round {round}: {why}");
    }
});

app_test!(two_imports_of_one_tenant_at_once_make_one_person_an_address, |app| {
    let w = world(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let actor = konsent_domain::ledger::Actor::User("test".into());
    // Two lists with the same 60 addresses in the same order (the second has 20 more), started
    // together, in batches of 5 rows: side by side each would plan the same address while the
    // other's new person is not committed yet.
    let write = |file: &str, name: &'static str, addresses: std::ops::Range<u32>| {
        let path = dir.path().join(file);
        let rows: Vec<_> = addresses.map(|i| (format!("kunde{i}@beispiel.de"), name, "subscribed", true)).collect();
        members_file(&path, &rows);
        path
    };
    let a = write("messe.csv", "Nora Hahn", 0..60);
    let b = write("newsletter.csv", "Ida Hahn", 0..80);
    let opts = ImportOptions { chunk_rows: 5, ..mailchimp(&w, false, 5) };
    let (ra, rb) = tokio::join!(
        app.k.import_file(app.tenant, &actor, &a, &opts, &|_| true),
        app.k.import_file(app.tenant, &actor, &b, &opts, &|_| true)
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.persons_created + rb.persons_created, 80, "{ra:?}\n{rb:?}");
    for i in 0..80 {
        let value = konsent_domain::contact::ContactValue::Email(
            konsent_domain::contact::EmailAddress::parse(&format!("kunde{i}@beispiel.de")).unwrap(),
        );
        assert_eq!(app.k.find_by_contact(app.tenant, &value).await.unwrap().len(), 1, "kunde{i}");
    }
    let v = konsent_service::verify::verify(&app.k).await.unwrap();
    assert!(v.ok(), "{:?}", v.broken);
});
