//! Group commit: concurrent appends are gathered by a writer task and committed together, so
//! many durable writes share one fsync. Each append keeps its own savepoint: a failing one is
//! rolled back alone and answered with its error, the others commit.
//!
//! Appends of one tenant always go to the same writer (its chain is serialised anyway); different
//! tenants may commit in parallel on PostgreSQL. Within a batch, tenants are locked in id order,
//! so two instances batching the same tenants cannot deadlock.

use jiff::Timestamp;
use konsent_domain::ids::TenantId;
use tokio::sync::{mpsc, oneshot};

use crate::db::{Db, Engine, Tx};
use crate::error::StoreError;
use crate::ledger::{Appended, Folding, PendingEvent, append_folding};
use crate::native::NativeConn;
use crate::side::SideWrite;
use crate::vals;
use crate::watch::HeadWatch;

/// Appends gathered into one transaction at most.
const MAX_BATCH: usize = 512;

struct Job {
    tenant: TenantId,
    recorded_at: Timestamp,
    events: Vec<PendingEvent>,
    side: Vec<SideWrite>,
    folding: Option<Folding>,
    reply: oneshot::Sender<Result<Vec<Appended>, StoreError>>,
}

/// Handle to the writer tasks.
#[derive(Clone, Debug)]
pub struct GroupCommit {
    writers: Vec<mpsc::Sender<Job>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("tenant", &self.tenant).field("events", &self.events.len()).finish()
    }
}

impl GroupCommit {
    /// Starts the writers: on SQLite one thread with its own connection (SQLite has a single
    /// writer anyway), four tasks on PostgreSQL. Each commit is reported to `heads` before any
    /// append of it is answered.
    pub fn start(db: Db, heads: HeadWatch) -> Self {
        if let Db::Sqlite { write, .. } = &db {
            let path = write.connect_options().get_filename().to_path_buf();
            match NativeConn::open(&path) {
                Ok(conn) => {
                    let (tx, rx) = mpsc::channel::<Job>(4096);
                    let h = heads.clone();
                    let spawned = std::thread::Builder::new()
                        .name("konsent-ledger-writer".into())
                        .spawn(move || native_writer(conn, h, rx));
                    match spawned {
                        Ok(_) => return Self { writers: vec![tx] },
                        Err(e) => tracing::warn!(error = %e, "no ledger writer thread; using the pooled writer"),
                    }
                }
                Err(e) => tracing::warn!(error = %e, "no native SQLite writer; using the pooled writer"),
            }
            return Self::pooled(db, heads, 1);
        }
        Self::pooled(db, heads, 4)
    }

    fn pooled(db: Db, heads: HeadWatch, n: usize) -> Self {
        let writers = (0..n)
            .map(|_| {
                let (tx, rx) = mpsc::channel::<Job>(4096);
                tokio::spawn(writer(Writer::Pool(db.clone()), heads.clone(), rx));
                tx
            })
            .collect();
        Self { writers }
    }

    /// Appends events (and vault rows) durably; returns when they are committed.
    pub async fn append(
        &self,
        tenant: TenantId,
        recorded_at: Timestamp,
        events: Vec<PendingEvent>,
        side: Vec<SideWrite>,
    ) -> Result<Vec<Appended>, StoreError> {
        self.append_folding(tenant, recorded_at, events, side, None).await
    }

    /// [`GroupCommit::append`], folding persons' events into one batch entry when `folding` is
    /// given (see [`crate::ledger::append_folding`]).
    pub async fn append_folding(
        &self,
        tenant: TenantId,
        recorded_at: Timestamp,
        events: Vec<PendingEvent>,
        side: Vec<SideWrite>,
        folding: Option<Folding>,
    ) -> Result<Vec<Appended>, StoreError> {
        let i = (tenant.as_uuid().as_u128() % self.writers.len() as u128) as usize;
        let (reply, rx) = oneshot::channel();
        self.writers[i]
            .send(Job { tenant, recorded_at, events, side, folding, reply })
            .await
            .map_err(|_| StoreError::Unreachable("the ledger writer has stopped".into()))?;
        rx.await.map_err(|_| StoreError::Unreachable("the ledger writer stopped before answering".into()))?
    }
}

/// Where a batch is written.
enum Writer {
    /// Through the pool (PostgreSQL; SQLite when the native connection is unavailable).
    Pool(Db),
    /// The SQLite writer thread's own connection.
    Native(NativeConn),
}

impl Writer {
    /// Begins a transaction; `flush: false` when every append in it may skip the log's flush at
    /// commit (see [`Folding::durable`]).
    async fn begin(&self, flush: bool) -> Result<Tx, StoreError> {
        match self {
            Writer::Pool(db) => {
                let mut tx = db.begin().await?;
                if !flush && tx.engine() == Engine::Postgres {
                    tx.exec("SET LOCAL synchronous_commit TO OFF", vec![]).await?;
                }
                Ok(tx)
            }
            Writer::Native(c) => {
                c.set_flush(flush)?;
                Ok(Tx::Native(c.begin()?))
            }
        }
    }
}

/// Whether a transaction of these appends flushes the log at commit: unless every one of them
/// may be taken back by a power failure (an import's batches before its last; every append
/// that does not fold is durable).
fn flushes(batch: &[Job]) -> bool {
    batch.iter().any(|j| j.folding.as_ref().is_none_or(|f| f.durable))
}

