//! The database handle: one code path for SQLite and PostgreSQL through a tiny value/row layer.
//!
//! Store code writes SQL once (portable subset: `$N` placeholders, `ON CONFLICT`, `RETURNING`,
//! BIGINT microsecond timestamps, BLOB/BYTEA bytes) and binds [`Val`]s; [`Db`] runs it on
//! whichever engine is configured. Typed ids ([`StoredId`]) are 16-byte BLOBs on SQLite and TEXT
//! on PostgreSQL: bind them as [`Val::Id`] and read them with [`Row::id`], never as text. SQLite gets a single-connection writer pool with
//! `BEGIN IMMEDIATE`, so writers are serialised and never fail with `SQLITE_BUSY`.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Postgres, Row as _, Sqlite, Transaction};
use uuid::Uuid;

use crate::error::StoreError;
use crate::native;

/// A value bound to a placeholder. Nulls are typed so PostgreSQL knows the column type.
#[derive(Debug, Clone)]
pub enum Val {
    /// 64-bit integer (also timestamps in µs).
    I64(i64),
    /// Nullable integer.
    OptI64(Option<i64>),
    /// Text.
    Text(String),
    /// Nullable text.
    OptText(Option<String>),
    /// Bytes.
    Bytes(Vec<u8>),
    /// Nullable bytes.
    OptBytes(Option<Vec<u8>>),
    /// Boolean.
    Bool(bool),
    /// A typed id: 16 bytes on SQLite, its text on PostgreSQL.
    Id(Uuid),
    /// Nullable typed id.
    OptId(Option<Uuid>),
}

/// A domain id the store keeps in its engine's id representation (see [`Val::Id`]).
pub trait StoredId: Copy {
    /// The id of a stored UUID.
    fn of_uuid(u: Uuid) -> Self;
    /// The UUID to store.
    fn uuid(self) -> Uuid;
}

impl StoredId for Uuid {
    fn of_uuid(u: Uuid) -> Self {
        u
    }
    fn uuid(self) -> Uuid {
        self
    }
}

macro_rules! stored_ids {
    ($($t:ident),*) => {$(
        impl StoredId for konsent_domain::ids::$t {
            fn of_uuid(u: Uuid) -> Self { Self::from_uuid(u) }
            fn uuid(self) -> Uuid { self.as_uuid() }
        }
        impl From<konsent_domain::ids::$t> for Val {
            fn from(v: konsent_domain::ids::$t) -> Self { Val::Id(v.as_uuid()) }
        }
        impl From<&konsent_domain::ids::$t> for Val {
            fn from(v: &konsent_domain::ids::$t) -> Self { Val::Id(v.as_uuid()) }
        }
        impl From<Option<konsent_domain::ids::$t>> for Val {
            fn from(v: Option<konsent_domain::ids::$t>) -> Self { Val::OptId(v.map(|v| v.as_uuid())) }
        }
    )*};
}
stored_ids!(
    TenantId,
    AdvertiserId,
    OrgUnitId,
    PersonId,
    ContactPointId,
    ConsentId,
    TextId,
    UseId,
    EventId,
    SuppressionId,
    BasisId,
    ApiKeyId,
    HoldId,
    SegmentId
);

/// SQLite's form of an id: its 16 bytes.
fn sqlite_id(u: &Uuid) -> Vec<u8> {
    u.as_bytes().to_vec()
}

/// PostgreSQL's form of an id: its hyphenated text.
fn pg_id(u: &Uuid) -> String {
    u.to_string()
}

/// An id read back from either form.
fn uuid_of_bytes(b: &[u8]) -> Result<Uuid, StoreError> {
    Uuid::from_slice(b).map_err(|_| StoreError::Corrupt(format!("an id of {} bytes", b.len())))
}
fn uuid_of_text(s: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(|_| StoreError::Corrupt("an id that is not a UUID".into()))
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::I64(v)
    }
}
impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Self {
        Val::OptI64(v)
    }
}
impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(v.to_string())
    }
}
impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Self {
        Val::OptText(v)
    }
}
impl From<Vec<u8>> for Val {
    fn from(v: Vec<u8>) -> Self {
        Val::Bytes(v)
    }
}
impl From<Option<Vec<u8>>> for Val {
    fn from(v: Option<Vec<u8>>) -> Self {
        Val::OptBytes(v)
    }
}
impl From<bool> for Val {
    fn from(v: bool) -> Self {
        Val::Bool(v)
    }
}

/// Builds a `Vec<Val>` from expressions.
#[macro_export]
macro_rules! vals {
    ($($v:expr),* $(,)?) => { vec![$($crate::db::Val::from($v)),*] };
}

