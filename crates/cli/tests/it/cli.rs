//! The CLI as an operator uses it: init, demo, verify, tamper detection, rebuild, clear errors.

use std::path::Path;
use std::process::{Command, Output};

use konsent_store::{Db, projection};
use konsent_testkit::PgDatabase;

/// The `konsent` binary on a data dir (and database), logging only warnings.
pub(crate) fn command(data_dir: &Path, db: Option<&str>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_konsent"));
    c.arg("--data-dir").arg(data_dir).env_remove("KONSENT_DATABASE_URL").env("KONSENT_LOG", "warn");
    if let Some(url) = db {
        c.arg("--database-url").arg(url);
    }
    c
}

fn konsent(data_dir: &Path, db: Option<&str>, args: &[&str]) -> Output {
    command(data_dir, db).args(args).output().expect("konsent runs")
}

pub(crate) fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

async fn tamper(url: &str, seq: i64) {
    let db = Db::connect(url, 1).await.unwrap();
    match db.engine() {
        konsent_store::Engine::Sqlite => {
            db.exec_script("DROP TRIGGER ledger_no_update".into()).await.unwrap();
            db.exec_script(format!(
                "UPDATE ledger SET payload = CAST(REPLACE(CAST(payload AS TEXT), 'consumer', 'business') AS BLOB) WHERE seq = {seq}"
            ))
            .await
            .unwrap();
        }
        konsent_store::Engine::Postgres => {
            db.exec_script("ALTER TABLE ledger DISABLE TRIGGER ledger_no_update_delete".into()).await.unwrap();
            db.exec_script(format!(
                "UPDATE ledger SET payload = convert_to(replace(convert_from(payload, 'UTF8'), 'consumer', 'business'), 'UTF8') WHERE seq = {seq}"
            ))
            .await
            .unwrap();
        }
    }
    db.close().await;
}

