//! The values store code binds ([`Val`], typed ids as [`StoredId`]) and the rows it reads
//! ([`Row`]), the same for SQLite (sqlx or the writer's own connection) and PostgreSQL.

use sqlx::Row as _;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
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
}

impl StoredId for Uuid {
    fn of_uuid(u: Uuid) -> Self {
        u
    }
}

macro_rules! stored_ids {
    ($($t:ident),*) => {$(
        impl StoredId for konsent_domain::ids::$t {
            fn of_uuid(u: Uuid) -> Self { Self::from_uuid(u) }
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
pub(crate) fn sqlite_id(u: &Uuid) -> Vec<u8> {
    u.as_bytes().to_vec()
}

/// PostgreSQL's form of an id: its hyphenated text.
pub(crate) fn pg_id(u: &Uuid) -> String {
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

/// A result row of either engine.
pub enum Row {
    /// SQLite row.
    Sqlite(SqliteRow),
    /// PostgreSQL row.
    Pg(PgRow),
    /// A row read on the SQLite writer's own connection.
    Native(Vec<rusqlite::types::Value>),
}

/// A keyed hash (a contact point's blind index: HMAC-SHA-256 as 64 lower-case hex digits) as
/// `engine` stores it: its 32 bytes on SQLite, where a random-keyed index of half the size stays
/// in the page cache twice as long (BENCHMARKS.md, "Session 18"); its text on PostgreSQL. Any
/// other string is stored as text on both. Read it back with [`Row::blind_key`].
pub fn blind_key(engine: crate::db::Engine, key: &str) -> Val {
    if engine == crate::db::Engine::Sqlite
        && key.len() == 64
        && key.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && let Ok(bytes) = hex::decode(key)
    {
        return Val::Bytes(bytes);
    }
    Val::Text(key.to_string())
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
    /// A keyed hash column written by [`blind_key`]: its hex, whether stored as bytes (SQLite)
    /// or as text (PostgreSQL, and on SQLite a value that is not 64 hex digits).
    pub fn blind_key(&self, i: usize) -> Result<String, StoreError> {
        let bytes = match self {
            Row::Sqlite(r) => {
                use sqlx::{TypeInfo as _, ValueRef as _};
                let raw = r.try_get_raw(i)?;
                if raw.type_info().name() != "BLOB" {
                    return self.text(i);
                }
                r.try_get::<Vec<u8>, _>(i)?
            }
            Row::Pg(_) => return self.text(i),
            Row::Native(r) => match native::column(r, i)? {
                rusqlite::types::Value::Blob(b) => b.clone(),
                _ => return self.text(i),
            },
        };
        Ok(konsent_domain::crypto::hex(bytes))
    }
    /// Boolean column.
    pub fn bool(&self, i: usize) -> Result<bool, StoreError> {
        get!(self, i, bool, |v| native::int(v).and_then(required).map(|x| x != 0))
    }
}
