//! Who caused a ledger event, pseudonymously.

use serde::{Deserialize, Serialize};

/// Who caused an event (pseudonymous).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Actor {
    /// Konsent itself (scheduler, init, demo).
    System,
    /// An API key.
    ApiKey(String),
    /// A logged-in user (pseudonymous id).
    User(String),
    /// The data subject acting through a public page.
    DataSubject,
    /// An import run.
    Import(String),
}
