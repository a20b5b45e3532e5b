//! The SQLite ledger writer's own connection: statements run in place on the writer's thread
//! through rusqlite (the same libsqlite3 as sqlx), instead of being handed to a connection worker
//! thread one by one. A group commit of 64 appends is ~800 statements; the hand-offs, not SQLite,
//! were most of its cost.

use std::collections::HashMap;
use std::path::Path;
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
            Val::OptI64(None) | Val::OptText(None) => ToSqlOutput::Borrowed(ValueRef::Null),
            Val::Text(v) | Val::OptText(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Val::Bytes(v) => ToSqlOutput::Borrowed(ValueRef::Blob(v)),
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
pub struct NativeConn(Arc<Mutex<Connection>>, Arc<Mutex<ParamMaps>>);

impl std::fmt::Debug for NativeConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NativeConn")
    }
}

impl NativeConn {
    /// Opens the database file for writing with the same settings as the sqlx pools.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let c = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(err)?;
        c.busy_timeout(Duration::from_secs(30)).map_err(err)?;
        c.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        c.pragma_update(None, "synchronous", "FULL").map_err(err)?;
        c.pragma_update(None, "foreign_keys", "ON").map_err(err)?;
        // Savepoint journals (one per append of a batch) in memory, and room for the hot pages.
        c.pragma_update(None, "temp_store", "MEMORY").map_err(err)?;
        c.pragma_update(None, "cache_size", -65_536).map_err(err)?;
        // Checkpoint the WAL every 64 MB instead of every 4 MB: a bulk import commits tens of MB
        // at a time, and each checkpoint writes the hot index pages back once more.
        c.pragma_update(None, "wal_autocheckpoint", 16_384).map_err(err)?;
        c.set_prepared_statement_cache_capacity(256);
        Ok(Self(Arc::new(Mutex::new(c)), Arc::default()))
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `BEGIN IMMEDIATE`: the returned transaction rolls back when dropped uncommitted.
    pub fn begin(&self) -> Result<NativeTx, StoreError> {
        self.lock().execute_batch("BEGIN IMMEDIATE").map_err(err)?;
        Ok(NativeTx { conn: self.clone(), open: true })
    }
}

/// An open transaction on a [`NativeConn`].
pub struct NativeTx {
    conn: NativeConn,
    open: bool,
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
        self.conn.lock().execute_batch("COMMIT").map_err(err)
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
