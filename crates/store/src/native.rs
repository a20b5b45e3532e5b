//! The SQLite ledger writer's own connection: statements run in place on the writer's thread
//! through rusqlite (the same libsqlite3 as sqlx), instead of being handed to a connection worker
//! thread one by one. A group commit of 64 appends is ~800 statements; the hand-offs, not SQLite,
//! were most of its cost.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};

use crate::db::{Row, Val};
use crate::error::StoreError;

fn err(e: rusqlite::Error) -> StoreError {
    StoreError::Native(e.to_string())
}

impl ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Val::I64(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Val::OptI64(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Val::OptI64(None) | Val::OptText(None) | Val::OptBytes(None) | Val::OptId(None) => {
                ToSqlOutput::Borrowed(ValueRef::Null)
            }
            Val::Id(v) | Val::OptId(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Blob(v.as_bytes())),
            Val::Text(v) | Val::OptText(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Val::Bytes(v) | Val::OptBytes(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Blob(v)),
            Val::Bool(v) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*v))),
        })
    }
}

/// Which value each parameter of a statement takes, by the statement text's address: SQLite
/// answers a parameter's name by walking the list of names, so asking for all of them is
/// quadratic (a multi-row insert of 640 values spent most of its time there).
type ParamMaps = HashMap<(usize, usize), Vec<usize>>;

/// A writer connection, shared by the writer thread's transactions one after another.
#[derive(Clone)]
pub struct NativeConn(Arc<Mutex<Connection>>, Arc<Mutex<ParamMaps>>, Arc<LogPurge>);

/// A request to the checkpointer thread to empty the log file (see [`NativeConn::purge_log`]).
struct LogPurge {
    /// Set by a commit that erased personal data; the thread clears it when it starts purging.
    asked: Arc<AtomicBool>,
    /// Wakes the checkpointer thread; `None` without the thread.
    wake: Option<SyncSender<()>>,
}

impl std::fmt::Debug for NativeConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NativeConn")
    }
}

impl NativeConn {
    /// Opens the database file for writing with the same settings as the sqlx pools.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, Checkpoints::DEFAULT)
    }

    fn open_with(path: &Path, checkpoints: Checkpoints) -> Result<Self, StoreError> {
        let mut c = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(err)?;
        c.busy_timeout(Duration::from_secs(30)).map_err(err)?;
        c.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        c.pragma_update(None, "synchronous", "FULL").map_err(err)?;
        c.pragma_update(None, "foreign_keys", "ON").map_err(err)?;
        // As on the pool's connections (`Db::connect`): erased bytes are zeroed in their page.
        c.pragma_update(None, "secure_delete", "FAST").map_err(err)?;
        // Savepoint journals (one per append of a batch) in memory, and room for the hot pages.
        c.pragma_update(None, "temp_store", "MEMORY").map_err(err)?;
        c.pragma_update(None, "cache_size", -65_536).map_err(err)?;
        c.set_prepared_statement_cache_capacity(256);
        let asked = Arc::new(AtomicBool::new(false));
        let wake = match checkpoint_in_background(&mut c, path, checkpoints, Arc::clone(&asked)) {
            Ok(wake) => Some(wake),
            Err(e) => {
                // Without the thread the writer checkpoints in its own commits, as SQLite does by
                // default: slower for bulk imports, and erased bytes stay in the log's old
                // frames until SQLite reuses them or the last connection closes.
                tracing::warn!(error = %e, "no WAL checkpointer thread; the ledger writer checkpoints itself");
                c.pragma_update(None, "wal_autocheckpoint", 16_384).map_err(err)?;
                None
            }
        };
        Ok(Self(Arc::new(Mutex::new(c)), Arc::default(), Arc::new(LogPurge { asked, wake })))
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the next commits flush the log (`synchronous=FULL`, as opened) or leave it to the
    /// operating system (`NORMAL`: in WAL mode a commit may then be taken back by a power failure,
    /// never by a crash of the process, and the database stays consistent). Set between
    /// transactions; a no-op when already so.
    pub fn set_flush(&self, flush: bool) -> Result<(), StoreError> {
        let c = self.lock();
        let want = if flush { 2 } else { 1 };
        let now: i64 = c.pragma_query_value(None, "synchronous", |r| r.get(0)).map_err(err)?;
        if now != want {
            c.pragma_update(None, "synchronous", want).map_err(err)?;
        }
        Ok(())
    }

    /// `BEGIN IMMEDIATE`: the returned transaction rolls back when dropped uncommitted.
    pub fn begin(&self) -> Result<NativeTx, StoreError> {
        self.lock().execute_batch("BEGIN IMMEDIATE").map_err(err)?;
        Ok(NativeTx { conn: self.clone(), open: true, erased: false })
    }

    /// Asks the checkpointer thread to copy the whole log into the database and truncate the log
    /// file to nothing, so that bytes a commit erased (overwritten in the database's pages by
    /// `secure_delete`) do not stay behind in the log's older frames. The thread retries while
    /// readers or the writer keep the log busy; returns at once.
    pub(crate) fn purge_log(&self) {
        self.2.asked.store(true, Ordering::SeqCst);
        if let Some(wake) = &self.2.wake {
            let _ = wake.try_send(());
        }
    }
}

