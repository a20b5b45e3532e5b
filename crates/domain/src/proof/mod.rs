//! The proof package (§ 7a UWG production, R27): its file layout, the signed manifest, the ledger
//! entries with their Merkle audit paths, and the offline verification a third party runs with
//! nothing but the installation's public key.

mod verify;

pub use verify::{Check, VerifyOutcome, verify_package};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::ledger::Checkpoint;

/// Format tag of `manifest.json`.
pub const FORMAT: &str = "konsent-proof-package/1";
/// Schema version of `proof.json` (ISO/IEC TS 27560 via the DPV profile, section 4).
pub const SCHEMA_VERSION: &str = "dpv-27560-de-fv-1";
/// Domain separation of the manifest signature.
const MANIFEST_DOMAIN: &[u8] = b"konsent-proof-manifest-v1\0";

/// Paths inside the package.
pub mod paths {
    /// The signed list of every other file.
    pub const MANIFEST: &str = "manifest.json";
    /// Hex Ed25519 signature over `manifest.json`.
    pub const SIGNATURE: &str = "manifest.sig";
    /// The German report.
    pub const REPORT: &str = "nachweis.pdf";
    /// The machine-readable proof (ISO/IEC TS 27560 field names).
    pub const PROOF: &str = "proof.json";
    /// One ledger entry per line, with its audit path.
    pub const ENTRIES: &str = "ledger/entries.jsonl";
    /// The signed checkpoints the entries are proven against.
    pub const CHECKPOINTS: &str = "ledger/checkpoints.json";
    /// How to read and verify the package.
    pub const README: &str = "LIESMICH.txt";
    /// Folder of the original evidence files, named `<sha256>.<ext>`.
    pub const ATTACHMENTS: &str = "attachments/";
}

/// One file listed in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Path inside the package.
    pub path: String,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// `manifest.json`: what the package is and the hash of every file in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// Package id.
    pub package_id: String,
    /// Tenant.
    pub tenant: String,
    /// When produced (RFC 3339).
    pub generated_at: String,
    /// What was asked for: `phone`, `email` or `person`, and the persons found.
    pub subject: Subject,
    /// Time range asked for, if any (RFC 3339).
    pub range: Option<(String, String)>,
    /// Hex of the Ed25519 public key that signs the manifest and the checkpoints.
    pub public_key: String,
    /// Every other file.
    pub files: Vec<ManifestFile>,
}

/// What the package was produced for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// `phone`, `email` or `person`.
    pub kind: String,
    /// Persons covered.
    pub persons: Vec<String>,
}

/// One line of `ledger/entries.jsonl`: a stored entry exactly as kept and its proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenEntry {
    /// Position in the tenant's chain.
    pub seq: u64,
    /// The stored payload bytes (canonical JSON of the entry), as a string.
    pub payload: String,
    /// Hash of the previous entry, hex.
    pub prev_hash: String,
    /// SHA-256(domain ‖ prev_hash ‖ payload), hex.
    pub hash: String,
    /// Seq of the checkpoint that seals it.
    pub checkpoint_seq: u64,
    /// Merkle audit path from this entry to that checkpoint's root, hex.
    pub audit_path: Vec<String>,
    /// For a batch entry (an import batch): the person's record in it, with its proof to the
    /// root the entry holds. The other persons' records are not in the package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<ProvenRecord>,
}

/// A person's record inside a batch entry and its Merkle proof to the entry's root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenRecord {
    /// The record's stored bytes (canonical JSON), as a string.
    pub record: String,
    /// Its index among the batch's records.
    pub index: u64,
    /// Records in the batch.
    pub count: u64,
    /// Merkle audit path from the record's SHA-256 to the entry's `root`, hex.
    pub path: Vec<String>,
}

/// `ledger/checkpoints.json`.
pub type Checkpoints = Vec<Checkpoint>;

fn signed_bytes(manifest: &[u8]) -> Vec<u8> {
    let mut m = MANIFEST_DOMAIN.to_vec();
    m.extend_from_slice(manifest);
    m
}

/// Signs the bytes of `manifest.json`; returns the hex signature for `manifest.sig`.
pub fn sign_manifest(key: &SigningKey, manifest: &[u8]) -> String {
    hex::encode(key.sign(&signed_bytes(manifest)).to_bytes())
}

/// Whether `signature_hex` is a signature of `manifest` by `trusted`.
pub fn manifest_signed_by(trusted: &VerifyingKey, manifest: &[u8], signature_hex: &str) -> bool {
    let Ok(sig) = hex::decode(signature_hex.trim()) else { return false };
    let Ok(sig): Result<[u8; 64], _> = sig.try_into() else { return false };
    trusted.verify(&signed_bytes(manifest), &Signature::from_bytes(&sig)).is_ok()
}

/// Parses a hex Ed25519 public key.
pub fn parse_public_key(hex_str: &str) -> Result<VerifyingKey, String> {
    let bytes: [u8; 32] = hex::decode(hex_str.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("the public key must be 64 hex digits (konsent status prints it)")?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "not an Ed25519 public key".to_string())
}
