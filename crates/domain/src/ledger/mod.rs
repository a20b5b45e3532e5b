//! The ledger: every state change is an event, encoded to exact bytes, chained by SHA-256 per tenant
//! and sealed by Ed25519-signed checkpoints. Holds no personal data in clear.

mod actor;
mod batch;
mod chain;
mod checkpoint;
mod classify;
mod entry;
mod events;
pub mod merkle;
#[cfg(test)]
mod tests;

pub use actor::Actor;
pub use batch::{
    Record, RecordEvent, RecordProof, RecordsError, encode_record, frame, prove, proves, record_hash, root_of, split,
    unfold,
};
pub use chain::{BreakKind, ChainBreak, ChainVerifier};
pub use checkpoint::{CHECKPOINT_SPAN, Checkpoint, Sealed, hash32};
pub use classify::Subject;
pub use entry::{DecodeError, Entry, GENESIS_HASH, entry_hash, payload_prefix};
pub use events::EventBody;
