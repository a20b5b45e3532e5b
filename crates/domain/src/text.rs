//! Consent text versions: immutable once published, hashed, scoped; the linter for R4–R10 lives in `lint`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::consent::Scope;
use crate::ids::TextId;

/// Reference to the privacy notice version linked to a text (R8, R10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivacyNoticeRef {
    /// URL of the privacy notice.
    pub url: String,
    /// Its version label.
    pub version: String,
}

/// Lifecycle of a text version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextState {
    /// Editable.
    Draft,
    /// Immutable; may be shown and referenced.
    Published,
    /// No longer offered (existing consents still reference it).
    Retired,
}

/// One version of a consent text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentTextVersion {
    /// Id of this version.
    pub id: TextId,
    /// Stable key of the text family (e.g. `newsletter-2026`); versions share it.
    pub key: String,
    /// Version number within the family, from 1.
    pub version: u32,
    /// BCP 47 language, e.g. `de` or `en`.
    pub language: String,
    /// Title shown above the text.
    pub title: String,
    /// The exact full text shown to the person.
    pub body: String,
    /// SHA-256 of `body`'s UTF-8 bytes, hex.
    pub sha256: String,
    /// What the text covers.
    pub scope: Scope,
    /// Valid from.
    pub valid_from: Timestamp,
    /// Valid until (exclusive), if limited.
    pub valid_to: Option<Timestamp>,
    /// Linked privacy notice.
    pub privacy_notice: PrivacyNoticeRef,
    /// Lifecycle state.
    pub state: TextState,
}

/// SHA-256 of a text body, hex.
pub fn body_sha256(body: &str) -> String {
    hex::encode(Sha256::digest(body.as_bytes()))
}

impl ConsentTextVersion {
    /// True when `sha256` matches `body` (R10).
    pub fn hash_matches(&self) -> bool {
        body_sha256(&self.body) == self.sha256
    }

    /// Whether the text may be shown at `now`.
    pub fn is_current(&self, now: Timestamp) -> bool {
        self.state == TextState::Published && self.valid_from <= now && self.valid_to.is_none_or(|t| now < t)
    }
}
