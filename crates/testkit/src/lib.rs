//! Test support: fresh databases on both engines. PostgreSQL must be reachable (the test command
//! starts it); a missing server fails the test loudly instead of skipping it.
#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use konsent_store::{Db, migrate};

/// URL of the PostgreSQL server the tests create databases on.
pub fn pg_admin_url() -> String {
    std::env::var("KONSENT_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// An empty PostgreSQL database, dropped when this value is dropped.
#[derive(Debug)]
pub struct PgDatabase {
    /// Its URL.
    pub url: String,
    name: String,
}

impl PgDatabase {
    /// Creates a fresh database.
    pub async fn create() -> Self {
        let admin_url = pg_admin_url();
        let admin = Db::connect(&admin_url, 1)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL is required for these tests and was not reachable: {e}"));
        let name = format!(
            "konsent_t_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_micros()).unwrap_or(0)
        );
        admin.exec_script(format!("CREATE DATABASE {name}")).await.expect("create test database");
        admin.close().await;
        let base = admin_url.rsplit_once('/').map(|(b, _)| b.to_string()).expect("admin URL has a database part");
        Self { url: format!("{base}/{name}"), name }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let name = std::mem::take(&mut self.name);
        let url = pg_admin_url();
        // Drop on a separate runtime: Drop cannot await.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                if let Ok(admin) = Db::connect(&url, 1).await {
                    let _ = admin.exec_script(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                    admin.close().await;
                }
            });
        })
        .join();
    }
}

/// A migrated test database of either engine that cleans up after itself.
#[derive(Debug)]
pub struct TestDb {
    /// The handle.
    pub db: Db,
    /// Its URL.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<PgDatabase>,
}

impl TestDb {
    /// A SQLite file in a temp dir.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let db = Db::connect(&url, 4).await.expect("open sqlite");
        migrate::migrate(&db, 0).await.expect("migrate sqlite");
        Self { db, url, _dir: Some(dir), _pg: None }
    }

    /// A fresh PostgreSQL database.
    pub async fn postgres() -> Self {
        let pg = PgDatabase::create().await;
        let db = Db::connect(&pg.url, 8).await.expect("open postgres");
        migrate::migrate(&db, 0).await.expect("migrate postgres");
        Self { db, url: pg.url.clone(), _dir: None, _pg: Some(pg) }
    }
}

/// Declares one async test per engine: `$name::sqlite` and `$name::postgres`.
#[macro_export]
macro_rules! both_engines {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($db: &konsent_store::Db) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = konsent_testkit::TestDb::sqlite().await;
                run(&t.db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let t = konsent_testkit::TestDb::postgres().await;
                run(&t.db).await;
            }
        }
    };
}
