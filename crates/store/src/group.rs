//! Group commit: concurrent appends are gathered by a writer task and committed together, so
//! many durable writes share one fsync. Each append keeps its own savepoint: a failing one is
//! rolled back alone and answered with its error, the others commit.
//!
//! Appends of one tenant always go to the same writer (its chain is serialised anyway); different
//! tenants may commit in parallel on PostgreSQL. Within a batch, tenants are locked in id order,
//! so two instances batching the same tenants cannot deadlock.
//!
//! On SQLite an append that asks for it ([`Commit::Open`]: an import's batches within one of its
//! transactions) leaves the transaction open for the next append that skips the log's flush, or
//! for [`LINGER`] if none comes: each commit of a large import rewrites every page its rows
//! touched, and the pages of a random-keyed index are nearly all of them, so fewer, larger
//! commits write much less, while the import plans its batches small. An append is answered in
//! two steps ([`Submitted`]): taken (its rows are in the transaction and its memory is free) and
//! committed.

use std::time::Duration;

use jiff::Timestamp;
use konsent_domain::ids::TenantId;
use tokio::sync::{mpsc, oneshot};

use crate::db::{Db, Engine, Tx};
use crate::error::StoreError;
use crate::ledger::{Appended, Commit, Folding, PendingEvent, append_folding};
use crate::native::NativeConn;
use crate::side::SideWrite;
use crate::vals;
use crate::watch::HeadWatch;

/// Appends gathered into one transaction at most.
const MAX_BATCH: usize = 512;

/// How long a transaction left open ([`Commit::Open`]) waits for the next append before it
/// commits (an import plans its next batch meanwhile; one that stopped is committed then).
pub const LINGER: Duration = Duration::from_secs(1);

struct Job {
    tenant: TenantId,
    recorded_at: Timestamp,
    events: Vec<PendingEvent>,
    side: Vec<SideWrite>,
    folding: Option<Folding>,
    /// Told when the append is in the transaction (or failed); dropped unsent if it never was.
    taken: oneshot::Sender<()>,
    reply: oneshot::Sender<Result<Vec<Appended>, StoreError>>,
}

impl Job {
    /// How its transaction commits (every append that does not fold is durable).
    fn commit(&self) -> Commit {
        self.folding.as_ref().map_or(Commit::Durable, |f| f.commit)
    }
}

/// An append on its way: [`Submitted::when_taken`] when it is in the open transaction,
/// [`Submitted::committed`] when that committed.
#[derive(Debug)]
pub struct Submitted {
    taken: Option<oneshot::Receiver<()>>,
    reply: oneshot::Receiver<Result<Vec<Appended>, StoreError>>,
}

impl Submitted {
    /// Resolves when the writer has the append in its transaction (or refused it): its events
    /// are written and their memory free. The future borrows nothing (the caller can await it
    /// beside work on what holds this); asked again, it resolves at once.
    pub fn when_taken(&mut self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let rx = self.taken.take();
        async move {
            if let Some(rx) = rx {
                let _ = rx.await;
            }
        }
    }

    /// Waits for the commit: the appended events, or why nothing of the append was kept.
    pub async fn committed(self) -> Result<Vec<Appended>, StoreError> {
        self.reply.await.map_err(|_| gone())?
    }

    /// The commit's outcome if it is known already, without waiting.
    pub fn try_committed(&mut self) -> Option<Result<Vec<Appended>, StoreError>> {
        match self.reply.try_recv() {
            Ok(r) => Some(r),
            Err(oneshot::error::TryRecvError::Empty) => None,
            Err(oneshot::error::TryRecvError::Closed) => Some(Err(gone())),
        }
    }
}

