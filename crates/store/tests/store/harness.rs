//! Test databases: a SQLite temp file, or a fresh PostgreSQL database dropped afterwards.

use std::sync::atomic::{AtomicU64, Ordering};

use konsent_store::{Db, migrate};

/// URL of the PostgreSQL server the tests create databases on.
pub fn pg_admin_url() -> String {
    std::env::var("KONSENT_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A migrated test database that cleans up after itself.
pub struct TestDb {
    pub db: Db,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let db = Db::connect(&url, 4).await.unwrap();
        migrate::migrate(&db, 0).await.unwrap();
        Self {
            db,
            _dir: Some(dir),
            pg_name: None,
        }
    }

    pub async fn postgres() -> Self {
        let admin_url = pg_admin_url();
        let admin = Db::connect(&admin_url, 2).await.unwrap_or_else(|e| {
            panic!("PostgreSQL is required for the store tests and was not reachable: {e}")
        });
        let name = format!(
            "konsent_t_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            jiff::Timestamp::now().as_microsecond() % 1_000_000
        );
        admin
            .exec_script(format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        admin.close().await;
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b.to_string())
            .unwrap();
        let db = Db::connect(&format!("{base}/{name}"), 8).await.unwrap();
        migrate::migrate(&db, 0).await.unwrap();
        Self {
            db,
            _dir: None,
            pg_name: Some(name),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            let url = pg_admin_url();
            // Drop on a separate runtime: Drop cannot await.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(admin) = Db::connect(&url, 1).await {
                        let _ = admin
                            .exec_script(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .await;
                        admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// Declares one async test per engine.
#[macro_export]
macro_rules! both_engines {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($db: &konsent_store::Db) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = $crate::harness::TestDb::sqlite().await;
                run(&t.db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let t = $crate::harness::TestDb::postgres().await;
                run(&t.db).await;
            }
        }
    };
}