/// init --json, demo, verify, rebuild gives the same state, a changed payload is named by verify.
async fn full_story(url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url_ref = url.as_deref();
    let init: serde_json::Value = serde_json::from_str(&ok(&konsent(&data, url_ref, &["init", "--json"]))).unwrap();
    assert!(init["tenant_id"].as_str().unwrap().len() == 36);
    assert!(init["api_key"].as_str().unwrap().starts_with("knst_"));

    let out = ok(&konsent(&data, url_ref, &["demo", "--persons", "300"]));
    assert!(out.contains("300 Personen"), "{out}");
    let verify = ok(&konsent(&data, url_ref, &["verify"]));
    assert!(verify.contains("intakt"), "{verify}");

    let db_url = url.clone().unwrap_or_else(|| format!("sqlite://{}", data.join("konsent.db").display()));
    let db = Db::connect(&db_url, 2).await.unwrap();
    let before = projection::dump(&db).await.unwrap();
    assert!(before.matches("ConsentGiven").count() > 50, "demo should give many valid consents");
    ok(&konsent(&data, url_ref, &["rebuild"]));
    assert_eq!(projection::dump(&db).await.unwrap(), before, "rebuild must recreate the same state");
    db.close().await;

    // Someone drops the triggers and changes one payload: verify fails and names that entry.
    let seq = {
        let db = Db::connect(&db_url, 1).await.unwrap();
        let r = db
            .fetch_optional("SELECT MIN(seq) FROM ledger WHERE kind = 'person_registered' AND seq > 20", vec![])
            .await
            .unwrap()
            .unwrap();
        let s = r.i64(0).unwrap();
        db.close().await;
        s
    };
    tamper(&db_url, seq).await;
    let bad = konsent(&data, url_ref, &["verify"]);
    assert!(!bad.status.success());
    let msg = stderr(&bad);
    assert!(msg.contains(&format!("entry {seq}")), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r21_cli_story_sqlite() {
    full_story(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r21_cli_story_postgres() {
    let pg = PgDatabase::create().await;
    full_story(Some(pg.url.clone())).await;
}

#[test]
fn a_mistyped_argument_is_named_german_first_with_clap_s_english_tip_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let o = konsent(dir.path(), None, &["import", "members.csv", "--frmat", "mailchimp"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.starts_with("Fehler: unbekanntes Argument „--frmat“.\n"), "{err}");
    assert!(err.contains("error: unexpected argument '--frmat' found"), "{err}");
    assert!(err.contains("a similar argument exists: '--format'"), "{err}");
    let help = konsent(dir.path(), None, &["import", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("--format"));
}

#[test]
fn clear_errors_for_missing_and_foreign_data_dirs_and_bad_urls() {
    let dir = tempfile::tempdir().unwrap();
    let missing = konsent(&dir.path().join("nope"), None, &["verify"]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("konsent init"), "{}", stderr(&missing));

    let foreign = dir.path().join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "private").unwrap();
    let o = konsent(&foreign, None, &["init"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("not a Konsent data directory"), "{}", stderr(&o));
    let o = konsent(&foreign, None, &["verify"]);
    assert!(stderr(&o).contains("not a Konsent data directory"), "{}", stderr(&o));

    let o = konsent(&dir.path().join("x"), Some("mysql://u:secret@h/db"), &["init"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("unsupported scheme") && !stderr(&o).contains("secret"), "{}", stderr(&o));

    let o = konsent(&dir.path().join("y"), Some("postgres://nobody:pw@127.0.0.1:1/none"), &["init"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("unreachable"), "{}", stderr(&o));
    assert!(!dir.path().join("y").exists(), "a failed init leaves no half data dir");
}

#[test]
fn init_twice_is_refused_and_keys_are_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    ok(&konsent(&data, None, &["init"]));
    let again = konsent(&data, None, &["init"]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("already initialised"), "{}", stderr(&again));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["master.key", "signing.key"] {
            let mode = std::fs::metadata(data.join("keys").join(f)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{f}");
        }
    }
}

#[test]
fn master_key_can_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("env");
    let key = "ab".repeat(32);
    let run = |args: &[&str], with_key: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_konsent"));
        c.arg("--data-dir").arg(&data).args(args).env_remove("KONSENT_DATABASE_URL").env("KONSENT_LOG", "warn");
        if with_key {
            c.env("KONSENT_MASTER_KEY", &key);
        } else {
            c.env_remove("KONSENT_MASTER_KEY");
        }
        c.output().unwrap()
    };
    ok(&run(&["init"], true));
    assert!(!data.join("keys/master.key").exists(), "no master key file when it comes from the environment");
    assert!(data.join("keys/signing.key").exists());
    ok(&run(&["demo", "--persons", "20"], true));
    ok(&run(&["verify"], true));
    let without = run(&["status"], false);
    assert!(!without.status.success());
    assert!(stderr(&without).contains("master.key is missing"), "{}", stderr(&without));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r24_scrub_marks_every_row_with_reasons() {
    use std::sync::Arc;

    use konsent_domain::consent::{CaptureMethod, DeclarationRecipient, Evidence, Scope, Source, Validity};
    use konsent_domain::contact::{ContactValue, PhoneE164, PostalAddress};
    use konsent_domain::ledger::Actor;
    use konsent_domain::party::{PersonData, RecipientClass};
    use konsent_service::Konsent;
    use konsent_service::consents::NewConsent;
    use konsent_service::persons::NewPerson;
    use konsent_service::system::{OsEntropy, SystemClock};

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    ok(&konsent(&data, None, &["init"]));
    let k = Konsent::open(&data, None, Arc::new(SystemClock), Arc::new(OsEntropy)).await.unwrap();
    let tenant = konsent_store::queries::tenants(&k.db).await.unwrap()[0].0;
    let cat = konsent_service::demo::generate(&k, tenant, 30, 1, &|_| {}).await.unwrap();
    assert_eq!(cat.persons, 30);
    let texts = konsent_store::queries::texts(&k.db, tenant).await.unwrap();
    let text = texts.iter().find(|t| t.key == "demo-telefon-email").unwrap();
    let advertiser = *text.scope.advertisers.iter().next().unwrap();
    let address = PostalAddress::new("Lindenstraße 5", "50667", "Köln", "DE").unwrap();
    let phone = PhoneE164::parse("0171 2345678").unwrap();
    let p = NewPerson {
        data: PersonData {
            first_name: "Anna".into(),
            last_name: "Meier".into(),
            address: Some(address),
            birth_date: None,
        },
        recipient_class: RecipientClass::Consumer,
        org_unit: None,
        contacts: vec![ContactValue::Phone(phone)],
    };
    let w = k.register_person(tenant, &Actor::System, &p).await.unwrap();
    let cp = w.contact_point_ids[0];
    let wav = crate::assisted::wav(5);
    let kind = konsent_domain::attachment::AttachmentKind::Recording;
    let stored = k.store_attachment(tenant, &Actor::System, w.person_id, kind, None, &wav).await.unwrap();
    let rec = k
        .record_consent(
            tenant,
            &Actor::System,
            NewConsent {
                person_id: w.person_id,
                contact_points: [cp].into(),
                text_id: text.id,
                scope: Scope { channels: [konsent_domain::channel::Channel::PhoneLive].into(), ..text.scope.clone() },
                capture_method: CaptureMethod::PhoneCall,
                declaration_recipient: Some(DeclarationRecipient {
                    organisation: "Callcenter".into(),
                    agent_pseudonym: "AG-1".into(),
                }),
                source: Source::FirstParty,
                affirmative_action: true,
                given_at: k.now(),
                capture_offset_seconds: 3600,
                evidence: vec![Evidence::CallRecording {
                    contact_point: cp,
                    recording_hash: stored.meta.sha256.clone(),
                    recording_consent: true,
                    script_version: "s1".into(),
                    agent_pseudonym: "AG-1".into(),
                    at: k.now(),
                }],
                validity: Validity::Endless,
                renews: None,
            },
        )
        .await
        .unwrap();
    assert!(rec.record.status.is_valid_for_processing(), "{:?}", rec.missing);
    k.db.close().await;

    let input = dir.path().join("leads.csv");
    std::fs::write(
        &input,
        "Name;Telefon;Quelle\nAnna;+49 171 2345678;Messe\nBob;030 9876543;Web\nCarl;kein Anschluss;Web\n",
    )
    .unwrap();
    let out = dir.path().join("geprueft.csv");
    let adv = advertiser.to_string();
    let args = [
        "scrub",
        input.to_str().unwrap(),
        "--channel",
        "phone_live",
        "--advertiser",
        &adv,
        "--categories",
        "insurance",
        "--out",
        out.to_str().unwrap(),
    ];
    let summary = ok(&konsent(&data, None, &args));
    assert!(summary.contains("3 Zeilen"), "{summary}");
    assert!(summary.contains("no_consent: 1") && summary.contains("invalid_contact: 1"), "{summary}");
    let result = std::fs::read_to_string(&out).unwrap();
    let rows: Vec<&str> = result.lines().collect();
    assert_eq!(rows[0], "Name;Telefon;Quelle;allowed;reasons;decision_id");
    assert!(rows[1].starts_with("Anna;+49 171 2345678;Messe;true;;"), "{result}");
    assert!(rows[2].starts_with("Bob;030 9876543;Web;false;no_consent;"), "{result}");
    assert!(rows[3].contains("false;invalid_contact: Telefon"), "{result}");
    // The same file, only validated: the bad row is named, nothing is decided or written.
    let v = konsent(&data, None, &["scrub", input.to_str().unwrap(), "--validate-only"]);
    assert_eq!(v.status.code(), Some(1), "{}", stderr(&v));
    assert!(stderr(&v).contains("row 4, Telefon"), "{}", stderr(&v));
    assert!(String::from_utf8_lossy(&v.stdout).contains("2 gültig / valid, 1 fehlerhaft"), "{:?}", v);
}

#[test]
fn r24_demo_lead_list_scrubs_row_for_row() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    ok(&konsent(&data, None, &["init"]));
    let leads = dir.path().join("leads.csv");
    ok(&konsent(&data, None, &["demo", "--persons", "60", "--leads-out", leads.to_str().unwrap()]));
    let list = std::fs::read_to_string(&leads).unwrap();
    assert_eq!(list.lines().count(), 61, "a header and one row per person");
    assert!(list.lines().nth(1).unwrap().starts_with("P0;+49"), "{list}");
    let status = ok(&konsent(&data, None, &["status", "--json"]));
    let v: serde_json::Value = serde_json::from_str(status.lines().next().unwrap()).unwrap();
    let advertiser = v["advertisers"][0]["id"].as_str().map(str::to_string);
    let advertiser = advertiser.unwrap_or_else(|| panic!("status names the advertisers: {status}"));
    let out = dir.path().join("out.csv");
    let args = ["scrub", leads.to_str().unwrap(), "--channel", "phone_live", "--advertiser", &advertiser];
    let summary = ok(&konsent(
        &data,
        None,
        &[&args[..], &["--categories", "insurance", "--out", out.to_str().unwrap()]].concat(),
    ));
    assert!(summary.contains("60 Zeilen"), "{summary}");
    let result = std::fs::read_to_string(&out).unwrap();
    let rows: Vec<&str> = result.lines().collect();
    assert_eq!(rows.len(), 61);
    assert_eq!(rows[0], "ref;telefon;email;allowed;reasons;decision_id");
    for (i, r) in rows[1..].iter().enumerate() {
        assert!(r.starts_with(&format!("P{i};")), "order kept: {r}");
        let cols: Vec<&str> = r.split(';').collect();
        assert!(cols[3] == "true" || (cols[3] == "false" && !cols[4].is_empty()), "decided with reasons: {r}");
    }
    let allowed = rows.iter().filter(|r| r.split(';').nth(3) == Some("true")).count();
    assert!(summary.contains(&format!("{allowed} erlaubt")), "{summary}");
}

/// Scenario 11 (R62), on both engines: a backup taken before an erasure and an objection is
/// restored (SQLite: `konsent backup`/`restore`; PostgreSQL: `pg_dump`/`pg_restore`, then
/// `konsent restore --replay-only`, as docs/operations.md says); the deletion journal is replayed
/// before use, so the erased person stays erased and the objector suppressed.
async fn restore_drill(pg: Option<&PgDatabase>) {
    use std::sync::Arc;

    use konsent_domain::contact::{ContactValue, PhoneE164};
    use konsent_domain::ledger::Actor;
    use konsent_domain::party::{PersonData, RecipientClass};
    use konsent_domain::suppression::{SuppressionReason, SuppressionScope};
    use konsent_service::Konsent;
    use konsent_service::persons::NewPerson;
    use konsent_service::system::{OsEntropy, SystemClock};

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let url = pg.map(|p| p.url.clone());
    ok(&konsent(&data, url.as_deref(), &["init"]));
    let open = || Konsent::open(&data, url.as_deref(), Arc::new(SystemClock), Arc::new(OsEntropy));
    let k = open().await.unwrap();
    let tenant = konsent_store::queries::tenants(&k.db).await.unwrap()[0].0;
    let person = |first: &str, phone: &str| NewPerson {
        data: PersonData { first_name: first.into(), last_name: "Drill".into(), address: None, birth_date: None },
        recipient_class: RecipientClass::Consumer,
        org_unit: None,
        contacts: vec![ContactValue::Phone(PhoneE164::parse(phone).unwrap())],
    };
    let erased = k.register_person(tenant, &Actor::System, &person("Erika", "0171 1111111")).await.unwrap().person_id;
    k.register_person(tenant, &Actor::System, &person("Otto", "0171 2222222")).await.unwrap();
    k.db.close().await;

    let backup = dir.path().join("sicherung");
    match pg {
        None => {
            ok(&konsent(&data, None, &["backup", "--out", backup.to_str().unwrap()]));
        }
        Some(pg) => {
            let out = Command::new("pg_dump").args(["-Fc", "-f", backup.to_str().unwrap(), &pg.url]).output().unwrap();
            assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));
        }
    }

    // After the backup: Erika is erased, Otto objects.
    let k = open().await.unwrap();
    let o = k.erase_person(tenant, &Actor::System, erased, "letter").await.unwrap();
    assert!(o.key_destroyed, "nothing to keep: {:?}", o.plan);
    let otto = ContactValue::Phone(PhoneE164::parse("0171 2222222").unwrap());
    k.suppress(tenant, &Actor::System, &otto, SuppressionScope::all(), SuppressionReason::Objection, "letter")
        .await
        .unwrap();
    k.db.close().await;

    let out = match pg {
        None => ok(&konsent(&data, None, &["restore", backup.to_str().unwrap()])),
        Some(pg) => {
            let r = Command::new("pg_restore")
                .args(["--clean", "--if-exists", "--no-owner", "-d", &pg.url, backup.to_str().unwrap()])
                .output()
                .unwrap();
            assert!(r.status.success(), "pg_restore: {}", String::from_utf8_lossy(&r.stderr));
            ok(&konsent(&data, url.as_deref(), &["restore", "--replay-only"]))
        }
    };
    assert!(out.contains("2 Sperreinträge, 1 Löschungen, 1 Schlüssel vernichtet"), "{out}");

    let k = open().await.unwrap();
    assert!(k.person_data(tenant, erased).await.unwrap().is_none(), "the erased person stays erased");
    assert_eq!(k.restriction_state(tenant, erased).await.unwrap().as_deref(), Some("erased"));
    let s = k.suppressions_for(tenant, &otto).await.unwrap();
    assert!(s.iter().any(|e| e.reason == SuppressionReason::Objection), "the objector stays suppressed");
    let erika = ContactValue::Phone(PhoneE164::parse("0171 1111111").unwrap());
    assert!(k.suppressions_for(tenant, &erika).await.unwrap().iter().any(|e| e.reason == SuppressionReason::Erasure));
    assert!(konsent_service::verify::verify(&k).await.unwrap().ok());
    k.db.close().await;
    // A second replay (every serve start does one) changes nothing.
    let again = ok(&konsent(&data, url.as_deref(), &["restore", "--replay-only"]));
    assert!(again.contains("0 Sperreinträge, 0 Löschungen, 0 Schlüssel"), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r62_scenario11_restore_drill_replays_erasures_and_suppressions_sqlite() {
    restore_drill(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r62_scenario11_restore_drill_replays_erasures_and_suppressions_postgres() {
    let pg = PgDatabase::create().await;
    restore_drill(Some(&pg)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r43_repermission_requests_queued_by_the_cli_link_to_the_configured_public_address() {
    use std::sync::Arc;

    use konsent_domain::mail::Outgoing;
    use konsent_service::Konsent;
    use konsent_service::system::{OsEntropy, SystemClock};

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    ok(&konsent(&data, None, &["init"]));
    std::fs::write(data.join("konsent.toml"), "[mail]\npublic_url = \"https://einwilligung.makler.example\"\n")
        .unwrap();
    ok(&konsent(&data, None, &["demo", "--persons", "80"]));
    let advertiser = {
        let k = Konsent::open(&data, None, Arc::new(SystemClock), Arc::new(OsEntropy)).await.unwrap();
        let tenant = konsent_store::queries::tenants(&k.db).await.unwrap()[0].0;
        konsent_store::queries::advertisers(&k.db, tenant).await.unwrap()[0].id.to_string()
    };
    let out = ok(&konsent(&data, None, &["repermission", "--advertiser", &advertiser, "--send"]));
    assert!(out.contains("Mails und"), "{out}");
    let k = Konsent::open(&data, None, Arc::new(SystemClock), Arc::new(OsEntropy)).await.unwrap();
    let queued = k.claim_mail(1000).await.unwrap();
    let mails: Vec<String> = queued
        .into_iter()
        .filter_map(|(_, m)| match m {
            Ok(Outgoing::Mail(m)) if m.subject.contains("Renew your consent") => Some(m.text),
            _ => None,
        })
        .collect();
    assert!(!mails.is_empty(), "the demo has consents to renew by mail: {out}");
    for text in &mails {
        assert!(text.contains("https://einwilligung.makler.example/doi/"), "{text}");
        assert!(!text.contains("127.0.0.1"), "{text}");
    }
}

#[test]
fn a_country_prefix_without_plus_is_a_configuration_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    ok(&konsent(&data, None, &["init"]));
    std::fs::write(data.join("konsent.toml"), "[sms]\nallowed_prefixes = [\"+49\", \"43\"]\n").unwrap();
    let o = konsent(&data, None, &["status"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("sms.allowed_prefixes: '43'"), "{}", stderr(&o));
    std::fs::write(data.join("konsent.toml"), "[sms]\nallowed_prefixes = [\"+49\", \"+43\"]\n").unwrap();
    ok(&konsent(&data, None, &["status"]));
}