/// The appends waiting after `first`, up to a batch, in tenant order.
fn gather(first: Job, rx: &mut mpsc::Receiver<Job>) -> Vec<Job> {
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(j) => batch.push(j),
            Err(_) => break,
        }
    }
    batch.sort_by_key(|j| j.tenant);
    batch
}

async fn writer(w: Writer, heads: HeadWatch, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let batch = gather(first, &mut rx);
        commit_batch(&w, &heads, batch).await;
    }
}

/// The SQLite writer thread: every statement of a batch runs in place on this thread (the
/// futures complete without waiting: nothing in them does I/O through the runtime).
fn native_writer(conn: NativeConn, heads: HeadWatch, mut rx: mpsc::Receiver<Job>) {
    let rt = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "the ledger writer cannot start");
            return;
        }
    };
    let w = Writer::Native(conn);
    while let Some(first) = rx.blocking_recv() {
        let batch = gather(first, &mut rx);
        rt.block_on(commit_batch(&w, &heads, batch));
    }
}

/// The chain head after an append: its highest seq (a batch entry comes before the entries
/// that follow it, but its events may be answered last).
fn last_seq(appended: &[Appended]) -> Option<u64> {
    appended.iter().map(|a| a.seq).max()
}

/// An append's tenant, where to answer, and its result.
type Answer = (TenantId, oneshot::Sender<Result<Vec<Appended>, StoreError>>, Result<Vec<Appended>, StoreError>);

async fn commit_batch(w: &Writer, heads: &HeadWatch, batch: Vec<Job>) {
    let mut results: Vec<Answer> = Vec::with_capacity(batch.len());
    let mut tx = match w.begin(flushes(&batch)).await {
        Ok(tx) => tx,
        Err(e) => {
            let msg = e.to_string();
            for j in batch {
                let _ = j.reply.send(Err(StoreError::Unreachable(msg.clone())));
            }
            return;
        }
    };
    let single = batch.len() == 1;
    for j in batch {
        if !single && let Err(e) = tx.exec("SAVEPOINT konsent_append", vec![]).await {
            results.push((j.tenant, j.reply, Err(e)));
            continue;
        }
        let r = append_folding(&mut tx, j.tenant, j.recorded_at, j.events, j.side, j.folding).await;
        let r = match (r, single) {
            (Ok(v), false) => tx.exec("RELEASE SAVEPOINT konsent_append", vec![]).await.map(|_| v),
            (Err(e), false) => {
                let _ = tx.exec("ROLLBACK TO SAVEPOINT konsent_append", vec![]).await;
                let _ = tx.exec("RELEASE SAVEPOINT konsent_append", vec![]).await;
                Err(e)
            }
            (r, true) => r,
        };
        results.push((j.tenant, j.reply, r));
    }
    let all_failed_single = single && results.iter().all(|(_, _, r)| r.is_err());
    if tx.engine() == Engine::Postgres && !all_failed_single {
        // Tell every instance's head watch, once per tenant and batch; delivered at commit.
        let mut last: Vec<(TenantId, u64)> = Vec::new();
        for (tenant, _, r) in &results {
            if let Ok(Some(head)) = r.as_ref().map(|v| last_seq(v)) {
                match last.last_mut() {
                    Some((t, seq)) if t == tenant => *seq = head,
                    _ => last.push((*tenant, head)),
                }
            }
        }
        for (tenant, seq) in last {
            let _ =
                tx.fetch_all("SELECT pg_notify($1, $2)", vals![crate::watch::CHANNEL, format!("{tenant}:{seq}")]).await;
        }
    }
    let committed = if all_failed_single { Ok(()) } else { tx.commit().await };
    if committed.is_ok() {
        for (tenant, _, r) in &results {
            if let Ok(Some(head)) = r.as_ref().map(|v| last_seq(v)) {
                heads.advance(*tenant, head);
            }
        }
    }
    for (_, reply, r) in results {
        let r = match (&committed, r) {
            (Ok(()), r) => r,
            (Err(e), _) => Err(StoreError::Unreachable(format!("commit failed: {e}"))),
        };
        let _ = reply.send(r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An append: a plain one (`None`), or an import batch that is durable or not.
    fn job(durable: Option<bool>) -> Job {
        let (reply, _) = oneshot::channel();
        let folding = durable.map(|durable| Folding {
            event_id: konsent_domain::ids::EventId::from_parts(1, [2; 10]),
            actor: konsent_domain::ledger::Actor::System,
            label: "import x".into(),
            durable,
        });
        Job {
            tenant: TenantId::from_parts(1, [1; 10]),
            recorded_at: Timestamp::UNIX_EPOCH,
            events: vec![],
            side: vec![],
            folding,
            reply,
        }
    }

    #[test]
    fn a_transaction_skips_the_log_flush_only_when_every_append_in_it_may() {
        assert!(!flushes(&[job(Some(false))]));
        assert!(!flushes(&[job(Some(false)), job(Some(false))]));
        // An API write gathered with an import batch makes the commit durable for both.
        assert!(flushes(&[job(Some(false)), job(None)]));
        assert!(flushes(&[job(Some(false)), job(Some(true))]));
        assert!(flushes(&[job(None)]));
    }
}