/// How often the checkpointer thread tries again to empty a log that readers or the writer keep
/// busy.
const PURGE_RETRY: Duration = Duration::from_millis(250);

/// When the WAL is copied back into the database, in WAL frames (pages).
#[derive(Debug, Clone, Copy)]
struct Checkpoints {
    /// A commit leaving at least this many frames wakes the checkpointer thread.
    wake: i32,
    /// A commit leaving at least this many frames checkpoints in the writer itself, as SQLite's
    /// autocheckpoint would, so the log stays bounded when the checkpointer falls behind.
    inline: i32,
}

impl Checkpoints {
    /// 64 MB and 512 MB of 16 KB pages.
    const DEFAULT: Self = Self { wake: 4_096, inline: 32_768 };
}

/// Copies the WAL back into the database on a thread of its own instead of in the writer's
/// commit: a bulk import spent a fifth of the writer's time in checkpoints, while the other core
/// waited. The thread has its own connection and runs passive checkpoints, which never block the
/// writer; after one has copied every frame, the writer's next transaction starts the log anew.
/// When the writer's connection closes, its hook (and with it the sender) is dropped and the
/// thread ends.
fn checkpoint_in_background(
    writer: &mut Connection,
    path: &Path,
    at: Checkpoints,
    purge_asked: Arc<AtomicBool>,
) -> Result<SyncSender<()>, StoreError> {
    let checkpointer =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(err)?;
    checkpointer.pragma_update(None, "synchronous", "FULL").map_err(err)?;
    let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("konsent-checkpoint".into())
        .spawn(move || {
            // Whether a purge was asked for and has not succeeded yet.
            let mut purging = false;
            loop {
                let woke = if purging {
                    woken.recv_timeout(PURGE_RETRY)
                } else {
                    woken.recv().map_err(|_| RecvTimeoutError::Disconnected)
                };
                if woke == Err(RecvTimeoutError::Disconnected) {
                    break;
                }
                while woken.try_recv().is_ok() {}
                purging |= purge_asked.swap(false, Ordering::SeqCst);
                // TRUNCATE waits for no one here (no busy handler): with a reader or the writer
                // in the log it copies what it can and answers busy, and is tried again.
                let mode = if purging {
                    rusqlite::wal::CheckpointMode::TRUNCATE
                } else {
                    rusqlite::wal::CheckpointMode::PASSIVE
                };
                match checkpointer.wal_checkpoint_v2(None::<&str>, mode) {
                    Ok(_) => purging = false,
                    // Busy: the writer is checkpointing itself, or (purging) the log is in use.
                    Err(rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error { code: rusqlite::ErrorCode::DatabaseBusy, .. },
                        _,
                    )) => {}
                    Err(e) => {
                        purging = false;
                        tracing::warn!(error = %e, "background WAL checkpoint failed; the writer checkpoints itself")
                    }
                }
            }
        })
        .map_err(|e| StoreError::Native(format!("no checkpoint thread: {e}")))?;
    let hook_wake = wake.clone();
    writer
        .wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, frames: std::ffi::c_int| {
            if frames >= at.inline {
                // Behind: checkpoint here, like the default autocheckpoint (a busy checkpointer
                // thread makes this a no-op, not an error).
                let _ = wal.checkpoint_v2(rusqlite::wal::CheckpointMode::PASSIVE);
            } else if frames >= at.wake {
                let _ = hook_wake.try_send(());
            }
            Ok(())
        }))
        .map_err(err)?;
    Ok(wake)
}

/// An open transaction on a [`NativeConn`].
pub struct NativeTx {
    conn: NativeConn,
    open: bool,
    /// Whether the transaction erased personal data: its commit then purges the log.
    erased: bool,
}