macro_rules! bind_all {
    ($q:expr, $args:expr, $id:ident) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Val::I64(v) => q.bind(v),
                Val::OptI64(v) => q.bind(v),
                Val::Text(v) => q.bind(v),
                Val::OptText(v) => q.bind(v),
                Val::Bytes(v) => q.bind(v),
                Val::OptBytes(v) => q.bind(v),
                Val::Bool(v) => q.bind(v),
                Val::Id(v) => q.bind($id(&v)),
                Val::OptId(v) => q.bind(v.as_ref().map($id)),
            };
        }
        q
    }};
}

/// A result row of either engine.
pub enum Row {
    /// SQLite row.
    Sqlite(SqliteRow),
    /// PostgreSQL row.
    Pg(PgRow),
    /// A row read on the SQLite writer's own connection.
    Native(Vec<rusqlite::types::Value>),
}

macro_rules! get {
    ($self:ident, $i:ident, $t:ty, $native:expr) => {
        match $self {
            Row::Sqlite(r) => r.try_get::<$t, _>($i).map_err(StoreError::from),
            Row::Pg(r) => r.try_get::<$t, _>($i).map_err(StoreError::from),
            Row::Native(r) => $native(native::column(r, $i)?),
        }
    };
}

fn required<T>(v: Option<T>) -> Result<T, StoreError> {
    v.ok_or_else(|| StoreError::Native("unexpected NULL".into()))
}

impl Row {
    /// Integer column.
    pub fn i64(&self, i: usize) -> Result<i64, StoreError> {
        get!(self, i, i64, |v| native::int(v).and_then(required))
    }
    /// Nullable integer column.
    pub fn opt_i64(&self, i: usize) -> Result<Option<i64>, StoreError> {
        get!(self, i, Option<i64>, native::int)
    }
    /// Text column.
    pub fn text(&self, i: usize) -> Result<String, StoreError> {
        get!(self, i, String, |v| native::text(v).and_then(required))
    }
    /// Nullable text column.
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        get!(self, i, Option<String>, native::text)
    }
    /// Bytes column.
    pub fn bytes(&self, i: usize) -> Result<Vec<u8>, StoreError> {
        get!(self, i, Vec<u8>, |v| native::blob(v).and_then(required))
    }
    /// Nullable bytes column.
    pub fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError> {
        get!(self, i, Option<Vec<u8>>, native::blob)
    }
    /// Number of columns.
    pub fn len(&self) -> usize {
        match self {
            Row::Sqlite(r) => r.len(),
            Row::Pg(r) => r.len(),
            Row::Native(r) => r.len(),
        }
    }
    /// Whether the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Any column as text, for comparing dumps on one engine: integers in decimal, bytes in hex,
    /// NULL as `-`.
    pub fn render(&self, i: usize) -> Result<String, StoreError> {
        macro_rules! first_of {
            ($r:expr) => {{
                if let Ok(v) = $r.try_get::<Option<i64>, _>(i) {
                    return Ok(v.map_or_else(|| "-".into(), |v| v.to_string()));
                }
                if let Ok(v) = $r.try_get::<Option<String>, _>(i) {
                    return Ok(v.unwrap_or_else(|| "-".into()));
                }
                if let Ok(v) = $r.try_get::<Option<bool>, _>(i) {
                    return Ok(v.map_or_else(|| "-".into(), |v| v.to_string()));
                }
                Ok($r.try_get::<Option<Vec<u8>>, _>(i)?.map_or_else(|| "-".into(), hex::encode))
            }};
        }
        match self {
            Row::Sqlite(r) => first_of!(r),
            Row::Pg(r) => first_of!(r),
            Row::Native(r) => Ok(match native::column(r, i)? {
                rusqlite::types::Value::Null => "-".into(),
                rusqlite::types::Value::Integer(v) => v.to_string(),
                rusqlite::types::Value::Real(v) => v.to_string(),
                rusqlite::types::Value::Text(v) => v.clone(),
                rusqlite::types::Value::Blob(v) => hex::encode(v),
            }),
        }
    }
    /// Id column (see [`Val::Id`]).
    pub fn id<T: StoredId>(&self, i: usize) -> Result<T, StoreError> {
        self.opt_id(i)?.ok_or_else(|| StoreError::Native("unexpected NULL".into()))
    }
    /// Nullable id column.
    pub fn opt_id<T: StoredId>(&self, i: usize) -> Result<Option<T>, StoreError> {
        let u = match self {
            Row::Sqlite(r) => r.try_get::<Option<Vec<u8>>, _>(i)?.map(|b| uuid_of_bytes(&b)).transpose()?,
            Row::Pg(r) => r.try_get::<Option<String>, _>(i)?.map(|s| uuid_of_text(&s)).transpose()?,
            Row::Native(r) => native::blob(native::column(r, i)?)?.map(|b| uuid_of_bytes(&b)).transpose()?,
        };
        Ok(u.map(T::of_uuid))
    }
    /// Boolean column.
    pub fn bool(&self, i: usize) -> Result<bool, StoreError> {
        get!(self, i, bool, |v| native::int(v).and_then(required).map(|x| x != 0))
    }
}

