//! The database handle: one code path for SQLite and PostgreSQL through a tiny value/row layer.
//!
//! Store code writes SQL once (portable subset: `$N` placeholders, `ON CONFLICT`, `RETURNING`,
//! BIGINT microsecond timestamps, BLOB/BYTEA bytes) and binds [`Val`]s; [`Db`] runs it on
//! whichever engine is configured. Typed ids ([`StoredId`]) are 16-byte BLOBs on SQLite and TEXT
//! on PostgreSQL: bind them as [`Val::Id`] and read them with [`Row::id`], never as text. SQLite
//! gets a single-connection writer pool with `BEGIN IMMEDIATE`, so writers are serialised and
//! never fail with `SQLITE_BUSY`.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Postgres, Sqlite, Transaction};

use crate::error::StoreError;
use crate::native;
pub use crate::value::{Row, StoredId, Val};
use crate::value::{pg_id, sqlite_id};

/// Binds `$args` to the query `$q`, typed ids by `$id` (the engine's form of an id).
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
                    .foreign_keys(true)
                    // Erasure is physical (E6): freed space in a page is zeroed, so a destroyed
                    // key or sealed value does not stay in the file ("FAST": no extra I/O).
                    .pragma("secure_delete", "FAST");
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

    /// Marks the transaction as one that erases personal data. On the SQLite ledger writer's own
    /// connection its commit then has the log file emptied, so the erased bytes do not outlive
    /// it in the log's older frames (`NativeConn::purge_log`). PostgreSQL keeps old row versions
    /// until `VACUUM` (docs/operations.md, "Erasure on disk").
    pub fn erases(&mut self) {
        if let Tx::Native(t) = self {
            t.erases();
        }
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
