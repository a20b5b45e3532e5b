//! Konsent services: the use cases (init, persons, consents, verification, rebuild, demo data)
//! over the store. Web, jobs and the CLI call these; nothing here speaks SQL.
#![forbid(unsafe_code)]

pub mod apikeys;
pub mod assess;
pub mod assisted;
pub mod attachments;
pub mod backup;
pub mod calls;
pub mod catalog;
pub mod checkpoint;
pub mod concept;
pub mod confirm;
pub mod consents;
pub mod context;
pub mod demo;
pub mod doi;
pub mod erasure;
pub mod error;
pub mod forms;
pub mod gate;
pub mod imports;
pub mod init;
pub mod keys;
pub mod leads;
pub mod otp;
pub mod persons;
pub mod prefs;
pub mod proof;
pub mod reconcile;
pub mod repermission;
pub mod segments;
pub mod suppression;
pub mod sweep;
pub mod system;
pub mod table;
pub mod uses;
pub mod verify;
pub mod webhooks;

pub use context::Konsent;
pub use error::{FieldError, ServiceError};
