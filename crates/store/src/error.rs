//! Store errors: what went wrong talking to the database, in words an operator can act on.

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is malformed or of an unsupported engine.
    #[error("bad database URL: {0}")]
    BadUrl(String),
    /// The database could not be reached or opened.
    #[error("database unreachable: {0}")]
    Unreachable(String),
    /// A query failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// A statement on the SQLite writer's own connection failed.
    #[error("database error: {0}")]
    Native(String),
    /// Stored data could not be decoded.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The schema is newer than this program or was changed.
    #[error("database schema problem: {0}")]
    Schema(String),
    /// Something that must exist does not.
    #[error("not found: {0}")]
    NotFound(String),
    /// An event contradicts the state it would change; nothing of the append is written. `ended`:
    /// the consent ended meanwhile and would become valid again; otherwise the state it was
    /// decided on changed meanwhile.
    #[error("refused: {detail}")]
    Refused {
        /// The consent has ended (withdrawn, revoked, expired, invalidated).
        ended: bool,
        /// What was refused (ids and statuses only).
        detail: String,
    },
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}
