//! Konsent store: the only place that speaks SQL. One code path for SQLite and PostgreSQL.
#![forbid(unsafe_code)]

mod bulk;
mod consent_data;
pub mod db;
pub mod error;
pub mod group;
pub mod ledger;
pub mod migrate;
pub mod native;
pub mod projection;
pub mod queries;
pub mod side;
pub mod value;
mod vault;
pub mod watch;

pub use db::{Db, Engine, Row, Tx, Val};
pub use error::StoreError;
pub use group::{GroupCommit, Submitted};
pub use ledger::{Appended, PendingEvent};
pub use side::SideWrite;
pub use watch::HeadWatch;
