//! `kill -9` in the middle of a `konsent import`, on both engines: every batch committed before
//! the kill is whole (its persons, consents and progress together), the ledger verifies, and the
//! next run resumes after the last committed row and ends with every row imported once. On
//! SQLite the kill lands while the checkpointer thread copies the WAL into the database.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use konsent_store::Db;
use konsent_testkit::PgDatabase;

use crate::cli::{command as konsent, ok};

/// Rows in the file: enough that a debug build is still importing when the kill comes.
const ROWS: u64 = 30_000;
/// Rows committed before the kill: two transactions of 5,000 (`--batch-rows`), more than 64 MB of
/// WAL on SQLite.
const KILL_AFTER: i64 = 10_000;

/// A Mailchimp export of `rows` distinct subscribers, each with the whole double opt-in record.
fn mailchimp_export(path: &Path, rows: u64) {
    let mut s = String::from(
        "\"Email Address\",\"First Name\",\"Last Name\",OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,LAST_CHANGED\n",
    );
    for i in 0..rows {
        s.push_str(&format!(
            "kunde{i}@beispiel-makler.de,Jürgen,Weiß,2026-06-01 10:00:00,192.0.2.{},2026-06-01 10:05:00,192.0.2.{},2026-06-02 10:00:00\n",
            i % 250,
            i % 250
        ));
    }
    std::fs::write(path, s).unwrap();
}

async fn count(db: &Db, sql: &'static str) -> i64 {
    db.fetch_optional(sql, vec![]).await.unwrap().map(|r| r.i64(0).unwrap()).unwrap_or(0)
}

async fn killed_import(url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url = url.as_deref();
    ok(&konsent(&data, url).arg("init").output().unwrap());
    ok(&konsent(&data, url).args(["demo", "--persons", "0"]).output().unwrap());
    let file = dir.path().join("subscribed_members_export.csv");
    mailchimp_export(&file, ROWS);
    let import = |c: &mut Command| {
        c.arg("import")
            .arg(&file)
            .args(["--format", "mailchimp", "--text", "demo-newsletter", "--json", "--batch-rows", "5000"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
    };

    let db_url = url.map(str::to_string).unwrap_or_else(|| format!("sqlite://{}", data.join("konsent.db").display()));
    let db = Db::connect(&db_url, 1).await.unwrap();
    let mut cmd = konsent(&data, url);
    import(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    let started = Instant::now();
    loop {
        if count(&db, "SELECT COALESCE(max(rows_done), 0) FROM imports").await >= KILL_AFTER {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the import ended ({status}) before it could be killed; make the file larger");
        }
        assert!(started.elapsed() < Duration::from_secs(300), "the import committed nothing for 300 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // What the killed run committed is whole: one person and one consent per committed row.
    let done = count(&db, "SELECT COALESCE(max(rows_done), 0) FROM imports").await;
    assert!((KILL_AFTER..ROWS as i64).contains(&done), "rows committed before the kill: {done}");
    assert_eq!(count(&db, "SELECT count(*) FROM persons").await, done);
    assert_eq!(count(&db, "SELECT count(*) FROM consents").await, done);
    db.close().await;
    let verify = ok(&konsent(&data, url).arg("verify").output().unwrap());
    assert!(verify.contains("intakt"), "{verify}");

    // The next run resumes after the last committed row and imports each row once.
    let mut cmd = konsent(&data, url);
    import(&mut cmd);
    let report: serde_json::Value = serde_json::from_str(&ok(&cmd.output().unwrap())).unwrap();
    assert_eq!(report["resumed_after"], done, "{report}");
    assert_eq!(report["rows"], ROWS, "{report}");
    assert_eq!(report["outcomes"]["given"], ROWS, "{report}");
    assert_eq!(report["persons_created"], ROWS, "{report}");
    let db = Db::connect(&db_url, 1).await.unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM persons").await, ROWS as i64);
    assert_eq!(count(&db, "SELECT count(*) FROM consents").await, ROWS as i64);
    db.close().await;
    let verify = ok(&konsent(&data, url).arg("verify").output().unwrap());
    assert!(verify.contains("intakt"), "{verify}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_an_import_loses_no_committed_batch_and_the_next_run_resumes_sqlite() {
    killed_import(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_an_import_loses_no_committed_batch_and_the_next_run_resumes_postgres() {
    let pg = PgDatabase::create().await;
    killed_import(Some(pg.url.clone())).await;
}

/// `--batch-rows` sets the rows per transaction: a batch larger than the writer's queue of rows
/// per table (1,024) is written in parts within its transaction, and still every contact point
/// carries its verification, the ledger verifies and a rebuild gives the same state. A size out
/// of range is refused naming the option.
async fn batch_rows(url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url = url.as_deref();
    ok(&konsent(&data, url).arg("init").output().unwrap());
    ok(&konsent(&data, url).args(["demo", "--persons", "0"]).output().unwrap());
    let file = dir.path().join("subscribed_members_export.csv");
    mailchimp_export(&file, 1500);
    let args = ["--format", "mailchimp", "--text", "demo-newsletter", "--json", "--batch-rows"];

    let refused = konsent(&data, url).arg("import").arg(&file).args(args).arg("50").output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("--batch-rows") && err.contains("50"), "{err}");

    let out = ok(&konsent(&data, url).arg("import").arg(&file).args(args).arg("1400").output().unwrap());
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["outcomes"]["given"], 1500, "{report}");
    let db_url = url.map(str::to_string).unwrap_or_else(|| format!("sqlite://{}", data.join("konsent.db").display()));
    let db = Db::connect(&db_url, 1).await.unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM ledger WHERE kind = 'batch'").await, 2, "1,400 rows and 100");
    assert_eq!(count(&db, "SELECT count(*) FROM persons").await, 1500);
    assert_eq!(count(&db, "SELECT count(*) FROM consents").await, 1500);
    assert_eq!(count(&db, "SELECT count(*) FROM contact_points WHERE sealed IS NOT NULL").await, 1500);
    assert_eq!(count(&db, "SELECT count(*) FROM contact_points WHERE verified_at IS NOT NULL").await, 1500);
    let before = konsent_store::projection::dump(&db).await.unwrap();
    db.close().await;
    let verify = ok(&konsent(&data, url).arg("verify").output().unwrap());
    assert!(verify.contains("intakt"), "{verify}");
    ok(&konsent(&data, url).arg("rebuild").output().unwrap());
    let db = Db::connect(&db_url, 1).await.unwrap();
    assert_eq!(konsent_store::projection::dump(&db).await.unwrap(), before, "rebuild must recreate the same state");
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_rows_sets_the_transaction_size_and_large_batches_stay_whole_sqlite() {
    batch_rows(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_rows_sets_the_transaction_size_and_large_batches_stay_whole_postgres() {
    let pg = PgDatabase::create().await;
    batch_rows(Some(pg.url.clone())).await;
}