fn gone() -> StoreError {
    StoreError::Unreachable("the ledger writer stopped before answering".into())
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
        Self::lingering(db, heads, LINGER)
    }

    /// [`GroupCommit::start`] with another wait of an open transaction for the next append
    /// than [`LINGER`] (tests make it long to see a transaction open, or short).
    pub fn lingering(db: Db, heads: HeadWatch, linger: Duration) -> Self {
        if let Db::Sqlite { write, .. } = &db {
            let path = write.connect_options().get_filename().to_path_buf();
            match NativeConn::open(&path) {
                Ok(conn) => {
                    let (tx, rx) = mpsc::channel::<Job>(4096);
                    let h = heads.clone();
                    let spawned = std::thread::Builder::new()
                        .name("konsent-ledger-writer".into())
                        .spawn(move || native_writer(conn, h, rx, linger));
                    match spawned {
                        Ok(_) => return Self { writers: vec![tx] },
                        Err(e) => tracing::warn!(error = %e, "no ledger writer thread; using the pooled writer"),
                    }
                }
                Err(e) => tracing::warn!(error = %e, "no native SQLite writer; using the pooled writer"),
            }
            return Self::pooled(db, heads, 1, linger);
        }
        Self::pooled(db, heads, 4, linger)
    }

    fn pooled(db: Db, heads: HeadWatch, n: usize, linger: Duration) -> Self {
        let writers = (0..n)
            .map(|_| {
                let (tx, rx) = mpsc::channel::<Job>(4096);
                tokio::spawn(writer(Writer::Pool(db.clone()), heads.clone(), rx, linger));
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
        self.submit(tenant, recorded_at, events, side, None).await?.committed().await
    }

    /// Hands an append to its writer and returns at once; the caller awaits
    /// [`Submitted::when_taken`] and [`Submitted::committed`]. With `folding`, persons' events go
    /// into one batch entry (see [`crate::ledger::append_folding`]).
    pub async fn submit(
        &self,
        tenant: TenantId,
        recorded_at: Timestamp,
        events: Vec<PendingEvent>,
        side: Vec<SideWrite>,
        folding: Option<Folding>,
    ) -> Result<Submitted, StoreError> {
        let i = (tenant.as_uuid().as_u128() % self.writers.len() as u128) as usize;
        let (reply, rx) = oneshot::channel();
        let (taken, taken_rx) = oneshot::channel();
        self.writers[i]
            .send(Job { tenant, recorded_at, events, side, folding, taken, reply })
            .await
            .map_err(|_| StoreError::Unreachable("the ledger writer has stopped".into()))?;
        Ok(Submitted { taken: Some(taken_rx), reply: rx })
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
    /// Whether a transaction asked to stay open ([`Commit::Open`]) does: on SQLite, where each
    /// commit rewrites the pages it changed. On PostgreSQL a commit of these appends costs
    /// little (the log is not flushed), and with the transaction open a 100,000-row import took
    /// twice as long, most likely because the `ANALYZE` runs during the import do not see its
    /// uncommitted rows and the lookups are planned as scans.
    fn lingers(&self) -> bool {
        match self {
            Writer::Pool(db) => db.engine() == Engine::Sqlite,
            Writer::Native(_) => true,
        }
    }

    /// Begins a transaction; `flush: false` when every append in it may skip the log's flush at
    /// commit (see [`Commit::Lazy`]).
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
/// may be taken back by a power failure (an import's batches before its last).
fn flushes(batch: &[Job]) -> bool {
    batch.iter().any(|j| j.commit() == Commit::Durable)
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

async fn writer(w: Writer, heads: HeadWatch, mut rx: mpsc::Receiver<Job>, linger: Duration) {
    let mut next = rx.recv().await;
    while let Some(first) = next {
        let batch = gather(first, &mut rx);
        next = match commit_batch(&w, &heads, batch, &mut rx, linger).await {
            Some(left) => Some(left),
            None => rx.recv().await,
        };
    }
}

/// The SQLite writer thread: every statement of a batch runs in place on this thread (the
/// futures complete without waiting: nothing in them does I/O through the runtime).
fn native_writer(conn: NativeConn, heads: HeadWatch, mut rx: mpsc::Receiver<Job>, linger: Duration) {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_time().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "the ledger writer cannot start");
            return;
        }
    };
    let w = Writer::Native(conn);
    let mut next = rx.blocking_recv();
    while let Some(first) = next {
        let batch = gather(first, &mut rx);
        next = match rt.block_on(commit_batch(&w, &heads, batch, &mut rx, linger)) {
            Some(left) => Some(left),
            None => rx.blocking_recv(),
        };
    }
}

/// The chain head after an append: its highest seq (a batch entry comes before the entries
/// that follow it, but its events may be answered last).
fn last_seq(appended: &[Appended]) -> Option<u64> {
    appended.iter().map(|a| a.seq).max()
}

/// An append's tenant, where to answer, and its result.
type Answer = (TenantId, oneshot::Sender<Result<Vec<Appended>, StoreError>>, Result<Vec<Appended>, StoreError>);

/// Appends `j` in the transaction (within a savepoint when `savepoint`, taken back alone if it
/// fails) and tells it it was taken.
async fn take(tx: &mut Tx, j: Job, savepoint: bool) -> Answer {
    let Job { tenant, recorded_at, events, side, folding, taken, reply } = j;
    if savepoint && let Err(e) = tx.exec("SAVEPOINT konsent_append", vec![]).await {
        return (tenant, reply, Err(e));
    }
    let r = append_folding(tx, tenant, recorded_at, events, side, folding).await;
    let r = match (r, savepoint) {
        (Ok(v), true) => tx.exec("RELEASE SAVEPOINT konsent_append", vec![]).await.map(|_| v),
        (Err(e), true) => {
            let _ = tx.exec("ROLLBACK TO SAVEPOINT konsent_append", vec![]).await;
            let _ = tx.exec("RELEASE SAVEPOINT konsent_append", vec![]).await;
            Err(e)
        }
        (r, false) => r,
    };
    let _ = taken.send(());
    (tenant, reply, r)
}

/// Commits `batch`; a transaction left open ([`Commit::Open`]) first takes the appends that
/// follow and skip the flush (see the module). Returns an append that arrived meanwhile but
/// needs a transaction of its own (it flushes), to begin the next batch with.
async fn commit_batch(
    w: &Writer,
    heads: &HeadWatch,
    batch: Vec<Job>,
    rx: &mut mpsc::Receiver<Job>,
    linger: Duration,
) -> Option<Job> {
    let mut results: Vec<Answer> = Vec::with_capacity(batch.len());
    let lazy = !flushes(&batch);
    let mut tx = match w.begin(!lazy).await {
        Ok(tx) => tx,
        Err(e) => {
            let msg = e.to_string();
            for j in batch {
                let _ = j.reply.send(Err(StoreError::Unreachable(msg.clone())));
            }
            return None;
        }
    };
    let single = batch.len() == 1;
    let mut open = lazy && w.lingers() && batch.iter().any(|j| j.commit() == Commit::Open);
    for j in batch {
        // Several appends: each in a savepoint, so one failing leaves the others.
        results.push(take(&mut tx, j, !single).await);
    }
    let mut left = None;
    if results.iter().any(|(_, _, r)| r.is_ok()) {
        while open {
            let j = match tokio::time::timeout(linger, rx.recv()).await {
                Ok(Some(j)) => j,
                Ok(None) | Err(_) => break,
            };
            if j.commit() == Commit::Durable {
                left = Some(j);
                break;
            }
            open = j.commit() == Commit::Open;
            // Without a savepoint, which would copy every page the append changes into a
            // statement journal: an append failing here takes the whole transaction back.
            let (tenant, reply, r) = take(&mut tx, j, false).await;
            if let Err(e) = r {
                drop(tx);
                let why = e.to_string();
                let _ = reply.send(Err(e));
                for (_, reply, r) in results {
                    let _ = reply.send(r.and(Err(StoreError::Unreachable(format!(
                        "rolled back with a later append of the same transaction that failed: {why}"
                    )))));
                }
                return left;
            }
            results.push((tenant, reply, r));
        }
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
    left
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An append: a plain one (`None`), or an import batch committing as given.
    fn job(commit: Option<Commit>) -> Job {
        let (reply, _) = oneshot::channel();
        let (taken, _) = oneshot::channel();
        let folding = commit.map(|commit| Folding {
            event_id: konsent_domain::ids::EventId::from_parts(1, [2; 10]),
            actor: konsent_domain::ledger::Actor::System,
            label: "import x".into(),
            commit,
        });
        Job {
            tenant: TenantId::from_parts(1, [1; 10]),
            recorded_at: Timestamp::UNIX_EPOCH,
            events: vec![],
            side: vec![],
            folding,
            taken,
            reply,
        }
    }

    #[test]
    fn a_transaction_skips_the_log_flush_only_when_every_append_in_it_may() {
        use Commit::*;
        assert!(!flushes(&[job(Some(Lazy))]));
        assert!(!flushes(&[job(Some(Lazy)), job(Some(Open))]));
        // An API write gathered with an import batch makes the commit durable for both.
        assert!(flushes(&[job(Some(Lazy)), job(None)]));
        assert!(flushes(&[job(Some(Open)), job(Some(Durable))]));
        assert!(flushes(&[job(None)]));
    }
}