/// Which engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// SQLite (embedded).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Database handle.
#[derive(Clone, Debug)]
pub enum Db {
    /// SQLite: one writer connection, several readers (WAL).
    Sqlite {
        /// Reader pool.
        read: SqlitePool,
        /// Writer pool of exactly one connection.
        write: SqlitePool,
    },
    /// PostgreSQL pool.
    Postgres(PgPool),
}

/// An open write transaction.
pub enum Tx {
    /// SQLite (`BEGIN IMMEDIATE`).
    Sqlite(Transaction<'static, Sqlite>),
    /// PostgreSQL.
    Pg(Transaction<'static, Postgres>),
    /// SQLite on the ledger writer's own connection (`BEGIN IMMEDIATE`).
    Native(native::NativeTx),
}

/// Parses and checks a database URL without connecting.
pub fn parse_url(url: &str) -> Result<Engine, StoreError> {
    if url.starts_with("sqlite:") {
        SqliteConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl(e.to_string()))?;
        Ok(Engine::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        PgConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl(e.to_string()))?;
        Ok(Engine::Postgres)
    } else {
        Err(StoreError::BadUrl(format!(
            "unsupported scheme in '{}': use sqlite://PATH or postgres://USER@HOST/DB",
            redact_url(url)
        )))
    }
}

/// The URL with any password replaced, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl Db {
    /// Connects (creating a SQLite file if missing). Fails clearly when the server is unreachable.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        match parse_url(url)? {
            Engine::Sqlite => {
                let opts = SqliteConnectOptions::from_str(url)
                    .map_err(|e| StoreError::BadUrl(e.to_string()))?
                    .create_if_missing(true)
                    // A new database gets 16 KB pages (an existing one keeps its size): an import
                    // writes ~10 KB a row, and with 4 KB pages SQLite spent its time in the
                    // system calls of four times as many WAL frames (1.7× the rows/s, see
                    // BENCHMARKS.md).
                    .page_size(16_384)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(30))
                    .foreign_keys(true);
                let write = SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(opts.clone())
                    .await
                    .map_err(|e| StoreError::Unreachable(e.to_string()))?;
                let read = SqlitePoolOptions::new()
                    .max_connections(max_connections.max(2))
                    .connect_with(opts.read_only(false))
                    .await
                    .map_err(|e| StoreError::Unreachable(e.to_string()))?;
                Ok(Db::Sqlite { read, write })
            }
            Engine::Postgres => {
                let opts = PgConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl(e.to_string()))?;
                let pool = PgPoolOptions::new()
                    .max_connections(max_connections.max(2))
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await
                    .map_err(|e| StoreError::Unreachable(format!("{}: {e}", redact_url(url))))?;
                Ok(Db::Postgres(pool))
            }
        }
    }

    /// Which engine this is.
    pub fn engine(&self) -> Engine {
        match self {
            Db::Sqlite { .. } => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    /// Starts a write transaction.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite { write, .. } => Tx::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => Tx::Pg(p.begin().await?),
        })
    }

    /// Runs a statement outside a transaction (on the writer for SQLite).
    pub async fn exec(&self, sql: &'static str, args: Vec<Val>) -> Result<u64, StoreError> {
        Ok(match self {
            Db::Sqlite { write, .. } => {
                bind_all!(sqlx::query(sql), args, sqlite_id).execute(write).await?.rows_affected()
            }
            Db::Postgres(p) => bind_all!(sqlx::query(sql), args, pg_id).execute(p).await?.rows_affected(),
        })
    }

    /// Reads all rows.
    pub async fn fetch_all(&self, sql: &'static str, args: Vec<Val>) -> Result<Vec<Row>, StoreError> {
        Ok(match self {
            Db::Sqlite { read, .. } => bind_all!(sqlx::query(sql), args, sqlite_id)
                .fetch_all(read)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            Db::Postgres(p) => {
                bind_all!(sqlx::query(sql), args, pg_id).fetch_all(p).await?.into_iter().map(Row::Pg).collect()
            }
        })
    }

    /// Like [`Db::fetch_all`] for SQL assembled at run time from constant fragments only (such as
    /// a list of `$N` placeholders); values are always bound, never spliced in.
    pub async fn fetch_all_built(&self, sql: String, args: Vec<Val>) -> Result<Vec<Row>, StoreError> {
        Ok(match self {
            Db::Sqlite { read, .. } => bind_all!(sqlx::query(AssertSqlSafe(sql)), args, sqlite_id)
                .fetch_all(read)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            Db::Postgres(p) => bind_all!(sqlx::query(AssertSqlSafe(sql)), args, pg_id)
                .fetch_all(p)
                .await?
                .into_iter()
                .map(Row::Pg)
                .collect(),
        })
    }

    /// Reads at most one row.
    pub async fn fetch_optional(&self, sql: &'static str, args: Vec<Val>) -> Result<Option<Row>, StoreError> {
        Ok(match self {
            Db::Sqlite { read, .. } => {
                bind_all!(sqlx::query(sql), args, sqlite_id).fetch_optional(read).await?.map(Row::Sqlite)
            }
            Db::Postgres(p) => bind_all!(sqlx::query(sql), args, pg_id).fetch_optional(p).await?.map(Row::Pg),
        })
    }

    /// Runs a multi-statement script (migrations, admin tooling).
    pub async fn exec_script(&self, script: String) -> Result<(), StoreError> {
        match self {
            Db::Sqlite { write, .. } => {
                sqlx::raw_sql(AssertSqlSafe(script)).execute(write).await?;
            }
            Db::Postgres(p) => {
                sqlx::raw_sql(AssertSqlSafe(script)).execute(p).await?;
            }
        }
        Ok(())
    }

    /// Closes all pools.
    pub async fn close(&self) {
        match self {
            Db::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(p) => p.close().await,
        }
    }
}

