//! Read queries over the projections and the vault, returning domain types.

use jiff::Timestamp;

use crate::db::Row;
use crate::error::StoreError;

mod admin;
mod catalog;
mod evidence;
mod gate;
mod imports;
mod outbox;
mod pages;
mod people;
mod records;
mod segments;
mod sweep;
mod webhooks;

pub use admin::*;
pub use catalog::*;
pub use evidence::*;
pub use gate::*;
pub use imports::*;
pub use outbox::*;
pub use pages::*;
pub use people::*;
pub use records::*;
pub use segments::*;
pub use sweep::*;
pub use webhooks::*;

/// Parses a stored id or code, naming it when corrupt.
pub(crate) fn parse<T: std::str::FromStr>(s: String, what: &str) -> Result<T, StoreError> {
    s.parse().map_err(|_| StoreError::Corrupt(format!("bad {what} '{s}'")))
}

/// A stored microsecond timestamp.
pub(crate) fn ts(v: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Rows whose first column is JSON.
pub(crate) fn json_rows<T: serde::de::DeserializeOwned>(rows: Vec<Row>) -> Result<Vec<T>, StoreError> {
    rows.iter().map(|r| Ok(serde_json::from_str(&r.text(0)?)?)).collect()
}
