//! Knows every tenant's chain head without a query: this process's writer reports each commit at
//! once; commits of other processes arrive by `LISTEN`/`NOTIFY` on PostgreSQL and by watching
//! SQLite's `PRAGMA data_version` (which changes when another connection commits). While the
//! watch is not live (starting, or the PostgreSQL listener reconnecting) [`HeadWatch::known`]
//! answers `None` and callers read the head from the database, so a cache built on the watch
//! never answers from a state the database has moved past for longer than a notification takes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use konsent_domain::ids::TenantId;
use sqlx::postgres::PgListener;
use sqlx::{Connection as _, Row as _};

use crate::db::Db;
use crate::error::StoreError;
use crate::ledger::chain_heads;

/// The PostgreSQL channel the group-commit writer notifies at each commit (`tenant:seq`).
pub const CHANNEL: &str = "konsent_ledger";
/// How often SQLite's `data_version` is looked at.
const SQLITE_POLL: Duration = Duration::from_millis(5);

#[derive(Debug, Default)]
struct Inner {
    heads: RwLock<HashMap<TenantId, u64>>,
    live: AtomicBool,
}

/// Every tenant's chain head as far as this process knows; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct HeadWatch(Arc<Inner>);

impl HeadWatch {
    /// A watch that is never live (every caller reads the database): for tools that run briefly.
    pub fn inert() -> Self {
        Self::default()
    }

    /// Starts watching `db` in the background.
    pub fn start(db: Db) -> Self {
        let w = Self::default();
        let task = w.clone();
        match db {
            Db::Sqlite { .. } => tokio::spawn(async move { task.watch_sqlite(db).await }),
            Db::Postgres(_) => tokio::spawn(async move { task.watch_postgres(db).await }),
        };
        w
    }

    /// The tenant's head, or `None` when the watch cannot vouch for it (read the database then).
    pub fn known(&self, tenant: TenantId) -> Option<u64> {
        if !self.0.live.load(Ordering::Acquire) {
            return None;
        }
        Some(self.0.heads.read().unwrap_or_else(|e| e.into_inner()).get(&tenant).copied().unwrap_or(0))
    }

    /// Records that `tenant`'s chain reached `seq` (heads only move forward).
    pub fn advance(&self, tenant: TenantId, seq: u64) {
        let mut h = self.0.heads.write().unwrap_or_else(|e| e.into_inner());
        let e = h.entry(tenant).or_insert(0);
        *e = (*e).max(seq);
    }

    fn set_live(&self, live: bool) {
        self.0.live.store(live, Ordering::Release);
    }

    async fn resync(&self, db: &Db) -> Result<(), StoreError> {
        for (t, seq) in chain_heads(db).await? {
            self.advance(t, seq);
        }
        Ok(())
    }

    async fn watch_sqlite(self, db: Db) {
        let Db::Sqlite { read, .. } = &db else { return };
        loop {
            // A connection of its own: data_version is per connection.
            let mut conn = match read.acquire().await {
                Ok(c) => c.detach(),
                Err(_) => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let mut last: Option<i64> = None;
            loop {
                let v = match sqlx::query("PRAGMA data_version").fetch_one(&mut conn).await {
                    Ok(r) => r.try_get::<i64, _>(0).ok(),
                    Err(_) => None,
                };
                let Some(v) = v else { break };
                if last != Some(v) {
                    // Read the heads after seeing the new version, so nothing committed before it is missed.
                    if self.resync(&db).await.is_err() {
                        break;
                    }
                    last = Some(v);
                    self.set_live(true);
                }
                tokio::time::sleep(SQLITE_POLL).await;
            }
            self.set_live(false);
            let _ = conn.close().await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn watch_postgres(self, db: Db) {
        let Db::Postgres(pool) = &db else { return };
        loop {
            let mut listener = match PgListener::connect_with(pool).await {
                Ok(l) => l,
                Err(_) => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if let Err(e) = listener.listen(CHANNEL).await {
                tracing::warn!(error = %e, "cannot listen for ledger notifications; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            if self.resync(&db).await.is_err() {
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            self.set_live(true);
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) => match n.payload().split_once(':') {
                        Some((t, seq)) => {
                            if let (Ok(t), Ok(seq)) = (t.parse(), seq.parse()) {
                                self.advance(t, seq);
                            }
                        }
                        // Our own marker after a reconnect: listening again, so the heads read now are complete.
                        None if n.payload() == "resync" && self.resync(&db).await.is_ok() => self.set_live(true),
                        None => {}
                    },
                    Ok(None) => {
                        tracing::warn!("ledger notification listener lost its connection; reconnecting");
                        // The connection dropped and notifications may have been lost: read the
                        // database until the listener is back (it reconnects on the next call).
                        self.set_live(false);
                        let pool = pool.clone();
                        let probe = self.clone();
                        tokio::spawn(async move {
                            while !probe.0.live.load(Ordering::Acquire) {
                                let _ =
                                    sqlx::query("SELECT pg_notify($1, 'resync')").bind(CHANNEL).execute(&pool).await;
                                tokio::time::sleep(Duration::from_millis(100)).await;
                            }
                        });
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "ledger notification listener failed; reconnecting");
                        self.set_live(false);
                        break;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_only_move_forward_and_an_inert_watch_vouches_for_nothing() {
        let w = HeadWatch::inert();
        let t = TenantId::from_parts(1, [0; 10]);
        w.advance(t, 5);
        assert_eq!(w.known(t), None, "not live");
        w.set_live(true);
        w.advance(t, 3);
        assert_eq!(w.known(t), Some(5));
        assert_eq!(w.known(TenantId::from_parts(2, [0; 10])), Some(0));
    }
}