impl Tx {
    /// Runs a statement.
    pub async fn exec(&mut self, sql: &'static str, args: Vec<Val>) -> Result<u64, StoreError> {
        Ok(match self {
            Tx::Sqlite(t) => bind_all!(sqlx::query(sql), args, sqlite_id).execute(&mut **t).await?.rows_affected(),
            Tx::Pg(t) => bind_all!(sqlx::query(sql), args, pg_id).execute(&mut **t).await?.rows_affected(),
            Tx::Native(t) => t.exec(sql, &args)?,
        })
    }

    /// Reads all rows.
    pub async fn fetch_all(&mut self, sql: &'static str, args: Vec<Val>) -> Result<Vec<Row>, StoreError> {
        Ok(match self {
            Tx::Sqlite(t) => bind_all!(sqlx::query(sql), args, sqlite_id)
                .fetch_all(&mut **t)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            Tx::Pg(t) => {
                bind_all!(sqlx::query(sql), args, pg_id).fetch_all(&mut **t).await?.into_iter().map(Row::Pg).collect()
            }
            Tx::Native(t) => t.fetch_all(sql, &args)?,
        })
    }

    /// Reads at most one row.
    pub async fn fetch_optional(&mut self, sql: &'static str, args: Vec<Val>) -> Result<Option<Row>, StoreError> {
        Ok(match self {
            Tx::Sqlite(t) => {
                bind_all!(sqlx::query(sql), args, sqlite_id).fetch_optional(&mut **t).await?.map(Row::Sqlite)
            }
            Tx::Pg(t) => bind_all!(sqlx::query(sql), args, pg_id).fetch_optional(&mut **t).await?.map(Row::Pg),
            Tx::Native(t) => t.fetch_all(sql, &args)?.into_iter().next(),
        })
    }

    /// Runs a multi-statement script inside the transaction.
    pub async fn exec_script(&mut self, script: String) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => {
                sqlx::raw_sql(AssertSqlSafe(script)).execute(&mut **t).await?;
            }
            Tx::Pg(t) => {
                sqlx::raw_sql(AssertSqlSafe(script)).execute(&mut **t).await?;
            }
            Tx::Native(t) => t.exec_script(&script)?,
        }
        Ok(())
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Pg(t) => t.commit().await?,
            Tx::Native(t) => t.commit()?,
        }
        Ok(())
    }

    /// Which engine.
    pub fn engine(&self) -> Engine {
        match self {
            Tx::Sqlite(_) | Tx::Native(_) => Engine::Sqlite,
            Tx::Pg(_) => Engine::Postgres,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_redacted() {
        assert_eq!(parse_url("sqlite:///tmp/x.db").unwrap(), Engine::Sqlite);
        assert_eq!(parse_url("postgres://u:pw@localhost/db").unwrap(), Engine::Postgres);
        let err = parse_url("mysql://u:secret@h/db").unwrap_err().to_string();
        assert!(err.contains("unsupported scheme"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        assert_eq!(redact_url("postgres://u:pw@h/db"), "postgres://u:***@h/db");
    }
}