/// Binds `args` by the number in each `$N` placeholder (SQLite numbers named parameters by first
/// appearance, so the text of the name is what counts). `sql` is a `'static` statement text: its
/// address keys the cached order.
fn bind(
    stmt: &mut rusqlite::CachedStatement<'_>,
    maps: &Mutex<ParamMaps>,
    sql: &'static str,
    args: &[Val],
) -> Result<(), StoreError> {
    let mut maps = maps.lock().unwrap_or_else(|e| e.into_inner());
    let order = maps.entry((sql.as_ptr() as usize, sql.len())).or_insert_with(|| {
        (1..=stmt.parameter_count())
            .map(|i| {
                stmt.parameter_name(i).and_then(|name| name.trim_start_matches(['$', '?']).parse().ok()).unwrap_or(i)
            })
            .collect()
    });
    for (i, n) in order.iter().enumerate() {
        let v = args.get(n - 1).ok_or_else(|| StoreError::Native(format!("no value for parameter {n}")))?;
        stmt.raw_bind_parameter(i + 1, v).map_err(err)?;
    }
    Ok(())
}

impl NativeTx {
    pub(crate) fn exec(&mut self, sql: &'static str, args: &[Val]) -> Result<u64, StoreError> {
        let c = self.conn.lock();
        let mut stmt = c.prepare_cached(sql).map_err(err)?;
        bind(&mut stmt, &self.conn.1, sql, args)?;
        Ok(stmt.raw_execute().map_err(err)? as u64)
    }

    pub(crate) fn fetch_all(&mut self, sql: &'static str, args: &[Val]) -> Result<Vec<Row>, StoreError> {
        let c = self.conn.lock();
        let mut stmt = c.prepare_cached(sql).map_err(err)?;
        bind(&mut stmt, &self.conn.1, sql, args)?;
        let n = stmt.column_count();
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(err)? {
            out.push(Row::Native((0..n).map(|i| r.get::<_, Value>(i)).collect::<Result<_, _>>().map_err(err)?));
        }
        Ok(out)
    }

    pub(crate) fn exec_script(&mut self, script: &str) -> Result<(), StoreError> {
        self.conn.lock().execute_batch(script).map_err(err)
    }

    pub(crate) fn commit(mut self) -> Result<(), StoreError> {
        self.open = false;
        self.conn.lock().execute_batch("COMMIT").map_err(err)?;
        if self.erased {
            self.conn.purge_log();
        }
        Ok(())
    }

    /// Marks the transaction as one that erases personal data (see [`NativeConn::purge_log`]).
    pub(crate) fn erases(&mut self) {
        self.erased = true;
    }
}

impl Drop for NativeTx {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.lock().execute_batch("ROLLBACK");
        }
    }
}

/// A column of a native row.
pub(crate) fn column(row: &[Value], i: usize) -> Result<&Value, StoreError> {
    row.get(i).ok_or_else(|| StoreError::Native(format!("no column {i}")))
}

/// Integer column.
pub(crate) fn int(v: &Value) -> Result<Option<i64>, StoreError> {
    match v {
        Value::Null => Ok(None),
        Value::Integer(i) => Ok(Some(*i)),
        other => Err(StoreError::Native(format!("expected an integer, found {:?}", other.data_type()))),
    }
}

/// Text column.
pub(crate) fn text(v: &Value) -> Result<Option<String>, StoreError> {
    match v {
        Value::Null => Ok(None),
        Value::Text(s) => Ok(Some(s.clone())),
        other => Err(StoreError::Native(format!("expected text, found {:?}", other.data_type()))),
    }
}

