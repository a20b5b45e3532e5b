//! Service errors: each says what was wrong in terms a user or operator can act on.

use konsent_store::StoreError;

use crate::keys::KeyError;

/// One invalid field of an input.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// Field path, e.g. `contacts[0].value`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// Errors of the use cases.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The data directory is missing.
    #[error(
        "Datenverzeichnis {0} fehlt oder ist nicht eingerichtet / data directory {0} does not exist or is not initialised: run `konsent init --data-dir {0}` first"
    )]
    NoDataDir(String),
    /// The data directory belongs to something else.
    #[error(
        "{0} ist kein Konsent-Datenverzeichnis (nicht leer, keine installation.json) / is not a Konsent data directory (it is not empty and has no installation.json); choose an empty or new directory"
    )]
    ForeignDataDir(String),
    /// The database belongs to another installation.
    #[error(
        "die Datenbank gehört zu einer anderen Konsent-Installation / the database belongs to another Konsent installation ({found}), not to this data directory ({expected})"
    )]
    ForeignDatabase {
        /// Id in the data dir.
        expected: String,
        /// Id in the database.
        found: String,
    },
    /// Already initialised.
    #[error("{0} ist bereits eingerichtet / is already initialised")]
    AlreadyInitialised(String),
    /// Invalid input; every failing field is listed.
    #[error("ungültige Eingabe / invalid input: {}", .0.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// Something referenced does not exist (or belongs to another tenant).
    #[error("nicht gefunden / not found: {0}")]
    NotFound(String),
    /// The operation is not allowed in the current state.
    #[error("{0}")]
    Conflict(String),
    /// The consent was withdrawn, revoked, expired or invalidated (meanwhile): nothing confirms,
    /// verifies or reminds of it any more (R39, R43).
    #[error("die Einwilligung wurde widerrufen oder beendet / the consent was withdrawn or has ended: {0}")]
    Ended(String),
    /// Key problems.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// Database problems.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Personal data could not be decrypted (wrong master key or erased).
    #[error("personenbezogene Daten nicht entschlüsselbar / personal data could not be decrypted: {0}")]
    Crypto(#[from] konsent_domain::crypto::CryptoError),
    /// File system problems.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

impl ServiceError {
    /// An invalid-input error for a single field.
    pub fn invalid(field: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Self::Invalid(vec![FieldError { field: field.into(), message: message.to_string() }])
    }
}