/// Blob column.
pub(crate) fn blob(v: &Value) -> Result<Option<Vec<u8>>, StoreError> {
    match v {
        Value::Null => Ok(None),
        Value::Blob(b) => Ok(Some(b.clone())),
        other => Err(StoreError::Native(format!("expected bytes, found {:?}", other.data_type()))),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    /// A database with a table to fill, and the writer's connection with the given checkpoints.
    fn writer(dir: &Path, at: Checkpoints) -> (std::path::PathBuf, NativeConn) {
        let path = dir.join("k.db");
        let c = Connection::open(&path).expect("create");
        c.pragma_update(None, "page_size", 4096).expect("page size");
        c.pragma_update(None, "journal_mode", "WAL").expect("wal");
        c.execute_batch("CREATE TABLE t (x BLOB)").expect("table");
        drop(c);
        (path.clone(), NativeConn::open_with(&path, at).expect("open"))
    }

    /// Commits `n` transactions of one 3 KB row each.
    fn fill(w: &NativeConn, n: usize) {
        for _ in 0..n {
            let mut tx = w.begin().expect("begin");
            tx.exec("INSERT INTO t (x) VALUES (zeroblob(3000))", &[]).expect("insert");
            tx.commit().expect("commit");
        }
    }

    fn len(path: &Path) -> u64 {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    }

    fn wal(path: &Path) -> std::path::PathBuf {
        path.with_extension("db-wal")
    }

    #[test]
    fn the_checkpointer_thread_copies_the_wal_into_the_database_while_the_writer_goes_on() {
        let dir = tempfile::tempdir().expect("dir");
        // The writer never checkpoints itself here: only the thread can move pages.
        let (path, w) = writer(dir.path(), Checkpoints { wake: 16, inline: i32::MAX });
        let before = len(&path);
        fill(&w, 200);
        let deadline = Instant::now() + Duration::from_secs(20);
        while len(&path) <= before + 100 * 3000 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(len(&path) > before + 100 * 3000, "the database file did not grow: {} bytes", len(&path));
        let rows: i64 = w.lock().query_row("SELECT count(*) FROM t", [], |r| r.get(0)).expect("count");
        assert_eq!(rows, 200);
    }

    /// Whether `needle` is anywhere in the file at `path`.
    fn holds(path: &Path, needle: &[u8]) -> bool {
        std::fs::read(path).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
    }

    #[test]
    fn a_commit_that_erases_empties_the_log_so_the_erased_bytes_are_nowhere_on_disk() {
        let dir = tempfile::tempdir().expect("dir");
        let (path, w) = writer(dir.path(), Checkpoints::DEFAULT);
        w.lock().pragma_update(None, "secure_delete", "FAST").expect("as opened by Konsent");
        let secret = b"ERASE-ME-0123456789-abcdefghijklmnopqrstuvwxyz";
        let mut tx = w.begin().expect("begin");
        tx.exec("INSERT INTO t (x) VALUES ($1)", &[Val::Bytes(secret.to_vec())]).expect("insert");
        tx.commit().expect("commit");
        fill(&w, 5);
        assert!(holds(&wal(&path), secret), "written to the log first");

        // A reader in the log holds the purge back; it goes through once the reader is done.
        let reader = Connection::open(&path).expect("reader");
        reader.execute_batch("BEGIN; SELECT count(*) FROM t;").expect("read");
        let mut tx = w.begin().expect("begin");
        tx.exec("DELETE FROM t WHERE x = $1", &[Val::Bytes(secret.to_vec())]).expect("delete");
        tx.erases();
        tx.commit().expect("commit");
        std::thread::sleep(PURGE_RETRY * 2);
        assert!(len(&wal(&path)) > 0, "not truncated under a reader's feet");
        reader.execute_batch("COMMIT").expect("end the read");
        let deadline = Instant::now() + Duration::from_secs(20);
        while len(&wal(&path)) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(len(&wal(&path)), 0, "the log is emptied");
        assert!(!holds(&path, secret) && !holds(&wal(&path), secret), "the erased bytes are gone from both files");
        let rows: i64 = w.lock().query_row("SELECT count(*) FROM t", [], |r| r.get(0)).expect("count");
        assert_eq!(rows, 5, "the other rows stay");
    }

    #[test]
    fn commits_leave_the_log_flush_to_the_system_only_while_asked_and_stay_readable() {
        let dir = tempfile::tempdir().expect("dir");
        let (path, w) = writer(dir.path(), Checkpoints::DEFAULT);
        let synchronous =
            |w: &NativeConn| -> i64 { w.lock().pragma_query_value(None, "synchronous", |r| r.get(0)).expect("pragma") };
        assert_eq!(synchronous(&w), 2, "opened with FULL");
        w.set_flush(false).expect("normal");
        assert_eq!(synchronous(&w), 1, "NORMAL while batches may be taken back");
        fill(&w, 3);
        // Committed without the flush, the rows are there for every other connection.
        let reader = Connection::open(&path).expect("reader");
        let rows: i64 = reader.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).expect("count");
        assert_eq!(rows, 3);
        w.set_flush(true).expect("full");
        assert_eq!(synchronous(&w), 2, "FULL again for the next durable commit");
        fill(&w, 1);
        let rows: i64 = reader.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).expect("count");
        assert_eq!(rows, 4);
    }

    #[test]
    fn the_writer_checkpoints_itself_when_the_log_passes_the_limit_so_the_wal_stays_bounded() {
        let dir = tempfile::tempdir().expect("dir");
        // No thread help (its threshold is never reached): the writer's own checkpoint bounds
        // the log. Without it, 2,000 rows of 3 KB would leave a WAL of about 8 MB.
        let (path, w) = writer(dir.path(), Checkpoints { wake: i32::MAX, inline: 64 });
        fill(&w, 2_000);
        let frame = 4096 + 24;
        assert!(len(&wal(&path)) <= 80 * frame, "WAL of {} bytes", len(&wal(&path)));
        assert!(len(&path) > 2_000 * 3000, "database of {} bytes", len(&path));
    }
}
